"""Hostile requests the gateway once let through or answered too freely: a route's path in
another case, a SOAP Fault sent as a request, the admin endpoints under other spellings or
without their token, a Host that is no host name, a method the route does not list, an
upstream that hangs up after reading the request, and path characters httpx re-encodes."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from tests.servers import (
    RunningServer,
    free_socket,
    gateway_settings,
    serve_asgi,
    serve_gateway,
)
from tests.upstream import Answer, ScriptedUpstream

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
NUU = "http://nuu.application.i2/"
SERVICE = "/nuu-ws/services/DemandeLogement"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP_TYPE = (
    'application/soap+xml; charset=UTF-8; action="http://ws.metier.nuu.application.i2/getNumUnique"'
)
INVALID_SOAP = (FIXTURES / "soap/soap12-getNumUnique-invalid-embedded.xml").read_bytes()
INVALID_DRM = (
    FIXTURES / "invalid/drm-ressources/xsd.pattern--numunique-lowercase-key.xml"
).read_bytes()
INVALID_APPLICATION = (FIXTURES / "invalid/demande/xsd.facet--nom-too-long.xml").read_bytes()


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[ScriptedUpstream, RunningServer]]:
    scripted = ScriptedUpstream()
    with serve_asgi(scripted) as running:
        yield scripted, running


@pytest.fixture(scope="module")
def gateway(upstream) -> Iterator[RunningServer]:
    with serve_gateway(gateway_settings(upstream[1].url, env="recette")) as server:
        yield server


@pytest.fixture(autouse=True)
def clean(upstream) -> None:
    upstream[0].received.clear()
    upstream[0].answers.clear()


def raw_request(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def anomaly_code(body: bytes) -> str | None:
    anomaly = etree.fromstring(body).find(f".//{{{NUU}}}anomalie")
    return anomaly.get("code") if anomaly is not None else None


# -- a route's path in another case ----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/nuu-ws/services/demandelogement",
        "/NUU-WS/SERVICES/DEMANDELOGEMENT",
        "/Nuu-Ws/Services/DemandeLogement/x",
    ],
)
def test_a_route_s_path_in_another_case_is_that_route(gateway, upstream, path: str) -> None:
    response = httpx.post(
        gateway.url + path, content=INVALID_SOAP, headers={"content-type": SOAP_TYPE}
    )
    assert response.status_code == 400
    assert response.headers["x-conformance-request"] == "fail"
    assert b"xsd.facet" in response.content
    assert upstream[0].received == []


# -- a SOAP Fault sent as a request ----------------------------------------------------------


def fault_carrying(application: bytes) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="{SOAP12}"><env:Body>'
        "<env:Fault><env:Code><env:Value>env:Receiver</env:Value></env:Code>"
        '<env:Reason><env:Text xml:lang="fr">x</env:Text></env:Reason><env:Detail>'
        '<ws:fichierDemande xmlns:ws="http://ws.metier.nuu.application.i2/">'
        f"{base64.b64encode(application).decode()}</ws:fichierDemande>"
        "</env:Detail></env:Fault></env:Body></env:Envelope>"
    ).encode()


def test_a_soap_fault_sent_as_a_request_is_validated_and_blocked(gateway, upstream) -> None:
    response = httpx.post(
        gateway.url + SERVICE,
        content=fault_carrying(INVALID_APPLICATION),
        headers={"content-type": SOAP_TYPE},
    )
    assert response.status_code == 400
    assert response.headers["x-conformance-request"] == "fail"
    codes = etree.fromstring(response.content).xpath(
        "//nuu:complement[@nom='violation']/text()", namespaces={"nuu": NUU}
    )
    # The wrapper does not declare a Fault as a request; the application inside is checked too.
    assert codes == ["xsd.unexpected-element", "xsd.facet"]
    assert upstream[0].received == []


def test_a_soap_fault_answered_by_the_upstream_still_passes(gateway, upstream) -> None:
    upstream[0].answer(
        SERVICE,
        Answer(500, "application/soap+xml; charset=UTF-8", fault_carrying(INVALID_APPLICATION)),
    )
    valid = (FIXTURES / "soap/soap12-getNumUnique-request.xml").read_bytes()
    response = httpx.post(gateway.url + SERVICE, content=valid, headers={"content-type": SOAP_TYPE})
    assert response.status_code == 500
    assert response.headers["x-conformance-response"] == "skipped"


# -- the admin endpoints ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        b"/%5Fgateway/metrics",
        b"/%5fgateway/metrics",
        b"/_gateway%2Fmetrics",
        b"/_gateway//metrics",
        b"/_gateway/./metrics",
        b"/_gateway/metrics/",
        b"/_GATEWAY/metrics",
        b"/_Gateway/health",
        b"/x/../_gateway/health",
    ],
)
def test_the_admin_endpoints_answer_at_their_own_spelling_only(
    gateway, upstream, path: bytes
) -> None:
    answer = raw_request(
        gateway.port, b"GET %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" % path
    )
    assert answer.split(b"\r\n")[0] in (b"HTTP/1.1 404 Not Found", b"HTTP/1.1 400 Bad Request")
    assert b"sne_gateway_" not in answer and b'"status"' not in answer
    assert upstream[0].received == []


@pytest.fixture(scope="module")
def guarded(upstream) -> Iterator[RunningServer]:
    settings = gateway_settings(upstream[1].url, env="recette", admin_token="s3cret-token")
    with serve_gateway(settings) as server:
        yield server


@pytest.mark.parametrize("endpoint", ["/_gateway/metrics", "/_gateway/schemas"])
def test_with_an_admin_token_the_endpoints_need_it(guarded, endpoint: str) -> None:
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "s3cret-token"}):
        refused = httpx.get(guarded.url + endpoint, headers=headers)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert b"s3cret" not in refused.content and b"sne_gateway_" not in refused.content
    allowed = httpx.get(guarded.url + endpoint, headers={"authorization": "Bearer s3cret-token"})
    assert allowed.status_code == 200


def test_with_an_admin_token_health_says_only_ok_or_degraded(guarded) -> None:
    response = httpx.get(guarded.url + "/_gateway/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    ready = httpx.get(guarded.url + "/_gateway/ready")
    assert (ready.status_code, ready.json()) == (200, {"ready": True})


def test_without_a_token_health_keeps_its_details(gateway) -> None:
    health = httpx.get(gateway.url + "/_gateway/health").json()
    assert health["status"] == "ok" and health["env"] == "recette" and "xsd" in health


@pytest.mark.parametrize("endpoint", ["/_gateway/health", "/_gateway/ready"])
def test_head_on_health_and_ready_answers_like_get(guarded, endpoint: str) -> None:
    got = httpx.get(guarded.url + endpoint)
    head = httpx.head(guarded.url + endpoint)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]


# -- the Host header -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        b"user@evil.example",
        b":99999",
        b"sne.example:99999",
        b"sne.example:",
        b"a..b",
        b".example",
        b"-a.example",
        b"%65vil.example",
        b"",
        b"evil.example/x",
        b"[::1",
        b"[not-an-address]:80",
        b"a" * 64 + b".example",
    ],
)
def test_a_host_that_is_not_a_host_name_and_port_is_refused(gateway, upstream, host) -> None:
    answer = raw_request(
        gateway.port, b"GET /x HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert anomaly_code(body) == "GTW02"
    assert upstream[0].received == []


@pytest.mark.parametrize(
    "host",
    [
        b"sne.example",
        b"SNE.Example:8080",
        b"127.0.0.1:80",
        b"[::1]:8080",
        b"localhost",
        b"a_b.example.",
    ],
)
def test_a_host_name_and_port_pass(gateway, upstream, host) -> None:
    upstream[0].answer("/x", Answer(200, "text/plain", b"ok"))
    answer = raw_request(
        gateway.port, b"GET /x HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host
    )
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert upstream[0].received[0].headers["x-forwarded-host"] == host.decode()


def test_an_http_2_request_line_needs_a_host(gateway, upstream) -> None:
    answer = raw_request(gateway.port, b"GET /x HTTP/2.0\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert anomaly_code(body) == "GTW02"
    assert upstream[0].received == []


# -- methods a route does not list -----------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_a_body_with_a_method_the_route_does_not_list_is_refused_with_allow(
    gateway, upstream, method: str
) -> None:
    response = httpx.request(
        method,
        gateway.url + "/v1.0/drm/ressources",
        content=INVALID_DRM,
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert anomaly_code(response.content) == "GTW02"
    assert upstream[0].received == []


def test_another_refusal_of_such_a_request_keeps_its_own_status(gateway, upstream) -> None:
    answer = raw_request(
        gateway.port,
        b"PUT /v1.0/drm/ressources HTTP/1.1\r\nHost: a..b\r\nContent-Length: 1\r\n"
        b"Connection: close\r\n\r\nx",
    )
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"\r\nallow:" not in answer.lower()
    assert upstream[0].received == []


def test_a_method_the_route_does_not_list_without_a_body_goes_on(gateway, upstream) -> None:
    upstream[0].answer(
        "/v1.0/drm/ressources", Answer(405, "text/plain", b"no", [(b"allow", b"POST")])
    )
    response = httpx.get(gateway.url + "/v1.0/drm/ressources")
    assert response.status_code == 405 and response.content == b"no"
    assert [r.method for r in upstream[0].received] == ["GET"]


def test_where_the_policy_logs_an_unlisted_method_is_forwarded(upstream) -> None:
    upstream[0].answer("/v1.0/drm/ressources", Answer(200, "text/plain", b"ok"))
    with serve_gateway(gateway_settings(upstream[1].url, env="prod")) as prod:
        response = httpx.put(
            prod.url + "/v1.0/drm/ressources", content=b"x", headers={"content-type": "text/plain"}
        )
    assert response.status_code == 200
    assert [r.method for r in upstream[0].received] == ["PUT"]


# -- an upstream that hangs up, and what anomalies say of it ---------------------------------


def hanging_up_upstream() -> tuple[socket.socket, str]:
    """An upstream that reads a request whole, then closes the connection without a word."""
    import threading

    listener = free_socket()
    listener.listen()

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data and (chunk := connection.recv(65536)):
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                while len(body) < length:
                    body += connection.recv(65536)

    threading.Thread(target=serve, daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_an_upstream_that_reads_the_request_and_hangs_up_is_invalid_not_unreachable(
    capfd, logging_restored
) -> None:
    listener, url = hanging_up_upstream()
    try:
        with serve_gateway(gateway_settings(url, env="recette")) as server:
            response = httpx.post(
                server.url + "/v1.0/drm/ressources",
                content=(FIXTURES / "valid/13.33/drm-ressources/requete.xml").read_bytes(),
                headers={"content-type": "application/xml"},
            )
    finally:
        listener.close()
    assert response.status_code == 502
    assert anomaly_code(response.content) == "GTW07"
    assert b"upstream.invalid" in response.content


def test_anomalies_never_name_the_upstream_s_address(capfd, logging_restored) -> None:
    closed = free_socket()
    port = closed.getsockname()[1]
    closed.close()
    with serve_gateway(gateway_settings(f"http://127.0.0.1:{port}", connect_timeout="2")) as server:
        response = httpx.get(server.url + "/v1.0/exports/7")
        soap = httpx.post(
            server.url + SERVICE,
            content=(FIXTURES / "soap/soap12-getNumUnique-request.xml").read_bytes(),
            headers={"content-type": SOAP_TYPE},
        )
        deadline = time.monotonic() + 30  # bounds a failure only
        logged = ""
        while logged.count('"event":"upstream.unreachable"') < 2 and time.monotonic() < deadline:
            logged += capfd.readouterr().err
            time.sleep(0.05)
    for answer in (response, soap):
        assert answer.status_code == 502
        assert b"upstream.unreachable" in answer.content
        assert b"127.0.0.1" not in answer.content and str(port).encode() not in answer.content
    # The log, for the operator, says where.
    event = next(
        json.loads(line) for line in logged.splitlines() if '"upstream.unreachable"' in line
    )
    assert str(port) in event["cause"]


# -- the path the upstream receives ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "received"),
    [
        (b"/canary/a`b", b"/canary/a%60b"),
        (b"/canary/a{b}c", b"/canary/a%7Bb%7Dc"),
        (b'/canary/a"b', b"/canary/a%22b"),
        (b"/canary/a<b>c", b"/canary/a%3Cb%3Ec"),
        (b"/canary/a%60b", b"/canary/a%60b"),
    ],
)
def test_the_path_validated_and_routed_is_the_one_forwarded(
    upstream, capfd, logging_restored, sent: bytes, received: bytes
) -> None:
    with serve_gateway(gateway_settings(upstream[1].url, env="recette")) as server:
        raw_request(server.port, b"GET %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" % sent)
        deadline = time.monotonic() + 30  # bounds a failure only
        logged = ""
        while '"event":"exchange"' not in logged and time.monotonic() < deadline:
            logged += capfd.readouterr().err
            time.sleep(0.05)
    assert [r.raw_path for r in upstream[0].received] == [received]
    event = next(json.loads(line) for line in logged.splitlines() if '"event":"exchange"' in line)
    assert event["path"] == received.decode()

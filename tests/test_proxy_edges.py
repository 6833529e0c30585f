"""Edge cases where a proxy could validate one thing and forward another: paths written in
other ways, encoded bodies, bodiless exchanges, error answers on export routes, and the
upstream's copies of the gateway's own headers."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from gateway.http_metadata import decoded_body
from gateway.limits import MAX_FAILED_DOCUMENTS
from gateway.proxy.check import THREAD_THRESHOLD, Checks
from gateway.proxy.target import PathRefused, canonical_target
from tests.servers import RunningServer, gateway_settings, serve_asgi, serve_gateway
from tests.upstream import Answer, ScriptedUpstream

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SOAP = FIXTURES / "soap"
SERVICE = "/nuu-ws/services/DemandeLogement"
NUU = "http://nuu.application.i2/"
SOAP12_TYPE = (
    'application/soap+xml; charset=UTF-8; action="http://ws.metier.nuu.application.i2/getNumUnique"'
)
INVALID_SOAP = (SOAP / "soap12-getNumUnique-invalid-embedded.xml").read_bytes()
VALID_SOAP = (SOAP / "soap12-getNumUnique-request.xml").read_bytes()


@pytest.mark.parametrize(
    ("raw", "forwarded", "routed"),
    [
        ("/nuu-ws/services/%44emandeLogement", "/nuu-ws/services/DemandeLogement", SERVICE),
        ("/nuu-ws/./services/x/../DemandeLogement", SERVICE, SERVICE),
        ("/nuu-ws//services/DemandeLogement/", SERVICE + "/", SERVICE),
        # A dot-segment ends in a slash (RFC 3986, 5.2.4), escaped or not.
        ("/nuu-ws/services/DemandeLogement/.", SERVICE + "/", SERVICE),
        ("/nuu-ws/services/DemandeLogement/%2e", SERVICE + "/", SERVICE),
        ("/nuu-ws/services/DemandeLogement/x/%2E%2e", SERVICE + "/", SERVICE),
        ("/nuu-ws/services/DemandeLogement;jsessionid=A1", SERVICE + ";jsessionid=A1", SERVICE),
        ("/a%2eb/%7euser/%c3%a9", "/a.b/~user/%C3%A9", "/a.b/~user/%C3%A9"),
        ("/nuu-ws/services/DemandeLogement%3Bx", SERVICE + ";x", SERVICE),
        ("/a%40b%21%2b", "/a@b!%2B", "/a@b!%2B"),
        ("/", "/", "/"),
    ],
)
def test_canonical_targets(raw: str, forwarded: str, routed: str) -> None:
    target = canonical_target(raw)
    assert (target.forwarded, target.routed) == (forwarded, routed)


@pytest.mark.parametrize(
    "raw",
    [
        "/../admin",
        "/a/../../admin",
        "/%2e%2e/admin",
        "/a%2Fb",
        "/a%5cb",
        "//host/x",
        "/a\\b",
        "/nuu-ws/services/x/..;/DemandeLogement",
        "/a/.;x/b",
        "/a/%2e%2e%3bx/b",
        "/nuu-ws/services/;/DemandeLogement",
        "/;x/nuu-ws/services/DemandeLogement",
        "/nuu-ws/services/DemandeLogement/;",
        "/nuu-ws/services/DemandeLogement/%3B",
    ],
)
def test_refused_targets(raw: str) -> None:
    with pytest.raises(PathRefused):
        canonical_target(raw)


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


def raw_post(port: int, path: str, body: bytes, content_type: str) -> bytes:
    request = (
        f"POST {path} HTTP/1.1\r\nHost: gateway\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    "path",
    [
        "/nuu-ws/services/%44emandeLogement",
        "/nuu-ws/./services/DemandeLogement",
        "/nuu-ws/services/DemandeLogement;jsessionid=A1",
        "/nuu-ws/services/DemandeLogement/",
        "/nuu-ws//services/DemandeLogement",
        "/nuu-ws/services/DemandeLogement%3Bx",
    ],
)
def test_another_spelling_of_a_route_is_still_validated(gateway, upstream, path: str) -> None:
    answer = raw_post(gateway.port, path, INVALID_SOAP, SOAP12_TYPE)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"xsd.facet" in answer
    assert upstream[0].received == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream", None])
def test_a_route_s_request_is_validated_whatever_its_content_type(
    gateway, upstream, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = httpx.post(gateway.url + SERVICE, content=INVALID_SOAP, headers=headers)
    assert response.status_code == 400
    assert b"xsd.facet" in response.content
    assert upstream[0].received == []


def test_a_message_lists_its_first_failed_documents_and_counts_the_rest(upstream, capfd) -> None:
    """10,000 embedded documents in a 470 KB body made a 4.3 MB answer and 10,002 log lines."""
    embedded = "<ws:fichierDemande>PGEvPg==</ws:fichierDemande>" * 150  # each "<a/>"
    body = VALID_SOAP.replace(b"<ws:complet>", embedded.encode() + b"<ws:complet>", 1)
    # Its own gateway: the log is configured while this test captures the output.
    with serve_gateway(gateway_settings(upstream[1].url, env="recette")) as gateway:
        response = httpx.post(
            gateway.url + SERVICE, content=body, headers={"content-type": SOAP12_TYPE}
        )
        logged = ""
        deadline = time.monotonic() + 30  # the event follows the answer; this bounds a failure
        while '"event":"exchange"' not in logged and time.monotonic() < deadline:
            time.sleep(0.05)
            logged += capfd.readouterr().err
    assert response.status_code == 400
    documents = etree.fromstring(response.content).xpath(
        "//nuu:complement[@nom='document']/text()", namespaces={"nuu": NUU}
    )
    # The wrapper and the first 99 decoded documents, one violation each.
    assert documents == ["ws:getNumUnique"] + ["ws:fichierDemande"] * (MAX_FAILED_DOCUMENTS - 1)
    exchange = next(
        json.loads(line) for line in logged.splitlines() if '"event":"exchange"' in line
    )
    # The wrapper, the application and 150 more documents: all but the application fail.
    assert exchange["documents"] == 152
    assert exchange["failed_documents_not_listed"] == 151 - MAX_FAILED_DOCUMENTS
    assert upstream[0].received == []


@pytest.mark.parametrize("client_stays", [True, False])
def test_large_bodies_are_validated_one_at_a_time(
    gateway, upstream, monkeypatch, client_stays: bool
) -> None:
    """Each takes about 70 times its size while validated; a client that leaves does not stop
    its validation (a thread), so it does not free its turn either."""
    active, most, done = [0], [0], [0]
    lock = threading.Lock()
    validate = Checks._extract_and_validate

    def counted(self, *arguments):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.3)  # long enough for another one to start, if it could
        try:
            return validate(self, *arguments)
        finally:
            with lock:
                active[0] -= 1
                done[0] += 1

    monkeypatch.setattr(Checks, "_extract_and_validate", counted)
    large = b"<x>" + b"a" * (THREAD_THRESHOLD + 1) + b"</x>"
    upstream[0].answer("/v1.0/exports/7", Answer(200, "application/xml", large))

    def exchange() -> None:
        if client_stays:
            assert httpx.get(gateway.url + "/v1.0/exports/7", timeout=60).status_code == 200
            return
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as connection:
            connection.sendall(b"GET /v1.0/exports/7 HTTP/1.1\r\nHost: a\r\n\r\n")
            time.sleep(0.1)  # gone while its answer is validated

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda _: exchange(), range(3)))
    # Exchanges gone while waiting for their turn never validate: wait for those that began.
    deadline = time.monotonic() + 30  # bounds a failing test only
    while (not done[0] or active[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert most[0] == 1
    assert done[0] == 3 if client_stays else done[0] >= 1


ACTION = "http://ws.metier.nuu.application.i2/"


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        # SOAP 1.2: CXF ignores a SOAPAction header; the route follows the Content-Type's.
        (
            "POST",
            SERVICE,
            {"content-type": SOAP12_TYPE, "soapaction": f'"{ACTION}getDemandeLogement"'},
        ),
        # Another operation's action: every route of the service checks the documents.
        (
            "POST",
            SERVICE,
            {"content-type": f'application/soap+xml; action="{ACTION}getDemandeLogement"'},
        ),
        ("POST", SERVICE, {"content-type": "application/soap+xml"}),
        # Any method, any sub-path reach the service.
        ("PUT", SERVICE, {"content-type": SOAP12_TYPE}),
        ("POST", SERVICE + "/x", {"content-type": SOAP12_TYPE}),
    ],
)
def test_the_action_route_or_method_cannot_spare_a_document_its_checks(
    gateway, upstream, method: str, path: str, headers: dict[str, str]
) -> None:
    response = httpx.request(method, gateway.url + path, content=INVALID_SOAP, headers=headers)
    assert response.status_code == 400
    assert b"xsd.facet" in response.content
    assert upstream[0].received == []


def test_an_action_named_twice_is_refused(gateway, upstream) -> None:
    # CXF takes the first "action=", here inside "xaction"; the gateway would take the other.
    content_type = (
        f'application/soap+xml; xaction="{ACTION}getNumUnique"; action="{ACTION}getDemandeLogement"'
    )
    response = httpx.post(
        gateway.url + SERVICE, content=VALID_SOAP, headers={"content-type": content_type}
    )
    assert response.status_code == 400
    assert b"names an action more than once" in response.content
    assert upstream[0].received == []


def test_the_canonical_path_is_what_is_forwarded(gateway, upstream) -> None:
    upstream[0].answer(SERVICE, Answer(200, "text/plain", b"ok"))
    raw_post(gateway.port, "/nuu-ws/x/../services/%44emandeLogement", VALID_SOAP, SOAP12_TYPE)
    assert [r.path for r in upstream[0].received] == [SERVICE]


def test_the_upstream_receives_the_path_the_gateway_routed(gateway, upstream) -> None:
    """Every escape: the upstream receives the canonical path byte for byte."""
    escapes = "".join(f"%{byte:02X}" for byte in range(256) if byte not in (0x00, 0x2F, 0x5C))
    path = f"/e/{escapes}"
    raw_post(gateway.port, path, b"", "text/plain")
    assert upstream[0].received[0].raw_path == canonical_target(path).forwarded.encode()


def test_the_upstream_receives_the_query_as_sent(gateway, upstream) -> None:
    """Escapes a URL library would decode (`%7e`, `%41`, `%2F`), re-encode (`%zz`) or leave, and
    characters it would escape (`[`, `]`): none changes on the way."""
    escapes = "".join(f"%{byte:02x}" for byte in range(256))
    query = f"a=%7e&b=%zz&c=%2F%3D%26&d=%41&e=x+y&f=[1]&g=%&h={escapes}"
    raw_post(gateway.port, f"/e?{query}", b"", "text/plain")
    raw_post(gateway.port, '/e?q="x"<y>{z}', b"", "text/plain")
    assert upstream[0].received[0].query == query.encode()
    # Not URL characters (RFC 3986), but let through by the HTTP parser: escaped, not refused.
    assert upstream[0].received[1].query == b"q=%22x%22%3Cy%3E{z}"


def test_no_path_escapes_the_upstream_base(upstream) -> None:
    with serve_gateway(gateway_settings(upstream[1].url + "/base")) as server:
        answer = raw_post(server.port, "/../admin", b"", "text/plain")
        escaped = raw_post(server.port, "/%2e%2e/admin", b"", "text/plain")
    assert answer.startswith(b"HTTP/1.1 400 ") and escaped.startswith(b"HTTP/1.1 400 ")
    assert upstream[0].received == []


def test_a_gzip_body_is_decoded_and_validated(gateway, upstream) -> None:
    upstream[0].answer(SERVICE, Answer(200, "text/plain", b"ok"))
    headers = {"content-type": SOAP12_TYPE, "content-encoding": "gzip"}
    compressed = gzip.compress(VALID_SOAP)
    valid = httpx.post(gateway.url + SERVICE, content=compressed, headers=headers)
    invalid = httpx.post(
        gateway.url + SERVICE, content=gzip.compress(INVALID_SOAP), headers=headers
    )
    assert valid.headers["x-conformance-request"] == "pass"
    # Forwarded as received (compressing again could differ: gzip's header holds the time).
    assert upstream[0].received[0].body == compressed
    assert invalid.status_code == 400 and b"xsd.facet" in invalid.content


def _deflated(document: bytes, wbits: int) -> bytes:
    """`document` in gzip's format (`wbits` 31), zlib's (15) or deflate's raw stream (-15)."""
    compressor = zlib.compressobj(wbits=wbits)
    return compressor.compress(document) + compressor.flush()


def test_a_deflate_body_is_decoded_and_validated(gateway, upstream) -> None:
    upstream[0].answer(SERVICE, Answer(200, "text/plain", b"ok"))
    headers = {"content-type": SOAP12_TYPE, "content-encoding": "deflate"}
    valid = httpx.post(gateway.url + SERVICE, content=_deflated(VALID_SOAP, 15), headers=headers)
    invalid = httpx.post(
        gateway.url + SERVICE, content=_deflated(INVALID_SOAP, 15), headers=headers
    )
    cut = httpx.post(
        gateway.url + SERVICE, content=_deflated(VALID_SOAP, 15)[:-10], headers=headers
    )
    assert valid.headers["x-conformance-request"] == "pass"
    assert upstream[0].received[0].body == _deflated(VALID_SOAP, 15)
    assert invalid.status_code == 400 and b"xsd.facet" in invalid.content
    assert cut.status_code == 400 and b"http.content-encoding" in cut.content
    assert len(upstream[0].received) == 1


def test_a_raw_deflate_stream_is_read_in_answers_only(gateway, upstream) -> None:
    """Some servers send deflate's raw stream, which an SI's HTTP client reads; the SNE's Java
    stack reads zlib's format only, so a request in the raw stream is not validated."""
    headers = {"content-type": SOAP12_TYPE, "content-encoding": "deflate"}
    request = httpx.post(gateway.url + SERVICE, content=_deflated(VALID_SOAP, -15), headers=headers)
    assert request.status_code == 400 and b"http.content-encoding" in request.content
    assert upstream[0].received == []
    anomalies = next((FIXTURES / "valid/13.33/anomalies").glob("*.xml")).read_bytes()
    for path, document in (("/v1.0/exports/7", anomalies), ("/v1.0/exports/8", b"<x/>")):
        upstream[0].answer(
            path,
            Answer(
                200,
                "application/xml",
                _deflated(document, -15),
                headers=[(b"content-encoding", b"deflate")],
            ),
        )
    valid = httpx.get(gateway.url + "/v1.0/exports/7")
    invalid = httpx.get(gateway.url + "/v1.0/exports/8")
    assert valid.headers["x-conformance-response"] == "pass"
    assert valid.content == anomalies  # httpx reads the raw stream too
    assert invalid.headers["x-conformance-response"] == "fail"


@given(
    st.binary(max_size=4000),
    st.sampled_from(["gzip", "deflate"]),
    st.integers(min_value=0, max_value=64),
    st.booleans(),
)
def test_decoding_any_bytes_never_raises(
    body: bytes, encoding: str, limit: int, raw_deflate: bool
) -> None:
    decoded = decoded_body(body, encoding, limit, raw_deflate)
    assert decoded is None or len(decoded) <= limit + 1


@given(
    st.binary(min_size=1, max_size=4000),
    st.sampled_from([31, 15, -15]),
    st.integers(min_value=0, max_value=8000),
)
def test_every_stream_decodes_to_its_document_or_to_one_over_the_limit(
    document: bytes, wbits: int, limit: int
) -> None:
    encoding = "gzip" if wbits == 31 else "deflate"
    decoded = decoded_body(_deflated(document, wbits), encoding, limit, raw_deflate=True)
    if len(document) <= limit:
        assert decoded == document
    else:
        assert decoded is not None and len(decoded) == limit + 1  # the caller says too large


@given(st.binary(max_size=200), st.binary(min_size=1, max_size=200))
def test_a_zlib_stream_with_bytes_after_it_is_undecodable(document: bytes, tail: bytes) -> None:
    """Never read as a raw stream instead: the bytes of a zlib stream and what follows it can
    make a raw stream of another document, which no receiver would read."""
    if tail.count(0) == len(tail):
        tail += b"x"
    assert decoded_body(_deflated(document, 15) + tail, "deflate", 8000, raw_deflate=True) is None


@pytest.mark.parametrize(
    ("body", "blocked_for"),
    [
        # Two gzip members: a receiver reads both, the gateway too (two envelopes in a row).
        (gzip.compress(VALID_SOAP) + gzip.compress(INVALID_SOAP), b"xml.malformed"),
        (gzip.compress(VALID_SOAP) + b"trailing bytes", b"http.content-encoding"),
        (gzip.compress(VALID_SOAP)[:-10], b"http.content-encoding"),
    ],
)
def test_what_is_validated_is_all_the_receiver_decodes(
    gateway, upstream, body: bytes, blocked_for: bytes
) -> None:
    headers = {"content-type": SOAP12_TYPE, "content-encoding": "gzip"}
    response = httpx.post(gateway.url + SERVICE, content=body, headers=headers)
    assert response.status_code == 400
    assert blocked_for in response.content
    assert upstream[0].received == []


@pytest.mark.parametrize(("env", "status"), [("recette", 400), ("prod", 200)])
def test_an_encoding_the_gateway_cannot_decode_is_not_a_way_around(
    upstream, env: str, status: int
) -> None:
    upstream[0].answer(SERVICE, Answer(200, "text/plain", b"ok"))
    with serve_gateway(gateway_settings(upstream[1].url, env=env)) as server:
        response = httpx.post(
            server.url + SERVICE,
            content=INVALID_SOAP,
            headers={"content-type": SOAP12_TYPE, "content-encoding": "br"},
        )
    assert response.status_code == status
    assert response.headers["x-conformance-request"] == "fail"
    if status == 400:
        assert b"http.content-encoding" in response.content


def test_bodiless_exchanges_are_not_validated(gateway, upstream) -> None:
    scripted, _ = upstream
    scripted.answer("/v1.0/gdm/mouvements", Answer(304, "application/xml", b""))
    scripted.answer("/v1.0/exports/1", Answer(200, "application/xml", b""))
    delete = httpx.request(
        "DELETE", gateway.url + "/v1.0/exports/1", headers={"content-type": "application/xml"}
    )
    not_modified = httpx.get(gateway.url + "/v1.0/gdm/mouvements")
    head = httpx.head(gateway.url + "/v1.0/exports/1")
    assert (delete.status_code, delete.headers["x-conformance"]) == (200, "skipped")
    assert (not_modified.status_code, not_modified.headers["x-conformance"]) == (304, "skipped")
    assert head.status_code == 200 and head.headers["x-conformance"] == "skipped"


def test_an_error_answer_on_an_export_route_is_validated_as_xml(gateway, upstream) -> None:
    anomalies = next((FIXTURES / "valid/13.33/anomalies").glob("*.xml")).read_bytes()
    upstream[0].answer("/v1.0/exports/9/fichier", Answer(404, "application/xml", anomalies))
    response = httpx.get(gateway.url + "/v1.0/exports/9/fichier")
    assert response.status_code == 404
    assert response.content == anomalies
    assert response.headers["x-conformance-response"] == "pass"


def test_the_upstream_cannot_speak_for_the_gateway(gateway, upstream) -> None:
    forged = [
        (b"x-conformance", b"pass"),
        (b"x-request-id", b"forged"),
        (b"x-conformance-schema", b"x@1"),
    ]
    upstream[0].answer(SERVICE, Answer(200, "text/plain", b"ok", headers=forged))
    response = httpx.post(
        gateway.url + SERVICE,
        content=INVALID_SOAP,
        headers={"content-type": SOAP12_TYPE, "x-request-id": "mine"},
    )
    assert response.headers.get_list("x-request-id") == ["mine"]
    assert len(response.headers.get_list("x-conformance")) == 1


def test_a_valid_export_reaches_the_client_whole_under_block(upstream, tmp_path: Path) -> None:
    archive = (FIXTURES / "archives" / "export-valid.tgz").read_bytes()

    async def slowly() -> AsyncIterator[bytes]:
        for start in range(0, len(archive), 700):
            await asyncio.sleep(0)
            yield archive[start : start + 700]

    upstream[0].answer("/v1.0/exports/9/fichier", Answer(200, "application/gzip", stream=slowly))
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[gateway]\nxsd = "{FIXTURES.parent / "xsd"}"\n[policy.recette]\nresponse = "block"\n'
        '[[routes]]\nname = "download"\npath = "/v1.0/exports/*/fichier"\nresponse = { extract = "tgz" }\n'
    )
    with serve_gateway(gateway_settings(upstream[1].url, config=config)) as server:
        response = httpx.get(server.url + "/v1.0/exports/9/fichier")
    assert response.status_code == 200
    assert response.content == archive

"""The proxy as a network citizen: header rules, no open proxy, upstream failures, client
disconnects, redirects, and TGZ exports streamed and validated member by member."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import socket
import tarfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from gateway.proxy.upstream import CACHED_URL_LENGTH, _parsed_url, upstream_url
from tests.servers import RunningServer, free_socket, gateway_settings, serve_asgi, serve_gateway
from tests.upstream import Answer, ScriptedUpstream

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"
NUU = "http://nuu.application.i2/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SOAP12_GET_NUM_UNIQUE = (
    'application/soap+xml; charset=UTF-8; action="http://ws.metier.nuu.application.i2/getNumUnique"'
)


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[ScriptedUpstream, RunningServer]]:
    scripted = ScriptedUpstream()
    with serve_asgi(scripted) as running:
        yield scripted, running


@pytest.fixture(scope="module")
def gateway(upstream) -> Iterator[RunningServer]:
    _, running = upstream
    with serve_gateway(gateway_settings(running.url, env="recette")) as server:
        yield server


@pytest.fixture(autouse=True)
def clean(upstream) -> None:
    upstream[0].received.clear()
    upstream[0].answers.clear()


def raw_request(port: int, request: bytes) -> bytes:
    """Send `request`, then nothing: what the gateway answers before it closes the connection
    (also when `request` stops short, for the client timeouts)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def wait_until(condition, seconds: float = 10.0) -> None:
    """Poll for `condition`; the deadline only bounds a failing test, it is not a timing check."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def test_hop_by_hop_headers_are_dropped_and_end_to_end_ones_kept(gateway, upstream) -> None:
    scripted, _ = upstream
    scripted.answer(
        "/h",
        Answer(
            200,
            "text/plain",
            b"ok",
            headers=[
                (b"x-upstream", b"1"),
                (b"connection", b"x-secret-hop"),
                (b"x-secret-hop", b"s"),
            ],
        ),
    )
    response = httpx.get(
        gateway.url + "/h",
        headers={
            "connection": "keep-alive, x-private",
            "x-private": "p",
            "te": "trailers",
            "x-end": "e",
            "x-forwarded-for": "10.0.0.1",
        },
    )
    received = scripted.received[-1].headers
    assert "x-private" not in received and "te" not in received
    assert received["x-end"] == "e"
    assert received["x-forwarded-for"] == "10.0.0.1, 127.0.0.1"
    assert received["x-forwarded-host"] == gateway.url.removeprefix("http://")
    assert response.headers["x-upstream"] == "1"
    assert "x-secret-hop" not in response.headers


def test_redirects_are_passed_through_not_followed(gateway, upstream) -> None:
    scripted, _ = upstream
    scripted.answer(
        "/moved",
        Answer(302, "text/plain", b"", headers=[(b"location", b"https://sne.example/elsewhere")]),
    )
    response = httpx.get(gateway.url + "/moved")
    assert response.status_code == 302
    assert response.headers["location"] == "https://sne.example/elsewhere"
    assert [r.path for r in scripted.received] == ["/moved"]


def test_an_absolute_form_target_is_refused(gateway, upstream) -> None:
    answer = raw_request(
        gateway.port,
        b"GET http://internal.example/secret HTTP/1.1\r\nHost: internal.example\r\nConnection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"Absolute-form request targets are refused" in answer
    assert upstream[0].received == []


def test_connect_is_refused(gateway, upstream) -> None:
    # httptools refuses CONNECT itself (400) before the application would (405).
    answer = raw_request(
        gateway.port,
        b"CONNECT internal.example:443 HTTP/1.1\r\nHost: internal.example:443\r\nConnection: close\r\n\r\n",
    )
    assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 405 "))
    assert upstream[0].received == []


def test_a_host_header_trick_still_reaches_only_the_upstream(gateway, upstream) -> None:
    scripted, running = upstream
    scripted.answer("/x", Answer(200, "text/plain", b"upstream"))
    answer = raw_request(
        gateway.port, b"GET /x HTTP/1.1\r\nHost: internal.example\r\nConnection: close\r\n\r\n"
    )
    assert answer.endswith(b"upstream")
    assert scripted.received[-1].headers["host"] == running.url.removeprefix("http://")


@pytest.mark.parametrize(
    ("request_head", "status", "reason"),
    [
        (b"TRACE /x HTTP/1.1\r\nHost: a\r\n", 405, b"The method TRACE is refused"),
        (b"OPTIONS * HTTP/1.1\r\nHost: a\r\n", 400, b"The request target '*' (OPTIONS *)"),
        (b"GET /x HTTP/1.1\r\n", 400, b"exactly one Host header"),
        (b"GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n", 400, b"exactly one Host header"),
        (b"GET /x HTTP/1.1\r\nHost: a b\r\n", 400, b"The Host header is not a host name"),
        # Refused by Litestar's router, before the endpoint: still in the SNE's shape.
        (b"POST /_gateway/health HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n", 405, b'"GTW02"'),
        (
            b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
            b"Content-Type: application/xml\r\nContent-Length: 0\r\n",
            400,
            b"The request has 2 content-type headers; send one.",
        ),
        (
            b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Encoding: gzip\r\n"
            b"Content-Encoding: identity\r\nContent-Length: 0\r\n",
            400,
            b"The request has 2 content-encoding headers; send one.",
        ),
    ],
)
def test_requests_no_reverse_proxy_should_forward_are_refused(
    gateway, upstream, request_head: bytes, status: int, reason: bytes
) -> None:
    answer = raw_request(gateway.port, request_head + b"Connection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 %d " % status)
    assert reason in answer
    assert upstream[0].received == []


def test_an_http_1_0_request_needs_no_host(gateway, upstream) -> None:
    upstream[0].answer("/x", Answer(200, "text/plain", b"upstream"))
    assert raw_request(gateway.port, b"GET /x HTTP/1.0\r\n\r\n").endswith(b"upstream")


def test_the_upstream_gets_only_the_headers_it_should(gateway, upstream) -> None:
    """No header the client did not send (aiohttp's own Accept-Encoding could bring a gzip
    body the client cannot read), no origin the client claims in Forwarded or X-Real-IP, and
    no Expect: the body has been read already (the upstream client would wait for a 100)."""
    scripted, _ = upstream
    scripted.answer("/x", Answer(200, "text/plain", b"upstream"))
    answer = raw_request(
        gateway.port,
        b"POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nForwarded: for=6.6.6.6\r\n"
        b"X-Real-IP: 6.6.6.6\r\nX_Real_IP: 6.6.6.6\r\nX_Forwarded_For: 6.6.6.6\r\n"
        b"Content-Length: 5\r\nConnection: close\r\n\r\nhello",
    )
    assert answer.endswith(b"upstream")
    received = scripted.received[-1]
    assert received.body == b"hello"
    assert set(received.headers) == {
        "host",
        "content-length",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-request-id",
    }


def test_the_upstream_s_cookies_are_not_kept_for_other_clients(upstream) -> None:
    scripted, running = upstream
    scripted.answer(
        "/login",
        Answer(200, "text/plain", b"in", headers=[(b"set-cookie", b"JSESSIONID=first; Path=/")]),
    )
    scripted.answer("/x", Answer(200, "text/plain", b"x"))
    # A host name, not an address: aiohttp's cookie jar ignores cookies of IP hosts.
    by_name = running.url.replace("127.0.0.1", "localhost")
    with serve_gateway(gateway_settings(by_name)) as server:
        assert httpx.get(server.url + "/login").headers["set-cookie"] == "JSESSIONID=first; Path=/"
        httpx.get(server.url + "/x")
        httpx.get(server.url + "/x", headers={"cookie": "JSESSIONID=mine"})
    assert "cookie" not in scripted.received[-2].headers
    assert scripted.received[-1].headers["cookie"] == "JSESSIONID=mine"


@pytest.mark.parametrize(
    ("request_id", "kept"),
    [
        ("ae7-4f.2:x_y/1", True),
        ("<script>", True),
        ('a"b', True),
        ("a" * 129, False),
        ("a b", False),
        ("é", False),
    ],
)
def test_a_client_s_request_id_is_kept_when_it_is_visible_ascii(
    gateway, upstream, request_id: str, kept: bool
) -> None:
    upstream[0].answer("/x", Answer(200, "text/plain", b"x"))
    response = httpx.get(gateway.url + "/x", headers={"x-request-id": request_id.encode("latin-1")})
    given = response.headers["x-request-id"]
    assert (given == request_id) is kept
    if not kept:
        assert re.fullmatch("[0-9a-f]{32}", given)
    assert upstream[0].received[-1].headers["x-request-id"] == given


def test_a_path_that_could_change_host_is_refused(gateway, upstream) -> None:
    answer = raw_request(
        gateway.port, b"GET //internal.example/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert upstream[0].received == []


def test_the_reserved_prefix_is_never_forwarded(gateway, upstream) -> None:
    assert httpx.get(gateway.url + "/_gateway/anything").status_code == 404
    assert upstream[0].received == []


def test_an_unreachable_upstream_is_a_502_anomaly() -> None:
    closed = free_socket()
    port = closed.getsockname()[1]
    closed.close()
    with serve_gateway(gateway_settings(f"http://127.0.0.1:{port}", connect_timeout="2")) as server:
        response = httpx.get(server.url + "/v1.0/exports/7")
    assert response.status_code == 502
    assert b'code="GTW03"' in response.content
    assert b"upstream.unreachable" in response.content


def test_an_unreachable_upstream_answers_a_soap_call_with_a_french_fault() -> None:
    closed = free_socket()
    port = closed.getsockname()[1]
    closed.close()
    settings = gateway_settings(f"http://127.0.0.1:{port}", env="recette", connect_timeout="2")
    with serve_gateway(settings) as server:
        response = httpx.post(
            server.url + "/nuu-ws/services/DemandeLogement",
            content=(FIXTURES / "soap/soap12-getNumUnique-request.xml").read_bytes(),
            headers={"content-type": SOAP12_GET_NUM_UNIQUE},
        )
    assert response.status_code == 502
    fault = etree.fromstring(response.content)
    assert fault.findtext(f".//{{{ENV12}}}Value") == "env:Receiver"
    reason = fault.find(f".//{{{ENV12}}}Text")
    assert reason.get(XML_LANG) == "fr"
    assert reason.text == "La plateforme SNE est injoignable depuis sne-gateway."
    anomaly = fault.find(f".//{{{NUU}}}anomalie")
    assert anomaly.get("code") == "GTW03"
    assert anomaly.findtext(f"{{{NUU}}}message").startswith(
        "[upstream.unreachable] upstream: The SNE platform cannot be reached ("
    )


@contextlib.contextmanager
def raw_upstream(answer: bytes, hold: float = 0) -> Iterator[str]:
    """An upstream that reads each request's head and body, answers `answer`, bytes no HTTP
    server library would send, and closes the connection (`hold` seconds later)."""
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
                length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                while length and len(body) < int(length[1]):
                    body += connection.recv(65536)
                connection.sendall(answer)
                time.sleep(hold)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=10)


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 2OO WHAT\r\nContent-Length: 0\r\n\r\n",
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Large: " + b"a" * 10_000 + b"\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Control: a\x01b\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: other\r\nConnection: Upgrade\r\n\r\n",
        # An XML answer, validated, so read whole first: it broke off.
        b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 1000\r\n\r\n<a>",
        b"HTTP/1.1 999 Weird\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Type: application/xml\r\n"
        b"Content-Length: 4\r\n\r\n<a/>",
        # aiohttp quotes what it cannot parse: here an application's values.
        b"<interfaceNuu><nom>DUPONT</nom></interfaceNuu>\r\n\r\n",
    ],
)
def test_an_answer_the_upstream_botched_is_a_502_anomaly(answer: bytes) -> None:
    with (
        raw_upstream(answer) as url,
        serve_gateway(gateway_settings(url, env="recette")) as gateway,
    ):
        response = httpx.get(gateway.url + "/v1.0/exports/7")
        health = httpx.get(gateway.url + "/_gateway/health")
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    anomaly = etree.fromstring(response.content).find(f".//{{{NUU}}}anomalie")
    assert anomaly.get("code") == "GTW07"
    assert b"DUPONT" not in response.content
    assert health.status_code == 200


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/x", b"text/plain"), ("/v1.0/exports/9/fichier", b"application/gzip")],
)
def test_an_answer_broken_off_while_streaming_ends_the_connection(
    capfd, path: str, content_type: bytes
) -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\nabc" % (
        content_type
    )
    with (
        raw_upstream(answer) as url,
        serve_gateway(gateway_settings(url, env="recette")) as gateway,
    ):
        received = raw_request(gateway.port, b"GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % path.encode())
    # The headers had gone: the client learns it from a body short of its Content-Length.
    assert received.startswith(b"HTTP/1.1 200 ")
    assert b"\r\n\r\n" in received and len(received.split(b"\r\n\r\n", 1)[1]) < 1000
    logged = capfd.readouterr().err
    assert '"event":"upstream.broke-off"' in logged
    assert '"outcome":"upstream-broke-off"' in logged
    assert "Traceback" not in logged


def test_bytes_the_upstream_sends_unasked_never_answer_another_request() -> None:
    """An upstream that, after its answer, sends another on the idle kept-alive connection
    (the desync of a server that ignored a request body): aiohttp would hand it to the next
    exchange on that connection, another client's."""
    listener = free_socket()
    listener.listen()

    def answer(connection: socket.socket) -> None:
        with connection:
            planted = False
            while True:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                if not planted:
                    time.sleep(0.1)
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nPLANTED")
                    planted = True

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with serve_gateway(gateway_settings(url, env="recette")) as gateway:
            bodies = []
            for _ in range(3):
                bodies.append(httpx.get(gateway.url + "/x").content)
                time.sleep(0.5)  # the unasked answer reaches the idle pooled connection
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
    assert bodies == [b"ok", b"ok", b"ok"]


def test_an_upstream_that_stops_sending_mid_body_is_a_504_anomaly() -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 1000\r\n\r\n<a>"
    with (
        raw_upstream(answer, hold=3) as url,
        serve_gateway(gateway_settings(url, env="recette", read_timeout="0.5")) as gateway,
    ):
        response = httpx.get(gateway.url + "/v1.0/exports/7", timeout=30)
    assert response.status_code == 504
    assert b'code="GTW04"' in response.content


def test_a_slow_upstream_is_a_504_anomaly(upstream) -> None:
    scripted, running = upstream
    scripted.answer("/slow", Answer(200, "text/plain", b"late", delay=3))
    # A short timeout for this gateway only: on a busy machine, others' upstream answers may
    # take longer than it.
    settings = gateway_settings(running.url, env="recette", read_timeout="1")
    with serve_gateway(settings) as gateway:
        response = httpx.get(gateway.url + "/slow", timeout=30)
    assert response.status_code == 504
    assert b"upstream.timeout" in response.content


def endless(chunk: bytes = b"x" * 65536, count: int = 100_000):
    async def stream() -> AsyncIterator[bytes]:
        for _ in range(count):
            await asyncio.sleep(0.005)
            yield chunk

    return stream


def test_a_client_disconnect_cancels_the_upstream_call(gateway, upstream) -> None:
    scripted, _ = upstream
    scripted.streams_abandoned = 0
    scripted.answer("/big", Answer(200, "application/octet-stream", stream=endless()))
    with httpx.stream("GET", gateway.url + "/big", timeout=30) as response:
        next(response.iter_raw())
    wait_until(lambda: scripted.streams_abandoned == 1)
    assert scripted.chunks_sent < 1000


def test_a_client_disconnect_while_waiting_for_the_upstream(gateway, upstream) -> None:
    scripted, _ = upstream
    scripted.streams_abandoned = 0
    scripted.answer(
        "/waiting", Answer(200, "application/octet-stream", delay=0.5, stream=endless())
    )
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(gateway.url + "/waiting", timeout=0.1)
    # The gateway cancelled its upstream call: the upstream finds its client gone.
    wait_until(lambda: scripted.streams_abandoned == 1)
    assert httpx.get(gateway.url + "/_gateway/health").status_code == 200


def test_an_export_is_streamed_and_validated_member_by_member(gateway, upstream) -> None:
    archive = (FIXTURES / "archives" / "export-mixed.tgz").read_bytes()
    upstream[0].answer("/v1.0/exports/9/fichier", Answer(200, "application/gzip", archive))
    response = httpx.get(gateway.url + "/v1.0/exports/9/fichier")
    assert response.status_code == 200
    assert response.headers["x-conformance"] == "streaming"
    assert response.content == archive  # log policy: the whole archive reaches the client


@pytest.mark.parametrize("fixture", ["claims-1tb-member.tgz", "claims-600mb-long-name.tgz"])
def test_a_hostile_export_goes_through_without_holding_the_gateway(
    gateway, upstream, fixture: str
) -> None:
    """Headers claiming 1 TB of data or a 600 MiB long name: the archive's verdict comes at
    once, and the gateway stays as it was (it used to read for hours, or fill memory)."""
    archive = (FIXTURES / "archives" / fixture).read_bytes()
    upstream[0].answer("/v1.0/exports/9/fichier", Answer(200, "application/gzip", archive))
    response = httpx.get(gateway.url + "/v1.0/exports/9/fichier", timeout=30)
    assert response.status_code == 200
    assert response.content == archive  # log policy: passed on, its verdict logged
    assert httpx.get(gateway.url + "/_gateway/health").json()["status"] == "ok"


def downloaded_under_block(running: RunningServer, tmp_path: Path, path: str) -> bytes:
    """What a client receives of the export at `path` through a gateway blocking answers,
    which cuts the connection."""
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[gateway]\nxsd = "{FIXTURES.parent / "xsd"}"\n[policy.recette]\nresponse = "block"\n'
        '[[routes]]\nname = "download"\npath = "/v1.0/exports/*/fichier"\nresponse = { extract = "tgz" }\n'
    )
    with serve_gateway(gateway_settings(running.url, config=config)) as server:
        received = b""
        with (
            pytest.raises(httpx.RemoteProtocolError),
            httpx.stream("GET", server.url + path) as response,
        ):
            for chunk in response.iter_raw():
                received += chunk
    return received


def dripped_under_block(
    upstream: tuple[ScriptedUpstream, RunningServer], tmp_path: Path, archive: bytes, chunk: int
) -> bytes:
    """What a client receives of `archive`, sent by the upstream `chunk` bytes at a time, through
    a gateway blocking answers."""
    scripted, running = upstream

    async def slowly() -> AsyncIterator[bytes]:
        for start in range(0, len(archive), chunk):
            await asyncio.sleep(0.002)
            yield archive[start : start + chunk]

    scripted.answer("/v1.0/exports/9/fichier", Answer(200, "application/gzip", stream=slowly))
    return downloaded_under_block(running, tmp_path, "/v1.0/exports/9/fichier")


def export_of(documents: list[bytes], compresslevel: int = 9) -> bytes:
    """A TGZ export holding `documents` as CERFA/00000.xml, CERFA/00001.xml, ..."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=compresslevel) as tar:
        for index, data in enumerate(documents):
            info = tarfile.TarInfo(f"CERFA/{index:05d}.xml")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_an_invalid_export_is_cut_under_block(upstream, tmp_path: Path) -> None:
    archive = (FIXTURES / "archives" / "export-mixed.tgz").read_bytes()
    received = dripped_under_block(upstream, tmp_path, archive, 512)
    assert len(received) < len(archive)


def test_an_export_is_cut_soon_after_its_first_invalid_member(upstream, tmp_path: Path) -> None:
    """Not once its members have been read in a batch: the members behind the invalid first
    one (40 applications, stored without compression) are not sent first."""
    invalid = (FIXTURES / "invalid/demande/xsd.facet--nom-too-long.xml").read_bytes()
    valid = (FIXTURES / "valid/13.33/demande/complete-household.xml").read_bytes()
    archive = export_of([invalid] + [valid] * 40, compresslevel=0)
    received = dripped_under_block(upstream, tmp_path, archive, 4096)
    assert len(received) < len(archive) // 2


def test_an_export_with_a_link_named_xml_is_cut_under_block(upstream, tmp_path: Path) -> None:
    """Its other members are valid: only the link's own problem can cut it."""
    scripted, running = upstream
    archive = (FIXTURES / "archives" / "links-named-xml.tgz").read_bytes()
    scripted.answer("/v1.0/exports/8/fichier", Answer(200, "application/gzip", archive))
    received = downloaded_under_block(running, tmp_path, "/v1.0/exports/8/fichier")
    assert len(received) < len(archive)


def test_an_export_with_a_member_named_to_extract_elsewhere_is_cut_under_block(
    upstream, tmp_path: Path
) -> None:
    """Every member is a valid application: only the names can cut it."""
    scripted, running = upstream
    archive = (FIXTURES / "archives" / "unsafe-names.tgz").read_bytes()
    scripted.answer("/v1.0/exports/6/fichier", Answer(200, "application/gzip", archive))
    received = downloaded_under_block(running, tmp_path, "/v1.0/exports/6/fichier")
    assert len(received) < len(archive)


def test_an_archive_check_keeps_failures_not_every_member(tmp_path: Path) -> None:
    from gateway.catalog import load_catalog
    from gateway.extract.archive import TGZ
    from gateway.limits import MAX_FAILED_DOCUMENTS, Limits
    from gateway.proxy.archive_stream import ArchiveCheck

    valid = (FIXTURES / "valid/13.33/demande/minimal.xml").read_bytes()
    invalid = (FIXTURES / "invalid/demande/xsd.facet--nom-too-long.xml").read_bytes()
    data = export_of([valid] * 50 + [invalid] * (MAX_FAILED_DOCUMENTS + 20))

    async def check_all() -> ArchiveCheck:
        check = ArchiveCheck(
            TGZ,
            "export.tgz",
            load_catalog(FIXTURES.parent / "xsd").latest,
            "demande",
            Limits(),
            False,
        )
        for start in range(0, len(data), 4096):
            await check.feed(data[start : start + 4096])
        await check.finish()
        return check

    check = asyncio.run(check_all())
    assert check.documents == 50 + MAX_FAILED_DOCUMENTS + 20
    assert len(check.failures) == MAX_FAILED_DOCUMENTS and check.failures_omitted == 20
    assert check.reports == check.failures
    assert list(check.schemas) == ["demande@13.34"]


@pytest.fixture(scope="module")
def impatient(upstream) -> Iterator[RunningServer]:
    """A gateway that gives clients half a second to send each part of their request."""
    _, running = upstream
    settings = gateway_settings(running.url, env="recette", client_timeout="0.5")
    with serve_gateway(settings) as server:
        yield server


def test_a_client_stalling_in_its_headers_is_answered_408_and_disconnected(impatient) -> None:
    answer = raw_request(impatient.port, b"POST /v1.0/drm/ressources HTTP/1.1\r\nHost: a\r\n")
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert answer.endswith(b"did not arrive in time (client_timeout).")


def test_a_connection_left_unused_is_closed_without_an_answer(impatient) -> None:
    assert raw_request(impatient.port, b"") == b""


def test_the_next_request_on_a_kept_alive_connection_is_timed_too(impatient, upstream) -> None:
    upstream[0].answer("/first", Answer(200, "text/plain", b"first"))
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=30) as connection:
        connection.sendall(b"GET /first HTTP/1.1\r\nHost: a\r\n\r\n")
        first = b""
        while not first.endswith(b"first"):
            first += connection.recv(65536)
        connection.sendall(b"GET /second HTTP/1.1\r\n")
        second = b""
        while chunk := connection.recv(65536):
            second += chunk
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert second.startswith(b"HTTP/1.1 408 Request Timeout\r\n")


def test_a_client_stalling_in_its_body_is_answered_an_anomaly_and_not_forwarded(
    impatient, upstream
) -> None:
    answer = raw_request(
        impatient.port,
        b"POST /v1.0/drm/ressources HTTP/1.1\r\nHost: a\r\nContent-Type: application/xml\r\n"
        b"Content-Length: 1000\r\n\r\n<ressources",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"\r\nconnection: close" in head.lower()
    anomaly = etree.fromstring(body).find(f".//{{{NUU}}}anomalie")
    assert anomaly.get("code") == "GTW06"
    assert anomaly.findtext(f"{{{NUU}}}message") == (
        "[client.timeout] request: The client sent nothing for 0.5 s before the end of its "
        "request body (client_timeout); the request was not forwarded whole."
    )
    assert upstream[0].received == []


def test_a_soap_client_stalling_in_its_body_is_answered_a_sender_fault(impatient) -> None:
    envelope = (FIXTURES / "soap/soap12-getNumUnique-request.xml").read_bytes()
    answer = raw_request(
        impatient.port,
        b"POST /nuu-ws/services/DemandeLogement HTTP/1.1\r\nHost: a\r\n"
        + f"Content-Type: {SOAP12_GET_NUM_UNIQUE}\r\n".encode()
        + f"Content-Length: {len(envelope)}\r\n\r\n".encode()
        + envelope[:100],
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    fault = etree.fromstring(body)
    assert fault.findtext(f".//{{{ENV12}}}Value") == "env:Sender"
    assert fault.find(f".//{{{ENV12}}}Text").get(XML_LANG) == "fr"
    assert fault.find(f".//{{{NUU}}}anomalie").get("code") == "GTW06"


def test_a_client_stalling_in_a_streamed_body_is_cut_on_both_sides(impatient, upstream) -> None:
    declared = 4 * 1024 * 1024
    sent = 2 * 1024 * 1024  # past the pass-through buffer: the body streams to the upstream
    answer = raw_request(
        impatient.port,
        b"PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Type: application/octet-stream\r\n"
        + f"Content-Length: {declared}\r\n\r\n".encode()
        + b"x" * sent,
    )
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b'code="GTW06"' in answer
    # The upstream saw its request end early (the gateway dropped the connection).
    wait_until(lambda: len(upstream[0].received) == 1)
    assert len(upstream[0].received[0].body) < declared


def test_a_slow_upstream_is_not_the_clients_timeout(impatient, upstream) -> None:
    upstream[0].answer("/late", Answer(200, "text/plain", b"late", delay=1.5))
    response = httpx.get(impatient.url + "/late", timeout=30)
    assert response.status_code == 200
    assert response.content == b"late"


@pytest.mark.parametrize(
    ("head", "line"),
    [
        (b"", b"X-Filler-%d: " + b"a" * 1000 + b"\r\n"),
        # One line that never ends: httptools hands nothing over until it does.
        (b"X-Endless: ", b"a" * 1000),
        # The same in a chunked body's trailers.
        (b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Endless: ", b"a" * 1000),
    ],
)
def test_headers_over_64_kib_are_answered_431_and_disconnected(
    gateway, upstream, head: bytes, line: bytes
) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as connection:
        connection.sendall(b"GET /v1.0/exports HTTP/1.1\r\nHost: a\r\n" + head)
        answer = b""
        try:
            # The gateway stops reading at its limit: it never holds what it is sent beyond it.
            for number in range(10_000):
                connection.sendall(line.replace(b"%d", b"%d" % number))
        except (BrokenPipeError, ConnectionResetError):
            pass
        with contextlib.suppress(ConnectionResetError):
            while chunk := connection.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert answer.endswith(b"The request line and headers are larger than 64 KiB.")
    assert upstream[0].received == []


def test_a_long_url_counts_in_the_header_limit(gateway, upstream) -> None:
    answer = raw_request(gateway.port, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: a\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert upstream[0].received == []


def test_headers_just_under_the_limit_pass(gateway, upstream) -> None:
    upstream[0].answer("/many", Answer(200, "text/plain", b"ok"))
    headers = {f"x-filler-{number}": "a" * 1000 for number in range(60)}
    response = httpx.get(gateway.url + "/many", headers=headers, timeout=30)
    assert response.status_code == 200
    assert upstream[0].received[0].headers["x-filler-59"] == "a" * 1000


def test_trailers_are_not_forwarded_as_headers(gateway, upstream) -> None:
    upstream[0].answer("/t", Answer(200, "text/plain", b"ok"))
    answer = raw_request(
        gateway.port,
        b"POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"5\r\nhello\r\n0\r\nX-Trailer: t\r\nHost: b\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 200 ")
    received = upstream[0].received[-1]
    assert received.body == b"hello"
    assert "x-trailer" not in received.headers


def test_headers_just_under_the_limit_pass_in_many_reads(gateway, upstream) -> None:
    # 64 fields of 1,021 bytes (65,344, under the limit), 65,600 bytes with their punctuation.
    upstream[0].answer("/many", Answer(200, "text/plain", b"ok"))
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as connection:
        connection.sendall(b"GET /many HTTP/1.1\r\nHost: a\r\n")
        for number in range(64):
            time.sleep(0.001)  # separate reads, as a slow network would deliver them
            connection.sendall(b"x-filler-%02d: %s\r\n" % (number, b"a" * 1010))
        connection.sendall(b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 ")


def test_a_client_that_reads_nothing_of_its_answer_is_disconnected(impatient, upstream) -> None:
    scripted, _ = upstream
    scripted.streams_abandoned = 0
    scripted.answer("/unread", Answer(200, "application/octet-stream", stream=endless()))
    with socket.socket() as connection:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        connection.connect(("127.0.0.1", impatient.port))
        connection.sendall(b"GET /unread HTTP/1.1\r\nHost: a\r\n\r\n")
        # The gateway gives up on this client, and so its upstream call.
        wait_until(lambda: scripted.streams_abandoned == 1, seconds=30)


@pytest.fixture(scope="module")
def two_seconds(upstream) -> Iterator[RunningServer]:
    """A gateway giving clients 2 s: room for the gaps below on a busy machine."""
    _, running = upstream
    settings = gateway_settings(running.url, env="recette", client_timeout="2")
    with serve_gateway(settings) as server:
        yield server


def read_answer(connection: socket.socket) -> bytes:
    """One answer with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: (\d+)", head)[1])
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


def test_a_client_still_sending_a_body_answered_early_is_not_cut(two_seconds) -> None:
    # /_gateway/ is answered at once, the body unread: the rest of it is timed as silence, not
    # as the next request's headers.
    with socket.create_connection(("127.0.0.1", two_seconds.port), timeout=30) as connection:
        connection.sendall(b"POST /_gateway/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3000\r\n\r\n")
        assert read_answer(connection).startswith(b"HTTP/1.1 404 ")
        for _ in range(30):  # 3 s of steady sending, more than client_timeout in all
            connection.sendall(b"x" * 100)
            time.sleep(0.1)
        connection.sendall(b"GET /_gateway/y HTTP/1.1\r\nHost: a\r\n\r\n")
        assert read_answer(connection).startswith(b"HTTP/1.1 404 ")


def test_the_request_after_a_body_answered_early_gets_the_whole_client_timeout(
    two_seconds,
) -> None:
    with socket.create_connection(("127.0.0.1", two_seconds.port), timeout=30) as connection:
        connection.sendall(b"POST /_gateway/x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n1")
        assert read_answer(connection).startswith(b"HTTP/1.1 404 ")
        connection.sendall(b"234567890")  # the end of the unread body
        time.sleep(1.5)
        connection.sendall(b"GET /_gateway/y HTTP/1.1\r\n")
        time.sleep(1)  # this request's headers take 1 s: 2.5 s after the body's end
        connection.sendall(b"Host: a\r\n\r\n")
        assert read_answer(connection).startswith(b"HTTP/1.1 404 ")


def test_a_pipelined_request_stalling_in_its_headers_is_timed_after_the_answer_before_it(
    impatient, upstream
) -> None:
    upstream[0].answer("/before", Answer(200, "text/plain", b"before", delay=1))
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=30) as connection:
        connection.sendall(b"GET /before HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\n")
        # Its time does not run while the answer before it is awaited (longer than the timeout).
        assert read_answer(connection).startswith(b"HTTP/1.1 200 ")
        rest = b""
        while chunk := connection.recv(65536):
            rest += chunk
    assert rest.startswith(b"HTTP/1.1 408 Request Timeout\r\n")


def test_upstream_urls_are_parsed_once_and_long_ones_not_kept() -> None:
    service = "http://sne.example/nuu-ws/services/DemandeLogement?x=%41"
    assert upstream_url(service) is upstream_url(service)
    assert str(upstream_url(service)) == service
    long = "http://sne.example/" + "a" * CACHED_URL_LENGTH
    kept = _parsed_url.cache_info().currsize
    assert upstream_url(long) is not upstream_url(long)
    assert _parsed_url.cache_info().currsize == kept

"""Connections the gateway answered before it read their body: once the client has sent the
rest of it, they are closed like any other idle connection (they used to stay open for ever,
so a client could hold file descriptors at almost no cost)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest

from tests.servers import RunningServer, gateway_settings, serve_asgi, serve_gateway
from tests.upstream import ScriptedUpstream

#: Only bounds a failing test: the connection must close on its own long before.
GENEROUS = 60


@pytest.fixture(scope="module")
def gateway() -> Iterator[RunningServer]:
    """A gateway giving clients 1 s of silence, and validating bodies up to 1,000 bytes; its
    idle connections are closed after 1 s (uvicorn's keep-alive timeout, 5 s in `serve`)."""
    with (
        serve_asgi(ScriptedUpstream()) as upstream,
        serve_gateway(
            gateway_settings(
                upstream.url, env="recette", client_timeout="1", max_body_bytes="1000"
            ),
            timeout_keep_alive=1,
        ) as server,
    ):
        yield server


def answer_then_idle(port: int, head: bytes, first: bytes, rest: bytes) -> tuple[bytes, bytes]:
    """Send `head` and the `first` bytes of the body, read the gateway's answer, send the
    `rest` of the body, then nothing: the answer, and what came after it until the gateway
    closed the connection (a socket timeout if it never does)."""
    with socket.create_connection(("127.0.0.1", port), timeout=GENEROUS) as connection:
        connection.sendall(head + first)
        data = b""
        while b"\r\n\r\n" not in data:
            data += connection.recv(65536)
        answer_head, _, body = data.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: (\d+)", answer_head)[1])
        while len(body) < length:
            body += connection.recv(65536)
        connection.sendall(rest)
        after = body[length:]
        while chunk := connection.recv(65536):
            after += chunk
    return answer_head, after


@pytest.mark.parametrize(
    ("head", "status"),
    [
        # A path the gateway refuses, before reading the body.
        (b"POST /a/../../etc HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n", b"400"),
        # A path under /_gateway/ that is no endpoint.
        (b"POST /_gateway/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n", b"404"),
        # A body over max_body_bytes, blocked after its first 1,000 bytes.
        (
            b"POST /v1.0/drm/ressources HTTP/1.1\r\nHost: a\r\nContent-Type: application/xml\r\n"
            b"Content-Length: 5000\r\n\r\n",
            b"422",
        ),
    ],
    ids=["refused-path", "reserved-prefix", "body-over-max-body-bytes"],
)
def test_a_connection_answered_before_its_body_was_read_is_closed_once_idle(
    gateway, head: bytes, status: bytes
) -> None:
    answer, after = answer_then_idle(gateway.port, head, b"x" * 2000, b"y" * 3000)
    assert answer.startswith(b"HTTP/1.1 " + status)
    assert after == b""  # closed without a word, as an idle kept-alive connection is

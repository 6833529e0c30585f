"""Each client connection: uvicorn's httptools protocol, with what the gateway needs of it.

- The raw request target goes to the application, which is how an absolute-form target
  (`GET http://elsewhere/ HTTP/1.1`) is recognised and refused: httptools would otherwise
  reduce it to its path silently.
- A client gets `client_timeout` seconds to send a request's line and headers, from the
  connection's opening or the request's first byte (a pipelined request: from the end of the
  answer before it), after which it is answered 408 and disconnected: uvicorn would wait for
  ever (a stalled client, or slowloris). The body's silences are timed by the exchange, which
  answers them in the SNE's shape.
- A connection answered before its request's body was read (a refusal, a body over
  `max_body_bytes` blocked) is closed like an idle one once the body's end has come: uvicorn
  stops its keep-alive timer at the body's first byte and never arms it again.
- A client that reads nothing of its answer for `client_timeout` seconds, while the gateway
  has more to send, is disconnected: uvicorn would keep the answer (up to `max_body_bytes`
  of it) and the upstream's stream waiting for ever.
- The request line and headers (and a chunked body's trailers, which are dropped) may hold
  `MAX_HEADER_BYTES`, past which the client is answered 431 and disconnected: uvicorn would keep
  all it is sent, and a header line that never ends would grow, copied over and over, until the
  client timeout (what that cost is measured in docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, cast

import structlog
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.config import Settings

#: `client_timeout`'s default, for servers built without settings (the tests' upstreams).
DEFAULT_CLIENT_TIMEOUT = Settings.client_timeout
HEADERS_TIMED_OUT = b"The request line and headers did not arrive in time (client_timeout)."
#: Far above what an SNE client sends (a few hundred bytes), and above nginx's default limits.
MAX_HEADER_BYTES = 64 * 1024
#: The raw bytes of reads within the headers also hold the lines' punctuation, and a read may
#: end anywhere: a bound with room, only there to stop a header line that never ends.
MAX_RAW_HEADER_BYTES = 2 * MAX_HEADER_BYTES
HEADERS_TOO_LARGE = b"The request line and headers are larger than 64 KiB."


class HeadersTooLarge(Exception):
    """Raised from the parser's callbacks, which stops the parsing; uvicorn then calls
    `send_400_response`, which answers 431 instead."""


class GatewayProtocol(HttpToolsProtocol):
    def __init__(
        self, *args: Any, client_timeout: float = DEFAULT_CLIENT_TIMEOUT, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.client_timeout = client_timeout
        self.headers_deadline: asyncio.TimerHandle | None = None
        #: A request's first bytes are in, its headers not yet.
        self.reading_headers = False
        #: The parser is inside a request, from its first byte to the end of its body.
        self.in_message = False
        #: The request line and headers, as httptools hands them over (a field once whole)...
        self.header_bytes = 0
        #: ... and the raw bytes of the chunks after the request's first, for a field not whole
        #: (then, in a chunked body, of the reads that bring no body byte: framing, trailers).
        self.raw_header_bytes = 0
        self.message_began = False
        self.body_seen = False
        self.write_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_headers_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_headers_deadline()
        self._stop_write_deadline()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.write_deadline is None:
            self.write_deadline = self.loop.call_later(self.client_timeout, self._reads_too_slow)

    def resume_writing(self) -> None:
        self._stop_write_deadline()
        super().resume_writing()

    def _stop_write_deadline(self) -> None:
        if self.write_deadline is not None:
            self.write_deadline.cancel()
            self.write_deadline = None

    def _reads_too_slow(self) -> None:
        self.write_deadline = None
        structlog.get_logger("gateway").warning(
            "client.timeout",
            phase="response",
            reason="The client read nothing of its answer in time (client_timeout).",
        )
        # Not close(): it would wait for the client to read what is buffered.
        self.transport.abort()

    def _answered(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def data_received(self, data: bytes) -> None:
        if self._answered():
            if self.in_message and not self.reading_headers:
                # The rest of a body answered before it was read (a refusal, an upstream that
                # answers early): timed as silence, so a client still uploading is not cut.
                self._stop_headers_deadline()
                self._start_headers_deadline()
            elif self.headers_deadline is None:
                # The next request's first bytes (uvicorn stops its keep-alive timer on any
                # byte, even a lone CRLF).
                self._start_headers_deadline()
        self.message_began = self.body_seen = False
        super().data_received(data)
        if self.transport.is_closing() or not self.in_message or self.message_began:
            return
        if self.reading_headers or not self.body_seen:
            # Headers, or a chunked body's framing and trailers: bytes httptools keeps until
            # a line ends.
            self.raw_header_bytes += len(data)
            if self.raw_header_bytes > MAX_RAW_HEADER_BYTES:
                self.send_400_response(HEADERS_TOO_LARGE.decode())
        else:
            self.raw_header_bytes = 0

    def on_body(self, body: bytes) -> None:
        self.body_seen = True
        super().on_body(body)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_headers = True
        self.in_message = True
        self.message_began = True
        self.header_bytes = self.raw_header_bytes = 0
        if self.headers_deadline is None and self._answered():
            self._start_headers_deadline()

    def on_message_complete(self) -> None:
        self.in_message = False
        if self._answered():
            # The end of a body answered early: the next request's time starts at its first
            # byte, and the connection is idle until then. uvicorn armed its keep-alive timer
            # when the answer ended, and stopped it at the body's next byte: armed again, or
            # the connection would stay open for ever.
            self._stop_headers_deadline()
            if not self.transport.is_closing() and not self.pipeline:
                self._unset_keepalive_if_required()
                self.timeout_keep_alive_task = self.loop.call_later(
                    self.timeout_keep_alive, self.timeout_keep_alive_handler
                )
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.reading_headers and self.headers_deadline is None:
            # A pipelined request, begun while this answer was pending, is timed from now.
            self._start_headers_deadline()

    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value))
        if self.reading_headers:
            super().on_header(name, value)
        # Else a chunked body's trailer field: dropped (the body goes on without its chunked
        # coding, RFC 9110, 6.5.1), where uvicorn would add it to the request's headers.

    def _count_header_bytes(self, count: int) -> None:
        self.header_bytes += count
        if self.header_bytes > MAX_HEADER_BYTES:
            raise HeadersTooLarge

    def send_400_response(self, msg: str) -> None:
        if self.header_bytes <= MAX_HEADER_BYTES and self.raw_header_bytes <= MAX_RAW_HEADER_BYTES:
            super().send_400_response(msg)
            return
        self._stop_headers_deadline()
        structlog.get_logger("gateway").warning(
            "client.headers-too-large", reason=HEADERS_TOO_LARGE.decode()
        )
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()  # trailers, once an answer has begun: no room for a 431
            return
        self._refuse(b"431 Request Header Fields Too Large", HEADERS_TOO_LARGE)

    def on_headers_complete(self) -> None:
        self.reading_headers = False
        self._stop_headers_deadline()
        extensions = cast(dict[str, object], self.scope.setdefault("extensions", {}))
        extensions["request_target"] = self.url
        super().on_headers_complete()

    def _start_headers_deadline(self) -> None:
        self.headers_deadline = self.loop.call_later(self.client_timeout, self._headers_too_slow)

    def _stop_headers_deadline(self) -> None:
        if self.headers_deadline is not None:
            self.headers_deadline.cancel()
            self.headers_deadline = None

    def _headers_too_slow(self) -> None:
        self.headers_deadline = None
        if self.transport.is_closing():
            return
        if self.reading_headers:
            structlog.get_logger("gateway").warning(
                "client.timeout", phase="headers", reason=HEADERS_TIMED_OUT.decode()
            )
            self._refuse(b"408 Request Timeout", HEADERS_TIMED_OUT)
        else:
            # A connection left unused (a client's pool), or the unread rest of a body answered
            # early gone silent: closed without a word.
            self.transport.close()

    def _refuse(self, status: bytes, reason: bytes) -> None:
        """Answer in plain text (no route is known yet) and close the connection."""
        self.transport.write(
            b"HTTP/1.1 %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (status, len(reason), reason)
        )
        self.transport.close()


def gateway_protocol(settings: Settings) -> Callable[..., GatewayProtocol]:
    """uvicorn's `http` option: the protocol class with the configured `client_timeout`."""
    return functools.partial(GatewayProtocol, client_timeout=settings.client_timeout)

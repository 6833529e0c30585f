"""The one place an exchange's ASGI response messages are sent: a whole answer (with its
Content-Length), or a stream (its start, its chunks, its end) that may be cut, left without its
end, which makes the server drop the connection: the client then sees a truncated download,
never a complete body the gateway found invalid or the upstream broke off.

The writer knows whether an answer has begun (`status`) and whether it has ended (`finished`):
from then on, a client that disconnects ends the exchange normally rather than aborting it.
"""

from __future__ import annotations

from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Send

from gateway.proxy.answer import Answer
from gateway.proxy.headers import RawHeaders


class ResponseWriter:
    """The response messages of one exchange, sent through `send`."""

    __slots__ = ("finished", "send", "status")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status: int | None = None
        self.finished = False

    async def start(self, status: int, headers: RawHeaders) -> None:
        """Begin the answer: its status and headers."""
        self.status = status
        message: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": status,
            "headers": headers,
        }
        await self.send(message)

    async def chunk(self, data: bytes) -> None:
        """Send part of the body; more follows."""
        message: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": data,
            "more_body": True,
        }
        await self.send(message)

    async def end(self, data: bytes = b"") -> None:
        """Send the body's last part."""
        self.finished = True
        message: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": data,
            "more_body": False,
        }
        await self.send(message)

    async def whole(self, answer: Answer, headers: RawHeaders) -> None:
        """An answer of the gateway's own, whole, with `headers` after its type and length."""
        await self.start(
            answer.status,
            [
                (b"content-type", answer.content_type),
                (b"content-length", str(len(answer.body)).encode()),
                *headers,
            ],
        )
        await self.end(answer.body)

    async def buffered(
        self, status: int, passed_on: RawHeaders, body: bytes, own: RawHeaders
    ) -> None:
        """A body read whole, passed on with the headers it came with (`passed_on`), its own
        Content-Length, then the gateway's headers (`own`)."""
        kept = [(name, value) for name, value in passed_on if name.lower() != b"content-length"]
        kept.append((b"content-length", str(len(body)).encode()))
        await self.start(status, kept + own)
        await self.end(body)

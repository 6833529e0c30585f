"""Bodies, in both directions: buffered for validation up to a limit, and streamed on beyond it
(or beyond what the worker's `BufferBudget` has room for).

`buffer_body` reads any stream of chunks, the client's request body (`RequestBody`) or the
upstream's answer; the rest of the stream stays unread, for the caller to pass on. A client
may stay silent at most `seconds` between two parts of its body (`client_timeout`): the ASGI
server waits for ever, which would let a stalled or hostile client hold a request, its buffer
and its upstream connection open.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import cast

from litestar.types import HTTPRequestEvent, Receive

from gateway.proxy.buffer_budget import BufferClaim


class ClientDisconnected(Exception):
    """The client went away before the exchange ended."""


class ClientTimeout(ClientDisconnected):
    """The client sent nothing for `client_timeout` seconds before the end of its body."""


@dataclass(slots=True)
class BufferedBody:
    """The first bytes of a body: all of it when `ended`, else the first chunks past `limit`,
    or up to the chunk the worker's budget had no room for when `over_budget` (the rest is
    still to be read)."""

    data: bytes
    ended: bool
    limit: int
    over_budget: bool = False

    @property
    def within_limit(self) -> bool:
        """Whether the whole body was read and fits the limit and the worker's budget: it can
        be validated."""
        return self.ended and len(self.data) <= self.limit and not self.over_budget


async def buffer_body(
    chunks: AsyncIterator[bytes], limit: int, claim: BufferClaim | None = None
) -> BufferedBody:
    """Read `chunks` into a buffer; stop as soon as it holds more than `limit` bytes, or more
    than the worker's budget has room for when `claim` counts it (the rest stays unread)."""
    buffered: list[bytes] = []
    size = 0
    async for chunk in chunks:
        buffered.append(chunk)
        size += len(chunk)
        # A body over its own limit says so, rather than that the budget was short.
        if claim is not None and not claim.take(len(chunk)) and size <= limit:
            return BufferedBody(b"".join(buffered), False, limit, over_budget=True)
        if size > limit:
            return BufferedBody(b"".join(buffered), False, limit)
    return BufferedBody(b"".join(buffered), True, limit)


async def _receive_within(receive: Receive, seconds: float) -> HTTPRequestEvent:
    try:
        async with asyncio.timeout(seconds):
            message = await receive()
    except TimeoutError:
        raise ClientTimeout(seconds) from None
    if message["type"] == "http.disconnect":
        raise ClientDisconnected
    # An HTTP scope's messages are requests and disconnects.
    return cast(HTTPRequestEvent, message)


class RequestBody:
    """The client's body as it arrives, its parts at most `seconds` apart; `ended` once its
    last part has come (the rest of a body buffered past its limit may still be read)."""

    def __init__(self, receive: Receive, seconds: float) -> None:
        self.receive = receive
        self.seconds = seconds
        self.ended = False
        self.chunks = self._chunks()
        self.watcher: asyncio.Task[None] | None = None

    async def _chunks(self) -> AsyncIterator[bytes]:
        while not self.ended:
            message = await _receive_within(self.receive, self.seconds)
            self.ended = not message.get("more_body", False)
            if chunk := message.get("body", b""):
                yield chunk

    async def rest(self, first: bytes, on_end: Callable[[], None]) -> AsyncIterator[bytes]:
        """The body as a stream, after the `first` bytes already read; `on_end` is called
        once the last part is received."""
        if first:
            yield first
        async for chunk in self.chunks:
            yield chunk
        on_end()

    def watch_disconnect(self, gone: Callable[[], None]) -> None:
        """Once the body is read, the only message left to receive is a disconnect: call
        `gone` if it comes, until `stop_watching`."""

        async def watch() -> None:
            if (await self.receive())["type"] == "http.disconnect":
                gone()

        self.watcher = asyncio.create_task(watch())

    def stop_watching(self) -> None:
        if self.watcher is not None:
            self.watcher.cancel()

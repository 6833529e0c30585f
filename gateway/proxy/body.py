"""Reading an ASGI request body: buffered up to a limit for validation, streamed beyond it
(or beyond what the worker's `BufferBudget` has room for).

A client may stay silent at most `seconds` between two parts of its body (`client_timeout`):
the ASGI server waits for ever, which would let a stalled or hostile client hold a request, its
buffer and its upstream connection open.
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


async def read_body(
    receive: Receive, limit: int, seconds: float, buffers: BufferClaim | None = None
) -> BufferedBody:
    """Buffer the request body; stop as soon as it exceeds `limit`, or the worker's budget
    when `buffers` counts it (the rest stays unread)."""
    chunks = []
    size = 0
    while True:
        message = await _receive_within(receive, seconds)
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        ended = not message.get("more_body", False)
        # A body over its own limit says so, rather than that the budget was short.
        if buffers is not None and not buffers.take(len(chunk)) and size <= limit:
            return BufferedBody(b"".join(chunks), ended, limit, over_budget=True)
        if ended:
            return BufferedBody(b"".join(chunks), ended=True, limit=limit)
        if size > limit:
            return BufferedBody(b"".join(chunks), ended=False, limit=limit)


async def stream_body(
    receive: Receive, first: bytes, seconds: float, on_end: Callable[[], None]
) -> AsyncIterator[bytes]:
    """The request body as a stream, after the `first` bytes already read; `on_end` is called
    once the last chunk is received."""
    if first:
        yield first
    while True:
        message = await _receive_within(receive, seconds)
        if chunk := message.get("body", b""):
            yield chunk
        if not message.get("more_body", False):
            on_end()
            return

"""A small scripted upstream for proxy tests: a raw ASGI app answering what each test sets,
and recording what it received (so a test can tell whether a request was forwarded)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Answer:
    status: int = 200
    content_type: str = "application/xml"
    body: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    delay: float = 0.0
    #: Produces the body in chunks instead of `body` (for streaming tests).
    stream: Callable[[], AsyncIterator[bytes]] | None = None


@dataclass
class Received:
    method: str
    path: str
    query: bytes
    headers: dict[str, str]
    body: bytes
    #: The path as it came on the wire, escapes and all.
    raw_path: bytes = b""


async def serve_lifespan(receive: Any, send: Any) -> None:
    """Answer an ASGI lifespan: start-up, then shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def read_body(receive: Any) -> bytes:
    """An ASGI request's whole body."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


class ScriptedUpstream:
    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.received: list[Received] = []
        #: Streams the gateway abandoned (closed its upstream connection) before their end.
        self.streams_abandoned = 0
        self.chunks_sent = 0

    def answer(self, path: str, answer: Answer) -> None:
        self.answers[path] = answer

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        body = await read_body(receive)
        self.received.append(
            Received(
                scope["method"],
                scope["path"],
                scope["query_string"],
                {k.decode().lower(): v.decode("latin-1") for k, v in scope["headers"]},
                body,
                scope["raw_path"],
            )
        )
        answer = self.answers.get(scope["path"], Answer(404, "text/plain", b"no answer scripted"))
        if answer.delay:
            await asyncio.sleep(answer.delay)
        headers = [(b"content-type", answer.content_type.encode()), *answer.headers]
        if answer.stream is None:
            headers.append((b"content-length", str(len(answer.body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        if answer.stream is None:
            await send({"type": "http.response.body", "body": answer.body})
            return
        disconnect = asyncio.create_task(receive())
        try:
            async for chunk in answer.stream():
                if disconnect.done():
                    self.streams_abandoned += 1
                    return
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                self.chunks_sent += 1
            await send({"type": "http.response.body", "body": b""})
        finally:
            disconnect.cancel()

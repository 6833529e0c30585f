"""Driving an ASGI application in process, without a socket: its lifespan, then requests as
the events a server would hand it, and the messages it sends back (mitmproxy's Playbook
tests, for the gateway). For what needs no connection: admission, refusals, the gateway's own
endpoints and answers; what needs an upstream or a client's connection stays on sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Sent:
    """What the application sent for one request."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.messages if m["type"] == "http.response.start")

    @property
    def headers(self) -> dict[bytes, bytes]:
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        return {name.lower(): value for name, value in start["headers"]}

    @property
    def body(self) -> bytes:
        return b"".join(
            m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"
        )


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[Any]:
    """`app` started (its lifespan's start-up) for the block, then shut down."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put)
    )
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        yield app
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await lifespan


async def request(
    app: Any,
    method: str,
    target: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
    http_version: str = "1.1",
) -> Sent:
    """One request, whole, as uvicorn with the gateway's protocol hands it over."""
    path, _, query = target.partition(b"?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": http_version,
        "method": method,
        "scheme": "http",
        "path": path.decode("latin-1"),
        "raw_path": path,
        "query_string": query,
        "headers": [(b"host", b"gateway.test")] if headers is None else headers,
        "client": ("192.0.2.7", 40000),
        "server": ("127.0.0.1", 8080),
        "extensions": {"request_target": target},
    }
    events = [{"type": "http.request", "body": body, "more_body": False}]
    sent = Sent()

    async def receive() -> dict[str, Any]:
        if events:
            return events.pop(0)
        await asyncio.Event().wait()  # nothing more until the client leaves
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.messages.append(message)

    await app(scope, receive, send)
    return sent

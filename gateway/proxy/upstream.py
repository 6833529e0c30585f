"""The upstream client: a request sent to the configured upstream, and its answer's stream.
What goes wrong is raised as one `UpstreamFailure` (code, status, reason), classified here,
where the transport is called (`gateway.proxy.upstream_failure`): the exchange never looks at
the transport's errors. A request body that breaks off on the client's side is raised as the
client's (`ClientDisconnected`, `ClientTimeout`), not as the upstream's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache

import httpx

from gateway.config import Settings
from gateway.proxy.body import ClientDisconnected, ClientTimeout
from gateway.proxy.headers import RawHeaders, end_to_end, upstream_request_headers
from gateway.proxy.request import RequestHead
from gateway.proxy.upstream_failure import (
    answer_failure,
    caused_by,
    invalid_answer,
    request_failure,
)

#: The gateway's own headers: an upstream's copies are not passed on.
GATEWAY_HEADERS = (
    b"x-request-id",
    b"x-conformance",
    b"x-conformance-request",
    b"x-conformance-response",
    b"x-conformance-schema",
    b"x-conformance-next",
)
#: URLs longer than this are parsed each time rather than cached, so that a client sending
#: unique long paths cannot make the cache hold much.
CACHED_URL_LENGTH = 512


@lru_cache(maxsize=256)
def _parsed_url(url: str) -> httpx.URL:
    return httpx.URL(url)


def upstream_url(url: str) -> httpx.URL:
    """`url` as httpx's `URL`. An SI calls the same few service URLs again and again, and
    parsing one is a measurable share of a validated exchange (docs/benchmarks.md): they are
    cached."""
    return _parsed_url(url) if len(url) <= CACHED_URL_LENGTH else httpx.URL(url)


def timeouts(settings: Settings) -> dict[str, float | None]:
    """The `timeout` extension of each upstream request."""
    return httpx.Timeout(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=settings.read_timeout,
        pool=settings.connect_timeout,
    ).as_dict()


@dataclass(slots=True)
class UpstreamResponse:
    """The upstream's answer: its status, the headers passed on to the client (end to end,
    without the gateway's own), and its body's stream."""

    status: int
    headers: RawHeaders
    content_type: str
    content_encoding: str | None
    response: httpx.Response

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it comes; raise `UpstreamFailure` when it breaks off."""
        try:
            async for chunk in self.response.aiter_raw():
                yield chunk
        except httpx.TransportError as error:
            raise answer_failure(error) from error

    async def aclose(self) -> None:
        await self.response.aclose()


class UpstreamClient:
    """Requests to the configured upstream through `transport` (`gateway.proxy.upstream_transport`)."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport) -> None:
        self.base = settings.upstream
        self.host = httpx.URL(settings.upstream or "").netloc.decode("ascii")
        self.timeouts = timeouts(settings)
        self.transport = transport

    async def send(
        self, head: RequestHead, content: bytes | AsyncIterator[bytes]
    ) -> UpstreamResponse:
        """Forward the request `head` with its body `content`, and return the answer once its
        headers have come. Raise `UpstreamFailure`, or the client's error when the body's
        stream broke off on its side."""
        if self.base is None:  # serve always sets one (the simulator's, if need be)
            raise RuntimeError("no upstream is configured")
        headers = upstream_request_headers(
            head.headers, self.host, head.peer, head.scheme, head.request_id
        )
        query = f"?{head.query.decode('latin-1')}" if head.query else ""
        request = httpx.Request(
            head.method,
            upstream_url(self.base + head.path + query),
            headers=headers,
            # No body stays no body: an empty one would add a Content-Length the client never sent.
            content=content if content or head.header(b"content-length") else None,
            extensions={"timeout": self.timeouts},
        )
        try:
            response = await self.transport.handle_async_request(request)
        except httpx.TransportError as error:
            if caused_by(error, ClientDisconnected):
                # The request body's stream broke off on the client's side.
                gone = ClientTimeout if caused_by(error, ClientTimeout) else ClientDisconnected
                raise gone from error
            raise request_failure(error) from error
        passed_on = end_to_end(response.headers.raw, also_drop=GATEWAY_HEADERS)
        if failure := invalid_answer(response.status_code, response.headers.raw, passed_on):
            await response.aclose()
            raise failure
        return UpstreamResponse(
            response.status_code,
            passed_on,
            response.headers.get("content-type", ""),
            response.headers.get("content-encoding"),
            response,
        )

    async def aclose(self) -> None:
        await self.transport.aclose()

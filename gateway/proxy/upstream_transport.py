"""The pooled connections to the configured upstream, per worker, behind httpx's transport
seam: requests are `httpx.Request` objects handed to the transport as they are
(`gateway.proxy.upstream` builds them and classifies what goes wrong).

The gateway needs none of what `httpx.AsyncClient` adds on top of its transport (redirects
are passed through, authentication belongs to the SI) and must not have some of it. The
transport is httpx-aiohttp's, whose connection pool held its throughput as concurrency grew
where httpx's own degraded (measured in `docs/benchmarks.md`), on an aiohttp session that:
- keeps no cookies: a cookie jar would keep the SNE's cookies and send them with other SIs'
  requests;
- adds no header the client did not send (an `Accept-Encoding` the client never asked for
  could bring it a gzip body it cannot read);
- never reuses a pooled connection the upstream sent bytes on while it was idle: aiohttp would
  read them as the answer to the next request, another client's.
An answer aiohttp cannot read (a malformed status line or header) is raised as httpx's
`RemoteProtocolError`, like the transport's other errors. The URL reaches aiohttp already
encoded: given a string, aiohttp re-encodes it through yarl (`%7e` becomes `~`, `%zz` becomes
`%25zz`), and the query must reach the upstream as the client sent it.
"""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp
import httpx
import yarl
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import AiohttpResponseStream, map_aiohttp_exceptions

from gateway.config import Settings

MAX_CONNECTIONS = 256
#: How long an idle upstream connection is kept for the next exchange (httpx's default).
KEEPALIVE_SECONDS = 5.0
#: The headers aiohttp would add to a request that has none of them.
NOT_ADDED = ("Accept", "Accept-Encoding", "Content-Type", "User-Agent")


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """The TLS context for the upstream: the CA bundle to trust and the client certificate."""
    tls = settings.tls
    if tls.verify:
        context = ssl.create_default_context(cafile=str(tls.ca_bundle) if tls.ca_bundle else None)
    else:
        # A context, not `False`: the transport would make its own, without the client
        # certificate, and mutual TLS would fail.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if tls.client_cert:
        context.load_cert_chain(
            str(tls.client_cert), str(tls.client_key) if tls.client_key else None
        )
    return context


class _FreshConnector(aiohttp.TCPConnector):
    # `_get` is aiohttp's private step that takes a connection from the pool: the one place to
    # drop those the upstream spoke on unasked (`should_close`: bytes buffered, or a close).
    async def _get(self, key: Any, traces: Any) -> Any:
        while (connection := await super()._get(key, traces)) is not None:
            if connection.protocol is not None and not connection.protocol.should_close:
                return connection
            connection.close()
        return None


class UpstreamTransport(AiohttpTransport):
    # httpx-aiohttp's own `handle_async_request` hands aiohttp the URL as a string.
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        timeout = request.extensions.get("timeout", {})
        content: bytes | httpx.AsyncByteStream | None
        try:
            content = request.content or None
        except httpx.RequestNotRead:
            content = request.stream  # type: ignore[assignment]
            request.headers.pop("transfer-encoding", None)  # aiohttp chunks it itself
        try:
            with map_aiohttp_exceptions():
                response = await self.client.request(
                    request.method,
                    yarl.URL(str(request.url), encoded=True),
                    headers=request.headers,
                    data=content,
                    allow_redirects=False,
                    auto_decompress=False,
                    compress=False,
                    timeout=aiohttp.ClientTimeout(
                        sock_connect=timeout.get("connect"),
                        sock_read=timeout.get("read"),
                        connect=timeout.get("pool"),
                    ),
                )
        except aiohttp.ClientError as error:  # the ones httpx-aiohttp leaves unmapped
            raise httpx.RemoteProtocolError(str(error) or type(error).__name__) from error
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=AiohttpResponseStream(response),
            request=request,
        )


def upstream_transport(settings: Settings) -> httpx.AsyncBaseTransport:
    context = ssl_context(settings)

    def session() -> aiohttp.ClientSession:
        # Made on the first exchange, inside the worker's event loop.
        return aiohttp.ClientSession(
            connector=_FreshConnector(
                limit=MAX_CONNECTIONS, ssl=context, keepalive_timeout=KEEPALIVE_SECONDS
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=NOT_ADDED,
            trust_env=False,
        )

    return UpstreamTransport(verify=context, client=session, trust_env=False)

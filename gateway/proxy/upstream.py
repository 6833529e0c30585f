"""The one pooled HTTP client of a worker, talking to the configured upstream only.

httpx's API over aiohttp's connection pool (httpx-aiohttp): in the measurement recorded in
`docs/benchmarks.md`, httpx's own pool lost throughput as concurrency grew while aiohttp's held.
"""

from __future__ import annotations

import ssl

import httpx
from httpx_aiohttp import AiohttpTransport

from gateway.config import Settings

MAX_CONNECTIONS = 256


def ssl_context(settings: Settings) -> ssl.SSLContext | bool:
    """The TLS context for the upstream: the CA bundle to trust and the client certificate."""
    tls = settings.tls
    if not tls.verify:
        return False
    context = ssl.create_default_context(cafile=str(tls.ca_bundle) if tls.ca_bundle else None)
    if tls.client_cert:
        context.load_cert_chain(
            str(tls.client_cert), str(tls.client_key) if tls.client_key else None
        )
    return context


def upstream_client(settings: Settings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=settings.read_timeout,
        pool=settings.connect_timeout,
    )
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
    )
    return httpx.AsyncClient(
        transport=AiohttpTransport(verify=ssl_context(settings), limits=limits, trust_env=False),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )

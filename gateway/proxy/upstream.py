"""The one pooled connection to the configured upstream, per worker, behind httpx's transport
seam: requests are `httpx.Request` objects handed to the transport as they are.

The gateway needs none of what `httpx.AsyncClient` adds on top of its transport (redirects
are passed through, authentication belongs to the SI) and must not have one of them: a
client's cookie jar would keep the SNE's cookies and send them with other SIs' requests. The
transport is httpx-aiohttp's, whose connection pool held its throughput as concurrency grew
where httpx's own degraded (measured in `docs/benchmarks.md`).
"""

from __future__ import annotations

import ssl

import httpx
from httpx_aiohttp import AiohttpTransport

from gateway.config import Settings

MAX_CONNECTIONS = 256


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


def upstream_transport(settings: Settings) -> httpx.AsyncBaseTransport:
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
    )
    return AiohttpTransport(verify=ssl_context(settings), limits=limits, trust_env=False)


def timeouts(settings: Settings) -> dict[str, float]:
    """The `timeout` extension of each upstream request."""
    return httpx.Timeout(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=settings.read_timeout,
        pool=settings.connect_timeout,
    ).as_dict()

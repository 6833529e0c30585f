"""Header rules of a reverse proxy: hop-by-hop headers stay on their hop, `Host` names the
upstream, `X-Forwarded-*` tell the upstream who really called."""

from __future__ import annotations

from collections.abc import Iterable

RawHeaders = list[tuple[bytes, bytes]]

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)


def header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The first value of header `name` (lower-case), decoded as latin-1."""
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def end_to_end(
    headers: Iterable[tuple[bytes, bytes]], also_drop: Iterable[bytes] = ()
) -> RawHeaders:
    """`headers` without hop-by-hop ones, those the Connection header lists, and `also_drop`."""
    headers = list(headers)
    dropped = set(HOP_BY_HOP) | {name.lower() for name in also_drop}
    for key, value in headers:
        if key.lower() == b"connection":
            dropped.update(token.strip().lower() for token in value.split(b",") if token.strip())
    # `X_Forwarded_For` is `X-Forwarded-For` to a CGI-style server: dropped alike.
    return [
        (key, value) for key, value in headers if key.lower().replace(b"_", b"-") not in dropped
    ]


def upstream_request_headers(
    client_headers: RawHeaders,
    upstream_host: str,
    client_ip: str | None,
    scheme: str,
    request_id: str,
) -> RawHeaders:
    """The headers sent upstream for a client request. `Forwarded` and `X-Real-IP` are
    dropped (the gateway speaks `X-Forwarded-*` alone, so a client cannot pass off another
    origin through them); so is `Expect`: the gateway has read the body already, and the
    upstream client would wait for a `100 Continue` before sending it."""
    forwarded_for = header(client_headers, b"x-forwarded-for")
    original_host = header(client_headers, b"host")
    headers = end_to_end(
        client_headers,
        also_drop=(
            b"host",
            b"x-forwarded-for",
            b"x-forwarded-proto",
            b"x-forwarded-host",
            b"x-request-id",
            b"forwarded",
            b"x-real-ip",
            b"expect",
        ),
    )
    chain = ", ".join(part for part in (forwarded_for, client_ip) if part)
    headers.append((b"host", upstream_host.encode("latin-1")))
    if chain:
        headers.append((b"x-forwarded-for", chain.encode("latin-1")))
    headers.append((b"x-forwarded-proto", scheme.encode("latin-1")))
    if original_host:
        headers.append((b"x-forwarded-host", original_host.encode("latin-1")))
    headers.append((b"x-request-id", request_id.encode("latin-1")))
    return headers

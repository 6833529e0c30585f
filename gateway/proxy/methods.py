"""Methods a route does not list. A route that lists its methods (`["POST"]`) validates those;
a request with a body and another method (`PUT`, `PATCH` with a `text/plain` body) on the same
path would match no route and reach the upstream unchecked. Where the request policy blocks, it
is refused: 405, with an `Allow` header listing the methods the routes of that path take.
Without a body it goes on (the upstream answers it; there is nothing to check), and where the
policy only logs, it goes on as any exchange no route matches.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.config import Settings
from gateway.proxy.headers import RawHeaders, header
from gateway.routing.route import Route
from gateway.routing.router import routes_without_method


def _has_body(headers: RawHeaders) -> bool:
    length = header(headers, b"content-length")
    return header(headers, b"transfer-encoding") is not None or (
        length is not None and length.strip() not in ("", "0")
    )


def allowed_methods(
    settings: Settings,
    in_service: Sequence[Route],
    method: str,
    path: str,
    soap_action: str | None,
    headers: RawHeaders,
) -> str | None:
    """The `Allow` header's value when the request must be refused for its method (among the
    routes `in_service`), or None."""
    routes = routes_without_method(in_service, method, path, soap_action)
    if not routes or not _has_body(headers) or settings.policy("request", routes[0]) != "block":
        return None
    return ", ".join(dict.fromkeys(name for route in routes for name in route.methods))

"""Admission: what the gateway refuses to forward, decided from the request's line and headers
alone, before its body is read. Pure functions of a `RequestHead`, in the order they are tried:

- CONNECT and TRACE (405), the `*` target of `OPTIONS *` and absolute-form targets (400): the
  gateway forwards paths to its one upstream, and is no open proxy;
- a missing, doubled or bad `Host` (400, `gateway.proxy.host`);
- two Content-Type or Content-Encoding headers, or an action named twice in the Content-Type
  (400): which one counts would be the upstream's choice, not the one validated;
- a path the gateway will not forward (400, `gateway.proxy.target`);
- a method the routes of its path do not list (405, with `Allow`), see `allowed_methods`;
- a path under the gateway's reserved prefix `/_gateway/`, in any spelling (404).

Every refusal is answered and recorded the same way (`gateway.proxy.refusal`).
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.config import Settings
from gateway.proxy.headers import RawHeaders
from gateway.proxy.host import host_refusal
from gateway.proxy.refusal import Refusal
from gateway.proxy.request import RequestHead
from gateway.proxy.reserved import reserved
from gateway.routing.route import Route
from gateway.routing.router import routes_without_method

#: Methods refused, and why.
REFUSED_METHODS = {
    "CONNECT": "this gateway only forwards to its configured upstream",
    "TRACE": "the upstream would echo the request, credentials included, back to the client",
}
#: Headers whose value the gateway validates by: sent twice, receivers could take either.
SINGLE_HEADERS = (b"content-type", b"content-encoding")


def _has_body(head: RequestHead) -> bool:
    length = head.header(b"content-length")
    return head.header(b"transfer-encoding") is not None or (
        length is not None and length.strip() not in ("", "0")
    )


def allowed_methods(head: RequestHead, routes: Sequence[Route], settings: Settings) -> str | None:
    """The `Allow` header's value when the request must be refused for its method, or None.
    A route that lists its methods (`["POST"]`) validates those; a request with a body and
    another method (`PUT`, `PATCH` with a `text/plain` body) on the same path would match no
    route and reach the upstream unchecked. Where the request policy blocks, it is refused.
    Without a body it goes on (the upstream answers it; there is nothing to check), and where
    the policy only logs, it goes on as any exchange no route matches."""
    listing = routes_without_method(routes, head.method, head.routed_path, head.soap_action)
    if not listing or not _has_body(head) or settings.policy("request", listing[0]) != "block":
        return None
    return ", ".join(dict.fromkeys(name for route in listing for name in route.methods))


def refusal(
    head: RequestHead, route: Route | None, routes: Sequence[Route], settings: Settings
) -> Refusal | None:
    """Why the request is refused, if it is; `route` is the route it matched among `routes`
    (those in service)."""
    allow = allowed_methods(head, routes, settings) if route is None else None
    # A 405 says which methods the path takes.
    allowed: RawHeaders = [(b"allow", allow.encode())] if allow else []
    if head.method in REFUSED_METHODS:
        return Refusal(
            405, f"The method {head.method} is refused: {REFUSED_METHODS[head.method]}.", allowed
        )
    if head.target == b"*":
        return Refusal(
            400, "The request target '*' (OPTIONS *) is refused: this gateway forwards paths only."
        )
    if head.target is not None and not head.target.startswith(b"/"):
        return Refusal(
            400, "Absolute-form request targets are refused: this gateway is not an open proxy."
        )
    if refused_host := host_refusal(head.headers, head.http_version):
        return Refusal(400, refused_host)
    names = [name for name, _ in head.headers]
    for name in SINGLE_HEADERS:
        if (count := names.count(name)) > 1:
            return Refusal(400, f"The request has {count} {name.decode()} headers; send one.")
    if head.content_type.lower().count("action=") > 1:
        # CXF takes the first `action=` it finds, even inside another parameter's name.
        return Refusal(400, "The request's Content-Type names an action more than once; name one.")
    if head.path_refusal is not None:
        return Refusal(400, head.path_refusal)
    if allow:
        return Refusal(
            405,
            f"The method {head.method} is not one this path's routes take ({allow}), "
            "and its body would reach the SNE unvalidated.",
            allowed,
        )
    if reserved(head.routed_path):
        return Refusal(404, "The path is under /_gateway/, reserved to the gateway's endpoints.")
    return None

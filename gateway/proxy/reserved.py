"""The gateway's own endpoints under `/_gateway/`, and who may reach them.

They answer at their exact spelling only: Litestar routes on the decoded path, so
`/%5Fgateway/metrics`, `/_gateway%2Fmetrics` or `/_gateway//metrics` reached them, past a
front-end rule on the prefix `/_gateway/`. Every other request goes to the proxy, which never
forwards a path whose canonical form falls under the prefix, in any case (`reserved`): it
answers 404.

With an `admin_token`, every endpoint but `health` and `ready` (which load balancers and
orchestrators call) needs `Authorization: Bearer <token>`; `HEAD` on those two answers as
`GET` does, without the body. A request without the token is refused as the gateway refuses
any (`gateway.proxy.refusal`): in the SNE's shape, logged and counted.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

from gateway.proxy.dashboard import DASHBOARD_PATHS
from gateway.proxy.headers import header
from gateway.proxy.refusal import Refusal

RESERVED_PREFIX = "/_gateway"
#: What load balancers and orchestrators call, without a token.
PUBLIC_ENDPOINTS = frozenset({b"/_gateway/health", b"/_gateway/ready"})
ENDPOINTS = PUBLIC_ENDPOINTS | {
    b"/_gateway/schemas",
    b"/_gateway/metrics",
    *(path.encode() for path in DASHBOARD_PATHS),
}
UNAUTHORIZED = Refusal(
    401,
    "This endpoint needs the gateway's admin token (Authorization: Bearer).",
    [(b"www-authenticate", b"Bearer")],
)


def reserved(path: str) -> bool:
    """Whether the canonical `path` is under the reserved prefix (in any case)."""
    lowered = path.lower()
    return lowered == RESERVED_PREFIX or lowered.startswith(RESERVED_PREFIX + "/")


class Endpoints:
    """ASGI: the gateway's endpoints (`admin`) at their exact spelling, all else to `proxy`."""

    def __init__(
        self,
        admin: ASGIApp,
        proxy: Callable[[HTTPScope, Receive, Send], Awaitable[None]],
        refuse: Callable[[HTTPScope, Send, Refusal], Awaitable[None]],
        admin_token: str | None,
    ) -> None:
        self.admin = admin
        self.proxy = proxy
        self.refuse = refuse
        self.token = f"Bearer {admin_token}".encode() if admin_token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.admin(scope, receive, send)  # the lifespan
            return
        endpoint = scope.get("raw_path")
        if endpoint not in ENDPOINTS:
            await self.proxy(scope, receive, send)
            return
        if endpoint in PUBLIC_ENDPOINTS:
            if scope["method"] == "HEAD":
                # uvicorn sends no body for a HEAD request, whatever its answer holds.
                scope = cast(HTTPScope, {**scope, "method": "GET"})
        elif self.token is not None and not self._authorized(scope):
            await self.refuse(scope, send, UNAUTHORIZED)
            return
        await self.admin(scope, receive, send)

    def _authorized(self, scope: HTTPScope) -> bool:
        given = header(scope["headers"], b"authorization")
        return given is not None and hmac.compare_digest(given.encode("latin-1"), self.token or b"")

"""`/_gateway/ui`: the campaign dashboard, and the two files it loads (its stylesheet and
script, shipped in the package: no CDN). The figures are read from the store at each request,
in a thread (a query must not hold the event loop), through a connection of its own."""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib.resources import files
from typing import Any

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromQuery

from gateway.report.campaign.dashboard_page import Form, StoreState, dashboard_page
from gateway.store.backend import StoreCorrupt, StoreRejected, StoreUnavailable, open_backend
from gateway.store.location import StoreLocation
from gateway.store.queries import choices, summarize
from gateway.store.summary import NO_ROUTE_LABEL, Filters, Summary
from gateway.store.window import WindowError, moment_ms
from gateway.store.writer import StoreWriter

UI_PATH = "/_gateway/ui"
ASSETS = {"campaign.css": "text/css; charset=utf-8", "dashboard.js": "text/javascript"}
#: Every path the dashboard answers at (the page, its two files), for whatever lists the
#: gateway's own endpoints.
DASHBOARD_PATHS = (UI_PATH, *(f"{UI_PATH}/{name}" for name in ASSETS))
#: The page's own files only; its SVG is inline markup.
HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; script-src 'self'; "
    "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}


def dashboard_handlers(
    location: StoreLocation | None,
    xsd_state: Callable[[], dict[str, Any]],
    writer: Callable[[], StoreWriter | None],
) -> list[HTTPRouteHandler]:
    @get(UI_PATH, sync_to_thread=True)
    def ui(
        since: FromQuery[str] = "24h",
        until: FromQuery[str] = "now",
        route: FromQuery[str | None] = None,
        direction: FromQuery[str | None] = None,
        code: FromQuery[str | None] = None,
    ) -> Response[str]:
        # An empty field of the form is "any"; the label of the exchanges no route matched
        # stands for them.
        route = "" if route == NO_ROUTE_LABEL else route or None
        direction = direction if direction in ("request", "response") else None
        form = Form(since, until, route, direction, code or None)
        running = writer()
        store = StoreState(
            location.shown() if location else "off",
            failing=running.failing if running else False,
            dropped=running.dropped if running else 0,
        )
        now_ms = int(time.time() * 1000)
        try:
            filters = Filters(
                moment_ms(since, now_ms),
                moment_ms(until, now_ms),
                None,
                route,
                direction,
                code or None,
            )
        except WindowError as error:
            return _page(dashboard_page(None, form, xsd_state(), store, str(error)), 400)
        if filters.since_ms >= filters.until_ms:
            problem = f"since ({since}) must be before until ({until})."
            return _page(dashboard_page(None, form, xsd_state(), store, problem), 400)
        summary: Summary | None = None
        if location is not None:
            try:
                summary, form = _read(location, filters, form, now_ms)
            except (StoreUnavailable, StoreCorrupt, StoreRejected) as error:
                store = StoreState(store.shown, store.failing, store.dropped, str(error))
                return _page(dashboard_page(None, form, xsd_state(), store), 503)
        return _page(dashboard_page(summary, form, xsd_state(), store), 200)

    def asset(name: str) -> HTTPRouteHandler:
        content = (files("gateway.report.campaign") / "static" / name).read_bytes()

        # Static paths: Litestar gives a path parameter under the proxy's mount to the mount.
        @get(f"{UI_PATH}/{name}", sync_to_thread=False, name=f"ui-{name}")
        def serve_asset() -> Response[bytes]:
            return Response(
                content,
                media_type=ASSETS[name],
                headers={"x-content-type-options": "nosniff", "cache-control": "max-age=300"},
            )

        return serve_asset

    return [ui, *(asset(name) for name in ASSETS)]


def _read(
    location: StoreLocation, filters: Filters, form: Form, now_ms: int
) -> tuple[Summary, Form]:
    backend = open_backend(location, prepare=False)
    try:
        routes, codes = choices(backend, filters.since_ms, filters.until_ms)
        return summarize(backend, filters, now_ms), Form(
            form.since, form.until, form.route, form.direction, form.code, routes, codes
        )
    finally:
        backend.close()


def _page(html: str, status: int) -> Response[str]:
    return Response(
        html, status_code=status, media_type="text/html; charset=utf-8", headers=HEADERS
    )

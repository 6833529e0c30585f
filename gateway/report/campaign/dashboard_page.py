"""The dashboard's page (`/_gateway/ui`): the campaign's figures for the window and filters of
its form, the XSD set in service and the store's state. Rendered on the server: the form is a
plain GET form and the tables plain tables, so it all works without JavaScript; the one script
(shipped in the package, as the stylesheet) only reloads the page while "live" is ticked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from gateway.report.campaign.html_parts import moment, sections, window_title
from gateway.store.summary import NO_ROUTE_LABEL, Summary, route_label

#: The windows offered (any duration or date may be typed instead).
WINDOWS = ("1h", "6h", "24h", "7d", "30d")
DIRECTIONS = ("request", "response")


@dataclass(frozen=True)
class Form:
    """The filters as the page's form shows them."""

    since: str = "24h"
    until: str = "now"
    route: str | None = None
    direction: str | None = None
    code: str | None = None
    routes: Sequence[str] = ()
    codes: Sequence[str] = ()


@dataclass(frozen=True)
class StoreState:
    #: Where the store is, shown ("off" when there is none).
    shown: str
    failing: bool = False
    dropped: int = 0
    problem: str | None = None


def _options(values: Sequence[str], chosen: str | None, labels: dict[str, str]) -> str:
    options = ['<option value="">any</option>']
    for value in values:
        selected = " selected" if value == chosen else ""
        options.append(
            f'<option value="{escape(value)}"{selected}>{escape(labels.get(value, value))}</option>'
        )
    return "".join(options)


def _form(form: Form) -> str:
    windows = "".join(f'<option value="{window}">' for window in WINDOWS)
    route_values = [NO_ROUTE_LABEL if route == "" else route for route in form.routes]
    chosen_route = NO_ROUTE_LABEL if form.route == "" else form.route
    return (
        '<form class="filters" method="get" action="">'
        '<label>since<input name="since" list="windows" size="16" '
        f'value="{escape(form.since)}"></label><datalist id="windows">{windows}</datalist>'
        f'<label>until<input name="until" size="16" value="{escape(form.until)}"></label>'
        f'<label>route<select name="route">{_options(route_values, chosen_route, {})}</select>'
        "</label>"
        '<label>direction<select name="direction">'
        f"{_options(DIRECTIONS, form.direction, {})}</select></label>"
        f'<label>code<select name="code">{_options(form.codes, form.code, {})}</select></label>'
        '<button type="submit">Apply</button>'
        '<label><span><input type="checkbox" id="live" checked> live</span>'
        '<span id="refreshed"></span></label>'
        "</form>"
    )


def _xsd(state: dict[str, Any]) -> str:
    error = state.get("last_reload_error")
    if error:
        banner = (
            '<div class="banner bad" id="xsd-state"><strong>XSD set degraded</strong>: the last '
            f"reload failed ({escape(str(error.get('file')))}, line "
            f"{escape(str(error.get('line')))}: {escape(str(error.get('reason')))}); version "
            f"{escape(str(state['version']))} loaded at {escape(str(state['loaded_at']))} "
            "stays in service.</div>"
        )
    else:
        banner = (
            '<div class="banner ok" id="xsd-state"><strong>XSD set in service</strong>: '
            f"version <code>{escape(str(state['version']))}</code> from "
            f"<code>{escape(str(state['source']))}</code>, loaded at "
            f"{escape(str(state['loaded_at']))}; {state['reloads']} reload(s), none failing."
            "</div>"
        )
    return banner


def _store(store: StoreState) -> str:
    if store.problem:
        return (
            f'<div class="banner bad" id="store-state">The store <code>{escape(store.shown)}'
            f"</code> cannot be read: {escape(store.problem)}</div>"
        )
    if store.failing or store.dropped:
        return (
            f'<div class="banner warn" id="store-state">Store <code>{escape(store.shown)}'
            f"</code>: {'writes failing now; ' if store.failing else ''}"
            f"{store.dropped} record(s) dropped by this worker since it started.</div>"
        )
    return ""


def dashboard_page(
    summary: Summary | None,
    form: Form,
    xsd: dict[str, Any],
    store: StoreState,
    error: str | None = None,
) -> str:
    if error:
        body = f'<div class="banner bad" id="filter-error">{escape(error)}</div>'
    elif store.shown == "off":
        body = (
            '<p class="banner warn">The violations store is off (<code>store = "off"</code>): '
            "there are no campaign figures to show. The counters are at "
            '<a href="metrics">/_gateway/metrics</a>.</p>'
        )
    elif summary is None:
        body = ""
    elif summary.empty:
        body = (
            f'<p class="banner warn" id="empty">No exchange recorded from '
            f"{escape(window_title(summary))}.</p>"
        )
    else:
        body = sections(summary)
    subtitle = (
        f"Recorded exchanges, {escape(window_title(summary))}. Store "
        f"<code>{escape(store.shown)}</code>."
        if summary is not None
        else f"Store <code>{escape(store.shown)}</code>."
    )
    route_names = ", ".join(route_label(route) for route in form.routes)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>sne-gateway: campaign dashboard</title>"
        # No favicon to fetch (it would go to the upstream).
        '<link rel="icon" href="data:,">'
        '<link rel="stylesheet" href="ui/campaign.css">'
        '<script src="ui/dashboard.js" defer></script></head><body>'
        f'<h1>sne-gateway campaign dashboard</h1><p class="subtitle">{subtitle}</p>'
        f"{_xsd(xsd)}{_store(store)}{_form(form)}{body}"
        f"<footer>Page made at {moment(summary.made_at_ms) if summary else '—'}. Routes seen "
        f"in the window: {escape(route_names) or 'none'}. No element value is ever stored."
        "</footer></body></html>\n"
    )

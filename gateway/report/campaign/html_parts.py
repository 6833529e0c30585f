"""The HTML of a summary's sections, shared by the standalone report and the dashboard. Every
text from the store is escaped: route names and paths come from configurations and documents."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape

from gateway.report.campaign.chart import trend_chart
from gateway.store.summary import Changes, Finding, Summary, route_label


def moment(ms: int | None) -> str:
    """A time, local, to the second (a stored value no time can be, as it is)."""
    if ms is None:
        return "—"
    try:
        return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return f"{ms} ms (not a time)"


def rate(value: float | None) -> str:
    if value is None:
        return "—"
    kind = "full" if value == 1 else "low" if value < 0.9 else ""
    return f'<span class="rate {kind}">{value * 100:.1f} %</span>'


def inline_code(text: str | None, kind: str = "") -> str:
    """Inline code; a `path` may break anywhere, a code or an id never."""
    if text is None:
        return "—"
    return f'<code class="{kind}">{escape(text)}</code>' if kind else f"<code>{escape(text)}</code>"


def table(head: Iterable[str], rows: Iterable[Iterable[str]], numbers: set[int]) -> str:
    heads = "".join(
        f"<th{' class=number' if index in numbers else ''}>{escape(cell)}</th>"
        for index, cell in enumerate(head)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=number' if index in numbers else ''}>{cell}</td>"
            for index, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table>"


def totals_cards(summary: Summary) -> str:
    totals = summary.totals
    cards = (
        ("exchanges", totals.exchanges, ""),
        ("passed", totals.passed, "pass"),
        ("failed", totals.failed, "fail"),
        ("not validated", totals.skipped, ""),
        ("violations", totals.violations, "fail" if totals.violations else ""),
    )
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card {kind}" data-total="{escape(label)}"><div class="value">{value}'
            f'</div><div class="label">{escape(label)}</div></div>'
            for label, value, kind in cards
        )
        + "</div>"
    )


def flows_table(summary: Summary) -> str:
    rows = [
        [
            escape(route_label(flow.route)),
            escape(flow.direction or "not validated"),
            str(flow.exchanges),
            str(flow.passed),
            str(flow.failed),
            str(flow.blocked),
            str(flow.skipped),
            str(flow.violations),
            rate(flow.pass_rate),
        ]
        for flow in summary.flows
    ]
    head = ("route", "direction", "exchanges", "passed", "failed", "blocked", "skipped")
    return table((*head, "violations", "pass rate"), rows, set(range(2, 9)))


def codes_table(summary: Summary) -> str:
    if not summary.codes:
        return '<p class="empty">No violation.</p>'
    rows = [
        [
            inline_code(code.code),
            str(code.violations),
            str(code.exchanges),
            moment(code.first_ms),
            moment(code.last_ms),
        ]
        for code in summary.codes
    ]
    return table(("code", "violations", "exchanges", "first seen", "last seen"), rows, {1, 2})


def groups_table(summary: Summary) -> str:
    if not summary.groups:
        return '<p class="empty">No violation.</p>'
    rows = [
        [
            inline_code(group.code),
            inline_code(group.path, "path"),
            escape(", ".join(route_label(route) for route in group.routes)),
            escape(", ".join(group.directions)),
            str(group.violations),
            moment(group.first_ms),
            moment(group.last_ms),
            " ".join(inline_code(request_id) for request_id in group.request_ids),
        ]
        for group in summary.groups
    ]
    head = ("code", "path", "routes", "directions", "violations", "first seen", "last seen")
    return table((*head, "latest request ids"), rows, {4})


def days_table(summary: Summary) -> str:
    rows = [
        [
            day.day.isoformat(),
            str(day.exchanges),
            str(day.passed),
            str(day.failed),
            str(day.violations),
        ]
        for day in summary.days
    ]
    return table(("day", "exchanges", "passed", "failed", "violations"), rows, {1, 2, 3, 4})


def outcomes_list(summary: Summary) -> str:
    if not summary.outcomes:
        return ""
    items = "".join(
        f"<li><code>{escape(outcome)}</code>: {count}</li>"
        for outcome, count in summary.outcomes.items()
    )
    return f"<h2>Exchanges that did not end normally</h2><ul>{items}</ul>"


def _findings(findings: Iterable[Finding]) -> str:
    return "".join(
        f"<li><code>{escape(finding.code)}</code> on {escape(route_label(finding.route))} "
        f"({escape(finding.direction)})</li>"
        for finding in findings
    )


def changes_section(changes: Changes | None) -> str:
    if changes is None:
        return ""
    if changes.previous_made_at_ms is None:
        body = '<p class="empty">No previous report with these filters to compare with.</p>'
    else:
        body = (
            f"<p>Since the report of {moment(changes.previous_made_at_ms)} (window "
            f"{moment(changes.previous_since_ms)} to {moment(changes.previous_until_ms)}):</p>"
        )
        if not changes.new and not changes.gone:
            body += '<p class="empty">No code appeared or went.</p>'
        if changes.new:
            body += f"<p>New:</p><ul>{_findings(changes.new)}</ul>"
        if changes.gone:
            body += f"<p>Gone:</p><ul>{_findings(changes.gone)}</ul>"
    return f"<h2>Changes since the previous report</h2>{body}"


def sections(summary: Summary) -> str:
    """Everything but the title, for a window with exchanges."""
    return "".join(
        (
            totals_cards(summary),
            changes_section(summary.changes),
            "<h2>Daily trend</h2>",
            trend_chart(summary.days),
            days_table(summary),
            "<h2>Exchanges and pass rate by route and direction</h2>",
            flows_table(summary),
            "<h2>Violations by code</h2>",
            codes_table(summary),
            "<h2>Violations by code and path</h2>",
            '<p class="subtitle">Paths without positions; the request ids are those of the '
            "latest exchanges, to look up in the gateway's log.</p>",
            groups_table(summary),
            outcomes_list(summary),
        )
    )


def window_title(summary: Summary) -> str:
    filters = summary.filters
    described = filters.described()
    return f"{moment(filters.since_ms)} to {moment(filters.until_ms)}" + (
        f" ({described})" if described else ""
    )

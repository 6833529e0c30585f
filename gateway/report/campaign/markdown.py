"""The campaign report in Markdown: what `sne-gateway report` prints by default, readable in a
terminal and rendered as tables by GitLab, GitHub and most wikis."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.report.campaign import gdm_usage, next_delivery
from gateway.report.campaign.html_parts import moment, window_title
from gateway.store.summary import Changes, Finding, Summary, route_label

FLOW_HEAD = (
    "route",
    "direction",
    "exchanges",
    "passed",
    "failed",
    "blocked",
    "skipped",
    "violations",
    "pass rate",
)
GROUP_HEAD = (
    "code",
    "path",
    "routes",
    "directions",
    "violations",
    "first seen",
    "last seen",
    "latest request ids",
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(head: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    head = list(head)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(str(cell)) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _findings(findings: Iterable[Finding]) -> list[str]:
    return [
        f"- `{finding.code}` on {route_label(finding.route)} ({finding.direction})"
        for finding in findings
    ]


def _changes(changes: Changes | None) -> list[str]:
    if changes is None:
        return []
    lines = ["## Changes since the previous report", ""]
    if changes.previous_made_at_ms is None:
        return [*lines, "No previous report with these filters to compare with.", ""]
    lines += [
        f"Since the report of {moment(changes.previous_made_at_ms)} (window "
        f"{moment(changes.previous_since_ms)} to {moment(changes.previous_until_ms)}):",
        "",
    ]
    if not changes.new and not changes.gone:
        lines += ["No code appeared or went.", ""]
    if changes.new:
        lines += ["New:", "", *_findings(changes.new), ""]
    if changes.gone:
        lines += ["Gone:", "", *_findings(changes.gone), ""]
    return lines


def markdown_report(summary: Summary, store: str) -> str:
    lines = ["# SNE campaign report", "", window_title(summary), ""]
    if summary.empty:
        lines += ["No exchange was recorded in this window: nothing to report.", ""]
    else:
        totals = summary.totals
        lines += [
            f"**{totals.exchanges} exchanges**: {totals.passed} passed, {totals.failed} failed, "
            f"{totals.skipped} not validated; {totals.violations} violations.",
            "",
            *_changes(summary.changes),
            "## Daily trend",
            "",
            *table(
                ("day", "exchanges", "passed", "failed", "violations"),
                (
                    (day.day.isoformat(), day.exchanges, day.passed, day.failed, day.violations)
                    for day in summary.days
                ),
            ),
            "## Exchanges and pass rate by route and direction",
            "",
            *table(
                FLOW_HEAD,
                (
                    (
                        route_label(flow.route),
                        flow.direction or "not validated",
                        flow.exchanges,
                        flow.passed,
                        flow.failed,
                        flow.blocked,
                        flow.skipped,
                        flow.violations,
                        _rate(flow.pass_rate),
                    )
                    for flow in summary.flows
                ),
            ),
            "## Violations by code",
            "",
        ]
        if summary.codes:
            lines += table(
                ("code", "violations", "exchanges", "first seen", "last seen"),
                (
                    (
                        f"`{c.code}`",
                        c.violations,
                        c.exchanges,
                        moment(c.first_ms),
                        moment(c.last_ms),
                    )
                    for c in summary.codes
                ),
            )
            lines += [
                "## Violations by code and path",
                "",
                "Paths without positions; the request ids are those of the latest exchanges.",
                "",
                *table(
                    GROUP_HEAD,
                    (
                        (
                            f"`{g.code}`",
                            f"`{g.path}`" if g.path else "—",
                            ", ".join(route_label(route) for route in g.routes),
                            ", ".join(g.directions),
                            g.violations,
                            moment(g.first_ms),
                            moment(g.last_ms),
                            " ".join(f"`{request_id}`" for request_id in g.request_ids),
                        )
                        for g in summary.groups
                    ),
                ),
            ]
        else:
            lines += ["No violation.", ""]
        if summary.outcomes:
            lines += ["## Exchanges that did not end normally", ""]
            lines += [f"- `{outcome}`: {count}" for outcome, count in summary.outcomes.items()]
            lines.append("")
        lines += next_delivery.markdown_lines(summary.next_set)
        lines += gdm_usage.markdown_lines(summary.gdm)
    lines += [f"Made at {moment(summary.made_at_ms)} from `{store}`."]
    return "\n".join(lines) + "\n"

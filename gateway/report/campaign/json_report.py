"""The campaign report as one JSON object, for scripts and other dashboards. Times are ISO 8601
with the local offset."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from gateway.report.campaign import gdm_usage, next_delivery
from gateway.store.summary import Finding, Summary


def _time(ms: int | None) -> str | None:
    if ms is None:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000).astimezone().isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return f"{ms} ms (not a time)"  # a stored value no time can be, as it is


def _finding(finding: Finding) -> dict[str, str]:
    return {"route": finding.route, "direction": finding.direction, "code": finding.code}


def json_report(summary: Summary, store: str) -> str:
    filters = summary.filters
    changes = summary.changes
    document: dict[str, Any] = {
        "store": store,
        "made_at": _time(summary.made_at_ms),
        "window": {
            "since": _time(filters.since_ms),
            "until": _time(filters.until_ms),
            "env": filters.env,
            "route": filters.route,
            "direction": filters.direction,
            "code": filters.code,
        },
        "empty": summary.empty,
        "totals": {
            "exchanges": summary.totals.exchanges,
            "passed": summary.totals.passed,
            "failed": summary.totals.failed,
            "not_validated": summary.totals.skipped,
            "violations": summary.totals.violations,
        },
        "flows": [
            {
                "route": flow.route,
                "direction": flow.direction,
                "exchanges": flow.exchanges,
                "passed": flow.passed,
                "failed": flow.failed,
                "blocked": flow.blocked,
                "skipped": flow.skipped,
                "violations": flow.violations,
                "pass_rate": flow.pass_rate,
            }
            for flow in summary.flows
        ],
        "codes": [
            {
                "code": code.code,
                "violations": code.violations,
                "exchanges": code.exchanges,
                "first_seen": _time(code.first_ms),
                "last_seen": _time(code.last_ms),
            }
            for code in summary.codes
        ],
        "violations": [
            {
                "code": group.code,
                "path": group.path,
                "routes": list(group.routes),
                "directions": list(group.directions),
                "violations": group.violations,
                "first_seen": _time(group.first_ms),
                "last_seen": _time(group.last_ms),
                "request_ids": list(group.request_ids),
            }
            for group in summary.groups
        ],
        "findings": [
            {**_finding(finding), "violations": count} for finding, count in summary.findings
        ],
        "days": [
            {
                "day": day.day.isoformat(),
                "exchanges": day.exchanges,
                "passed": day.passed,
                "failed": day.failed,
                "violations": day.violations,
            }
            for day in summary.days
        ],
        "outcomes": summary.outcomes,
        "changes": None
        if changes is None
        else {
            "previous_report": _time(changes.previous_made_at_ms),
            "previous_since": _time(changes.previous_since_ms),
            "previous_until": _time(changes.previous_until_ms),
            "new": [_finding(finding) for finding in changes.new],
            "gone": [_finding(finding) for finding in changes.gone],
        },
        "next_delivery": next_delivery.json_part(summary.next_set, _time),
        "gdm_usage": gdm_usage.json_part(summary.gdm, _time),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

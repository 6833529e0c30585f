"""The report's section "What the next delivery would break in your traffic", in each format:
the documents the next XSD set (`shadow_xsd`) judged otherwise than the set in service, by
route, direction, code and path, with the `sne-gateway diff` changes that explain them.

Documents valid today that the next set rejects come first: the SNE would refuse what the SI
sends (a request), or the SI, validating with the next set, what the SNE sends (an answer).
Then documents the set in service rejects and the next one accepts: an answer already in the
next delivery's shape (the 2025 `adressePostale` incident), fixed by upgrading.
"""

from __future__ import annotations

from html import escape
from typing import Any

from lxml import etree

from gateway.next_set_record import NEXT_FAILS, ExplainingChange
from gateway.report.campaign import markdown
from gateway.report.campaign.html_parts import inline_code, moment, table
from gateway.store.summary import NextSetFinding, NextSetForecast, route_label

TITLE = "What the next delivery would break in your traffic"
#: A store made before the table existed (`forecast_queries`): said, not left out silently.
BEFORE_TABLES = (
    "This store was made before the gateway recorded the next XSD set's differences: a "
    "gateway of this version adds the tables when it next opens the store to write."
)
HEAD = (
    "route",
    "direction",
    "schemas",
    "code",
    "path",
    "documents",
    "first seen",
    "last seen",
    "explained by",
    "latest request ids",
)
NOTHING = (
    "No document was judged otherwise by a next XSD set in this window: none is configured "
    "(`shadow_xsd`), or it judges the traffic as the set in service does."
)
PARTS = (
    (True, "Valid today, rejected by the next set"),
    (False, "Rejected today, valid under the next set"),
)


def _headline(forecast: NextSetForecast) -> str:
    versions = ", ".join(forecast.next_versions) or "the next set"
    return (
        f"Judged by the next XSD set ({versions}) beside the set in service: "
        f"**{forecast.failing} document(s)** valid today would be rejected; "
        f"{forecast.passing} document(s) rejected today would pass."
    )


def _schemas(finding: NextSetFinding) -> str:
    return f"{finding.current_schema or '—'} → {finding.next_schema or '—'}"


def _changes(forecast: NextSetForecast) -> list[ExplainingChange]:
    found: dict[tuple[str, str, str], ExplainingChange] = {}
    for finding in forecast.findings:
        for change in finding.explained_by:
            found.setdefault((change.id, change.kind, change.path), change)
    return list(found.values())


def _part(forecast: NextSetForecast, failing: bool) -> list[NextSetFinding]:
    return [f for f in forecast.findings if (f.next == NEXT_FAILS) == failing]


def markdown_lines(forecast: NextSetForecast | None) -> list[str]:
    if forecast is None:
        return [f"## {TITLE}", "", BEFORE_TABLES, ""]
    lines = [f"## {TITLE}", ""]
    if not forecast.findings:
        return [*lines, NOTHING, ""]
    lines += [_headline(forecast), ""]
    for failing, title in PARTS:
        part = _part(forecast, failing)
        if not part:
            continue
        lines += [f"### {title}", ""]
        lines += markdown.table(
            HEAD,
            (
                (
                    route_label(f.route),
                    f.direction,
                    _schemas(f),
                    f"`{f.code}`",
                    f"`{f.path}`" if f.path else "—",
                    f.documents,
                    moment(f.first_ms),
                    moment(f.last_ms),
                    ", ".join(f"{c.id} ({c.kind})" for c in f.explained_by) or "unexplained",
                    " ".join(f"`{request_id}`" for request_id in f.request_ids),
                )
                for f in part
            ),
        )
    changes = _changes(forecast)
    if changes:
        lines += ["The changes of the next set that explain them (as `sne-gateway diff` says):", ""]
        lines += [f"- **{c.id}** `{c.kind}` at `{c.path}`: {c.why}" for c in changes]
        lines.append("")
    return lines


def html_section(forecast: NextSetForecast | None) -> str:
    if forecast is None:
        return f'<h2>{escape(TITLE)}</h2><p class="empty">{escape(BEFORE_TABLES)}</p>'
    title = f"<h2>{escape(TITLE)}</h2>"
    if not forecast.findings:
        return f'{title}<p class="empty">{escape(NOTHING).replace("`", "")}</p>'
    headline = escape(_headline(forecast)).replace("**", "")
    body = f"{title}<p>{headline}</p>"
    for failing, part_title in PARTS:
        part = _part(forecast, failing)
        if not part:
            continue
        body += f"<h3>{escape(part_title)}</h3>" + table(
            HEAD,
            (
                (
                    escape(route_label(f.route)),
                    escape(f.direction),
                    escape(_schemas(f)),
                    inline_code(f.code, "id"),
                    inline_code(f.path, "path"),
                    str(f.documents),
                    moment(f.first_ms),
                    moment(f.last_ms),
                    escape(", ".join(f"{c.id} ({c.kind})" for c in f.explained_by))
                    or "unexplained",
                    " ".join(inline_code(request_id, "id") for request_id in f.request_ids),
                )
                for f in part
            ),
            {5},
        )
    changes = _changes(forecast)
    if changes:
        items = "".join(
            f"<li><strong>{escape(c.id)}</strong> {inline_code(c.kind, 'id')} at "
            f"{inline_code(c.path, 'path')}: {escape(c.why)}</li>"
            for c in changes
        )
        body += f"<p>The changes of the next set that explain them:</p><ul>{items}</ul>"
    return body


def json_part(forecast: NextSetForecast | None, time: Any) -> dict[str, Any] | None:
    """The section as JSON; `time` writes a moment as the report does."""
    if forecast is None:
        return None
    return {
        "failing_next": forecast.failing,
        "passing_next": forecast.passing,
        "next_versions": list(forecast.next_versions),
        "findings": [
            {
                "route": f.route,
                "direction": f.direction,
                "next": f.next,
                "current_schema": f.current_schema,
                "next_schema": f.next_schema,
                "code": f.code,
                "path": f.path,
                "documents": f.documents,
                "first_seen": time(f.first_ms),
                "last_seen": time(f.last_ms),
                "request_ids": list(f.request_ids),
                "explained_by": [
                    {"id": c.id, "kind": c.kind, "path": c.path, "why": c.why}
                    for c in f.explained_by
                ],
            }
            for f in forecast.findings
        ],
    }


def junit_suite(forecast: NextSetForecast | None, suites: etree._Element) -> None:
    """A test suite of the routes and directions with documents the next set judged: each
    fails when the next set rejects documents valid today (what would break)."""
    if forecast is None or not forecast.findings:
        return
    cases: dict[tuple[str, str], list[NextSetFinding]] = {}
    for finding in forecast.findings:
        cases.setdefault((finding.route, finding.direction), []).append(finding)
    failing = [key for key, found in cases.items() if any(f.next == NEXT_FAILS for f in found)]
    suite = etree.SubElement(
        suites,
        "testsuite",
        name="sne-gateway next XSD set",
        tests=str(len(cases)),
        failures=str(len(failing)),
        errors="0",
    )
    for (route, direction), found in cases.items():
        case = etree.SubElement(
            suite, "testcase", classname=route_label(route), name=f"{direction} (next XSD set)"
        )
        lines = [
            f"{f.documents} document(s) {'rejected' if f.next == NEXT_FAILS else 'accepted'} by "
            f"{f.next_schema}: {f.code} at {f.path}"
            + (
                f", explained by {', '.join(c.id + ' ' + c.kind for c in f.explained_by)}"
                if f.explained_by
                else ""
            )
            for f in found
        ]
        if (route, direction) in failing:
            rejected = sum(f.documents for f in found if f.next == NEXT_FAILS)
            failure = etree.SubElement(
                case,
                "failure",
                message=f"{rejected} document(s) valid today would be rejected by the next XSD set",
                type=next(f.code for f in found if f.next == NEXT_FAILS),
            )
            failure.text = "\n".join(lines)
        else:
            etree.SubElement(case, "system-out").text = "\n".join(lines)

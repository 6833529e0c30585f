"""The report's section "GDM usage advisories", in each format: each client's GDM movements
calls in the window, the advisories they gave (gaps first: movements may have been missed),
with the latest occurrence's times and figures, and the SNE's rule each breaks, in its words
(French) and in English."""

from __future__ import annotations

from html import escape
from typing import Any

from lxml import etree

from gateway.report.campaign import markdown
from gateway.report.campaign.html_parts import inline_code, moment, table
from gateway.report.gdm_wording import GAP, RULES, sentence
from gateway.store.summary import AdvisoryGroup, GdmUsage

TITLE = "GDM usage advisories"
#: A store made before the table existed (`forecast_queries`): said, not left out silently.
BEFORE_TABLES = (
    "This store was made before the gateway recorded GDM calls and advisories: a gateway "
    "of this version adds the tables when it next opens the store to write."
)
CALLS_HEAD = ("client", "calls", "first call", "last call")
HEAD = ("severity", "client", "advisory", "times", "first", "last", "latest", "latest request id")
NO_CALL = "No GDM movements call was recorded in this window."
NO_ADVISORY = "Every GDM call followed the SNE's rules."


def _latest(group: AdvisoryGroup) -> str:
    return sentence(
        group.kind,
        group.latest_figures,
        moment(group.latest_depuis_ms),
        moment(group.latest_previous_at_ms),
    )


def _rules(usage: GdmUsage) -> list[tuple[str, str, str]]:
    """The rules broken, once each: title, the SNE's words, English."""
    seen: dict[str, tuple[str, str, str]] = {}
    for group in usage.groups:
        rule = RULES[group.kind]
        seen.setdefault(rule.title, (rule.title, rule.sne, rule.english))
    return sorted(seen.values())


def markdown_lines(usage: GdmUsage | None) -> list[str]:
    if usage is None:
        return [f"## {TITLE}", "", BEFORE_TABLES, ""]
    lines = [f"## {TITLE}", ""]
    if not usage.clients:
        return [*lines, NO_CALL, ""]
    lines += markdown.table(
        CALLS_HEAD,
        ((c.client, c.calls, moment(c.first_ms), moment(c.last_ms)) for c in usage.clients),
    )
    if not usage.groups:
        return [*lines, NO_ADVISORY, ""]
    lines += markdown.table(
        HEAD,
        (
            (
                g.severity,
                g.client,
                f"`{g.kind}`",
                g.count,
                moment(g.first_ms),
                moment(g.last_ms),
                _latest(g),
                f"`{g.latest_request_id}`",
            )
            for g in usage.groups
        ),
    )
    lines += ["The SNE's rules they break (club des éditeurs, 22 May 2025):", ""]
    for title, sne, english in _rules(usage):
        lines += [f"- **{title}** — « {sne} » ({english})"]
    return [*lines, ""]


def html_section(usage: GdmUsage | None) -> str:
    if usage is None:
        return f'<h2>{escape(TITLE)}</h2><p class="empty">{escape(BEFORE_TABLES)}</p>'
    body = f"<h2>{escape(TITLE)}</h2>"
    if not usage.clients:
        return body + f'<p class="empty">{escape(NO_CALL)}</p>'
    body += table(
        CALLS_HEAD,
        (
            (escape(c.client), str(c.calls), moment(c.first_ms), moment(c.last_ms))
            for c in usage.clients
        ),
        {1},
    )
    if not usage.groups:
        return body + f'<p class="empty">{escape(NO_ADVISORY)}</p>'
    body += table(
        HEAD,
        (
            (
                f'<span class="{"fail" if g.kind == GAP else ""}">{escape(g.severity)}</span>',
                escape(g.client),
                inline_code(g.kind, "id"),
                str(g.count),
                moment(g.first_ms),
                moment(g.last_ms),
                escape(_latest(g)),
                inline_code(g.latest_request_id, "id"),
            )
            for g in usage.groups
        ),
        {3},
    )
    rules = "".join(
        f'<li><strong>{escape(title)}</strong> — <q lang="fr">{escape(sne)}</q> '
        f"({escape(english)})</li>"
        for title, sne, english in _rules(usage)
    )
    return (
        body
        + f"<p>The SNE's rules they break (club des éditeurs, 22 May 2025):</p><ul>{rules}</ul>"
    )


def json_part(usage: GdmUsage | None, time: Any) -> dict[str, Any] | None:
    """The section as JSON; `time` writes a moment as the report does."""
    if usage is None:
        return None
    return {
        "clients": [
            {
                "client": c.client,
                "calls": c.calls,
                "first_call": time(c.first_ms),
                "last_call": time(c.last_ms),
            }
            for c in usage.clients
        ],
        "advisories": [
            {
                "client": g.client,
                "advisory": g.kind,
                "severity": g.severity,
                "count": g.count,
                "first": time(g.first_ms),
                "last": time(g.last_ms),
                "latest": {
                    "request_id": g.latest_request_id,
                    "depuis": time(g.latest_depuis_ms),
                    "previous_call": time(g.latest_previous_at_ms),
                    "figures": g.latest_figures,
                    "found": _latest(g),
                },
                "rule": {
                    "title": RULES[g.kind].title,
                    "sne": RULES[g.kind].sne,
                    "english": RULES[g.kind].english,
                },
            }
            for g in usage.groups
        ],
    }


def junit_suite(usage: GdmUsage | None, suites: etree._Element) -> None:
    """A test suite of the clients that called GDM: each fails on a gap (movements may have
    been missed); the other advisories are said in its output."""
    if usage is None or not usage.clients:
        return
    by_client: dict[str, list[AdvisoryGroup]] = {}
    for group in usage.groups:
        by_client.setdefault(group.client, []).append(group)
    failing = [
        c.client for c in usage.clients if any(g.kind == GAP for g in by_client.get(c.client, []))
    ]
    suite = etree.SubElement(
        suites,
        "testsuite",
        name="sne-gateway GDM usage",
        tests=str(len(usage.clients)),
        failures=str(len(failing)),
        errors="0",
    )
    for client in usage.clients:
        case = etree.SubElement(suite, "testcase", classname=client.client, name="GDM usage")
        groups = by_client.get(client.client, [])
        lines = [f"{g.kind} ({g.count}): {_latest(g)}" for g in groups]
        if client.client in failing:
            gaps = next(g for g in groups if g.kind == GAP)
            failure = etree.SubElement(
                case,
                "failure",
                message=f"{gaps.count} gap(s) between GDM windows: movements may have been missed",
                type=GAP,
            )
            failure.text = "\n".join(lines)
        else:
            etree.SubElement(case, "system-out").text = "\n".join(lines) or (
                f"{client.calls} call(s), every one following the SNE's rules."
            )

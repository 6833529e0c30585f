"""The campaign as JUnit XML: one testcase per route and direction, failing when it had
violations in the window, so that a campaign can gate a pipeline (and a CI server shows which
flows the SNE would refuse). Beside it, when the store has them, a suite of what the next XSD
set would reject (`next_delivery`) and one of the GDM usage (`gdm_usage`)."""

from __future__ import annotations

from collections import defaultdict

from lxml import etree

from gateway.report.campaign import gdm_usage, next_delivery
from gateway.report.campaign.html_parts import window_title
from gateway.store.summary import Summary, route_label

SUITE_NAME = "sne-gateway campaign"


def junit_report(summary: Summary, store: str) -> bytes:
    codes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for finding, count in summary.findings:
        codes[finding.route, finding.direction].append(f"{finding.code} ({count})")
    flows = [flow for flow in summary.flows if flow.direction is not None]
    failing = [flow for flow in flows if flow.violations or flow.failed]
    counts = {"tests": str(len(flows)), "failures": str(len(failing)), "errors": "0"}
    suites = etree.Element("testsuites", name="sne-gateway", **counts)
    suite = etree.SubElement(
        suites, "testsuite", name=f"{SUITE_NAME} ({window_title(summary)})", **counts
    )
    for flow in flows:
        assert flow.direction is not None
        case = etree.SubElement(
            suite, "testcase", classname=route_label(flow.route), name=flow.direction
        )
        if flow in failing:
            found = codes.get((flow.route, flow.direction), [])
            failure = etree.SubElement(
                case,
                "failure",
                message=f"{flow.failed} of {flow.exchanges} exchanges failed, "
                f"{flow.violations} violation(s): {', '.join(found)}",
                type=found[0].split(" ")[0] if found else "fail",
            )
            failure.text = "\n".join(
                [
                    f"{flow.passed} passed, {flow.failed} failed, {flow.blocked} blocked, "
                    f"{flow.skipped} skipped, out of {flow.exchanges} checked.",
                    *(f"{code}" for code in found),
                ]
            )
        etree.SubElement(
            case, "system-out"
        ).text = f"{flow.exchanges} exchanges checked, {flow.passed} passed, from {store}."
    if summary.empty:
        etree.SubElement(
            suite, "system-out"
        ).text = "No exchange was recorded in this window: nothing to report."
    next_delivery.junit_suite(summary.next_set, suites)
    gdm_usage.junit_suite(summary.gdm, suites)
    for total in ("tests", "failures"):
        suites.set(total, str(sum(int(child.get(total, "0")) for child in suites)))
    return etree.tostring(suites, xml_declaration=True, encoding="UTF-8", pretty_print=True)

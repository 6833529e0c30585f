"""JUnit XML, the format GitLab, Jenkins and most CI servers display as test results.

One testcase per document (classname: the schema that judged it), one failure per invalid
document listing all its violations, one error per archive that could not be read through.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from gateway.report.summary import Summary
from gateway.violation import UNREADABLE_CODES, DocumentReport

SUITE_NAME = "sne-gateway validate"


def junit_report(reports: Sequence[DocumentReport], version: str) -> bytes:
    summary = Summary.of(reports)

    def unreadable(report: DocumentReport) -> bool:
        return bool(report.violations) and report.violations[0].code in UNREADABLE_CODES

    errors = sum(map(unreadable, reports))
    counts = {
        "tests": str(summary.documents),
        "failures": str(summary.invalid - errors),
        "errors": str(errors),
    }
    suites = etree.Element("testsuites", name="sne-gateway", **counts)
    suite = etree.SubElement(suites, "testsuite", name=f"{SUITE_NAME} ({version})", **counts)
    for report in reports:
        case = etree.SubElement(
            suite, "testcase", name=report.source, classname=report.schema or "no-schema"
        )
        if not report.valid:
            _failure(case, report, unreadable(report))
        if report.note:
            # After the failure, as JUnit's schema orders a testcase's children.
            etree.SubElement(case, "system-out").text = report.note
    return etree.tostring(suites, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _failure(case: etree._Element, report: DocumentReport, unreadable: bool) -> None:
    codes = sorted({violation.code for violation in report.violations})
    failure = etree.SubElement(
        case,
        "error" if unreadable else "failure",
        message=f"{report.violation_count} violation(s): {', '.join(codes)}",
        type=report.violations[0].code,
    )
    lines = [
        f"{violation.code} at {violation.path or '-'} ({violation.position or 'no position'}): "
        f"{violation.message}"
        for violation in report.violations
    ]
    if report.omitted:
        lines.append(f"... and {report.omitted} more violation(s)")
    failure.text = "\n".join(lines)

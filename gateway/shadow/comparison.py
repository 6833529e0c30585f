"""Judge documents by the next XSD set, and find those it judges otherwise than the set in
service.

Only the schema's verdict is compared: the business rules (`gateway.rules`) are the same
whatever the XSD set, so the next set runs without them and a rule violation found today is
left out of today's verdict. A document the gateway could not judge today (too large, an
internal error, an undecodable body) is not compared: its verdict under the next set is
today's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gateway.catalog import SchemaSet
from gateway.decide import INCOMPLETE_CODES
from gateway.extract.document import Document
from gateway.limits import Limits
from gateway.validate import validate_document
from gateway.violation import DocumentReport

#: The codes of the business rules' violations.
RULE_PREFIX = "rule."


def schema_valid(report: DocumentReport) -> bool:
    """Whether the schema found nothing wrong (business rules aside)."""
    return all(violation.code.startswith(RULE_PREFIX) for violation in report.violations)


def _judged(report: DocumentReport) -> bool:
    return not any(violation.code in INCOMPLETE_CODES for violation in report.violations)


@dataclass(frozen=True, slots=True)
class Difference:
    """A document judged otherwise by the two sets, with both reports."""

    document: Document
    current: DocumentReport
    next: DocumentReport

    @property
    def next_valid(self) -> bool:
        return schema_valid(self.next)

    @property
    def failing(self) -> DocumentReport:
        """The report of the set that rejects the document."""
        return self.current if self.next_valid else self.next


@dataclass(slots=True)
class Comparison:
    """The documents of one body (or export members) judged by the next set: how many, whether
    one fails under it (as `X-Conformance` would say), and those judged otherwise than today."""

    documents: int = 0
    fails: bool = False
    differences: list[Difference] = field(default_factory=list)

    @property
    def conformance(self) -> str:
        """`X-Conformance-Next`: fail when a document fails under the next set (or breaks a
        business rule, which the next set keeps), pass when one was judged, else skipped."""
        if not self.documents:
            return "skipped"
        return "fail" if self.fails else "pass"

    def add(self, other: Comparison) -> None:
        self.documents += other.documents
        self.fails = self.fails or other.fails
        self.differences.extend(other.differences)


def compare(
    documents: Sequence[Document],
    reports: Sequence[DocumentReport],
    next_set: SchemaSet,
    limits: Limits,
) -> Comparison:
    """Validate each of `documents` against `next_set` (which should carry no rules) and
    compare with its report in service, `reports[i]` being that of `documents[i]`."""
    comparison = Comparison()
    for document, report in zip(documents, reports, strict=True):
        comparison.documents += 1
        if not _judged(report):
            comparison.fails = True
            continue
        judged = validate_document(document, next_set, limits=limits)
        valid_now, valid_next = schema_valid(report), schema_valid(judged)
        breaks_a_rule = any(v.code.startswith(RULE_PREFIX) for v in report.violations)
        if not valid_next or breaks_a_rule:
            comparison.fails = True
        if valid_now != valid_next:
            comparison.differences.append(Difference(document, report, judged))
    return comparison

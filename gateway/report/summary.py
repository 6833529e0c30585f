"""Counts over a batch of document reports, shared by every output format."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.violation import DocumentReport


def plural(count: int, word: str) -> str:
    """`1 document`, `3 documents`."""
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class Summary:
    documents: int
    valid: int
    invalid: int
    violations: int

    @classmethod
    def of(cls, reports: Sequence[DocumentReport]) -> Summary:
        valid = sum(report.valid for report in reports)
        return cls(
            documents=len(reports),
            valid=valid,
            invalid=len(reports) - valid,
            violations=sum(report.violation_count for report in reports),
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "documents": self.documents,
            "valid": self.valid,
            "invalid": self.invalid,
            "violations": self.violations,
        }

    def sentence(self) -> str:
        return (
            f"{plural(self.documents, 'document')}: {self.valid} valid, {self.invalid} invalid, "
            f"{plural(self.violations, 'violation')}"
        )

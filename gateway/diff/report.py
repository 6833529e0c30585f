"""The XSD upgrade report: every change between OLD and NEW with both audiences' verdicts, and
the sample documents whose verdict changes. The JSON, Markdown and HTML formats render it.

    >>> old, new = open_sides("13.33", "13.34", SHIPPED_XSD)
    >>> report = upgrade_report(old, new, samples=iter_inputs(["my-documents/"], limits))
    >>> report.breaks("consumers")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gateway.diff.causes import by_cause
from gateway.diff.compare import compare_roots
from gateway.diff.components import load_components
from gateway.diff.evidence import Evidence, SampleResult, examine, settle
from gateway.diff.judge import (
    AUDIENCES,
    BREAKING,
    COMPATIBLE,
    CONSUMERS,
    LEVELS,
    PRODUCERS,
    REVIEW,
    AssessedChange,
    judge,
    worst,
)
from gateway.diff.model import ElementNode, element_trees
from gateway.diff.pairing import SchemaPair, pair_schemas
from gateway.diff.side import Side
from gateway.extract.document import Document
from gateway.limits import DEFAULT_LIMITS, Limits
from gateway.schema import Schema


@dataclass(frozen=True)
class UpgradeReport:
    """`samples` lists the sample documents whose verdict changes; `evidence` is None when no
    samples were given. `command` is the command line that reproduces the report, if any."""

    old: Side
    new: Side
    changes: tuple[AssessedChange, ...]
    samples: tuple[SampleResult, ...]
    evidence: Evidence | None
    command: str | None = None

    def verdict(self, audience: str) -> str:
        """`breaking` when a change or a sample breaks `audience`, else `review` when a change
        needs review, else `compatible`."""
        levels = [change.verdict(audience).level for change in self.changes]
        if any(sample.regression == audience for sample in self.samples):
            levels.append(BREAKING)
        return worst(levels)

    def breaks(self, audience: str) -> bool:
        return self.verdict(audience) == BREAKING

    def counts(self, audience: str) -> dict[str, int]:
        levels = [change.verdict(audience).level for change in self.changes]
        return {level: levels.count(level) for level in LEVELS}

    def groups(self) -> dict[tuple[str, str], list[AssessedChange]]:
        """The changes by schema and global element, in report order."""
        grouped: dict[tuple[str, str], list[AssessedChange]] = {}
        for change in self.changes:
            grouped.setdefault((change.schema, change.root), []).append(change)
        return grouped

    def summary(self) -> dict[str, Any]:
        result: dict[str, Any] = {"changes": len(self.changes)}
        for audience in AUDIENCES:
            result[audience] = {"verdict": self.verdict(audience), **self.counts(audience)}
        if self.evidence is not None:
            result["samples"] = {
                "documents": self.evidence.documents,
                "examined": self.evidence.examined,
                "skipped": self.evidence.skipped,
                "regressions": {
                    audience: sum(s.regression == audience for s in self.samples)
                    for audience in AUDIENCES
                },
                "unexplained": sum(not sample.explained_by for sample in self.samples),
            }
        return result

    def to_dict(self) -> dict[str, Any]:
        result = {
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "changes": [change.to_dict() for change in self.changes],
            "samples": [sample.to_dict() for sample in self.samples],
            "summary": self.summary(),
        }
        if self.command:
            result["command"] = self.command
        return result

    def role(self, audience: str) -> str:
        """What `audience` does, in this report's versions."""
        if audience == PRODUCERS:
            return f"send documents that must validate against {self.new.label}"
        return f"validate with {self.old.label} documents produced under {self.new.label}"

    def headline(self) -> tuple[str, str]:
        """The verdict in a few words, and the sentence that explains it."""
        producers, consumers = self.verdict(PRODUCERS), self.verdict(CONSUMERS)
        if not self.changes and not self.samples:
            return "No change", (
                f"{self.old.label} and {self.new.label} accept the same documents: no element, "
                "type, facet or content model differs."
            )
        broken = [audience for audience in AUDIENCES if self.verdict(audience) == BREAKING]
        if broken:
            title = "Breaking for " + " and ".join(broken)
        elif REVIEW in (producers, consumers):
            title = "To review"
        else:
            title = "Compatible"
        old, new = self.old.label, self.new.label
        sending = {
            BREAKING: f"documents valid under {old} may be rejected under {new}",
            REVIEW: f"documents valid under {old} may be rejected under {new} (to review)",
            COMPATIBLE: f"documents valid under {old} stay valid under {new}",
        }[producers]
        receiving = {
            BREAKING: f"systems still validating with {old} may reject documents produced "
            f"under {new}",
            REVIEW: f"systems still validating with {old} may reject documents produced under "
            f"{new} (to review)",
            COMPATIBLE: f"systems still validating with {old} accept documents produced under "
            f"{new}",
        }[consumers]
        return title, f"{sending[0].upper()}{sending[1:]}; {receiving}."


def _trees(schema: Schema | None, side: Side) -> dict[str, ElementNode]:
    if schema is None:
        return {}
    return element_trees(load_components(schema, side.folder))


def _assessed(pairs: list[SchemaPair], old: Side, new: Side) -> list[AssessedChange]:
    changes: list[AssessedChange] = []
    for pair in pairs:
        found = by_cause(compare_roots(_trees(pair.old, old), _trees(pair.new, new)))
        names = (pair.old.name if pair.old else None, pair.new.name if pair.new else None)
        for change in found:
            number = f"C{len(changes) + 1}"
            changes.append(judge(change, number, pair.label, old.label, new.label, names))
    return changes


def upgrade_report(
    old: Side,
    new: Side,
    *,
    schema: str | None = None,
    samples: Iterable[Document] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    command: str | None = None,
) -> UpgradeReport:
    """Compare OLD and NEW (only the schema named `schema` when given), judge every change for
    both audiences and, when `samples` are given, settle `review` verdicts with them.

    Raises `SchemaNotFound` for an unknown `schema`, `CatalogError` when xmlschema cannot read
    a schema, and whatever reading `samples` raises (`InputError`)."""
    pairs = pair_schemas(old.schema_set, new.schema_set, schema)
    changes = _assessed(pairs, old, new)
    if samples is None:
        return UpgradeReport(old, new, tuple(changes), (), None, command)
    evidence = examine(samples, pairs, old.schema_set, new.schema_set, changes, limits)
    settled = tuple(settle(change, evidence) for change in changes)
    return UpgradeReport(old, new, settled, tuple(evidence.regressions), evidence, command)

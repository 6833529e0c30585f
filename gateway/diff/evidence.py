"""Evidence from real documents: which samples change verdict, and which changes explain it.

Every sample is validated against OLD and NEW (the engine's own validation, so the verdicts
are the gateway's). A document valid under OLD and invalid under NEW proves a producer-side
break; valid under NEW and invalid under OLD, a consumer-side break. It is linked to every
change its verdict depends on: those its content exercises (`gateway.diff.dependence`: an
element a change added, a value a change refuses, wherever the document holds them), and
those at the paths of its violations (or at the violating element's children, whose absence
or presence the violation is about).

A change judged `review` is then settled for each audience: `confirmed` (breaking) when a
sample shows the break, `refuted` (compatible) when samples reach its path and none breaks,
`unexercised` (still review) when no sample reaches it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lxml import etree

from gateway.catalog import SchemaSet
from gateway.diff.dependence import DocumentIndex, concerns
from gateway.diff.judge import (
    AUDIENCES,
    BREAKING,
    COMPATIBLE,
    CONSUMERS,
    PRODUCERS,
    REVIEW,
    AssessedChange,
)
from gateway.diff.pairing import SchemaPair
from gateway.extract.document import Document
from gateway.limits import Limits
from gateway.parse import DocumentRejected, parse_xml
from gateway.schema import Schema
from gateway.validate import validate_element
from gateway.violation import DocumentReport, Violation

# A step of a violation path: `/nuu:name[2]`, `/{uri}name`, `/@code`, `/@nuu:modifie`.
_STEP = re.compile(r"/(?P<attribute>@?)(?:\{[^}]*\}|[^/\[{}:]+:)?(?P<name>[^/\[{}:]+)(?:\[\d+\])?")
# Changes whose path names an element that a parent holds (or not): a sample reaches them
# when it has the parent.
_ABOUT_PRESENCE = {"element-added", "element-removed", "occurs-changed"}


def change_path(violation_path: str) -> str:
    """`/nuu:interfaceNuu/nuu:entete[1]/@nuu:modifie` → `interfaceNuu/entete/@modifie`."""
    return "/".join(match["attribute"] + match["name"] for match in _STEP.finditer(violation_path))


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


@dataclass(frozen=True, slots=True)
class SampleResult:
    """A sample whose verdict differs between OLD and NEW (`regression` says for whom), with
    its violations under the version that rejects it."""

    source: str
    schema: str | None
    old_valid: bool
    new_valid: bool
    violations: tuple[Violation, ...]
    explained_by: tuple[str, ...]
    schemas: tuple[str | None, str | None] = (None, None)

    @property
    def regression(self) -> str | None:
        if self.old_valid and not self.new_valid:
            return PRODUCERS
        if self.new_valid and not self.old_valid:
            return CONSUMERS
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "schema": {"old": self.schemas[0], "new": self.schemas[1]},
            "old_valid": self.old_valid,
            "new_valid": self.new_valid,
            "violations": [violation.to_dict() for violation in self.violations],
            "explained_by": list(self.explained_by),
        }


@dataclass
class Evidence:
    """What the samples showed: the regressions; how many documents were examined (valid under
    at least one version) or skipped (unreadable, or invalid under both); and, per schema pair
    and element path, how many documents valid under both versions hold that element."""

    regressions: list[SampleResult] = field(default_factory=list)
    examined: int = 0
    skipped: int = 0
    harmless: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def documents(self) -> int:
        return self.examined + self.skipped


def _tree(document: Document, limits: Limits) -> etree._Element | None:
    """The document's element tree; None when it could not be extracted or parsed."""
    if document.problem is not None:
        return None
    if document.element is not None:
        return document.element
    try:
        return parse_xml(document.data, limits)
    except DocumentRejected:
        return None


class _PairedValidation:
    """Validates a sample against the schema it belongs to in NEW and its pair in OLD."""

    def __init__(self, pairs: Sequence[SchemaPair], old: SchemaSet, new: SchemaSet) -> None:
        self.pairs = pairs
        self.old = SchemaSet(old.version, old.source, {p.old.name: p.old for p in pairs if p.old})
        self.new = SchemaSet(new.version, new.source, {p.new.name: p.new for p in pairs if p.new})

    def _against(
        self, schema: Schema | None, version: str, root: etree._Element, document: Document
    ) -> DocumentReport:
        if schema is None:
            message = f"No schema of version {version} corresponds to the one that applies."
            return DocumentReport(document.source, None, (Violation("schema.not-found", message),))
        return validate_element(root, document.data, schema, source=document.source)

    def _paired(self, side: str, label: str | None) -> SchemaPair:
        return next(p for p in self.pairs if getattr(getattr(p, side), "label", None) == label)

    def reports(
        self, root: etree._Element, document: Document
    ) -> tuple[SchemaPair, DocumentReport, DocumentReport] | None:
        """The pair that applies and the OLD and NEW reports; None when the document is valid
        under neither version (the schema it is closest to is then unknown)."""
        if len(self.pairs) == 1:
            pair = self.pairs[0]
            old = self._against(pair.old, self.old.version, root, document)
            return pair, old, self._against(pair.new, self.new.version, root, document)
        # The schema is selected where the document is valid (NEW first), as `validate` does.
        new = validate_element(root, document.data, self.new, source=document.source)
        if new.valid:
            pair = self._paired("new", new.schema)
            return pair, self._against(pair.old, self.old.version, root, document), new
        old = validate_element(root, document.data, self.old, source=document.source)
        if old.valid:
            pair = self._paired("old", old.schema)
            return pair, old, self._against(pair.new, self.new.version, root, document)
        return None


def examine(
    documents: Iterable[Document],
    pairs: Sequence[SchemaPair],
    old: SchemaSet,
    new: SchemaSet,
    changes: Sequence[AssessedChange],
    limits: Limits,
) -> Evidence:
    """Validate every document against the paired schemas of OLD and NEW, link the
    violations of those whose verdict differs to `changes`, and count the documents valid
    under both that reach a change left to review."""
    validation = _PairedValidation(pairs, old, new)
    reviewed: dict[str, set[str]] = {}
    for change in changes:
        if REVIEW in (change.producers.level, change.consumers.level):
            for path in change.change.paths:
                reviewed.setdefault(change.schema, set()).add(reach(change.change.kind, path))
    evidence = Evidence()
    for document in documents:
        root = _tree(document, limits)
        found = validation.reports(root, document) if root is not None else None
        if root is None or found is None or not (found[1].valid or found[2].valid):
            evidence.skipped += 1
            continue
        pair, old_report, new_report = found
        evidence.examined += 1
        index = DocumentIndex(root)
        if old_report.valid and new_report.valid:
            if anchors := reviewed.get(pair.label):
                reached = anchors & index.paths()
                evidence.harmless.update((pair.label, anchor) for anchor in reached)
            continue
        failing = new_report if old_report.valid else old_report
        audience = PRODUCERS if old_report.valid else CONSUMERS
        evidence.regressions.append(
            SampleResult(
                source=document.source,
                schema=pair.label,
                old_valid=old_report.valid,
                new_valid=new_report.valid,
                violations=failing.violations,
                explained_by=explained_by(index, failing.violations, changes, pair.label, audience),
                schemas=(
                    pair.old.name if pair.old else None,
                    pair.new.name if pair.new else None,
                ),
            )
        )
    return evidence


def explained_by(
    index: DocumentIndex,
    violations: Sequence[Violation],
    changes: Sequence[AssessedChange],
    schema: str,
    audience: str,
) -> tuple[str, ...]:
    """The ids of the changes that explain a document of the schema pair `schema` (its label,
    the document in `index`) that one version rejects with `violations` and the other accepts,
    breaking `audience`: among that pair's changes not compatible for it (which cannot explain
    it), those the document's content depends on and those at its violations' paths. The
    proxy's validation against the next XSD set (`gateway.shadow`) says this of live documents
    as `diff --samples` does of samples."""
    candidates = [
        change
        for change in changes
        if change.schema == schema and change.verdict(audience).level != COMPATIBLE
    ]
    linked = {c.id for c in candidates if concerns(c.change, index, audience)}
    linked.update(_explaining(violations, candidates))
    return tuple(c.id for c in candidates if c.id in linked)


def _explaining(
    violations: Sequence[Violation], changes: Sequence[AssessedChange]
) -> tuple[str, ...]:
    """The ids of the changes at a violation's path, at its children's paths, or (for an
    unexpected element) at its parent's path."""
    ids = []
    for violation in violations:
        if not violation.path:
            continue
        where = change_path(violation.path)
        element = where.partition("/@")[0]
        for change in changes:
            for path in change.change.paths:
                related = path == where or _parent(path) == element
                if violation.code == "xsd.unexpected-element":
                    related = related or path == _parent(where)
                if related and change.id not in ids:
                    ids.append(change.id)
    return tuple(ids)


def reach(kind: str, path: str) -> str:
    """The element a sample must have for a change of `kind` at `path` to concern it."""
    element = path.partition("/@")[0]
    if kind in _ABOUT_PRESENCE and "/" in element and element == path:
        return _parent(element)
    return element


def _settled(change: AssessedChange, audience: str, evidence: Evidence) -> AssessedChange:
    verdict = change.verdict(audience)
    proofs = [
        sample.source
        for sample in evidence.regressions
        if sample.regression == audience and change.id in sample.explained_by
    ]
    if proofs:
        shown = ", ".join(proofs[:3]) + (f" and {len(proofs) - 3} more" if len(proofs) > 3 else "")
        settled = replace(verdict, level=BREAKING, why=f"{verdict.why} Confirmed by {shown}.")
        outcome = "confirmed"
    else:
        anchors = {reach(change.change.kind, path) for path in change.change.paths}
        # Documents valid under both versions that reach the change show it did them no harm.
        harmless = sum(evidence.harmless[(change.schema, anchor)] for anchor in anchors)
        if harmless:
            reaching = (
                f"{harmless} documents reach it and stay"
                if harmless > 1
                else "1 document reaches it and stays"
            )
            settled = replace(
                verdict,
                level=COMPATIBLE,
                why=f"{verdict.why} Refuted by the samples: {reaching} valid under both versions.",
            )
            outcome = "refuted"
        else:
            settled = replace(verdict, why=f"{verdict.why} No sample exercised it.")
            outcome = "unexercised"
    outcomes = {**change.evidence, audience: outcome}
    if audience == PRODUCERS:
        return replace(change, producers=settled, evidence=outcomes)
    return replace(change, consumers=settled, evidence=outcomes)


def settle(change: AssessedChange, evidence: Evidence) -> AssessedChange:
    """`change` with each `review` verdict settled by the samples."""
    for audience in AUDIENCES:
        if change.verdict(audience).level == REVIEW:
            change = _settled(change, audience, evidence)
    return change

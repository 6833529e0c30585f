"""Which change of the next XSD set explains a document it judges otherwise: the changes
between the set in service and the next one, as `sne-gateway diff` finds and judges them,
compared once per pair of loaded sets (a reload of either compares them again), and linked
to a document as `diff --samples` links a sample (`gateway.diff.evidence.explained_by`: the
changes its content depends on, and those at its violations' paths).

Comparing two sets reads them with xmlschema's component model, which takes seconds: it is
done on the shadow's own thread, the first time a difference needs explaining after a load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.catalog import SchemaSet
from gateway.diff.dependence import DocumentIndex
from gateway.diff.evidence import change_path, explained_by
from gateway.diff.judge import CONSUMERS, PRODUCERS, AssessedChange
from gateway.diff.pairing import SchemaPair, pair_schemas
from gateway.diff.report import upgrade_report
from gateway.diff.side import Side
from gateway.limits import Limits
from gateway.next_set_record import ExplainingChange
from gateway.parse import DocumentRejected, parse_xml
from gateway.schema import CatalogError
from gateway.shadow.comparison import Difference


@dataclass(frozen=True)
class SetsDiff:
    """The changes from the set in service to the next one, with the schema pairs they are
    numbered by."""

    pairs: tuple[SchemaPair, ...]
    changes: tuple[AssessedChange, ...]

    def _pair(self, difference: Difference) -> SchemaPair | None:
        current, upcoming = difference.current.schema, difference.next.schema
        for pair in self.pairs:
            if (pair.old is not None and pair.old.label == current) or (
                pair.new is not None and pair.new.label == upcoming
            ):
                return pair
        return None

    def explain(self, difference: Difference, limits: Limits) -> tuple[ExplainingChange, ...]:
        """The changes that explain `difference` (none when none does)."""
        pair = self._pair(difference)
        if pair is None:
            return ()
        document = difference.document
        try:
            root = (
                document.element
                if document.element is not None
                else parse_xml(document.data, limits)
            )
        except DocumentRejected:
            return ()  # judged otherwise, it was read by both: only a limit can refuse it now
        audience = CONSUMERS if difference.next_valid else PRODUCERS
        ids = explained_by(
            DocumentIndex(root), difference.failing.violations, self.changes, pair.label, audience
        )
        by_id = {change.id: change for change in self.changes}
        places = {change_path(v.path) for v in difference.failing.violations if v.path}
        return tuple(
            ExplainingChange(
                id=change_id,
                kind=by_id[change_id].change.kind,
                path=_nearest(by_id[change_id].change.paths, places),
                why=by_id[change_id].verdict(audience).why,
            )
            for change_id in ids
        )


def _nearest(paths: tuple[str, ...], places: set[str]) -> str:
    """Of the paths where one change shows (one cause, several uses), the one at a violation
    of the document, or above or below one; else the change's first."""
    for path in paths:
        if any(place == path or f"{place}/".startswith(f"{path}/") for place in places):
            return path
    for path in paths:
        if any(path.startswith(f"{place}/") for place in places):
            return path
    return paths[0]


def _sides(current: SchemaSet, upcoming: SchemaSet) -> tuple[Side, Side]:
    labels = (current.version, upcoming.version)
    if labels[0] == labels[1]:
        labels = ("current", "next")
    return Side("current", labels[0], current), Side("next", labels[1], upcoming)


class DiffCache:
    """The diff of the last pair of sets asked for, kept until either set is another (a
    reload). Used by one thread."""

    def __init__(self, logger: Any) -> None:
        self.logger = logger
        self._sets: tuple[SchemaSet, SchemaSet] | None = None
        self._diff = SetsDiff((), ())

    def between(self, current: SchemaSet, upcoming: SchemaSet) -> SetsDiff:
        if self._sets is not None and self._sets[0] is current and self._sets[1] is upcoming:
            return self._diff
        # Whatever happens below, this pair is not explained by the previous pair's changes,
        # nor compared again at each difference.
        self._sets, self._diff = (current, upcoming), SetsDiff((), ())
        old, new = _sides(current, upcoming)
        try:
            report = upgrade_report(old, new)
        except CatalogError as error:
            # The sets compiled, so this is xmlschema reading a construct otherwise: the
            # differences are still recorded, unexplained.
            self.logger.error(
                "shadow.diff-failed",
                reason=str(error),
                consequence="differences between the two XSD sets are recorded unexplained "
                "until either set is reloaded",
            )
            return self._diff
        self._diff = SetsDiff(
            tuple(pair_schemas(current, upcoming)),
            report.changes,
        )
        self.logger.info(
            "shadow.diff-ready",
            current=old.label,
            next=new.label,
            changes=len(report.changes),
        )
        return self._diff

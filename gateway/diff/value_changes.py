"""The changes between the value spaces of one element (or attribute) in OLD and NEW.

Built-in types are compared by derivation (narrowed, widened, unrelated); constraints that
`gateway.diff.value_space` can decide together (patterns with the enumeration and lengths, the
bounds of an integer) are one change each, with example values; the other facets and the
enumeration are compared one by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from gateway.diff.change import Change, Decision
from gateway.diff.language import EQUAL, INCOMPARABLE, NARROWED, UNDECIDED, WIDENED
from gateway.diff.locate import Source
from gateway.diff.value_space import lexical_decision, numeric_decision
from gateway.diff.values import LOWER_BOUNDS, SimpleValue

_WHITE_SPACE_ORDER = {"preserve": 0, "replace": 1, "collapse": 2}
#: A decision's relation as the effect of a change of each kind.
_EFFECTS = {
    "pattern-changed": {
        NARROWED: "narrowed",
        WIDENED: "widened",
        INCOMPARABLE: "incomparable",
        UNDECIDED: "undecided",
    },
    "facet-changed": {NARROWED: "tightened", WIDENED: "relaxed", INCOMPARABLE: "incomparable"},
}


def _patterns(patterns: frozenset[frozenset[str]]) -> str:
    return " and ".join(" | ".join(sorted(step)) for step in sorted(patterns, key=sorted))


def _values(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


def type_name(value: SimpleValue) -> str:
    return value.name or value.builtin


def _constraints(value: SimpleValue, covers: tuple[str, ...]) -> str | None:
    """What `value` has of the constraints `covers`: `pattern [0-9]{5}; maxLength 5`."""
    parts = []
    if "pattern" in covers and value.patterns:
        parts.append(f"pattern {_patterns(value.patterns)}")
    if "enumeration" in covers and value.enumeration is not None:
        parts.append(f"enumeration {_values(value.enumeration)}")
    parts += [f"{name} {value.facets[name].text}" for name in covers if name in value.facets]
    return "; ".join(parts) or None


class ValueComparison:
    """The changes between two value spaces; decisions are kept by value space, so that a
    type used at many paths is decided once."""

    def __init__(self) -> None:
        self._decided: dict[tuple[object, ...], tuple[Decision | None, Decision | None]] = {}

    def _decisions(
        self, old: SimpleValue, new: SimpleValue
    ) -> tuple[Decision | None, Decision | None]:
        key = (old.key(), new.key())
        if key not in self._decided:
            self._decided[key] = (lexical_decision(old, new), numeric_decision(old, new))
        return self._decided[key]

    def changes(
        self, path: str, subject: str, old: SimpleValue, new: SimpleValue, declared: Source | None
    ) -> list[Change]:
        if old == new:
            return []
        source = new.source or declared
        if old.variety != new.variety:
            effect = "changed" if "union" in (old.variety, new.variety) else "unrelated"
            return [
                Change(
                    "type-changed", path, (effect,), subject, type_name(old), type_name(new), source
                )
            ]
        if old.variety == "union":
            return [
                Change(
                    "type-changed",
                    path,
                    ("changed",),
                    subject,
                    type_name(old),
                    type_name(new),
                    source,
                )
            ]
        found: list[Change] = []
        if old.variety == "list" and old.item is not None and new.item is not None:
            found += self.changes(path, f"the items of {subject}", old.item, new.item, source)
        elif old.builtin != new.builtin:
            if new.builtin in old.lineage:
                effect = "widened"
            elif old.builtin in new.lineage:
                effect = "narrowed"
            else:
                effect = "unrelated"
            found.append(
                Change("type-changed", path, (effect,), subject, old.builtin, new.builtin, source)
            )
            if effect == "unrelated":
                return found
        elif old.white_space != new.white_space and old.white_space and new.white_space:
            tighter = _WHITE_SPACE_ORDER[new.white_space] < _WHITE_SPACE_ORDER[old.white_space]
            found.append(
                Change(
                    "facet-changed",
                    path,
                    ("tightened" if tighter else "relaxed",),
                    subject,
                    old.white_space,
                    new.white_space,
                    source,
                    "whiteSpace",
                )
            )
        covered: set[str] = set()
        for decision in self._decisions(old, new):
            if decision is None:
                continue
            covered.update(decision.covers)
            if decision.relation != EQUAL:
                found.append(self._decided_change(path, subject, old, new, source, decision))
        found += self._facets(path, subject, old, new, source, covered)
        if "enumeration" not in covered:
            found += self._enumeration(path, subject, old, new, source)
        return [replace(change, values=(old, new)) for change in found]

    @staticmethod
    def _decided_change(
        path: str,
        subject: str,
        old: SimpleValue,
        new: SimpleValue,
        source: Source | None,
        decision: Decision,
    ) -> Change:
        kind = "pattern-changed" if "pattern" in decision.covers else "facet-changed"
        effect = _EFFECTS[kind][decision.relation]
        facets = [name for name in decision.covers if name not in ("pattern", "enumeration")]
        where = (
            (new.pattern_source or old.pattern_source)
            if kind == "pattern-changed"
            else next(
                (
                    facet.source
                    for facet in (new.facets.get(name) or old.facets.get(name) for name in facets)
                    if facet is not None and facet.source is not None
                ),
                None,
            )
        )
        # One constraint is named once (`pattern`, with the patterns as old and new); several
        # are named each with its value (`enumeration A, B` → `pattern [A-C]`).
        detail = ""
        if decision.covers == ("pattern",):
            detail = "pattern"
            old_text = _patterns(old.patterns) or None
            new_text = _patterns(new.patterns) or None
        elif len(facets) == 1 and len(decision.covers) == 1:
            detail = facets[0]
            before, after = old.facets.get(detail), new.facets.get(detail)
            old_text = before.text if before else None
            new_text = after.text if after else None
        else:
            old_text = _constraints(old, decision.covers)
            new_text = _constraints(new, decision.covers)
        return Change(
            kind, path, (effect,), subject, old_text, new_text, where or source, detail, decision
        )

    @staticmethod
    def _facets(
        path: str,
        subject: str,
        old: SimpleValue,
        new: SimpleValue,
        source: Source | None,
        covered: set[str],
    ) -> list[Change]:
        found = []
        for name in [*old.facets, *(name for name in new.facets if name not in old.facets)]:
            before, after = old.facets.get(name), new.facets.get(name)
            if before == after or name in covered:
                continue
            if before is None:
                effect = "tightened"
            elif after is None:
                effect = "relaxed"
            elif name == "length":
                effect = "changed"
            else:
                try:
                    larger = after.value > before.value
                except TypeError:
                    effect = "unordered"
                else:
                    effect = "tightened" if larger == (name in LOWER_BOUNDS) else "relaxed"
            found.append(
                Change(
                    "facet-changed",
                    path,
                    (effect,),
                    subject,
                    before.text if before else None,
                    after.text if after else None,
                    (after.source if after else before.source if before else None) or source,
                    name,
                )
            )
        return found

    @staticmethod
    def _enumeration(
        path: str, subject: str, old: SimpleValue, new: SimpleValue, source: Source | None
    ) -> list[Change]:
        if old.enumeration == new.enumeration:
            return []
        where = new.enumeration_source or old.enumeration_source or source
        if old.enumeration is None or new.enumeration is None:
            effect = "introduced" if old.enumeration is None else "dropped"
            return [
                Change(
                    "enumeration-changed",
                    path,
                    (effect,),
                    subject,
                    _values(old.enumeration) if old.enumeration else None,
                    _values(new.enumeration) if new.enumeration else None,
                    where,
                )
            ]
        added = new.enumeration - old.enumeration
        removed = old.enumeration - new.enumeration
        effects = (["values-removed"] if removed else []) + (["values-added"] if added else [])
        detail = "; ".join(
            part
            for part in (
                f"removed: {_values(removed)}" if removed else "",
                f"added: {_values(added)}" if added else "",
            )
            if part
        )
        return [
            Change(
                "enumeration-changed",
                path,
                tuple(effects),
                subject,
                _values(old.enumeration),
                _values(new.enumeration),
                where,
                detail,
            )
        ]

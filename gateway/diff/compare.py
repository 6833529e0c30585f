"""The changes between the OLD and NEW trees of a global element, path by path.

Elements are matched by name under the same parent path; one that keeps its local name but
changes namespace is a `namespace-changed`, not a removal and an addition. Values are compared
by value space (`gateway.diff.values`), content by structure (`gateway.diff.content`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from gateway.diff.change import Change
from gateway.diff.content import differences, occurs_effects, reduced
from gateway.diff.locate import Source
from gateway.diff.model import AnyElement, AttributeNode, ElementNode, Group, Particle, Wildcard
from gateway.diff.values import LOWER_BOUNDS, SimpleValue

_WHITE_SPACE_ORDER = {"preserve": 0, "replace": 1, "collapse": 2}

Named = TypeVar("Named", ElementNode, AttributeNode)


def _matched(
    old: Sequence[Named], new: Sequence[Named]
) -> tuple[list[tuple[Named, Named]], list[Named], list[Named]]:
    """Pairs of the same name (by Clark name, then by local name), then the NEW-only and the
    OLD-only items, each in document order."""
    unmatched = {item.name: item for item in old}
    partners: dict[int, Named] = {}
    for item in new:
        if (partner := unmatched.pop(item.name, None)) is not None:
            partners[id(item)] = partner
    by_local = {item.local_name: item for item in unmatched.values()}
    for item in new:
        if id(item) in partners:
            continue
        if (partner := by_local.pop(item.local_name, None)) is not None:
            partners[id(item)] = partner
    paired_old = {id(partner) for partner in partners.values()}
    return (
        [(partners[id(item)], item) for item in new if id(item) in partners],
        [item for item in new if id(item) not in partners],
        [item for item in old if id(item) not in paired_old],
    )


def _declaration(node: ElementNode) -> str:
    return f"{node.occurs}, {node.type_name or 'anonymous type'}"


def _patterns(patterns: frozenset[frozenset[str]]) -> str:
    return " and ".join(" | ".join(sorted(step)) for step in sorted(patterns, key=sorted))


def _values(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


def _type_name(value: SimpleValue) -> str:
    return value.name or value.builtin


class _Comparison:
    """Accumulates the changes of one global element."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    def add(
        self,
        kind: str,
        path: str,
        effects: Iterable[str],
        subject: str,
        old: str | None,
        new: str | None,
        source: Source | None,
        detail: str = "",
    ) -> None:
        effects = tuple(effects)
        if effects:
            self.changes.append(Change(kind, path, effects, subject, old, new, source, detail))

    def element(self, old: ElementNode, new: ElementNode, *, root: bool = False) -> None:
        subject = f"<{new.local_name}>"
        path = new.path
        if old.namespace != new.namespace:
            self.add(
                "namespace-changed",
                path,
                ["changed"],
                subject,
                old.namespace or "(none)",
                new.namespace or "(none)",
                new.source,
            )
        if not root:
            self.add(
                "occurs-changed",
                path,
                occurs_effects((old.min_occurs, old.max_occurs), (new.min_occurs, new.max_occurs)),
                subject,
                old.occurs,
                new.occurs,
                new.source,
            )
        if old.nillable != new.nillable:
            self.add(
                "nillable-changed",
                path,
                ["added" if new.nillable else "removed"],
                subject,
                str(old.nillable).lower(),
                str(new.nillable).lower(),
                new.source,
            )
        self.constraints(path, subject, old.fixed, new.fixed, old.default, new.default, new.source)
        if (old.simple is None) != (new.simple is None):
            self.add(
                "type-changed",
                path,
                ["unrelated"],
                subject,
                "simple content" if old.simple else "element content",
                "simple content" if new.simple else "element content",
                new.type_source or new.source,
            )
        elif old.simple is not None and new.simple is not None:
            self.value(path, subject, old.simple, new.simple, new.source)
        else:
            self.complex_content(old, new, subject)
        self.attributes(old, new, subject)

    def constraints(
        self,
        path: str,
        subject: str,
        old_fixed: str | None,
        new_fixed: str | None,
        old_default: str | None,
        new_default: str | None,
        source: Source | None,
    ) -> None:
        if old_fixed != new_fixed:
            effect = "added" if old_fixed is None else "removed" if new_fixed is None else "changed"
            self.add("fixed-changed", path, [effect], subject, old_fixed, new_fixed, source)
        if old_default != new_default:
            self.add(
                "default-changed", path, ["changed"], subject, old_default, new_default, source
            )

    def complex_content(self, old: ElementNode, new: ElementNode, subject: str) -> None:
        if old.mixed != new.mixed:
            self.add(
                "type-changed",
                new.path,
                ["widened" if new.mixed else "narrowed"],
                subject,
                "mixed content" if old.mixed else "element-only content",
                "mixed content" if new.mixed else "element-only content",
                new.type_source or new.source,
            )
        if old.cut or new.cut:
            return  # a recursive type: its content is compared where it first appears
        pairs, added, removed = _matched(old.children, new.children)
        common = frozenset(new_child.local_name for _, new_child in pairs)
        old_model = reduced(old.content, common)
        new_model = reduced(new.content, common)
        found = differences(old_model, new_model)
        if found:
            self.add(
                "content-model-changed",
                new.path,
                [difference.effect for difference in found],
                subject,
                "; ".join(dict.fromkeys(difference.old for difference in found)),
                "; ".join(dict.fromkeys(difference.new for difference in found)),
                new.type_source or new.source,
                "; ".join(dict.fromkeys(d.part for d in found if d.part)),
            )
        for old_child, new_child in pairs:
            self.element(old_child, new_child)
        old_wildcards = list(_wildcards(old.content))
        new_wildcards = list(_wildcards(new.content))
        for child in added:
            accepted = any(w.accepts(child.namespace) for w in old_wildcards)
            self.add(
                "element-added",
                child.path,
                [child.presence + ("+wildcard" if accepted else "")],
                f"<{child.local_name}>",
                None,
                _declaration(child),
                child.source,
            )
        for child in removed:
            accepted = any(w.accepts(child.namespace) for w in new_wildcards)
            self.add(
                "element-removed",
                child.path,
                [child.presence + ("+wildcard" if accepted else "")],
                f"<{child.local_name}>",
                _declaration(child),
                None,
                child.source,
            )

    def attributes(self, old: ElementNode, new: ElementNode, element: str) -> None:
        old_any, new_any = old.attribute_wildcard, new.attribute_wildcard
        if old_any != new_any:
            effect = (
                "wildcard-added"
                if old_any is None
                else "wildcard-removed"
                if new_any is None
                else "wildcard-changed"
            )
            self.add(
                "content-model-changed",
                new.path,
                [effect],
                f"the attributes of {element}",
                f"anyAttribute({old_any})" if old_any else None,
                f"anyAttribute({new_any})" if new_any else None,
                new.type_source or new.source,
            )
        pairs, added, removed = _matched(old.attributes, new.attributes)
        for old_attribute, new_attribute in pairs:
            self.attribute(new.path, element, old_attribute, new_attribute)
        for attribute in added:
            accepted = old_any is not None and old_any.accepts(attribute.namespace)
            self.add(
                "attribute-added",
                f"{new.path}/@{attribute.local_name}",
                [attribute.use + ("+wildcard" if accepted else "")],
                f"attribute '{attribute.local_name}' of {element}",
                None,
                f"{attribute.use}, {_type_name(attribute.value)}",
                attribute.source,
            )
        for attribute in removed:
            accepted = new_any is not None and new_any.accepts(attribute.namespace)
            self.add(
                "attribute-removed",
                f"{new.path}/@{attribute.local_name}",
                [attribute.use + ("+wildcard" if accepted else "")],
                f"attribute '{attribute.local_name}' of {element}",
                f"{attribute.use}, {_type_name(attribute.value)}",
                None,
                attribute.source,
            )

    def attribute(
        self, element_path: str, element: str, old: AttributeNode, new: AttributeNode
    ) -> None:
        path = f"{element_path}/@{new.local_name}"
        subject = f"attribute '{new.local_name}' of {element}"
        if old.namespace != new.namespace:
            self.add(
                "namespace-changed",
                path,
                ["changed"],
                subject,
                old.namespace or "(none)",
                new.namespace or "(none)",
                new.source,
            )
        if old.use != new.use:
            self.add(
                "attribute-use-changed",
                path,
                ["became-" + new.use],
                subject,
                old.use,
                new.use,
                new.source,
            )
        self.constraints(path, subject, old.fixed, new.fixed, old.default, new.default, new.source)
        self.value(path, subject, old.value, new.value, new.source)

    def value(
        self,
        path: str,
        subject: str,
        old: SimpleValue,
        new: SimpleValue,
        declared: Source | None,
    ) -> None:
        if old == new:
            return
        source = new.source or declared
        if old.variety != new.variety:
            effect = "changed" if "union" in (old.variety, new.variety) else "unrelated"
            self.add(
                "type-changed", path, [effect], subject, _type_name(old), _type_name(new), source
            )
            return
        if old.variety == "union":
            self.add(
                "type-changed", path, ["changed"], subject, _type_name(old), _type_name(new), source
            )
            return
        if old.variety == "list" and old.item is not None and new.item is not None:
            self.value(path, f"the items of {subject}", old.item, new.item, source)
        elif old.builtin != new.builtin:
            if new.builtin in old.lineage:
                effect = "widened"
            elif old.builtin in new.lineage:
                effect = "narrowed"
            else:
                self.add(
                    "type-changed", path, ["unrelated"], subject, old.builtin, new.builtin, source
                )
                return
            self.add("type-changed", path, [effect], subject, old.builtin, new.builtin, source)
        elif old.white_space != new.white_space and old.white_space and new.white_space:
            tighter = _WHITE_SPACE_ORDER[new.white_space] < _WHITE_SPACE_ORDER[old.white_space]
            self.add(
                "facet-changed",
                path,
                ["tightened" if tighter else "relaxed"],
                subject,
                old.white_space,
                new.white_space,
                source,
                "whiteSpace",
            )
        self.facets(path, subject, old, new, source)
        if old.patterns != new.patterns:
            effect = "added" if not old.patterns else "removed" if not new.patterns else "changed"
            self.add(
                "pattern-changed",
                path,
                [effect],
                subject,
                _patterns(old.patterns) or None,
                _patterns(new.patterns) or None,
                new.pattern_source or old.pattern_source or source,
            )
        self.enumeration(path, subject, old, new, source)

    def facets(
        self, path: str, subject: str, old: SimpleValue, new: SimpleValue, source: Source | None
    ) -> None:
        for name in [*old.facets, *(name for name in new.facets if name not in old.facets)]:
            before, after = old.facets.get(name), new.facets.get(name)
            if before == after:
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
                    effect = "incomparable"
                else:
                    effect = "tightened" if larger == (name in LOWER_BOUNDS) else "relaxed"
            self.add(
                "facet-changed",
                path,
                [effect],
                subject,
                before.text if before else None,
                after.text if after else None,
                (after.source if after else before.source if before else None) or source,
                name,
            )

    def enumeration(
        self, path: str, subject: str, old: SimpleValue, new: SimpleValue, source: Source | None
    ) -> None:
        if old.enumeration == new.enumeration:
            return
        where = new.enumeration_source or old.enumeration_source or source
        if old.enumeration is None or new.enumeration is None:
            effect = "introduced" if old.enumeration is None else "dropped"
            self.add(
                "enumeration-changed",
                path,
                [effect],
                subject,
                _values(old.enumeration) if old.enumeration else None,
                _values(new.enumeration) if new.enumeration else None,
                where,
            )
            return
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
        self.add(
            "enumeration-changed",
            path,
            effects,
            subject,
            _values(old.enumeration),
            _values(new.enumeration),
            where,
            detail,
        )


def _wildcards(particle: Particle | None) -> Iterator[Wildcard]:
    if isinstance(particle, AnyElement):
        yield particle.wildcard
    elif isinstance(particle, Group):
        for item in particle.items:
            yield from _wildcards(item)


def compare_roots(old: dict[str, ElementNode], new: dict[str, ElementNode]) -> list[Change]:
    """The changes between the global elements `old` and `new` (by Clark name) and their
    trees."""
    comparison = _Comparison()
    pairs, added, removed = _matched(list(old.values()), list(new.values()))
    for root in added:
        comparison.add(
            "root-added",
            root.path,
            ["added"],
            f"<{root.local_name}>",
            None,
            root.type_name,
            root.source,
        )
    for root in removed:
        comparison.add(
            "root-removed",
            root.path,
            ["removed"],
            f"<{root.local_name}>",
            root.type_name,
            None,
            root.source,
        )
    for old_root, new_root in pairs:
        comparison.element(old_root, new_root, root=True)
    return comparison.changes

"""The changes between the OLD and NEW trees of a global element, path by path.

Elements are matched by name under the same parent path; one that keeps its local name but
changes namespace is a `namespace-changed`, not a removal and an addition. Values are compared
by value space (`gateway.diff.value_changes`), content by structure (`gateway.diff.content`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from gateway.diff.change import Bounds, Change, Outline
from gateway.diff.content import differences, occurs_effects, reduced
from gateway.diff.locate import Source
from gateway.diff.model import AnyElement, AttributeNode, ElementNode, Group, Particle, Wildcard
from gateway.diff.outline import structure
from gateway.diff.value_changes import ValueComparison, type_name

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


class _Comparison:
    """Accumulates the changes of one global element."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.values = ValueComparison()

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
        *,
        outline: Outline | None = None,
        bounds: tuple[Bounds, Bounds] | None = None,
    ) -> None:
        effects = tuple(effects)
        if effects:
            self.changes.append(
                Change(
                    kind,
                    path,
                    effects,
                    subject,
                    old,
                    new,
                    source,
                    detail,
                    outline=outline,
                    bounds=bounds,
                )
            )

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
                bounds=((old.min_occurs, old.max_occurs), (new.min_occurs, new.max_occurs)),
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
            self.changes += self.values.changes(path, subject, old.simple, new.simple, new.source)
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
                outline=structure(child),
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
                outline=structure(child),
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
                f"{attribute.use}, {type_name(attribute.value)}",
                attribute.source,
            )
        for attribute in removed:
            accepted = new_any is not None and new_any.accepts(attribute.namespace)
            self.add(
                "attribute-removed",
                f"{new.path}/@{attribute.local_name}",
                [attribute.use + ("+wildcard" if accepted else "")],
                f"attribute '{attribute.local_name}' of {element}",
                f"{attribute.use}, {type_name(attribute.value)}",
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
        self.changes += self.values.changes(path, subject, old.value, new.value, new.source)


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
            outline=structure(root),
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
            outline=structure(root),
        )
    for old_root, new_root in pairs:
        comparison.element(old_root, new_root, root=True)
    return comparison.changes

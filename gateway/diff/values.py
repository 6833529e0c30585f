"""The value space of a simple type (or of simple content), as the diff compares it.

What matters is what values are accepted, not how the types are named or where they are
declared: the nearest built-in type, the effective facets of the whole derivation chain, the
patterns of every step (a value must match one pattern of each step), the enumeration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xmlschema.validators import XsdAtomicBuiltin, XsdList, XsdUnion

from gateway.diff.locate import Source, SourceIndex

XS = "{http://www.w3.org/2001/XMLSchema}"

#: Facets compared value by value; `whiteSpace`, patterns and enumerations are apart.
BOUNDING_FACETS = (
    "length",
    "minLength",
    "maxLength",
    "minInclusive",
    "maxInclusive",
    "minExclusive",
    "maxExclusive",
    "totalDigits",
    "fractionDigits",
)
#: Facets whose larger value accepts fewer values; for the others a larger value accepts more.
LOWER_BOUNDS = frozenset({"minLength", "minInclusive", "minExclusive"})


@dataclass(frozen=True, slots=True)
class Facet:
    """One effective facet: `value` decoded (for comparing), `text` as written."""

    value: Any
    text: str
    source: Source | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class SimpleValue:
    """The accepted values of a simple type.

    `builtin` is the nearest built-in type and `lineage` its built-in ancestors, nearest first
    (`xs:int`, `xs:long`, `xs:integer`, `xs:decimal`). `patterns` holds one set of
    alternatives per derivation step. `item` is the item type of a list, `members` the member
    types of a union. `accepts` is the type's own validator (xmlschema's), which confirms the
    example values the diff gives.
    """

    variety: str
    builtin: str
    lineage: tuple[str, ...]
    facets: dict[str, Facet]
    white_space: str | None
    patterns: frozenset[frozenset[str]]
    enumeration: frozenset[str] | None
    item: SimpleValue | None = None
    members: tuple[SimpleValue, ...] = ()
    name: str | None = field(default=None, compare=False)
    source: Source | None = field(default=None, compare=False)
    pattern_source: Source | None = field(default=None, compare=False)
    enumeration_source: Source | None = field(default=None, compare=False)
    accepts: Callable[[str], bool] | None = field(default=None, compare=False, repr=False)

    @property
    def counts_characters(self) -> bool:
        """Whether length facets count characters (an atomic type derived from xs:string); a
        list counts items, binary types count octets."""
        return self.variety == "atomic" and "xs:string" in self.lineage

    @property
    def integer_valued(self) -> bool:
        """Whether every value is an integer (xs:integer and its derivations, or a decimal
        restricted to no fraction digits)."""
        if "xs:integer" in self.lineage:
            return True
        digits = self.facets.get("fractionDigits")
        return "xs:decimal" in self.lineage and digits is not None and digits.value == 0

    def key(self) -> tuple[object, ...]:
        """What decides the values accepted, hashable (to decide a shared type once)."""
        return (
            self.variety,
            self.builtin,
            self.white_space,
            self.patterns,
            self.enumeration,
            tuple(sorted((name, facet.text) for name, facet in self.facets.items())),
            self.item.key() if self.item else None,
        )


def _short(name: str) -> str:
    return "xs:" + name[len(XS) :] if name.startswith(XS) else name.rpartition("}")[2]


def type_label(xsd_type: Any) -> str | None:
    """`xs:string`, `adresseType`; None for an anonymous type."""
    return _short(xsd_type.name) if xsd_type.name else None


def _lineage(builtin: Any) -> tuple[str, ...]:
    names = []
    current = builtin
    while current is not None and current.name is not None:
        names.append(_short(current.name))
        current = getattr(current, "base_type", None)
    return tuple(names)


def _steps(xsd_type: Any) -> tuple[list[Any], Any]:
    """The user-defined restriction steps of a simple type, most derived first, and what they
    end on: a built-in type, a list, a union, or None (xs:anySimpleType)."""
    steps = []
    current = xsd_type
    while current is not None and not isinstance(current, (XsdAtomicBuiltin, XsdList, XsdUnion)):
        steps.append(current)
        base = getattr(current, "base_type", None)
        # A simple-content complex type restricts its base's content.
        current = base.content if base is not None and base.is_complex() else base
    return steps, current


def simple_value(xsd_type: Any, sources: SourceIndex) -> SimpleValue:
    """The value space of a simple type (or of the content of a simple-content type)."""
    steps, end = _steps(xsd_type)
    if isinstance(end, XsdList):
        item = simple_value(end.item_type, sources)
        return _described(xsd_type, steps, sources, "list", item.builtin, (), item=item)
    if isinstance(end, XsdUnion):
        members = tuple(simple_value(member, sources) for member in end.member_types)
        return _described(xsd_type, steps, sources, "union", "union", (), members=members)
    if end is None:
        return _described(xsd_type, steps, sources, "any", "xs:anySimpleType", ())
    return _described(xsd_type, steps, sources, "atomic", _short(end.name), _lineage(end))


def _described(
    xsd_type: Any,
    steps: list[Any],
    sources: SourceIndex,
    variety: str,
    builtin: str,
    lineage: tuple[str, ...],
    item: SimpleValue | None = None,
    members: tuple[SimpleValue, ...] = (),
) -> SimpleValue:
    # Built-in types' own facets are part of what `builtin` means, so only the user's steps
    # count; a restriction can only narrow, so the most derived facet of a name is effective.
    facets: dict[str, Facet] = {}
    patterns = []
    pattern_source = enumeration_facet = None
    for step in steps:
        for name in BOUNDING_FACETS:
            facet = step.facets.get(XS + name)
            if facet is not None and name not in facets:
                facets[name] = Facet(
                    facet.value, facet.elem.get("value", ""), sources.source(facet)
                )
        if (step_patterns := step.facets.get(XS + "pattern")) is not None:
            patterns.append(frozenset(step_patterns.regexps))
            pattern_source = pattern_source or sources.source(step_patterns)
        if enumeration_facet is None:
            enumeration_facet = step.facets.get(XS + "enumeration")
    enumeration = None
    if enumeration_facet is not None:
        enumeration = frozenset(element.get("value", "") for element in enumeration_facet)
    return SimpleValue(
        variety=variety,
        builtin=builtin,
        lineage=lineage,
        facets=facets,
        white_space=xsd_type.white_space,
        patterns=frozenset(patterns),
        enumeration=enumeration,
        item=item,
        members=members,
        name=type_label(xsd_type),
        source=sources.source(xsd_type),
        pattern_source=pattern_source,
        enumeration_source=sources.source(enumeration_facet) if enumeration_facet else None,
        accepts=xsd_type.is_valid,
    )

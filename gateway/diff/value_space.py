"""Changes to a value's constraints decided together, as the set of values they accept.

A facet compared alone can mislead: `maxLength` raised from 5 to 10 on a value whose pattern is
`[0-9]{5}` accepts nothing new; `totalDigits 3` replaced by `maxInclusive 999` on an integer
changes nothing. So where both sides can be decided as a whole, they are:

- **lexical**: patterns, with the enumeration and (for types derived from xs:string) the length
  facets, as regular languages (`gateway.diff.language`);
- **numeric**: for integer-valued types, the bounds and `totalDigits`, as an interval.

A `Decision` says how NEW's values relate to OLD's (`equal` reports nothing), with an example
value for each audience a change breaks, and which constraints it covers: those are then not
compared one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from math import ceil, floor

from gateway.diff.change import Decision
from gateway.diff.language import (
    EQUAL,
    INCOMPARABLE,
    NARROWED,
    UNDECIDED,
    WIDENED,
    Lexical,
    compare,
)
from gateway.diff.values import SimpleValue

LENGTH_FACETS = ("length", "minLength", "maxLength")
NUMERIC_FACETS = ("minInclusive", "minExclusive", "maxInclusive", "maxExclusive", "totalDigits")
#: The bounds of the built-in integer types; a derived type inherits its nearest one's.
_INTEGER_BOUNDS: dict[str, tuple[int | None, int | None]] = {
    "xs:long": (-(2**63), 2**63 - 1),
    "xs:int": (-(2**31), 2**31 - 1),
    "xs:short": (-(2**15), 2**15 - 1),
    "xs:byte": (-(2**7), 2**7 - 1),
    "xs:unsignedLong": (0, 2**64 - 1),
    "xs:unsignedInt": (0, 2**32 - 1),
    "xs:unsignedShort": (0, 2**16 - 1),
    "xs:unsignedByte": (0, 2**8 - 1),
    "xs:nonNegativeInteger": (0, None),
    "xs:positiveInteger": (1, None),
    "xs:nonPositiveInteger": (None, 0),
    "xs:negativeInteger": (None, -1),
}


def _changed(old: SimpleValue, new: SimpleValue, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if old.facets.get(name) != new.facets.get(name)]


def _lengths(value: SimpleValue) -> tuple[int, int | None]:
    facets = {name: int(value.facets[name].value) for name in LENGTH_FACETS if name in value.facets}
    if "length" in facets:
        return facets["length"], facets["length"]
    return facets.get("minLength", 0), facets.get("maxLength")


def _validator(value: SimpleValue) -> Callable[[str], bool]:
    return value.accepts or (lambda text: True)


def lexical_decision(old: SimpleValue, new: SimpleValue) -> Decision | None:
    """The patterns (with the enumeration and character lengths) decided as languages; None
    where they are not involved: no pattern on either side, or only the enumeration changed
    (its values added and removed say it exactly)."""
    if not (old.patterns or new.patterns) or old.variety != new.variety:
        return None
    counted = old.counts_characters and new.counts_characters
    lengths = _changed(old, new, LENGTH_FACETS) if counted else []
    patterns = ["pattern"] if old.patterns != new.patterns else []
    enumeration = ["enumeration"] if old.enumeration != new.enumeration and patterns else []
    covers = (*patterns, *enumeration, *lengths)
    if not patterns and not lengths:
        return None
    if old.builtin != new.builtin:
        reason = f"the base type changed as well ({old.builtin} → {new.builtin})"
        return Decision(UNDECIDED, covers, reason=reason) if patterns else None
    outcome = compare(
        Lexical(old.patterns, old.enumeration, _lengths(old) if counted else (0, None)),
        Lexical(new.patterns, new.enumeration, _lengths(new) if counted else (0, None)),
        _validator(old),
        _validator(new),
    )
    if outcome.relation == UNDECIDED and not patterns:
        return None  # the lengths are then compared one by one
    return Decision(outcome.relation, covers, outcome.dropped, outcome.gained, outcome.reason)


def _interval(value: SimpleValue) -> tuple[int | None, int | None]:
    low, high = None, None
    for name in reversed(value.lineage):
        low, high = _INTEGER_BOUNDS.get(name, (low, high))
    facets = {
        name: Decimal(str(value.facets[name].value))
        for name in NUMERIC_FACETS
        if name in value.facets
    }
    candidates_low = [low] if low is not None else []
    candidates_high = [high] if high is not None else []
    if "minInclusive" in facets:
        candidates_low.append(ceil(facets["minInclusive"]))
    if "minExclusive" in facets:
        candidates_low.append(floor(facets["minExclusive"]) + 1)
    if "maxInclusive" in facets:
        candidates_high.append(floor(facets["maxInclusive"]))
    if "maxExclusive" in facets:
        candidates_high.append(ceil(facets["maxExclusive"]) - 1)
    if "totalDigits" in facets:
        largest = 10 ** int(facets["totalDigits"]) - 1
        candidates_low.append(-largest)
        candidates_high.append(largest)
    return (
        max(candidates_low) if candidates_low else None,
        min(candidates_high) if candidates_high else None,
    )


def _outside(
    inner: tuple[int | None, int | None], outer: tuple[int | None, int | None]
) -> int | None:
    """An integer of `outer` that is not in `inner`, None if there is none."""
    (inner_low, inner_high), (outer_low, outer_high) = inner, outer
    if inner_high is not None and (outer_high is None or outer_high > inner_high):
        candidate = inner_high + 1
        if outer_low is None or candidate >= outer_low:
            return candidate
    if inner_low is not None and (outer_low is None or outer_low < inner_low):
        candidate = inner_low - 1
        if outer_high is None or candidate <= outer_high:
            return candidate
    return None


def numeric_decision(old: SimpleValue, new: SimpleValue) -> Decision | None:
    """The bounds and total digits of an integer-valued type decided as intervals; None where
    they did not change, the types are not integer-valued, or an enumeration or a pattern
    (which the interval does not hold) refuses the example found."""
    covers = tuple(_changed(old, new, NUMERIC_FACETS))
    if not covers or old.builtin != new.builtin:
        return None
    if not (old.integer_valued and new.integer_valued):
        return None
    old_interval, new_interval = _interval(old), _interval(new)
    dropped = _outside(new_interval, old_interval)
    gained = _outside(old_interval, new_interval)
    old_accepts, new_accepts = _validator(old), _validator(new)
    checks = ((dropped, old_accepts, new_accepts), (gained, new_accepts, old_accepts))
    for example, keeps, refuses in checks:
        if example is not None and not (keeps(str(example)) and not refuses(str(example))):
            return None
    relation = (
        INCOMPARABLE
        if dropped is not None and gained is not None
        else NARROWED
        if dropped is not None
        else WIDENED
        if gained is not None
        else EQUAL
    )
    return Decision(
        relation,
        covers,
        None if dropped is None else str(dropped),
        None if gained is None else str(gained),
    )

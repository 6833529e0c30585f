"""How the structure of an element's content changed, apart from its elements.

Elements added or removed are changes of their own, so the content models are first reduced
to the elements both versions have (and their wildcards). Groups that only wrap (a named
group, a sequence inside a sequence) are flattened. What differs then is structure: order,
choice branches, group occurrences, wildcards.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from gateway.diff.model import AnyElement, Group, Leaf, Particle, occurs_text


def _splices(item: Particle, kind: str) -> bool:
    return (
        isinstance(item, Group)
        and item.kind == kind
        and kind != "all"
        and (item.min_occurs, item.max_occurs) == (1, 1)
    )


def reduced(particle: Particle | None, keep: frozenset[str]) -> Particle | None:
    """`particle` with only the elements in `keep`, wrapping groups flattened."""
    if particle is None or isinstance(particle, AnyElement):
        return particle
    if isinstance(particle, Leaf):
        return particle if particle.name in keep else None
    items: list[Particle] = []
    for item in particle.items:
        kept = reduced(item, keep)
        if kept is None:
            continue
        if isinstance(kept, Group) and _splices(kept, particle.kind):
            items.extend(kept.items)
        else:
            items.append(kept)
    if not items:
        return None
    if len(items) == 1 and (particle.min_occurs, particle.max_occurs) == (1, 1):
        return items[0]
    return Group(particle.kind, particle.min_occurs, particle.max_occurs, tuple(items))


def _occurs(minimum: int, maximum: int | None) -> str:
    if (minimum, maximum) == (1, 1):
        return ""
    if (minimum, maximum) == (0, 1):
        return "?"
    if maximum is None:
        return "*" if minimum == 0 else "+" if minimum == 1 else f"{{{minimum},}}"
    return f"{{{minimum},{maximum}}}"


def render(particle: Particle | None, *, occurs: bool = True) -> str:
    """`(etranger, voie, ((codePostal, commune) | (codePostalEtranger, pays))?)`; without the
    outer occurrence suffix when `occurs` is false."""
    if particle is None:
        return "empty"
    if isinstance(particle, Leaf):
        return particle.name
    suffix = _occurs(particle.min_occurs, particle.max_occurs) if occurs else ""
    if isinstance(particle, AnyElement):
        return f"any({particle.wildcard}){suffix}"
    separator = {"sequence": ", ", "choice": " | ", "all": " & "}[particle.kind]
    return f"({separator.join(render(item) for item in particle.items)}){suffix}"


def occurs_effects(old: tuple[int, int | None], new: tuple[int, int | None]) -> list[str]:
    """`min-raised`, `min-lowered`, `max-raised`, `max-lowered` (None is unbounded)."""
    effects = []
    if new[0] > old[0]:
        effects.append("min-raised")
    elif new[0] < old[0]:
        effects.append("min-lowered")
    old_max = float("inf") if old[1] is None else old[1]
    new_max = float("inf") if new[1] is None else new[1]
    if new_max > old_max:
        effects.append("max-raised")
    elif new_max < old_max:
        effects.append("max-lowered")
    return effects


@dataclass(frozen=True, slots=True)
class Difference:
    """One structural effect: the model (or, for occurrences, the occurrences of `part`)
    before and after."""

    effect: str
    old: str
    new: str
    part: str = ""


def _names(particle: Particle) -> frozenset[str]:
    if isinstance(particle, Leaf):
        return frozenset({particle.name})
    if isinstance(particle, AnyElement):
        return frozenset({"*"})
    return frozenset().union(*(_names(item) for item in particle.items))


def _occurs_differences(old: Group | AnyElement, new: Group | AnyElement) -> list[Difference]:
    before, after = (old.min_occurs, old.max_occurs), (new.min_occurs, new.max_occurs)
    part = render(new, occurs=False)
    return [
        Difference(effect, occurs_text(*before), occurs_text(*after), part)
        for effect in occurs_effects(before, after)
    ]


def _group_differences(old: Group, new: Group) -> list[Difference]:
    found = _occurs_differences(old, new)
    whole = (render(old), render(new))
    if old.kind != new.kind:
        return [*found, Difference("restructured", *whole)]
    old_wild = [item for item in old.items if isinstance(item, AnyElement)]
    new_wild = [item for item in new.items if isinstance(item, AnyElement)]
    if len(new_wild) != len(old_wild):
        effect = "wildcard-added" if len(new_wild) > len(old_wild) else "wildcard-removed"
        found.append(Difference(effect, *whole))
    else:
        for old_wildcard, new_wildcard in zip(old_wild, new_wild, strict=True):
            found.extend(differences(old_wildcard, new_wildcard))
    old_elements = [item for item in old.items if not isinstance(item, AnyElement)]
    new_elements = [item for item in new.items if not isinstance(item, AnyElement)]
    old_order = [_names(item) for item in old_elements]
    new_order = [_names(item) for item in new_elements]
    old_items = dict(zip(old_order, old_elements, strict=True))
    new_items = dict(zip(new_order, new_elements, strict=True))
    if new.kind == "choice":
        if new_items.keys() - old_items.keys():
            found.append(Difference("branch-added", *whole))
        if old_items.keys() - new_items.keys():
            found.append(Difference("branch-removed", *whole))
    elif Counter(old_order) != Counter(new_order):
        return [*found, Difference("restructured", *whole)]
    elif new.kind == "sequence" and old_order != new_order:
        found.append(Difference("order", *whole))
    for names, new_item in new_items.items():
        if names in old_items:
            found.extend(differences(old_items[names], new_item))
    return found


def differences(old: Particle | None, new: Particle | None) -> list[Difference]:
    """What turns the reduced model `old` into the reduced model `new`."""
    if old == new:
        return []
    if old is None or new is None:
        effect = "wildcard-added" if old is None else "wildcard-removed"
        return [Difference(effect, render(old), render(new))]
    if isinstance(old, AnyElement) and isinstance(new, AnyElement):
        found = _occurs_differences(old, new)
        if old.wildcard != new.wildcard:
            found.append(Difference("wildcard-changed", str(old.wildcard), str(new.wildcard)))
        return found
    if isinstance(old, Group) or isinstance(new, Group):
        # A lone particle is a group of one, of whatever kind the other side's group is.
        kind = old.kind if isinstance(old, Group) else new.kind  # type: ignore[union-attr]
        return _group_differences(_as_group(old, kind), _as_group(new, kind))
    if isinstance(old, AnyElement) or isinstance(new, AnyElement):
        effect = "wildcard-added" if isinstance(new, AnyElement) else "wildcard-removed"
        return [Difference(effect, render(old), render(new))]
    return [Difference("restructured", render(old), render(new))]


def _as_group(particle: Particle, kind: str) -> Group:
    return particle if isinstance(particle, Group) else Group(kind, 1, 1, (particle,))

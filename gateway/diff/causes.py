"""One change per cause: a declaration changed one way is one change, whatever its uses.

A named type is used at many paths (a code type at 41); the element-path trees repeat its
change at each. Changes of the same kind, effects, description and declaration (file and
line) are one cause: they become one change at the first path, listing every path in `uses`,
and named after the type when its uses are different elements or attributes. A change without
a known declaration stays on its own.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.diff.change import Change


def _cause(change: Change) -> tuple[object, ...] | None:
    if change.source is None or change.source.line is None:
        return None
    return (
        change.kind,
        change.effects,
        change.old,
        change.new,
        change.detail,
        change.source,
    )


def by_cause(changes: list[Change]) -> list[Change]:
    """`changes` with those of one cause merged into the first, in order of first use."""
    merged: dict[object, list[Change]] = {}
    for index, change in enumerate(changes):
        merged.setdefault(_cause(change) or index, []).append(change)
    return [group[0] if len(group) == 1 else _merged(group) for group in merged.values()]


def _merged(group: list[Change]) -> Change:
    first = group[0]
    subject = first.subject
    named = first.values[1] or first.values[0]
    if len({change.subject for change in group}) > 1 and named is not None and named.name:
        subject = f"the type {named.name}"
    return replace(first, subject=subject, uses=tuple(change.path for change in group))

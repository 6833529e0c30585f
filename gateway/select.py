"""Choosing the schema for a document when the caller does not name one.

SNE schemas share their namespace and their root element (`interfaceNuu`), so the root alone
cannot decide: every schema of the version that declares the root is tried, and the first that
validates wins. When none does, the closest one judges the document: the one whose first error
comes latest (by line, then by depth), then the one with the fewest errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.catalog import SchemaSet
from gateway.explain import element_path
from gateway.names import display_name
from gateway.schema import Schema
from gateway.violation import Violation


@dataclass(frozen=True, slots=True)
class Selection:
    """The schema chosen (None when no schema declares the root, then `not_found` says so),
    its errors for the document, and the labels of all the candidates when there were several."""

    schema: Schema | None
    errors: list[etree._LogEntry]
    candidates: tuple[str, ...] = ()
    not_found: Violation | None = None


def _progress(trial: tuple[Schema, list[etree._LogEntry]]) -> tuple[int, int, int]:
    first = trial[1][0]
    return (first.line, (first.path or "").count("/"), -len(trial[1]))


def select_schema(element: etree._Element, schema_set: SchemaSet) -> Selection:
    """Pick the schema of `schema_set` that applies to `element`."""
    candidates = [s for s in schema_set.schemas.values() if element.tag in s.roots]
    if not candidates:
        known = sorted(
            {display_name(root) for s in schema_set.schemas.values() for root in s.roots}
        )
        return Selection(
            None,
            [],
            not_found=Violation(
                code="schema.not-found",
                message=f"No schema of version {schema_set.version} declares the root element "
                f"<{display_name(element.tag)}>; roots declared: {', '.join(known) or 'none'}.",
                line=element.sourceline,
                path=element_path(element),
            ),
        )
    labels = tuple(schema.label for schema in candidates) if len(candidates) > 1 else ()
    trials = []
    for schema in candidates:
        errors = schema.errors(element)
        if not errors:
            return Selection(schema, [], labels)
        trials.append((schema, errors))
    schema, errors = max(trials, key=_progress)
    return Selection(schema, errors, labels)

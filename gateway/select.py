"""Choosing the schema for a document when the caller does not name one.

SNE schemas share their namespace and their root element (`interfaceNuu`), so the root alone
cannot decide. A document is judged by the schema whose identity it matches (`gateway.identity`:
its root and the business element after `entete`) and whose version it declares
(`versionInterface`); both are read from the parsed root, without validating. Between schemas
of the same identity, one listing the declared version wins, else one that takes any version;
when none does, the newest judges the document and its report says so. Only when identity does
not decide (a business element no schema declares, or two schemas of one identity in a
manifest) are the remaining schemas tried: the first that validates wins, else the closest
judges it: the one whose first error comes latest (by line, then by depth), then the one with
the fewest errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.catalog import SchemaSet
from gateway.delivery_versions import version_key
from gateway.explain import element_path
from gateway.identity import VERSION_ATTRIBUTE, business_element
from gateway.names import display_name
from gateway.schema import Schema
from gateway.violation import Violation


@dataclass(frozen=True, slots=True)
class Selection:
    """The schema chosen (None when no schema declares the root, then `not_found` says so),
    its errors for the document, the labels of the candidates tried when several were, and a
    `note` when the document's declared version had no schema of its own."""

    schema: Schema | None
    errors: list[etree._LogEntry]
    candidates: tuple[str, ...] = ()
    not_found: Violation | None = None
    note: str | None = None


def _progress(trial: tuple[Schema, list[etree._LogEntry]]) -> tuple[int, int, int]:
    first = trial[1][0]
    return (first.line, (first.path or "").count("/"), -len(trial[1]))


def _by_identity(element: etree._Element, candidates: tuple[Schema, ...]) -> tuple[Schema, ...]:
    business = business_element(element)
    matching = tuple(s for s in candidates if s.identity.matches(element.tag, business))
    return matching or candidates


def _by_version(
    element: etree._Element, candidates: tuple[Schema, ...]
) -> tuple[tuple[Schema, ...], str | None]:
    declared = element.get(VERSION_ATTRIBUTE)
    listing = tuple(s for s in candidates if s.accepts is not None and declared in s.accepts)
    if listing:
        return listing, None
    open_to_any = tuple(s for s in candidates if s.accepts is None)
    if open_to_any:
        return open_to_any, None
    newest = max(version_key(s.version) for s in candidates)
    chosen = tuple(s for s in candidates if version_key(s.version) == newest)
    said = (
        f'declares versionInterface "{declared}", for which'
        if declared is not None
        else "declares no versionInterface, and"
    )
    return chosen, (
        f"The document {said} there is no {chosen[0].name} schema here: it is judged by the "
        f"newest, {chosen[0].label}."
    )


def select_schema(element: etree._Element, schema_set: SchemaSet) -> Selection:
    """Pick the schema of `schema_set` that applies to `element`."""
    candidates = schema_set.by_root.get(element.tag, ())
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
    if len(candidates) > 1:
        candidates = _by_identity(element, candidates)
    candidates, note = _by_version(element, candidates)
    if len(candidates) == 1:
        return Selection(candidates[0], candidates[0].errors(element), note=note)
    labels = tuple(schema.label for schema in candidates)
    trials = []
    for schema in candidates:
        errors = schema.errors(element)
        if not errors:
            return Selection(schema, [], labels, note=note)
        trials.append((schema, errors))
    schema, errors = max(trials, key=_progress)
    return Selection(schema, errors, labels, note=note)

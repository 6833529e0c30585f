"""The engine's seam: document bytes + a schema (or a version to select from) → a report.

    >>> catalog = load_catalog("xsd")
    >>> report = validate(data, catalog.schema("demande"), source="demande.xml")
    >>> report.valid, [v.code for v in report.violations]

Callers that already hold a parsed tree (the SOAP and MTOM extractors) use `validate_element`.

After the XSD, the business rules (`gateway.rules`) run on the same tree, on every document a
schema judged, valid or not (so that one report lists all that is wrong with it): a
`SchemaSet`'s own rules, else the shipped ones, unless the caller gives `rules`. A rule
violation at an element the XSD already found wrong is left out (the XSD's says more).
"""

from __future__ import annotations

import base64

from lxml import etree

from gateway.catalog import SchemaNotFound, SchemaSet
from gateway.explain import violations_from_log
from gateway.extract.document import Document
from gateway.limits import DEFAULT_LIMITS, Limits
from gateway.parse import DocumentRejected, parse_xml
from gateway.rules import RuleSet, shipped_rules
from gateway.schema import Schema
from gateway.select import select_schema
from gateway.violation import DocumentReport, Violation

_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"


def validate(
    data: bytes,
    target: Schema | SchemaSet,
    *,
    source: str = "-",
    limits: Limits = DEFAULT_LIMITS,
    show_values: bool = False,
    rules: RuleSet | None = None,
) -> DocumentReport:
    """Parse `data` with the hardened parser and validate it against `target`: a schema, or a
    version whose schema is then selected from the document's root (see `validate_element`)."""
    try:
        root = parse_xml(data, limits, show_values)
    except DocumentRejected as rejected:
        label = target.label if isinstance(target, Schema) else None
        return DocumentReport(source, label, (rejected.violation,))
    return validate_element(
        root, data, target, source=source, limits=limits, show_values=show_values, rules=rules
    )


def _report(
    source: str,
    schema: Schema,
    element: etree._Element,
    errors: list[etree._LogEntry],
    data: bytes,
    limits: Limits,
    show_values: bool,
    rules: RuleSet,
    candidates: tuple[str, ...] = (),
    note: str | None = None,
) -> DocumentReport:
    # Every fault is counted; those beyond the cap are `omitted`.
    violations = (
        violations_from_log(
            errors, element, data, show_values=show_values, limit=None, recheck=schema.errors
        )
        if errors
        else []
    )
    kept = violations[: limits.max_violations]
    omitted = max(0, len(violations) - limits.max_violations)
    broken, unlisted = rules.check(
        element,
        show_values=show_values,
        room=limits.max_violations - len(kept),
        reported=frozenset(violation.path for violation in violations),
    )
    if not kept and not broken and not omitted and not unlisted:
        return DocumentReport(source, schema.label, candidates=candidates, note=note)
    return DocumentReport(
        source, schema.label, (*kept, *broken), omitted + unlisted, candidates, note
    )


def validate_element(
    element: etree._Element,
    data: bytes,
    target: Schema | SchemaSet,
    *,
    source: str = "-",
    limits: Limits = DEFAULT_LIMITS,
    show_values: bool = False,
    rules: RuleSet | None = None,
) -> DocumentReport:
    """Validate an element already parsed (by `parse_xml`) from `data` against a schema, or
    against the schema `gateway.select` picks from a version; then run `rules` (by default
    the version's, or the shipped ones against a schema) on it."""
    if rules is None:
        rules = target.rules if isinstance(target, SchemaSet) else shipped_rules()
    if isinstance(target, Schema):
        errors = target.errors(element)
        return _report(source, target, element, errors, data, limits, show_values, rules)
    selection = select_schema(element, target)
    if selection.schema is None:
        return DocumentReport(source, None, (selection.not_found,))  # type: ignore[arg-type]
    return _report(
        source,
        selection.schema,
        element,
        selection.errors,
        data,
        limits,
        show_values,
        rules,
        selection.candidates,
        selection.note,
    )


def _target(schema_set: SchemaSet, choice: str | tuple[str, ...] | None) -> Schema | SchemaSet:
    """The schema named, the candidates named (a subset to select from, with their versions
    side by side), or the whole set: when nothing is named, or a name is one the set lacks
    but a route gives (a route written for another XSD set: identity selects)."""
    if choice is None:
        return schema_set
    names = (choice,) if isinstance(choice, str) else choice
    if not schema_set.unresolved.isdisjoint(names):
        return schema_set
    if isinstance(choice, str) and choice not in schema_set.sibling_names:
        return schema_set.schema(choice)
    return schema_set.named(names)


def validate_document(
    document: Document,
    schema_set: SchemaSet,
    *,
    limits: Limits = DEFAULT_LIMITS,
    show_values: bool = False,
) -> DocumentReport:
    """Validate an extracted document against the schema it asks for (or the one selected
    among the schemas it names, or among all of `schema_set`), then against `schema_set`'s
    rules; a document that could not be extracted reports its problem."""
    try:
        target = _target(schema_set, document.schema)
    except SchemaNotFound as missing:
        return DocumentReport(
            document.source, None, (Violation("schema.not-found", f"{missing}."),)
        )
    if document.problem is not None:
        label = target.label if isinstance(target, Schema) else None
        return DocumentReport(document.source, label, (document.problem,))
    if document.element is not None:
        free_base64 = target.sources.free_base64 if isinstance(target, Schema) else frozenset()
        for element, attachment in document.xop_content:
            # xsi:type or xsi:nil in the message can give the element another type than the
            # one declared: its value then counts.
            if etree.QName(element).localname not in free_base64 or any(
                name.startswith(_XSI) for name in element.attrib
            ):
                element.text = base64.b64encode(attachment).decode("ascii")
        return validate_element(
            document.element,
            document.data,
            target,
            source=document.source,
            limits=limits,
            show_values=show_values,
            rules=schema_set.rules,
        )
    return validate(
        document.data,
        target,
        source=document.source,
        limits=limits,
        show_values=show_values,
        rules=schema_set.rules,
    )

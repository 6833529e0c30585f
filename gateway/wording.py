"""Every kind of libxml2 validation message, rewritten in the project's words.

libxml2 says `[facet 'maxLength'] The value 'XSD-FACET-001' has a length of '13'; this exceeds
the allowed maximum length of '10'.`; a violation says `Attribute 'code' of <nuu:anomalie> is 13
characters long; at most 10 are allowed (maxLength).` Each kind of message libxml2 can report
while validating a document is one `Rewrite` of the table `REWRITES`: which messages it reads
(a regular expression on the text after `Element '...'[, attribute '...']: `), the violation
code it gives, and the sentence it writes. No message is passed through as libxml2 wrote it: a
kind this table does not know (a newer libxml2's) is reported as a rule of the schema broken,
with libxml2's error type, never its text, which can quote document values.

Values from the document (names, incomes, social-security numbers, and the xsi:type or key
values a document carries) appear only when the caller asks (`show_values`); what the schema
says (lengths, limits, patterns, enumerations, names of elements) is always shown.

Messages about a value (`VALUE`) can be several for one value (its length and its pattern, its
type and the list it is an item of): `gateway.explain` joins them into one violation, with the
`clause` of each after the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from gateway.names import display_name

#: What a message is about, which decides how `gateway.explain` groups them into faults.
VALUE = "value"  # the value of an element or attribute: one fault, whatever the count
CONTENT = "content"  # an element's content as a whole: its value messages are consequences
ELEMENT = "element"  # the element itself, or its place
ATTRIBUTE = "attribute"  # an attribute: present where not allowed, or absent where required
TYPE_SUBSTITUTION = "xsi:type"  # the xsi:type of an element: the type that follows is moot

_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
_EXPECTED = re.compile(r" ?Expected is (?:one of )?\( (?P<names>.*) \)\.$", re.S)
_NAME = re.compile(r"(\{[^}]*\}[\w.\-]+|[\w.\-]+)")


def shown_name(clark: str) -> str:
    """An element or attribute name as messages show it (`nuu:nom`, `xsi:type`)."""
    return "xsi:" + clark[len(_XSI) :] if clark.startswith(_XSI) else display_name(clark)


def expected_names(reason: str) -> list[str]:
    """The Clark names of libxml2's `Expected is ( ... )` list (empty when there is none)."""
    match = _EXPECTED.search(reason)
    return _NAME.findall(match["names"]) if match else []


def listed(names: list[str]) -> str:
    """`nuu:a, nuu:b or nuu:c` from Clark names."""
    return listed_as_is([shown_name(name) for name in names])


def listed_as_is(shown: list[str]) -> str:
    """`a, b or c`."""
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


@dataclass(frozen=True, slots=True)
class Said:
    """What a message says, in the project's words: the violation `code`, the `message`, the
    attribute it is about (if any), what it is about (`VALUE`, `CONTENT`...), and for a value
    the `clause` that follows another value message of the same value."""

    kind: str
    code: str
    message: str
    attribute: str | None
    about: str
    clause: str = ""


@dataclass(frozen=True, slots=True)
class Context:
    """The subject of a message (`<nuu:nom>`, `Attribute 'code' of <nuu:anomalie>`), the
    element and attribute it names, and whether values may be quoted."""

    element: str
    attribute: str | None
    show_values: bool
    characters: frozenset[int] | None = None  # the value's length in characters, as written
    # and with its whitespace collapsed (None: unknown)

    @property
    def subject(self) -> str:
        if self.attribute:
            return f"Attribute '{self.attribute}' of <{self.element}>"
        return f"<{self.element}>"


#: Renders a message from the groups of its match (None for a group that did not take part).
Render = Callable[[dict[str, str | None], Context], tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Rewrite:
    """One kind of libxml2 message: `kind` names it (docs, tests), `pattern` reads the text,
    `render` gives the message (and the clause that follows another about the same value);
    `attribute` is the attribute the violation names when libxml2 names none (`xsi:nil`)."""

    kind: str
    code: str
    about: str
    pattern: re.Pattern[str]
    render: Render
    attribute: str | None = None


def _value(groups: dict[str, str | None], context: Context) -> str:
    """` '60'` when values may be shown, else nothing."""
    value = groups.get("value")
    return f" '{value}'" if context.show_values and value is not None else ""


def _on_value(phrase: str) -> Render:
    """A message `Subject: the value {phrase}.`; its clause `the value {phrase}`."""

    def render(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
        said = phrase.format(**groups)
        return f"{context.subject}: the value{_value(groups, context)} {said}.", f"it {said}"

    return render


def _on_length(phrase: str) -> Render:
    """`Subject is 60 characters long; {phrase}.`; its clause `it is 60 characters long...`.
    A list's length counts its items, a binary value's its octets: where the length libxml2
    gives is not the value's count of characters, it is said as a length."""

    def render(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
        length = int(groups["length"] or 0)
        if context.characters is None or length in context.characters:
            unit = "character" if length == 1 else "characters"
            said = f"is {length} {unit} long; {phrase.format(**groups)}"
        else:
            said = f"has a length of {length} (items or octets, as its type counts); " + (
                phrase.format(**groups).replace(" characters ", " ")
            )
        return f"{context.subject} {said}.", f"it {said}"

    return render


def _fixed(message: Callable[[Context], str]) -> Render:
    def render(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
        return message(context), ""

    return render


def _rule(
    kind: str, code: str, about: str, pattern: str, render: Render, attribute: str | None = None
) -> Rewrite:
    return Rewrite(kind, code, about, re.compile(pattern, re.S), render, attribute)


def _type_name(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
    name = groups.get("type")
    shown = (
        f"a valid {shown_name(name)}" if name else f"a valid value of its {groups['variety']} type"
    )
    return (
        f"{context.subject}: the value{_value(groups, context)} is not {shown}.",
        f"it is not {shown}",
    )


def _expected_here(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
    names = expected_names(groups["rest"] or "")
    expected = f"; expected: {listed(names)}" if names else ""
    return f"<{context.element}> is not expected here{expected}.", ""


def _missing_child(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
    names = expected_names(groups["rest"] or "")
    expected = f"; expected: {listed(names)}" if names else ""
    return f"<{context.element}> is missing a required child element{expected}.", ""


def _xsi_type(problem: str) -> Render:
    def render(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
        named = f" {shown_name(groups['type'] or '')}" if context.show_values else ""
        return f"<{context.element}>: the type{named} its xsi:type names {problem}.", ""

    return render


def _identity(problem: str) -> Render:
    def render(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
        values = f" ({groups['values']})" if context.show_values else ""
        constraint = shown_name(groups["constraint"] or "")
        return f"<{context.element}>: {problem.format(constraint=constraint)}{values}.", ""

    return render


_LENGTH = r"The value (?:'(?P<value>.*)' )?has a length of '(?P<length>\d+)'; "
_ANY_VALUE = r"(?:The (?:actual |initial )?value )?'(?P<value>.*)'"

#: Every kind of message libxml2 reports while validating, most specific first.
REWRITES: tuple[Rewrite, ...] = (
    _rule(
        "facet-length",
        "xsd.facet",
        VALUE,
        rf"\[facet 'length'\] {_LENGTH}this differs from the allowed length of '(?P<limit>\d+)'",
        _on_length("exactly {limit} are required (length)"),
    ),
    _rule(
        "facet-minLength",
        "xsd.facet",
        VALUE,
        rf"\[facet 'minLength'\] {_LENGTH}this underruns the allowed minimum length of "
        r"'(?P<limit>\d+)'",
        _on_length("at least {limit} are required (minLength)"),
    ),
    _rule(
        "facet-maxLength",
        "xsd.facet",
        VALUE,
        rf"\[facet 'maxLength'\] {_LENGTH}this exceeds the allowed maximum length of "
        r"'(?P<limit>\d+)'",
        _on_length("at most {limit} are allowed (maxLength)"),
    ),
    _rule(
        "facet-pattern",
        "xsd.pattern",
        VALUE,
        r"\[facet 'pattern'\] The value '(?P<value>.*)' is not accepted by the pattern "
        r"'(?P<limit>.*)'\.$",
        _on_value("does not match the pattern {limit}"),
    ),
    _rule(
        "facet-enumeration",
        "xsd.enumeration",
        VALUE,
        r"\[facet 'enumeration'\] The value '(?P<value>.*)' is not an element of the set "
        r"\{(?P<limit>.*)\}\.$",
        lambda groups, context: _on_value("is not one of the allowed values {allowed}")(
            {**groups, "allowed": (groups["limit"] or "").replace("'", "")}, context
        ),
    ),
    _rule(
        "facet-minInclusive",
        "xsd.facet",
        VALUE,
        r"\[facet 'minInclusive'\] The value '(?P<value>.*)' is less than the minimum value "
        r"allowed \('(?P<limit>.*)'\)\.$",
        _on_value("is below the minimum {limit} (minInclusive)"),
    ),
    _rule(
        "facet-maxInclusive",
        "xsd.facet",
        VALUE,
        r"\[facet 'maxInclusive'\] The value '(?P<value>.*)' is greater than the maximum value "
        r"allowed \('(?P<limit>.*)'\)\.$",
        _on_value("is above the maximum {limit} (maxInclusive)"),
    ),
    _rule(
        "facet-minExclusive",
        "xsd.facet",
        VALUE,
        r"\[facet 'minExclusive'\] The value '(?P<value>.*)' must be greater than "
        r"'(?P<limit>.*)'\.$",
        _on_value("must be greater than {limit} (minExclusive)"),
    ),
    _rule(
        "facet-maxExclusive",
        "xsd.facet",
        VALUE,
        r"\[facet 'maxExclusive'\] The value '(?P<value>.*)' must be less than '(?P<limit>.*)'\.$",
        _on_value("must be less than {limit} (maxExclusive)"),
    ),
    _rule(
        "facet-totalDigits",
        "xsd.facet",
        VALUE,
        r"\[facet 'totalDigits'\] The value '(?P<value>.*)' has more digits than are allowed "
        r"\('(?P<limit>.*)'\)\.$",
        _on_value("has more digits than the {limit} allowed (totalDigits)"),
    ),
    _rule(
        "facet-fractionDigits",
        "xsd.facet",
        VALUE,
        r"\[facet 'fractionDigits'\] The value '(?P<value>.*)' has more fractional digits than "
        r"are allowed \('(?P<limit>.*)'\)\.$",
        _on_value("has more decimals than the {limit} allowed (fractionDigits)"),
    ),
    _rule(
        "facet-other",
        "xsd.facet",
        VALUE,
        r"\[facet '(?P<limit>\w+)'\] ",
        _on_value("breaks the {limit} facet"),
    ),
    _rule(
        "datatype",
        "xsd.type",
        VALUE,
        r"'(?P<value>.*)' is not a valid value of the (?:local )?(?P<variety>atomic) "
        r"type(?: '(?P<type>[^']+)')?\.$",
        _type_name,
    ),
    # After a message about an item or a member, this one only repeats that the value is
    # invalid: `gateway.explain` keeps it only when it is the value's first.
    _rule(
        "datatype-list-or-union",
        "xsd.type",
        VALUE,
        r"'(?P<value>.*)' is not a valid value of the (?:local )?(?P<variety>list|union) "
        r"type(?: '(?P<type>[^']+)')?\.$",
        _type_name,
    ),
    _rule(
        "qname-prefix",
        "xsd.type",
        VALUE,
        r"The QName value '(?P<value>.*)' has no corresponding namespace declaration in scope\.$",
        _on_value("is a qualified name whose prefix no namespace declaration in scope binds"),
    ),
    _rule(
        "fixed-value",
        "xsd.type",
        VALUE,
        rf"{_ANY_VALUE} does not match the fixed value constraint '(?P<fixed>.*)'\.$",
        _on_value("differs from the fixed value {fixed}"),
    ),
    _rule(
        "not-expected",
        "xsd.unexpected-element",
        ELEMENT,
        r"This element is not expected\.(?P<rest>.*)$",
        _expected_here,
    ),
    _rule(
        "missing-child",
        "xsd.missing-element",
        ELEMENT,
        r"Missing child element\(s\)\.(?P<rest>.*)$",
        _missing_child,
    ),
    _rule(
        "unknown-root",
        "xsd.unexpected-element",
        ELEMENT,
        r"No matching global declaration available for the validation root\.$",
        _fixed(lambda c: f"<{c.element}> is not a root element this schema declares."),
    ),
    _rule(
        "strict-wildcard",
        "xsd.unexpected-element",
        ELEMENT,
        r"No matching global (?:element )?declaration (?:or instance type )?available, but "
        r"demanded by the strict wildcard\.?$",
        _fixed(
            lambda c: (
                f"<{c.element}> is not declared by the schema, which requires a "
                "declaration for what may stand here (a strict wildcard)."
            )
        ),
    ),
    _rule(
        "strict-attribute-wildcard",
        "xsd.attribute",
        ATTRIBUTE,
        r"No matching global attribute declaration available, but demanded by the strict "
        r"wildcard\.?$",
        _fixed(
            lambda c: (
                f"Attribute '{c.attribute}' of <{c.element}> is not declared by the "
                "schema, which requires a declaration for what may stand here (a strict wildcard)."
            )
        ),
    ),
    _rule(
        "abstract-element",
        "xsd.unexpected-element",
        ELEMENT,
        r"The element declaration is abstract\.$",
        _fixed(
            lambda c: (
                f"<{c.element}> is declared abstract: a document must use one of the "
                "elements that may substitute for it."
            )
        ),
    ),
    _rule(
        "abstract-type",
        "xsd.type",
        ELEMENT,
        r"The type definition is abstract\.$",
        _fixed(
            lambda c: (
                f"<{c.element}> has an abstract type: the document must name a concrete "
                "type derived from it with xsi:type."
            )
        ),
    ),
    _rule(
        "absent-type",
        "xsd.type",
        ELEMENT,
        r"The type definition is absent\.$",
        _fixed(lambda c: f"<{c.element}> has no type the schema defines."),
    ),
    _rule(
        "not-nillable",
        "xsd.attribute",
        ELEMENT,
        r"The element is not 'nillable'\.$",
        _fixed(lambda c: f"<{c.element}> may not be nil: its declaration is not nillable."),
        "xsi:nil",
    ),
    _rule(
        "nilled-with-content",
        "xsd.type",
        CONTENT,
        r"Neither character nor element content is allowed because the element is 'nilled'\.$",
        _fixed(lambda c: f"<{c.element}> is nil (xsi:nil), so it must be empty."),
    ),
    _rule(
        "nilled-with-fixed-value",
        "xsd.attribute",
        ELEMENT,
        r"The element cannot be 'nilled' because there is a fixed value constraint defined for "
        r"it\.$",
        _fixed(lambda c: f"<{c.element}> may not be nil: its declaration fixes its value."),
        "xsi:nil",
    ),
    _rule(
        "xsi-type-unknown",
        "xsd.type",
        TYPE_SUBSTITUTION,
        r"The QName value '(?P<type>.*)' of the xsi:type attribute does not resolve to a type "
        r"definition\.$",
        _xsi_type("is not defined by the schema"),
    ),
    _rule(
        "xsi-type-not-derived",
        "xsd.type",
        TYPE_SUBSTITUTION,
        r"The type definition '(?P<type>.*)', specified by xsi:type, is blocked or not validly "
        r"derived from the type definition of the element declaration\.$",
        _xsi_type("may not replace its declared type (it is blocked, or not derived from it)"),
    ),
    _rule(
        "empty-content",
        "xsd.type",
        CONTENT,
        r"(?:Character|Element) content is not allowed, because the content type is empty\.$",
        _fixed(lambda c: f"<{c.element}> must be empty."),
    ),
    _rule(
        "element-in-simple-content",
        "xsd.type",
        CONTENT,
        r"Element content is not allowed, because the (?:content type is a simple type "
        r"definition|type definition is simple)\.$",
        _fixed(lambda c: f"<{c.element}> may only contain text, not elements."),
    ),
    _rule(
        "text-in-element-only",
        "xsd.type",
        CONTENT,
        r"Character content other than whitespace is not allowed because the content type is "
        r"'element-only'\.$",
        _fixed(lambda c: f"<{c.element}> may only contain elements, not text."),
    ),
    _rule(
        "fixed-no-elements",
        "xsd.type",
        CONTENT,
        r"The content must not contain element nodes due to the existence of a fixed value "
        r"constraint\.$",
        _fixed(lambda c: f"<{c.element}> has a fixed value, so it may not contain elements."),
    ),
    _rule(
        "attribute-not-allowed",
        "xsd.attribute",
        ATTRIBUTE,
        r"The attribute '(?P<name>[^']+)' is not allowed\.$",
        _fixed(lambda c: f"Attribute '{c.attribute}' is not allowed on <{c.element}>."),
    ),
    _rule(
        "attribute-missing",
        "xsd.attribute",
        ATTRIBUTE,
        r"The attribute '(?P<name>[^']+)' is required but missing\.$",
        _fixed(lambda c: f"<{c.element}> lacks its required attribute '{c.attribute}'."),
    ),
    _rule(
        "key-duplicate",
        "xsd.invalid",
        ELEMENT,
        r"Duplicate key-sequence \[(?P<values>.*)\] in (?:unique|key) identity-constraint "
        r"'(?P<constraint>[^']+)'\.$",
        _identity(
            "its key repeats another element's, where {constraint} requires each to be unique"
        ),
    ),
    _rule(
        "keyref-unmatched",
        "xsd.invalid",
        ELEMENT,
        r"No match found for key-sequence \[(?P<values>.*)\] of keyref '(?P<constraint>[^']+)'\.$",
        _identity("its reference matches no key the document holds ({constraint})"),
    ),
    _rule(
        "key-incomplete",
        "xsd.invalid",
        ELEMENT,
        r"Not all fields of (?:key )?identity-constraint '(?P<constraint>[^']+)' evaluate to a "
        r"node\.$",
        _identity("it lacks a field of the key {constraint}"),
    ),
    _rule(
        "key-field-several",
        "xsd.invalid",
        ELEMENT,
        r"The XPath '.*' of a field of (?:key |unique |keyref )?identity-constraint "
        r"'(?P<constraint>[^']+)' evaluates to a node-set with more than one member\.$",
        _identity("a field of {constraint} finds several values where one is expected"),
    ),
    _rule(
        "key-field-complex",
        "xsd.invalid",
        ELEMENT,
        r"The XPath '.*' of a field of (?:key |unique |keyref )?identity-constraint "
        r"'(?P<constraint>[^']+)' (?:does )?evaluates? to a node of non-simple type\.$",
        _identity("a field of {constraint} finds an element that holds elements, not a value"),
    ),
    _rule(
        "internal",
        "xsd.invalid",
        ELEMENT,
        r"Internal error",
        _fixed(
            lambda c: f"<{c.element}> could not be checked: libxml2 reported an internal error."
        ),
    ),
)


def reword(
    type_name: str,
    reason: str,
    element: str,
    attribute: str | None,
    show_values: bool,
    characters: frozenset[int] | None = None,
) -> Said:
    """What libxml2's message `reason` (of error type `type_name`, about `element` and maybe
    `attribute`, names as shown) says, in the project's words; `characters` holds the value's
    length in characters (as written and collapsed), where known."""
    for rewrite in REWRITES:
        if match := rewrite.pattern.match(reason):
            groups = match.groupdict()
            if attribute is None and groups.get("name"):
                # A required attribute that is missing is named in the message, not before it.
                attribute = shown_name(groups["name"] or "")
            attribute = attribute or rewrite.attribute
            context = Context(element, attribute, show_values, characters)
            message, clause = rewrite.render(groups, context)
            return Said(rewrite.kind, rewrite.code, message, attribute, rewrite.about, clause)
    # A kind of message this table does not know: said without libxml2's text, which can quote
    # the document.
    context = Context(element, attribute, show_values)
    message = f"{context.subject} breaks a rule of the schema (libxml2: {type_name})."
    return Said("unknown", "xsd.invalid", message, attribute, ELEMENT)

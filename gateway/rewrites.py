"""Every kind of libxml2 validation message, rewritten in the project's words.

libxml2 says `[facet 'maxLength'] The value 'XSD-FACET-001' has a length of '13'; this exceeds
the allowed maximum length of '10'.`; a violation says `Attribute 'code' of <nuu:anomalie> is 13
characters long; at most 10 are allowed (maxLength).` Each kind of message libxml2 can report
while validating a document is one `Rewrite` of `REWRITES` (fixtures/messages/ has a document
for each). No message is passed through as libxml2 wrote it: a kind this table does not know
(a newer libxml2's) is reported as a rule of the schema broken, with libxml2's error type, never
its text, which can quote document values.
"""

from __future__ import annotations

from gateway.wording import (
    ATTRIBUTE,
    CONTENT,
    ELEMENT,
    TYPE_SUBSTITUTION,
    VALUE,
    Context,
    Rewrite,
    Said,
    expected_here,
    fixed,
    identity,
    missing_child,
    on_length,
    on_value,
    rule,
    shown_name,
    type_name,
    xsi_type,
)

_LENGTH = r"The value (?:'(?P<value>.*)' )?has a length of '(?P<length>\d+)'; "
_ANY_VALUE = r"(?:The (?:actual |initial )?value )?'(?P<value>.*)'"

#: Every kind of message libxml2 reports while validating, most specific first.
REWRITES: tuple[Rewrite, ...] = (
    rule(
        "facet-length",
        "xsd.facet",
        VALUE,
        rf"\[facet 'length'\] {_LENGTH}this differs from the allowed length of '(?P<limit>\d+)'",
        on_length("exactly {limit} are required (length)"),
    ),
    rule(
        "facet-minLength",
        "xsd.facet",
        VALUE,
        rf"\[facet 'minLength'\] {_LENGTH}this underruns the allowed minimum length of "
        r"'(?P<limit>\d+)'",
        on_length("at least {limit} are required (minLength)"),
    ),
    rule(
        "facet-maxLength",
        "xsd.facet",
        VALUE,
        rf"\[facet 'maxLength'\] {_LENGTH}this exceeds the allowed maximum length of "
        r"'(?P<limit>\d+)'",
        on_length("at most {limit} are allowed (maxLength)"),
    ),
    rule(
        "facet-pattern",
        "xsd.pattern",
        VALUE,
        r"\[facet 'pattern'\] The value '(?P<value>.*)' is not accepted by the pattern "
        r"'(?P<limit>.*)'\.$",
        on_value("does not match the pattern {limit}"),
    ),
    rule(
        "facet-enumeration",
        "xsd.enumeration",
        VALUE,
        r"\[facet 'enumeration'\] The value '(?P<value>.*)' is not an element of the set "
        r"\{(?P<limit>.*)\}\.$",
        lambda groups, context: on_value("is not one of the allowed values {allowed}")(
            {**groups, "allowed": (groups["limit"] or "").replace("'", "")}, context
        ),
    ),
    rule(
        "facet-minInclusive",
        "xsd.facet",
        VALUE,
        r"\[facet 'minInclusive'\] The value '(?P<value>.*)' is less than the minimum value "
        r"allowed \('(?P<limit>.*)'\)\.$",
        on_value("is below the minimum {limit} (minInclusive)"),
    ),
    rule(
        "facet-maxInclusive",
        "xsd.facet",
        VALUE,
        r"\[facet 'maxInclusive'\] The value '(?P<value>.*)' is greater than the maximum value "
        r"allowed \('(?P<limit>.*)'\)\.$",
        on_value("is above the maximum {limit} (maxInclusive)"),
    ),
    rule(
        "facet-minExclusive",
        "xsd.facet",
        VALUE,
        r"\[facet 'minExclusive'\] The value '(?P<value>.*)' must be greater than "
        r"'(?P<limit>.*)'\.$",
        on_value("must be greater than {limit} (minExclusive)"),
    ),
    rule(
        "facet-maxExclusive",
        "xsd.facet",
        VALUE,
        r"\[facet 'maxExclusive'\] The value '(?P<value>.*)' must be less than '(?P<limit>.*)'\.$",
        on_value("must be less than {limit} (maxExclusive)"),
    ),
    rule(
        "facet-totalDigits",
        "xsd.facet",
        VALUE,
        r"\[facet 'totalDigits'\] The value '(?P<value>.*)' has more digits than are allowed "
        r"\('(?P<limit>.*)'\)\.$",
        on_value("has more digits than the {limit} allowed (totalDigits)"),
    ),
    rule(
        "facet-fractionDigits",
        "xsd.facet",
        VALUE,
        r"\[facet 'fractionDigits'\] The value '(?P<value>.*)' has more fractional digits than "
        r"are allowed \('(?P<limit>.*)'\)\.$",
        on_value("has more decimals than the {limit} allowed (fractionDigits)"),
    ),
    rule(
        "facet-other",
        "xsd.facet",
        VALUE,
        r"\[facet '(?P<limit>\w+)'\] ",
        on_value("breaks the {limit} facet"),
    ),
    rule(
        "datatype",
        "xsd.type",
        VALUE,
        r"'(?P<value>.*)' is not a valid value of the (?:local )?(?P<variety>atomic) "
        r"type(?: '(?P<type>[^']+)')?\.$",
        type_name,
    ),
    # After a message about an item or a member, this one only repeats that the value is
    # invalid: `gateway.explain` keeps it only when it is the value's first.
    rule(
        "datatype-list-or-union",
        "xsd.type",
        VALUE,
        r"'(?P<value>.*)' is not a valid value of the (?:local )?(?P<variety>list|union) "
        r"type(?: '(?P<type>[^']+)')?\.$",
        type_name,
    ),
    rule(
        "qname-prefix",
        "xsd.type",
        VALUE,
        r"The QName value '(?P<value>.*)' has no corresponding namespace declaration in scope\.$",
        on_value("is a qualified name whose prefix no namespace declaration in scope binds"),
    ),
    rule(
        "fixed-value",
        "xsd.type",
        VALUE,
        rf"{_ANY_VALUE} does not match the fixed value constraint '(?P<fixed>.*)'\.$",
        on_value("differs from the fixed value {fixed}"),
    ),
    rule(
        "not-expected",
        "xsd.unexpected-element",
        ELEMENT,
        r"This element is not expected\.(?P<rest>.*)$",
        expected_here,
    ),
    rule(
        "missing-child",
        "xsd.missing-element",
        ELEMENT,
        r"Missing child element\(s\)\.(?P<rest>.*)$",
        missing_child,
    ),
    rule(
        "unknown-root",
        "xsd.unexpected-element",
        ELEMENT,
        r"No matching global declaration available for the validation root\.$",
        fixed(lambda c: f"<{c.element}> is not a root element this schema declares."),
    ),
    rule(
        "strict-wildcard",
        "xsd.unexpected-element",
        ELEMENT,
        r"No matching global (?:element )?declaration (?:or instance type )?available, but "
        r"demanded by the strict wildcard\.?$",
        fixed(
            lambda c: (
                f"<{c.element}> is not declared by the schema, which requires a "
                "declaration for what may stand here (a strict wildcard)."
            )
        ),
    ),
    rule(
        "strict-attribute-wildcard",
        "xsd.attribute",
        ATTRIBUTE,
        r"No matching global attribute declaration available, but demanded by the strict "
        r"wildcard\.?$",
        fixed(
            lambda c: (
                f"Attribute '{c.attribute}' of <{c.element}> is not declared by the "
                "schema, which requires a declaration for what may stand here (a strict wildcard)."
            )
        ),
    ),
    rule(
        "abstract-element",
        "xsd.unexpected-element",
        ELEMENT,
        r"The element declaration is abstract\.$",
        fixed(
            lambda c: (
                f"<{c.element}> is declared abstract: a document must use one of the "
                "elements that may substitute for it."
            )
        ),
    ),
    rule(
        "abstract-type",
        "xsd.type",
        ELEMENT,
        r"The type definition is abstract\.$",
        fixed(
            lambda c: (
                f"<{c.element}> has an abstract type: the document must name a concrete "
                "type derived from it with xsi:type."
            )
        ),
    ),
    rule(
        "absent-type",
        "xsd.type",
        ELEMENT,
        r"The type definition is absent\.$",
        fixed(lambda c: f"<{c.element}> has no type the schema defines."),
    ),
    rule(
        "not-nillable",
        "xsd.attribute",
        ELEMENT,
        r"The element is not 'nillable'\.$",
        fixed(lambda c: f"<{c.element}> may not be nil: its declaration is not nillable."),
        "xsi:nil",
    ),
    rule(
        "nilled-with-content",
        "xsd.type",
        CONTENT,
        r"Neither character nor element content is allowed because the element is 'nilled'\.$",
        fixed(lambda c: f"<{c.element}> is nil (xsi:nil), so it must be empty."),
    ),
    rule(
        "nilled-with-fixed-value",
        "xsd.attribute",
        ELEMENT,
        r"The element cannot be 'nilled' because there is a fixed value constraint defined for "
        r"it\.$",
        fixed(lambda c: f"<{c.element}> may not be nil: its declaration fixes its value."),
        "xsi:nil",
    ),
    rule(
        "xsi-type-unknown",
        "xsd.type",
        TYPE_SUBSTITUTION,
        r"The QName value '(?P<type>.*)' of the xsi:type attribute does not resolve to a type "
        r"definition\.$",
        xsi_type("is not defined by the schema"),
    ),
    rule(
        "xsi-type-not-derived",
        "xsd.type",
        TYPE_SUBSTITUTION,
        r"The type definition '(?P<type>.*)', specified by xsi:type, is blocked or not validly "
        r"derived from the type definition of the element declaration\.$",
        xsi_type("may not replace its declared type (it is blocked, or not derived from it)"),
    ),
    rule(
        "empty-content",
        "xsd.type",
        CONTENT,
        r"(?:Character|Element) content is not allowed, because the content type is empty\.$",
        fixed(lambda c: f"<{c.element}> must be empty."),
    ),
    rule(
        "element-in-simple-content",
        "xsd.type",
        CONTENT,
        r"Element content is not allowed, because the (?:content type is a simple type "
        r"definition|type definition is simple)\.$",
        fixed(lambda c: f"<{c.element}> may only contain text, not elements."),
    ),
    rule(
        "text-in-element-only",
        "xsd.type",
        CONTENT,
        r"Character content other than whitespace is not allowed because the content type is "
        r"'element-only'\.$",
        fixed(lambda c: f"<{c.element}> may only contain elements, not text."),
    ),
    rule(
        "fixed-no-elements",
        "xsd.type",
        CONTENT,
        r"The content must not contain element nodes due to the existence of a fixed value "
        r"constraint\.$",
        fixed(lambda c: f"<{c.element}> has a fixed value, so it may not contain elements."),
    ),
    rule(
        "attribute-not-allowed",
        "xsd.attribute",
        ATTRIBUTE,
        r"The attribute '(?P<name>[^']+)' is not allowed\.$",
        fixed(lambda c: f"Attribute '{c.attribute}' is not allowed on <{c.element}>."),
    ),
    rule(
        "attribute-missing",
        "xsd.attribute",
        ATTRIBUTE,
        r"The attribute '(?P<name>[^']+)' is required but missing\.$",
        fixed(lambda c: f"<{c.element}> lacks its required attribute '{c.attribute}'."),
    ),
    rule(
        "key-duplicate",
        "xsd.invalid",
        ELEMENT,
        r"Duplicate key-sequence \[(?P<values>.*)\] in (?:unique|key) identity-constraint "
        r"'(?P<constraint>[^']+)'\.$",
        identity(
            "its key repeats another element's, where {constraint} requires each to be unique"
        ),
    ),
    rule(
        "keyref-unmatched",
        "xsd.invalid",
        ELEMENT,
        r"No match found for key-sequence \[(?P<values>.*)\] of keyref '(?P<constraint>[^']+)'\.$",
        identity("its reference matches no key the document holds ({constraint})"),
    ),
    rule(
        "key-incomplete",
        "xsd.invalid",
        ELEMENT,
        r"Not all fields of (?:key )?identity-constraint '(?P<constraint>[^']+)' evaluate to a "
        r"node\.$",
        identity("it lacks a field of the key {constraint}"),
    ),
    rule(
        "key-field-several",
        "xsd.invalid",
        ELEMENT,
        r"The XPath '.*' of a field of (?:key |unique |keyref )?identity-constraint "
        r"'(?P<constraint>[^']+)' evaluates to a node-set with more than one member\.$",
        identity("a field of {constraint} finds several values where one is expected"),
    ),
    rule(
        "key-field-complex",
        "xsd.invalid",
        ELEMENT,
        r"The XPath '.*' of a field of (?:key |unique |keyref )?identity-constraint "
        r"'(?P<constraint>[^']+)' (?:does )?evaluates? to a node of non-simple type\.$",
        identity("a field of {constraint} finds an element that holds elements, not a value"),
    ),
    rule(
        "internal",
        "xsd.invalid",
        ELEMENT,
        r"Internal error",
        fixed(lambda c: f"<{c.element}> could not be checked: libxml2 reported an internal error."),
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

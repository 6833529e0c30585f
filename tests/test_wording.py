"""Every kind of libxml2 validation message becomes a violation in the project's words.

fixtures/messages/messages.xsd has an element for each kind; each document below breaks one
and the exact violations are checked: code, path and message, one violation per fault (a value
breaking its length and its pattern is one), a required child missing in the middle of a
sequence reported at its parent. No message passes libxml2's text through, and none quotes a
document value unless values were asked for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from gateway.explain import _SUBJECT, violations_from_log
from gateway.rewrites import REWRITES, reword
from gateway.wording import shown_name

SCHEMA = etree.XMLSchema(
    etree.parse(str(Path(__file__).resolve().parent.parent / "fixtures/messages/messages.xsd"))
)
NAMESPACES = (
    'xmlns="http://nuu.application.i2/" xmlns:p="http://nuu.application.i2/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
#: A value from the document, which no message may quote unless values were asked for.
SECRET = "SECRET"


def document(body: str) -> str:
    return f"<root {NAMESPACES}><a>a</a>{body}<last>l</last></root>"


#: kind of fault → (document, [(code, path, message)]).
CASES: dict[str, tuple[str, list[tuple[str, str | None, str]]]] = {
    "datatype": (
        document("<b>SECRET</b>"),
        [("xsd.type", "/nuu:root/nuu:b", "<nuu:b>: the value is not a valid xs:int.")],
    ),
    "facet-length": (
        document("<len>SECR</len>"),
        [
            (
                "xsd.facet",
                "/nuu:root/nuu:len",
                "<nuu:len> is 4 characters long; exactly 3 are required (length).",
            )
        ],
    ),
    "facet-minLength": (
        document("<minlen>S</minlen>"),
        [
            (
                "xsd.facet",
                "/nuu:root/nuu:minlen",
                "<nuu:minlen> is 1 character long; at least 3 are required (minLength).",
            )
        ],
    ),
    # One value, two constraints broken: one violation naming both.
    "facet-maxLength-and-pattern": (
        document("<code>secret</code>"),
        [
            (
                "xsd.facet",
                "/nuu:root/nuu:code",
                "<nuu:code> is 6 characters long; at most 4 are allowed (maxLength), and it "
                "does not match the pattern [A-Z]+.",
            )
        ],
    ),
    "facet-pattern": (
        document("<code>se</code>"),
        [
            (
                "xsd.pattern",
                "/nuu:root/nuu:code",
                "<nuu:code>: the value does not match the pattern [A-Z]+.",
            )
        ],
    ),
    "facet-enumeration": (
        document("<enum>SECRET</enum>"),
        [
            (
                "xsd.enumeration",
                "/nuu:root/nuu:enum",
                "<nuu:enum>: the value is not one of the allowed values X, Y.",
            )
        ],
    ),
    "facet-minInclusive": (
        document("<num>0</num>"),
        [
            (
                "xsd.facet",
                "/nuu:root/nuu:num",
                "<nuu:num>: the value is below the minimum 1 (minInclusive).",
            )
        ],
    ),
    "facet-maxInclusive": (
        document("<num>10</num>"),
        [
            (
                "xsd.facet",
                "/nuu:root/nuu:num",
                "<nuu:num>: the value is above the maximum 9 (maxInclusive).",
            )
        ],
    ),
    "facet-totalDigits-and-fractionDigits": (
        document("<num>1.234</num>"),
        [
            (
                "xsd.facet",
                "/nuu:root/nuu:num",
                "<nuu:num>: the value has more digits than the 3 allowed (totalDigits), and it "
                "has more decimals than the 1 allowed (fractionDigits).",
            )
        ],
    ),
    "facet-minExclusive": (
        document("<excl>1</excl>"),
        [
            (
                "xsd.facet",
                "/nuu:root/nuu:excl",
                "<nuu:excl>: the value must be greater than 1 (minExclusive).",
            )
        ],
    ),
    "facet-maxExclusive": (
        document("<excl>9</excl>"),
        [
            (
                "xsd.facet",
                "/nuu:root/nuu:excl",
                "<nuu:excl>: the value must be less than 9 (maxExclusive).",
            )
        ],
    ),
    # An item and its list: one fault.
    "list-item": (
        document("<lst>1 SECRET</lst>"),
        [("xsd.type", "/nuu:root/nuu:lst", "<nuu:lst>: the value is not a valid xs:int.")],
    ),
    # A list's length counts items: not said in characters.
    "list-length": (
        document("<lstlen>1 2 3</lstlen>"),
        [
            (
                "xsd.facet",
                "/nuu:root/nuu:lstlen",
                "<nuu:lstlen> has a length of 3 (items or octets, as its type counts); at most "
                "2 are allowed (maxLength).",
            )
        ],
    ),
    "union": (
        document("<uni>SECRET</uni>"),
        [
            (
                "xsd.type",
                "/nuu:root/nuu:uni",
                "<nuu:uni>: the value is not a valid value of its union type.",
            )
        ],
    ),
    "fixed-value": (
        document("<fixed>SECRET</fixed>"),
        [
            (
                "xsd.type",
                "/nuu:root/nuu:fixed",
                "<nuu:fixed>: the value differs from the fixed value F.",
            )
        ],
    ),
    "fixed-value-of-mixed-content": (
        document("<mixfixed>SECRET</mixfixed>"),
        [
            (
                "xsd.type",
                "/nuu:root/nuu:mixfixed",
                "<nuu:mixfixed>: the value differs from the fixed value M.",
            )
        ],
    ),
    "not-nillable": (
        document('<notnil xsi:nil="true"/>'),
        [
            (
                "xsd.attribute",
                "/nuu:root/nuu:notnil/@xsi:nil",
                "<nuu:notnil> may not be nil: its declaration is not nillable.",
            )
        ],
    ),
    "nilled-with-content": (
        document('<nil xsi:nil="true">SECRET</nil>'),
        [("xsd.type", "/nuu:root/nuu:nil", "<nuu:nil> is nil (xsi:nil), so it must be empty.")],
    ),
    "nilled-with-fixed-value": (
        document('<fixednil xsi:nil="true"/>'),
        [
            (
                "xsd.attribute",
                "/nuu:root/nuu:fixednil/@xsi:nil",
                "<nuu:fixednil> may not be nil: its declaration fixes its value.",
            )
        ],
    ),
    "empty-content-with-text": (
        document("<empty>SECRET</empty>"),
        [("xsd.type", "/nuu:root/nuu:empty", "<nuu:empty> must be empty.")],
    ),
    "empty-content-with-element": (
        document("<empty><x/></empty>"),
        [("xsd.type", "/nuu:root/nuu:empty", "<nuu:empty> must be empty.")],
    ),
    "text-in-element-only": (
        document("<elonly>SECRET</elonly>"),
        [
            (
                "xsd.type",
                "/nuu:root/nuu:elonly",
                "<nuu:elonly> may only contain elements, not text.",
            )
        ],
    ),
    "attribute-missing": (
        document("<simplewithattr>s</simplewithattr>"),
        [
            (
                "xsd.attribute",
                "/nuu:root/nuu:simplewithattr/@req",
                "<nuu:simplewithattr> lacks its required attribute 'req'.",
            )
        ],
    ),
    "attribute-value": (
        document('<simplewithattr req="SECRET">s</simplewithattr>'),
        [
            (
                "xsd.type",
                "/nuu:root/nuu:simplewithattr/@req",
                "Attribute 'req' of <nuu:simplewithattr>: the value is not a valid xs:int.",
            )
        ],
    ),
    "attribute-fixed-value": (
        document('<simplewithattr req="1" fx="SECRET">s</simplewithattr>'),
        [
            (
                "xsd.type",
                "/nuu:root/nuu:simplewithattr/@fx",
                "Attribute 'fx' of <nuu:simplewithattr>: the value differs from the fixed value Z.",
            )
        ],
    ),
    "attribute-not-allowed": (
        document('<simplewithattr req="1" zz="1">s</simplewithattr>'),
        [
            (
                "xsd.attribute",
                "/nuu:root/nuu:simplewithattr/@zz",
                "Attribute 'zz' is not allowed on <nuu:simplewithattr>.",
            )
        ],
    ),
    "attribute-on-simple-type": (
        document('<b foo="1">1</b>'),
        [("xsd.attribute", "/nuu:root/nuu:b/@foo", "Attribute 'foo' is not allowed on <nuu:b>.")],
    ),
    "element-in-simple-content": (
        document('<simplewithattr req="1"><x/></simplewithattr>'),
        [
            (
                "xsd.type",
                "/nuu:root/nuu:simplewithattr",
                "<nuu:simplewithattr> may only contain text, not elements.",
            )
        ],
    ),
    # The empty value that follows from the element is not a fault of its own.
    "element-in-simple-type": (
        document("<b><x/></b>"),
        [("xsd.type", "/nuu:root/nuu:b", "<nuu:b> may only contain text, not elements.")],
    ),
    "abstract-type": (
        document("<abs/>"),
        [
            (
                "xsd.type",
                "/nuu:root/nuu:abs",
                "<nuu:abs> has an abstract type: the document must name a concrete type derived "
                "from it with xsi:type.",
            )
        ],
    ),
    # The abstract declared type that follows from a wrong xsi:type is not a fault of its own.
    "xsi-type-unknown": (
        document('<abs xsi:type="p:SECRET"/>'),
        [
            (
                "xsd.type",
                "/nuu:root/nuu:abs/@xsi:type",
                "<nuu:abs>: the type its xsi:type names is not defined by the schema.",
            )
        ],
    ),
    "xsi-type-not-derived": (
        document('<abs xsi:type="p:blockedBase"/>'),
        [
            (
                "xsd.type",
                "/nuu:root/nuu:abs/@xsi:type",
                "<nuu:abs>: the type its xsi:type names may not replace its declared type (it is "
                "blocked, or not derived from it).",
            )
        ],
    ),
    "xsi-type-not-a-qname": (
        document('<abs xsi:type="::"/>'),
        [
            (
                "xsd.type",
                "/nuu:root/nuu:abs/@xsi:type",
                "Attribute 'xsi:type' of <nuu:abs>: the value is not a valid xs:QName.",
            )
        ],
    ),
    "strict-wildcard": (
        document('<strictany><q:x xmlns:q="urn:q"/></strictany>'),
        [
            (
                "xsd.unexpected-element",
                "/nuu:root/nuu:strictany/{urn:q}x",
                "<{urn:q}x> is not declared by the schema, which requires a declaration for what "
                "may stand here (a strict wildcard).",
            )
        ],
    ),
    "strict-attribute-wildcard": (
        document('<anyattr xmlns:q="urn:q" q:zz="1"/>'),
        [
            (
                "xsd.attribute",
                "/nuu:root/nuu:anyattr/@{urn:q}zz",
                "Attribute '{urn:q}zz' of <nuu:anyattr> is not declared by the schema, which "
                "requires a declaration for what may stand here (a strict wildcard).",
            )
        ],
    ),
    "key-duplicate": (
        document('<keys><k id="SECRET"/><k id="SECRET"/></keys>'),
        [
            (
                "xsd.invalid",
                "/nuu:root/nuu:keys/nuu:k[2]",
                "<nuu:k>: its key repeats another element's, where nuu:kk requires each to be "
                "unique.",
            )
        ],
    ),
    "key-incomplete": (
        document("<keys><k/></keys>"),
        [
            (
                "xsd.invalid",
                "/nuu:root/nuu:keys/nuu:k",
                "<nuu:k>: it lacks a field of the key nuu:kk.",
            )
        ],
    ),
    # libxml2 gives no place for a reference without its key.
    "keyref-unmatched": (
        document('<keys><k id="1"/><r ref="SECRET"/></keys>'),
        [
            (
                "xsd.invalid",
                None,
                "<nuu:r>: its reference matches no key the document holds (nuu:kr).",
            )
        ],
    ),
    "unique-duplicate": (
        document("<uniq><u>SECRET</u><u>SECRET</u></uniq>"),
        [
            (
                "xsd.invalid",
                "/nuu:root/nuu:uniq/nuu:u[2]",
                "<nuu:u>: its key repeats another element's, where nuu:uu requires each to be "
                "unique.",
            )
        ],
    ),
    "key-field-several": (
        document("<keys2><k><v>1</v><v>2</v></k></keys2>"),
        [
            (
                "xsd.invalid",
                "/nuu:root/nuu:keys2/nuu:k/nuu:v[2]",
                "<nuu:v>: a field of nuu:k2 finds several values where one is expected.",
            )
        ],
    ),
    "key-field-complex": (
        document("<keys3><k><v><w>1</w></v></k></keys3>"),
        [
            (
                "xsd.invalid",
                "/nuu:root/nuu:keys3/nuu:k/nuu:v",
                "<nuu:v>: a field of nuu:k3 finds an element that holds elements, not a value.",
            ),
            (
                "xsd.invalid",
                "/nuu:root/nuu:keys3/nuu:k",
                "<nuu:k>: it lacks a field of the key nuu:k3.",
            ),
        ],
    ),
    "qname-prefix": (
        document("<qn>zz:SECRET</qn>"),
        [
            (
                "xsd.type",
                "/nuu:root/nuu:qn",
                "<nuu:qn>: the value is a qualified name whose prefix no namespace declaration "
                "in scope binds, and it is not a valid xs:QName.",
            )
        ],
    ),
    "not-expected": (
        document("<zzz/>"),
        [
            (
                "xsd.unexpected-element",
                "/nuu:root/nuu:zzz",
                "<nuu:zzz> is not expected here; expected: nuu:b, nuu:len, nuu:minlen, nuu:code, "
                "nuu:enum, nuu:num, nuu:excl, nuu:lst, nuu:lstlen or nuu:uni.",
            )
        ],
    ),
    "not-expected-without-a-list": (
        document("<choice><x/><y/></choice>"),
        [("xsd.unexpected-element", "/nuu:root/nuu:choice/nuu:y", "<nuu:y> is not expected here.")],
    ),
    "missing-child-at-the-end": (
        document("<choice/>"),
        [
            (
                "xsd.missing-element",
                "/nuu:root/nuu:choice",
                "<nuu:choice> is missing a required child element; expected: nuu:x or nuu:y.",
            )
        ],
    ),
    # libxml2 reports these as the next child being unexpected.
    "missing-child-before-another": (
        document("<seq><x/><z/></seq>"),
        [
            (
                "xsd.missing-element",
                "/nuu:root/nuu:seq",
                "<nuu:seq> lacks <nuu:y>, required before <nuu:z>.",
            )
        ],
    ),
    "missing-choice-before-another": (
        document("<alt><z/></alt>"),
        [
            (
                "xsd.missing-element",
                "/nuu:root/nuu:alt",
                "<nuu:alt> lacks one of <nuu:x> or <nuu:y>, required before <nuu:z>.",
            )
        ],
    ),
    # The expected child comes later: an order problem, the element is unexpected.
    "wrong-order": (
        document("<seq><x/><z/><y/></seq>"),
        [
            (
                "xsd.unexpected-element",
                "/nuu:root/nuu:seq/nuu:z",
                "<nuu:z> is not expected here; expected: nuu:o or nuu:y.",
            )
        ],
    ),
    "unknown-root": (
        f"<nope {NAMESPACES}/>",
        [
            (
                "xsd.unexpected-element",
                "/nuu:nope",
                "<nuu:nope> is not a root element this schema declares.",
            )
        ],
    ),
    "abstract-element": (
        f"<abstractElt {NAMESPACES}>x</abstractElt>",
        [
            (
                "xsd.unexpected-element",
                "/nuu:abstractElt",
                "<nuu:abstractElt> is declared abstract: a document must use one of the elements "
                "that may substitute for it.",
            )
        ],
    ),
}
#: Kinds libxml2 has messages for but no document of its current version reaches; each is
#: checked on its message below.
UNREACHED = {
    "facet-other": "[facet 'whiteSpace'] The value does not match.",
    "absent-type": "The type definition is absent.",
    "fixed-no-elements": (
        "The content must not contain element nodes due to the existence of a fixed value "
        "constraint."
    ),
    "internal": "Internal error: xmlSchemaVDocWalk, there is at least one entity reference.",
}
#: Bits of libxml2's own wording that must never reach a message.
RAW = re.compile(
    r"\[facet|Element '|is not a valid value of the|is not accepted by|key-sequence|"
    r"identity-constraint|does not resolve|is not an element of the set|Expected is"
)


def validated(text: str, show_values: bool = False):
    data = text.encode()
    root = etree.fromstring(data)
    SCHEMA.validate(root)
    entries = list(SCHEMA.error_log)

    def recheck(element):
        SCHEMA.validate(element)
        return list(SCHEMA.error_log)

    return entries, violations_from_log(
        entries, root, data, show_values=show_values, recheck=recheck
    )


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_kind_of_fault_is_one_violation_in_the_projects_words(kind: str) -> None:
    text, expected = CASES[kind]
    _, violations = validated(text)
    assert [(v.code, v.path, v.message) for v in violations] == expected
    for violation in violations:
        assert not RAW.search(violation.message), violation.message
        assert SECRET not in violation.message


def test_every_kind_libxml2_reports_has_its_rewrite() -> None:
    """Each kind of the table is reached by a document above (or, for the few no document of
    this libxml2 reaches, by its message), and every message of those documents is read by a
    rewrite of the table, none by the fallback."""
    reached = set()
    for text, _ in CASES.values():
        entries, _ = validated(text)
        for entry in entries:
            subject = _SUBJECT.match(entry.message)
            assert subject is not None, entry.message
            attribute = subject["attribute"]
            said = reword(
                entry.type_name,
                entry.message[subject.end() :],
                shown_name(subject["element"]),
                shown_name(attribute) if attribute else None,
                False,
            )
            assert said.kind != "unknown", entry.message
            reached.add(said.kind)
    for kind, message in UNREACHED.items():
        said = reword("SCHEMAV_OTHER", message, "nuu:x", None, False)
        assert said.kind == kind
        assert not RAW.search(said.message)
        reached.add(kind)
    assert reached == {rewrite.kind for rewrite in REWRITES}


def test_a_kind_the_table_does_not_know_is_said_without_libxml2s_text() -> None:
    said = reword(
        "SCHEMAV_NEWER_CHECK", "The value 'SECRET' breaks a new rule.", "nuu:nom", None, False
    )
    assert (said.code, said.message) == (
        "xsd.invalid",
        "<nuu:nom> breaks a rule of the schema (libxml2: SCHEMAV_NEWER_CHECK).",
    )


@pytest.mark.parametrize(
    ("kind", "quoted"),
    [
        ("datatype", "<nuu:b>: the value 'SECRET' is not a valid xs:int."),
        (
            "facet-enumeration",
            "<nuu:enum>: the value 'SECRET' is not one of the allowed values X, Y.",
        ),
        ("attribute-value", "Attribute 'req' of <nuu:simplewithattr>: the value 'SECRET' is not"),
        ("xsi-type-unknown", "<nuu:abs>: the type nuu:SECRET its xsi:type names"),
        ("key-duplicate", "to be unique ('SECRET')."),
    ],
)
def test_values_are_quoted_only_when_asked_for(kind: str, quoted: str) -> None:
    _, violations = validated(CASES[kind][0], show_values=True)
    assert quoted in violations[0].message

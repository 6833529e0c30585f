"""XSD patterns translated to automata and compared (gateway.diff.xsd_regex, .language).

The translation is checked against libxml2 (which validates documents in the gateway) on
generated values; the comparison on pairs of patterns whose relation is known, with the
example values it gives."""

from __future__ import annotations

import re
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.diff.language import (
    EQUAL,
    INCOMPARABLE,
    NARROWED,
    UNDECIDED,
    WIDENED,
    Lexical,
    _Alphabet,
    _automaton,
    _leaves,
    _side,
    compare,
)

PATTERNS = [
    "[a-zA-Z0-9]{1,6}",
    "[0-9]{5}|2[AB][0-9]{3}",
    r"\i\c*",
    r"\I\C?",
    r"\d{2}\.\d{2}",
    r"\D+",
    r"\w+",
    r"\W",
    r"\s*\S",
    r"\p{Lu}\p{Ll}*",
    r"\P{L}+",
    r"\p{IsBasicLatin}+",
    "[a-z-[aeiou]]+",
    "[^a-c]{2,}",
    "[^<>&]*",
    ".?.",
    "(ab|cd)*e?",
    r"[\-\[\]\\]+",
    "x{0,3}y{2}z+",
    "^a$",
]
#: Characters the values are drawn from: the patterns' own, and some in classes they name.
#: No CJK ideograph: libxml2's Unicode tables leave them out of \p{L} (docs/diff.md, Limits).
LATIN = "aAbBcdeEiouxyzZ095.:_-[]\\ \t\n\r<>&^$éÀ!·"
CHARACTERS = "aAbBcdeEiouxyzZ095.:_-[]\\ \t\n\r<>&^$éÀΩ!·\u0660"


def lexical(*patterns: str) -> Lexical:
    return Lexical(frozenset(frozenset([p]) for p in patterns), None, (0, None))


@cache
def reference(pattern: str) -> etree.XMLSchema:
    """A schema whose one element's value must match `pattern`, compiled by libxml2."""
    xs = "http://www.w3.org/2001/XMLSchema"
    schema = etree.Element(f"{{{xs}}}schema", nsmap={"xs": xs})
    element = etree.SubElement(schema, f"{{{xs}}}element", name="v")
    simple = etree.SubElement(element, f"{{{xs}}}simpleType")
    restriction = etree.SubElement(simple, f"{{{xs}}}restriction", base="xs:string")
    etree.SubElement(restriction, f"{{{xs}}}pattern", value=pattern)
    return etree.XMLSchema(schema)


def accepts(pattern: str):
    def validates(value: str) -> bool:
        document = etree.Element("v")
        document.text = value
        return reference(pattern).validate(document)

    return validates


@cache
def automaton(pattern: str):
    side = _side(lexical(pattern))
    alphabet = _Alphabet([leaf for step in side.steps for leaf in _leaves(step)])
    return alphabet, _automaton(side, alphabet)


@settings(max_examples=400, deadline=None)
@given(pattern=st.sampled_from(PATTERNS), data=st.data())
def test_the_translation_accepts_what_libxml2_accepts(pattern: str, data: st.DataObject) -> None:
    # \i and \c are XML 1.0 fifth edition's name characters (elementpath's, as xmlschema reads
    # them); libxml2 keeps the older tables of XML 1.0's Appendix B, which differ outside the
    # Latin scripts (docs/diff.md, Limits): those patterns are checked on Latin characters.
    names = "\\i" in pattern.lower() or "\\c" in pattern.lower()
    characters = LATIN if names else CHARACTERS
    value = data.draw(st.text(alphabet=characters, max_size=8))
    alphabet, dfa = automaton(pattern)
    assert dfa.accepts_input(alphabet.word(value)) == accepts(pattern)(value)


@pytest.mark.parametrize(
    ("old", "new", "relation", "dropped", "gained"),
    [
        # The case: a shared code type loses its letters.
        ("[a-zA-Z0-9]{1,6}", "[0-9]{1,6}", NARROWED, "A", None),
        ("[0-9]{5}", "[0-9]{5}|2[AB][0-9]{3}", WIDENED, None, "2A000"),
        ("[0-9]{5}|2[AB][0-9]{3}", "[0-9]{5}|[A-Z]{2}-[0-9]{3}", INCOMPARABLE, "2A000", "AA-000"),
        # Rewritten, same values.
        ("[0-9][0-9][0-9][0-9][0-9]", "[0-9]{5}", EQUAL, None, None),
        ("[A-Z-[IOQ]]{2}", "[A-HJ-NPR-Z][A-HJ-NPR-Z]", EQUAL, None, None),
        (r"\d", r"\p{Nd}", EQUAL, None, None),
        (r"\w", r"[\p{L}\p{M}\p{N}\p{S}]", EQUAL, None, None),
        (r"\s", "[ \t\n\r]", EQUAL, None, None),
        (r"\i\c*", r"[\i-[:]]\c*|:\c*", EQUAL, None, None),
        ("(oui|non)", "non|oui", EQUAL, None, None),
        # \d is every decimal digit, not only 0-9: the example is spelt from \d itself.
        ("[0-9]{2}", r"\d{2}", WIDENED, None, "0\u0660"),
        # XSD's `.` excludes line breaks; [^a] does not.
        ("[^a]", ".", INCOMPARABLE, "\n", "a"),
        # A large Unicode class costs no more than a short one.
        (r"\p{L}+", "[a-z]+", NARROWED, "A", None),
    ],
)
def test_pattern_pairs_are_decided_with_examples(old, new, relation, dropped, gained) -> None:
    outcome = compare(lexical(old), lexical(new), accepts(old), accepts(new))
    assert (outcome.relation, outcome.dropped, outcome.gained) == (relation, dropped, gained)


def test_enumerations_and_lengths_are_decided_with_the_patterns() -> None:
    listed = Lexical(frozenset(), frozenset({"01", "02", "03"}), (0, None))
    assert compare(listed, lexical("0[1-3]"), lambda v: True, lambda v: True).relation == EQUAL
    capped = Lexical(frozenset({frozenset({"[A-Z]+"})}), None, (0, 6))

    def capital_letters(most: int):
        return lambda value: re.fullmatch(f"[A-Z]{{1,{most}}}", value) is not None

    outcome = compare(capped, lexical("[A-Z]{1,6}"), capital_letters(6), capital_letters(6))
    assert outcome.relation == EQUAL
    longer = Lexical(frozenset({frozenset({"[A-Z]+"})}), None, (0, 8))
    outcome = compare(longer, capped, capital_letters(8), capital_letters(6))
    assert (outcome.relation, outcome.dropped) == (NARROWED, "AAAAAAA")


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("[0-9]{1,2000}", "[0-9]+", "the repetition {1,2000} (over 1000)"),
        ("(ab){1,150}", "a", "the repetition {1,150} of a group (over 100)"),
        ("[a-z", "[a-z]", "the pattern [a-z ends unexpectedly"),
    ],
)
def test_what_the_translation_cannot_express_is_undecided_and_named(old, new, reason) -> None:
    outcome = compare(lexical(old), lexical(new), lambda v: True, lambda v: True)
    assert (outcome.relation, outcome.reason) == (UNDECIDED, reason)


def test_values_the_base_type_refuses_anyway_leave_the_comparison_undecided() -> None:
    """Patterns differing only on values no side's type accepts (here: values with spaces,
    which a collapsing type never holds) are not called a break."""

    def no_spaces(pattern: str):
        return lambda value: " " not in value and accepts(pattern)(value)

    outcome = compare(lexical("a b|c"), lexical("c"), no_spaces("a b|c"), no_spaces("c"))
    assert outcome.relation == UNDECIDED
    assert "refuses anyway" in outcome.reason

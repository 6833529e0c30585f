"""The words violations are written in: what a libxml2 message says, and how to say it.

A `Rewrite` reads one kind of libxml2 validation message (a regular expression on the text after
`Element '...'[, attribute '...']: `) and gives what it `Said` in the project's words: the
violation code, the message, the attribute it is about, and what the message is about (`VALUE`,
`CONTENT`...), which `gateway.explain` uses to make one violation of each fault. The renderers
here write the sentences; the table of every kind is `gateway.rewrites`.

Values from the document (names, incomes, social-security numbers, and the xsi:type or key
values a document carries) appear only when the caller asks (`show_values`); what the schema
says (lengths, limits, patterns, enumerations, names of elements) is always shown. Messages
about a value can be several for one value (its length and its pattern): the `clause` of each
after the first is joined to it.
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


def quoted_value(groups: dict[str, str | None], context: Context) -> str:
    """` '60'` when values may be shown, else nothing."""
    value = groups.get("value")
    return f" '{value}'" if context.show_values and value is not None else ""


def on_value(phrase: str) -> Render:
    """A message `Subject: the value {phrase}.`; its clause `the value {phrase}`."""

    def render(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
        said = phrase.format(**groups)
        return f"{context.subject}: the value{quoted_value(groups, context)} {said}.", f"it {said}"

    return render


def on_length(phrase: str) -> Render:
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


def fixed(message: Callable[[Context], str]) -> Render:
    def render(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
        return message(context), ""

    return render


def rule(
    kind: str, code: str, about: str, pattern: str, render: Render, attribute: str | None = None
) -> Rewrite:
    return Rewrite(kind, code, about, re.compile(pattern, re.S), render, attribute)


def type_name(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
    name = groups.get("type")
    shown = (
        f"a valid {shown_name(name)}" if name else f"a valid value of its {groups['variety']} type"
    )
    return (
        f"{context.subject}: the value{quoted_value(groups, context)} is not {shown}.",
        f"it is not {shown}",
    )


def expected_here(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
    names = expected_names(groups["rest"] or "")
    expected = f"; expected: {listed(names)}" if names else ""
    return f"<{context.element}> is not expected here{expected}.", ""


def missing_child(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
    names = expected_names(groups["rest"] or "")
    expected = f"; expected: {listed(names)}" if names else ""
    return f"<{context.element}> is missing a required child element{expected}.", ""


def xsi_type(problem: str) -> Render:
    def render(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
        named = f" {shown_name(groups['type'] or '')}" if context.show_values else ""
        return f"<{context.element}>: the type{named} its xsi:type names {problem}.", ""

    return render


def identity(problem: str) -> Render:
    def render(groups: dict[str, str | None], context: Context) -> tuple[str, str]:
        values = f" ({groups['values']})" if context.show_values else ""
        constraint = shown_name(groups["constraint"] or "")
        return f"<{context.element}>: {problem.format(constraint=constraint)}{values}.", ""

    return render

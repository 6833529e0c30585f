"""XSD regular expressions read into a small syntax tree, for `gateway.diff.language`.

The syntax is XML Schema 1.0 Part 2, Appendix F: branches, pieces with quantifiers
(`? * + {n} {n,} {n,m}`), groups, character classes with ranges, negation (`[^...]`) and
subtraction (`[a-z-[aeiou]]`), the single-character escapes, the multi-character escapes
(`\\s \\S \\i \\I \\c \\C \\d \\D \\w \\W`), `.` (any character but a line break) and the Unicode
categories and blocks (`\\p{Lu}`, `\\P{IsBasicLatin}`). A pattern is implicitly anchored: it
matches the whole value. The character sets come from elementpath (the library xmlschema uses
to validate them), as code point ranges, so that the largest Unicode class costs no more than
a short one.

What the translation cannot express raises `Untranslatable`, whose message names the
construct (an unknown Unicode block, a repetition too large to compare).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from elementpath.regex import RegexError, UnicodeSubset, unicode_subset
from elementpath.regex.character_classes import (
    c_shortcut,
    d_shortcut,
    i_shortcut,
    s_shortcut,
    w_shortcut,
)

#: The characters an XML document may hold (XML 1.0, production [2]): no value holds others.
XML_CHARS = UnicodeSubset(
    [9, 10, 13, (0x20, 0xD800), (0xE000, 0xFFFE), (0x10000, sys.maxunicode + 1)]
)
#: A counted repetition above this is not expanded into an automaton (its states would be
#: counted in thousands); the comparison is then left to review, naming the repetition.
MAX_REPEAT = 1000

_SINGLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"} | {c: c for c in "\\|.?*+(){}-[]^"}
_MULTI_ESCAPES: dict[str, Callable[[], UnicodeSubset]] = {
    "s": s_shortcut,
    "i": i_shortcut,
    "c": c_shortcut,
    "d": d_shortcut,
    "w": w_shortcut,
}
_NOT_NORMAL = frozenset(".\\?*+()|[]")


class Untranslatable(Exception):
    """A pattern (or a part of it) the translation cannot express; the message names it."""


@dataclass(frozen=True, slots=True)
class Chars:
    """One character out of `subset`."""

    subset: UnicodeSubset


@dataclass(frozen=True, slots=True)
class Sequence:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Choice:
    branches: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Repeat:
    item: Node
    minimum: int
    maximum: int | None  # None: unbounded


Node = Chars | Sequence | Choice | Repeat


def _complement(subset: UnicodeSubset) -> UnicodeSubset:
    return XML_CHARS - subset


def literal(text: str) -> Node:
    """The node that matches exactly `text` (an enumerated value)."""
    return Sequence(tuple(Chars(UnicodeSubset([ord(char)])) for char in text))


class _Reader:
    """A recursive-descent reader of one pattern; `position` is the next character."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.position = 0

    def peek(self) -> str:
        return self.pattern[self.position] if self.position < len(self.pattern) else ""

    def take(self) -> str:
        char = self.peek()
        if not char:
            raise Untranslatable(f"the pattern {self.pattern} ends unexpectedly")
        self.position += 1
        return char

    def expect(self, char: str) -> None:
        if self.take() != char:
            raise Untranslatable(
                f"'{char}' expected at position {self.position} of the pattern {self.pattern}"
            )

    def expression(self) -> Node:
        branches = [self.branch()]
        while self.peek() == "|":
            self.position += 1
            branches.append(self.branch())
        return branches[0] if len(branches) == 1 else Choice(tuple(branches))

    def branch(self) -> Node:
        pieces = []
        while self.peek() not in ("", "|", ")"):
            pieces.append(self.piece())
        return pieces[0] if len(pieces) == 1 else Sequence(tuple(pieces))

    def piece(self) -> Node:
        atom = self.atom()
        char = self.peek()
        if char in ("?", "*", "+"):
            self.position += 1
            return Repeat(atom, 0 if char != "+" else 1, 1 if char == "?" else None)
        if char == "{":
            self.position += 1
            minimum = self.number()
            maximum: int | None = minimum
            if self.peek() == ",":
                self.position += 1
                maximum = self.number() if self.peek() != "}" else None
            self.expect("}")
            if maximum is not None and maximum < minimum:
                raise Untranslatable(f"the quantifier {{{minimum},{maximum}}} is empty")
            if max(minimum, maximum or 0) > MAX_REPEAT:
                shown = f"{minimum}" if maximum == minimum else f"{minimum},{maximum or ''}"
                raise Untranslatable(f"the repetition {{{shown}}} (over {MAX_REPEAT})")
            return Repeat(atom, minimum, maximum)
        return atom

    def number(self) -> int:
        start = self.position
        while self.peek().isascii() and self.peek().isdigit():
            self.position += 1
        if start == self.position:
            raise Untranslatable(f"a number expected in a quantifier of {self.pattern}")
        return int(self.pattern[start : self.position])

    def atom(self) -> Node:
        char = self.take()
        if char == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if char == "[":
            return Chars(self.group())
        if char == ".":
            return Chars(_complement(UnicodeSubset("\n\r")))
        if char == "\\":
            return Chars(self.escape())
        if char in _NOT_NORMAL:
            raise Untranslatable(f"'{char}' at position {self.position} of {self.pattern}")
        return Chars(UnicodeSubset([ord(char)]))

    def escape(self) -> UnicodeSubset:
        """The set of an escape, its backslash read."""
        char = self.take()
        if char in _SINGLE_ESCAPES:
            return UnicodeSubset([ord(_SINGLE_ESCAPES[char])])
        if char.lower() in _MULTI_ESCAPES:
            subset = UnicodeSubset(_MULTI_ESCAPES[char.lower()]())
            return subset if char.islower() else _complement(subset)
        if char in ("p", "P"):
            self.expect("{")
            end = self.pattern.find("}", self.position)
            if end < 0:
                raise Untranslatable(f"an unclosed \\{char}{{ in {self.pattern}")
            name = self.pattern[self.position : end]
            self.position = end + 1
            try:
                subset = UnicodeSubset(unicode_subset(name))
            except RegexError:
                raise Untranslatable(f"the Unicode category or block \\{char}{{{name}}}") from None
            return subset if char == "p" else _complement(subset)
        raise Untranslatable(f"the escape \\{char}")

    def group(self) -> UnicodeSubset:
        """A character class expression, its `[` read, up to and including its `]`."""
        negated = self.peek() == "^"
        if negated:
            self.position += 1
        subset = UnicodeSubset()
        while (char := self.peek()) != "]":
            if char == "-" and self.pattern[self.position + 1 : self.position + 2] == "[":
                self.position += 2
                subtracted = self.group()
                self.expect("]")
                return ((_complement(subset) if negated else subset) - subtracted) & XML_CHARS
            subset |= self.range()
        self.position += 1
        return _complement(subset) if negated else subset & XML_CHARS

    def range(self) -> UnicodeSubset:
        if self.peek() == "\\":
            self.position += 1
            escaped = self.escape()
            low = self._single(escaped)
            if low is None:
                return escaped  # a multi-character escape or a category
        else:
            low = ord(self.take())
        if self.peek() == "-" and self.pattern[self.position + 1 : self.position + 2] not in (
            "[",
            "]",
        ):
            self.position += 1
            if self.peek() == "\\":
                self.position += 1
                high = self._single(self.escape())
                if high is None:
                    raise Untranslatable(f"a range ending in a class escape in {self.pattern}")
            else:
                high = ord(self.take())
            if high < low:
                raise Untranslatable(f"the range {chr(low)}-{chr(high)} is reversed")
            return UnicodeSubset([(low, high + 1)])
        return UnicodeSubset([low])

    @staticmethod
    def _single(subset: UnicodeSubset) -> int | None:
        points = subset.codepoints
        if len(points) == 1 and isinstance(points[0], int):
            return points[0]
        return None


def parse(pattern: str) -> Node:
    """The syntax tree of the XSD pattern `pattern`; raises `Untranslatable`."""
    reader = _Reader(pattern)
    node = reader.expression()
    if reader.position != len(pattern):
        raise Untranslatable(f"')' at position {reader.position + 1} of {pattern}")
    return node

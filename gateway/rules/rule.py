"""What a business rule is: the elements it looks at, and what it finds wrong with them.

A rule applies by what a document is, never by the name a schema has in a catalog: it names
the elements it looks at by namespace and local name (`{http://nuu.application.i2/}pays`), so
that it holds for the official delivery as for the shipped set, whatever their file names.
It yields `Finding`s, turned into `Violation`s by the rule stage only while the document's
report has room for them: the message (and any fuzzy match it needs) and the path are built
then, so a document with a million findings costs a million look-ups, not a million messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from lxml import etree

from gateway.rules.countries import CountryReferential

#: What a rule's violations do by default: follow the environment's policy, or only be logged.
Action = Literal["policy", "log"]


@dataclass(slots=True)
class RuleContext:
    """What a rule may need besides the element: the document (the element validated), the
    referential, and whether messages may quote element values."""

    document: etree._Element
    referential: CountryReferential
    show_values: bool


@dataclass(frozen=True, slots=True)
class Finding:
    """Something wrong at `element`. `describe` gives the violation's code and message;
    `path`, when given, the element's path (a rule that knows positions spares the search)."""

    element: etree._Element
    describe: Callable[[], tuple[str, str]]
    path: Callable[[], str] | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule: its name in the configuration (`[rules] NAME = ...`), the violation codes it
    yields, its default action, the elements it looks at, and the check of one of them."""

    name: str
    codes: tuple[str, ...]
    default_action: Action
    tags: tuple[str, ...]
    check: Callable[[etree._Element, RuleContext], Iterable[Finding]]

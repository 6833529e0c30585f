"""The rule stage: every rule in service, run in one pass over a validated document.

`RuleSet.check` walks the document once, stopping only at the elements some rule looks at
(lxml's `iter` with their names, in C), and hands each to its rule. A document none of whose
elements concern a rule costs that walk and nothing else.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lxml import etree

from gateway.explain import element_path
from gateway.rules import pays, pj
from gateway.rules.countries import CountryReferential
from gateway.rules.referential import load_referential
from gateway.rules.rule import Rule, RuleContext
from gateway.violation import Violation

#: Every rule, by its name in the configuration.
RULES: dict[str, Rule] = {rule.name: rule for rule in (pays.RULE, pj.RULE)}
#: What `[rules] NAME = ...` may say: follow the environment's policy, log only, or not run.
RULE_ACTIONS = ("policy", "log", "off")


@dataclass(frozen=True)
class RuleSet:
    """The rules in service and the referential they use (None only without rules)."""

    rules: tuple[Rule, ...]
    referential: CountryReferential | None
    _by_tag: dict[str, Rule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_tag = {tag: rule for rule in self.rules for tag in rule.tags}
        object.__setattr__(self, "_by_tag", by_tag)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.rules)

    def check(
        self,
        document: etree._Element,
        *,
        show_values: bool = False,
        room: int = 100,
        reported: frozenset[str | None] = frozenset(),
    ) -> tuple[list[Violation], int]:
        """The violations of `document` (at most `room`, and once rules have filled it, the
        first of each rule that has none listed yet), and how many more there are. A finding
        at a path in `reported` (where the XSD already found the element wrong) is left out
        while violations are listed.

        Each rule has its own action (`[rules]`): a rule that only logs could otherwise fill
        the room and hide, among the counted ones, a rule's violation that blocks. The XSD's
        violations always follow the policy: when they fill the room, none is needed."""
        if self.referential is None or not self.rules:
            return [], 0
        context = RuleContext(document, self.referential, show_values)
        violations: list[Violation] = []
        listed: set[str] = set()
        unlisted = 0
        for element in document.iter(*self._by_tag):
            rule = self._by_tag[element.tag]
            for finding in rule.check(element, context):
                if len(violations) >= room and (rule.name in listed or room <= 0):
                    unlisted += 1
                    continue
                path = finding.path() if finding.path else element_path(finding.element)
                if path in reported:
                    continue
                code, message = finding.describe()
                violations.append(Violation(code, message, finding.element.sourceline, None, path))
                listed.add(rule.name)
        return violations, unlisted


def actions(chosen: Mapping[str, str]) -> dict[str, str]:
    """Each rule's action: `chosen` (from the configuration) where it says, else its default."""
    resolved = {}
    for name, rule in RULES.items():
        resolved[name] = chosen.get(name, rule.default_action)
    return resolved


def logged_codes(chosen: Mapping[str, str]) -> dict[str, Literal["log"]]:
    """{violation code: "log"} for every code of a rule whose action is `log`: what `decide`
    takes to override the environment's policy."""
    return {
        code: "log"
        for name, action in actions(chosen).items()
        if action == "log"
        for code in RULES[name].codes
    }


def load_rules(referential: Path | None = None, skipped: Iterable[str] = ()) -> RuleSet:
    """Every rule but the `skipped` ones, with the COG export at `referential` (the shipped
    one when None). Raise `ReferentialError`."""
    off = set(skipped)
    return RuleSet(
        tuple(rule for name, rule in RULES.items() if name not in off),
        load_referential(referential),
    )


@functools.cache
def shipped_rules() -> RuleSet:
    """Every rule, with the shipped referential: loaded once, on first use."""
    return load_rules()


#: No rule: for the SNE simulator, which mimics an SNE that checks the XSD only.
NO_RULES = RuleSet((), None)

"""`rule.pays`: every free-text `pays` holds the name of a country of INSEE's COG.

Announced by the GIP SNE at the editors' club of 22 May 2025 and not enforced yet, so its
violations are only logged by default (`[rules] pays = "policy"` makes them follow the
environment's policy): blocking would stop in recette the very data the SNE still accepts.

Without `--show-values` (or `capture_values`) a message never quotes the value, nor the
suggestion: a country name close to the value tells the value, a part of someone's address. It
says whether a correction exists, so that the operator knows to look (`sne-gateway pays check`
shows it on the data itself).
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from gateway.names import NUU
from gateway.rules.countries import SIMILARITY, CountryVerdict
from gateway.rules.rule import Finding, Rule, RuleContext

PAYS = f"{{{NUU}}}pays"
SUBJECT = "<nuu:pays>"
#: What to write instead of France or an overseas name.
FRENCH_ADDRESS = (
    "so the address is French: give codePostal and commune instead of codePostalEtranger, "
    "communeEtranger and pays"
)


def _quoted(value: str, context: RuleContext) -> str:
    return f" '{value}'" if context.show_values else ""


def _message(value: str, verdict: CountryVerdict, context: RuleContext) -> str:
    subject = SUBJECT + _quoted(value, context)
    if verdict.reason == "empty":
        return f"{SUBJECT} is empty: a foreign address needs the COG name of its country."
    if verdict.reason == "france":
        return f"{subject} names France, {FRENCH_ADDRESS}."
    if verdict.reason == "overseas":
        where = f" ({verdict.suggestion})" if context.show_values else ""
        return (
            f"{subject} names a French overseas department or collectivity{where}, "
            f"{FRENCH_ADDRESS}."
        )
    if verdict.reason == "code":
        if verdict.suggestion is None:
            return f"{subject} is a country code shared by several entries of the COG: write the country's name."
        name = f": '{verdict.suggestion}'" if context.show_values else ""
        return f"{subject} is a country code (ISO 3166 or COG): write the country's COG name{name}."
    if verdict.reason == "close":
        if context.show_values:
            return (
                f"{subject} is not a country name of INSEE's COG; did you mean "
                f"'{verdict.suggestion}' ({verdict.score:.0f} % similar)?"
            )
        return (
            f"{subject} is not a country name of INSEE's COG; one COG name is {SIMILARITY:.0f} % "
            "similar or more (quote values to see it, or run `sne-gateway pays check`)."
        )
    if verdict.reason == "ambiguous":
        return (
            f"{subject} is not a country name of INSEE's COG; several are {SIMILARITY:.0f} % "
            "similar or more, so none is suggested."
        )
    return (
        f"{subject} is not a country name of INSEE's COG, nor {SIMILARITY:.0f} % similar to "
        "one: it cannot be corrected without asking."
    )


def check(element: etree._Element, context: RuleContext) -> Iterable[Finding]:
    if len(element):
        return ()  # not free text: a schema of another shape
    value = element.text or ""
    if context.referential.accepts(value):
        return ()
    if not value.strip() and element.get("code") is not None:
        return ()  # a code-list `pays` (`<pays code="99109"/>`), which the schema checks

    def describe() -> tuple[str, str]:
        verdict = context.referential.verdict(value)
        return verdict.code or "rule.pays", _message(value, verdict, context)

    return (Finding(element, describe),)


RULE = Rule(
    name="pays",
    codes=("rule.pays", "rule.pays-code", "rule.pays-france", "rule.pays-overseas"),
    default_action="log",
    tags=(PAYS,),
    check=check,
)

"""Whom a change breaks: a verdict for each of the two audiences, with its reason.

- **producers** send documents that must now validate against NEW (an SI calling the SNE):
  a change breaks them when a document valid under OLD may be invalid under NEW;
- **consumers** receive documents produced under NEW but still validate with OLD (an SI
  reading SNE answers, GDM movements, exports): a change breaks them when a document valid
  under NEW may be invalid under OLD.

The rules follow direction-aware checkers (oasdiff, Confluent's compatibility modes). Each
`(kind, effect)` has one rule; a change with several effects (maxOccurs raised *and* minOccurs
lowered) takes, for each audience, the worst verdict and the reason that gave it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.diff.change import Change

PRODUCERS = "producers"
CONSUMERS = "consumers"
AUDIENCES = (PRODUCERS, CONSUMERS)

BREAKING = "breaking"
REVIEW = "review"
COMPATIBLE = "compatible"
LEVELS = (BREAKING, REVIEW, COMPATIBLE)
_SEVERITY = {COMPATIBLE: 0, REVIEW: 1, BREAKING: 2}


@dataclass(frozen=True, slots=True)
class Verdict:
    """`breaking`, `compatible` or `review`, and the sentence that says why."""

    level: str
    why: str


@dataclass(frozen=True, slots=True)
class AssessedChange:
    """A change of the schema pair `schema` (its label: `demande`, or `old → new` when the
    names differ; `schemas` holds the OLD and NEW names apart), numbered, with both audiences'
    verdicts.

    `evidence` says, for an audience whose verdict was `review` when samples were given,
    whether they `confirmed` it, `refuted` it or left it `unexercised`.
    """

    id: str
    schema: str
    change: Change
    producers: Verdict
    consumers: Verdict
    evidence: dict[str, str] = field(default_factory=dict)
    schemas: tuple[str | None, str | None] = (None, None)

    @property
    def root(self) -> str:
        """The global element the change is under (its path's first step)."""
        return self.change.path.partition("/")[0]

    def verdict(self, audience: str) -> Verdict:
        return self.producers if audience == PRODUCERS else self.consumers

    def to_dict(self) -> dict[str, Any]:
        change = self.change
        result: dict[str, Any] = {
            "id": self.id,
            "schema": {"old": self.schemas[0], "new": self.schemas[1]},
            "path": change.path,
            "uses": list(change.paths),
            "kind": change.kind,
            "effects": list(change.effects),
            "old": change.old,
            "new": change.new,
            "producers": self.producers.level,
            "consumers": self.consumers.level,
            "why": {"producers": self.producers.why, "consumers": self.consumers.why},
            "source": change.source.to_dict() if change.source else None,
        }
        decision = change.decision
        if decision is not None and (decision.dropped is not None or decision.gained is not None):
            # A value each audience's verdict rests on: OLD accepts `dropped` and NEW refuses it.
            result["examples"] = {"dropped": decision.dropped, "gained": decision.gained}
        if decision is not None and decision.reason:
            result["undecided"] = decision.reason
        if change.outline is not None:
            result["outline"] = change.outline.to_dict()
        if self.evidence:
            result["evidence"] = dict(self.evidence)
        return result


@dataclass(frozen=True, slots=True)
class Rule:
    """What `effect` of a change of `kind` means for each audience, and why (a template with
    `{subject}`, `{detail}`, `{old}`, `{new}`, `{what}` (`maxLength 8 → 5`: the detail, old
    and new), and the version labels `{OLD}`, `{NEW}`)."""

    kind: str
    effect: str
    producers: str
    consumers: str
    producers_why: str
    consumers_why: str


def _rules(*rows: tuple[str, str, str, str, str, str]) -> dict[tuple[str, str], Rule]:
    return {(row[0], row[1]): Rule(*row) for row in rows}


_KEPT_BY_OLD = "documents valid under {OLD} have no {subject} and stay valid"
_ADDED_REACHES_OLD = "documents produced under {NEW} may carry {subject}, which {OLD} rejects"
_OLD_WILDCARD = "{OLD} already accepts {subject} through a wildcard (xs:any, lax or skip)"
_NEW_WILDCARD = "{NEW} still accepts {subject} through a wildcard (xs:any, lax or skip)"
_REMOVED_HITS_OLD = "documents valid under {OLD} may carry {subject}, which {NEW} rejects"
_WAS_OPTIONAL = "{subject} was optional under {OLD}, so documents without it stay valid"
_WAS_REQUIRED = "{subject} was required by {OLD}: documents produced under {NEW} lack it"
_WAS_CONDITIONAL = (
    "{subject} was required by {OLD} whenever its enclosing optional group or choice branch "
    "was used: documents produced under {NEW} that use it lack {subject}"
)
_NOW_REQUIRED = "{subject} is now required: documents valid under {OLD} lack it"
_NOW_CONDITIONAL = (
    "{subject} is required whenever its enclosing optional group or choice branch is used: "
    "documents valid under {OLD} that use it lack {subject}"
)
_ATTRIBUTE_ADDED_REACHES_OLD = (
    "documents produced under {NEW} may carry {subject}, which {OLD} does not allow"
)
_ATTRIBUTE_OLD_WILDCARD = "{OLD} already accepts {subject} through xs:anyAttribute (lax or skip)"
_ATTRIBUTE_NEW_WILDCARD = "{NEW} still accepts {subject} through xs:anyAttribute (lax or skip)"

RULES: dict[tuple[str, str], Rule] = _rules(
    (
        "root-added",
        "added",
        COMPATIBLE,
        BREAKING,
        "documents valid under {OLD} never start with {subject}",
        "documents produced under {NEW} may start with {subject}, a root {OLD} does not declare",
    ),
    (
        "root-removed",
        "removed",
        BREAKING,
        COMPATIBLE,
        "documents starting with {subject} were valid under {OLD} and are rejected under {NEW}",
        "documents produced under {NEW} no longer start with {subject}",
    ),
    ("element-added", "required", BREAKING, BREAKING, _NOW_REQUIRED, _ADDED_REACHES_OLD),
    ("element-added", "optional", COMPATIBLE, BREAKING, _KEPT_BY_OLD, _ADDED_REACHES_OLD),
    ("element-added", "conditional", REVIEW, BREAKING, _NOW_CONDITIONAL, _ADDED_REACHES_OLD),
    ("element-added", "required+wildcard", BREAKING, COMPATIBLE, _NOW_REQUIRED, _OLD_WILDCARD),
    ("element-added", "optional+wildcard", COMPATIBLE, COMPATIBLE, _KEPT_BY_OLD, _OLD_WILDCARD),
    (
        "element-added",
        "conditional+wildcard",
        REVIEW,
        COMPATIBLE,
        _NOW_CONDITIONAL,
        _OLD_WILDCARD,
    ),
    ("element-removed", "required", BREAKING, BREAKING, _REMOVED_HITS_OLD, _WAS_REQUIRED),
    ("element-removed", "optional", BREAKING, COMPATIBLE, _REMOVED_HITS_OLD, _WAS_OPTIONAL),
    ("element-removed", "conditional", BREAKING, REVIEW, _REMOVED_HITS_OLD, _WAS_CONDITIONAL),
    ("element-removed", "required+wildcard", COMPATIBLE, BREAKING, _NEW_WILDCARD, _WAS_REQUIRED),
    (
        "element-removed",
        "optional+wildcard",
        COMPATIBLE,
        COMPATIBLE,
        _NEW_WILDCARD,
        _WAS_OPTIONAL,
    ),
    (
        "element-removed",
        "conditional+wildcard",
        COMPATIBLE,
        REVIEW,
        _NEW_WILDCARD,
        _WAS_CONDITIONAL,
    ),
    (
        "occurs-changed",
        "min-raised",
        BREAKING,
        COMPATIBLE,
        "{subject} must occur more often ({old} → {new}): documents valid under {OLD} may have "
        "too few",
        "documents produced under {NEW} have at least as many {subject} as {OLD} requires",
    ),
    (
        "occurs-changed",
        "min-lowered",
        COMPATIBLE,
        BREAKING,
        "documents valid under {OLD} have at least as many {subject} as {NEW} requires",
        "{subject} may occur fewer times ({old} → {new}): documents produced under {NEW} may "
        "have fewer than {OLD} requires",
    ),
    (
        "occurs-changed",
        "max-raised",
        COMPATIBLE,
        BREAKING,
        "documents valid under {OLD} stay within the higher maximum of {subject}",
        "{subject} may occur more often ({old} → {new}): documents produced under {NEW} may "
        "exceed {OLD}'s maximum",
    ),
    (
        "occurs-changed",
        "max-lowered",
        BREAKING,
        COMPATIBLE,
        "{subject} may occur less often ({old} → {new}): documents valid under {OLD} may "
        "exceed the new maximum",
        "documents produced under {NEW} stay within {OLD}'s higher maximum of {subject}",
    ),
    (
        "type-changed",
        "narrowed",
        BREAKING,
        COMPATIBLE,
        "{subject} is narrower ({old} → {new}): values valid under {OLD} may be rejected",
        "every {new} value of {subject} is also a valid {old} value",
    ),
    (
        "type-changed",
        "widened",
        COMPATIBLE,
        BREAKING,
        "every {old} value of {subject} is also a valid {new} value",
        "{subject} is wider ({old} → {new}): values produced under {NEW} may be rejected by {OLD}",
    ),
    (
        "type-changed",
        "unrelated",
        BREAKING,
        BREAKING,
        "{subject} changed to an unrelated type ({old} → {new}): values valid under {OLD} are "
        "rejected",
        "{subject} changed to an unrelated type ({old} → {new}): values produced under {NEW} "
        "are rejected by {OLD}",
    ),
    (
        "type-changed",
        "changed",
        REVIEW,
        REVIEW,
        "the list or union type of {subject} changed ({old} → {new}): values valid under "
        "{OLD} may be rejected",
        "the list or union type of {subject} changed ({old} → {new}): values produced under "
        "{NEW} may be rejected by {OLD}",
    ),
    (
        "facet-changed",
        "tightened",
        BREAKING,
        COMPATIBLE,
        "{subject} accepts fewer values ({what}): values valid under {OLD} may be refused",
        "every value {NEW} accepts for {subject} is valid under {OLD} too",
    ),
    (
        "facet-changed",
        "relaxed",
        COMPATIBLE,
        BREAKING,
        "every value {OLD} accepts for {subject} is valid under {NEW} too",
        "{subject} accepts more values ({what}): values produced under {NEW} may be refused by "
        "{OLD}",
    ),
    (
        "facet-changed",
        "changed",
        BREAKING,
        BREAKING,
        "the exact {detail} of {subject} changed ({old} → {new}): values valid under {OLD} are "
        "refused",
        "the exact {detail} of {subject} changed ({old} → {new}): values produced under {NEW} "
        "are refused by {OLD}",
    ),
    (
        "facet-changed",
        "incomparable",
        BREAKING,
        BREAKING,
        "{subject} accepts other values ({what}): values valid under {OLD} are refused",
        "{subject} accepts other values ({what}): values produced under {NEW} are refused by {OLD}",
    ),
    (
        "facet-changed",
        "unordered",
        REVIEW,
        REVIEW,
        "the {detail} of {subject} changed ({what}) in a way that cannot be ordered",
        "the {detail} of {subject} changed ({what}) in a way that cannot be ordered",
    ),
    (
        "pattern-changed",
        "narrowed",
        BREAKING,
        COMPATIBLE,
        "{subject} accepts fewer values ({what}): values valid under {OLD} are refused",
        "every value {NEW} accepts for {subject} is valid under {OLD} too",
    ),
    (
        "pattern-changed",
        "widened",
        COMPATIBLE,
        BREAKING,
        "every value {OLD} accepts for {subject} is valid under {NEW} too",
        "{subject} accepts more values ({what}): values produced under {NEW} are refused by {OLD}",
    ),
    (
        "pattern-changed",
        "incomparable",
        BREAKING,
        BREAKING,
        "{subject} accepts other values ({what}): values valid under {OLD} are refused",
        "{subject} accepts other values ({what}): values produced under {NEW} are refused by {OLD}",
    ),
    (
        "pattern-changed",
        "undecided",
        REVIEW,
        REVIEW,
        "the values of {subject} changed ({what}): values valid under {OLD} may be refused",
        "the values of {subject} changed ({what}): values produced under {NEW} may be refused "
        "by {OLD}",
    ),
    (
        "enumeration-changed",
        "values-removed",
        BREAKING,
        COMPATIBLE,
        "{subject} no longer accepts some values ({detail}): documents valid under {OLD} that "
        "use them are rejected",
        "every value produced under {NEW} for {subject} is one {OLD} accepts",
    ),
    (
        "enumeration-changed",
        "values-added",
        COMPATIBLE,
        BREAKING,
        "every value {OLD} accepts for {subject} is still accepted",
        "{subject} accepts new values ({detail}): documents produced under {NEW} may use them, "
        "which {OLD} rejects",
    ),
    (
        "enumeration-changed",
        "introduced",
        BREAKING,
        COMPATIBLE,
        "{subject} is now limited to a list of values: values valid under {OLD} outside it "
        "are rejected",
        "values produced under {NEW} come from a list, and {OLD} accepts any value of the type",
    ),
    (
        "enumeration-changed",
        "dropped",
        COMPATIBLE,
        BREAKING,
        "{NEW} no longer limits {subject} to a list of values",
        "{subject} is no longer limited to {OLD}'s list: documents produced under {NEW} may "
        "use other values",
    ),
    (
        "attribute-added",
        "required",
        BREAKING,
        BREAKING,
        _NOW_REQUIRED,
        _ATTRIBUTE_ADDED_REACHES_OLD,
    ),
    (
        "attribute-added",
        "optional",
        COMPATIBLE,
        BREAKING,
        _KEPT_BY_OLD,
        _ATTRIBUTE_ADDED_REACHES_OLD,
    ),
    (
        "attribute-added",
        "required+wildcard",
        BREAKING,
        COMPATIBLE,
        _NOW_REQUIRED,
        _ATTRIBUTE_OLD_WILDCARD,
    ),
    (
        "attribute-added",
        "optional+wildcard",
        COMPATIBLE,
        COMPATIBLE,
        _KEPT_BY_OLD,
        _ATTRIBUTE_OLD_WILDCARD,
    ),
    ("attribute-removed", "required", BREAKING, BREAKING, _REMOVED_HITS_OLD, _WAS_REQUIRED),
    ("attribute-removed", "optional", BREAKING, COMPATIBLE, _REMOVED_HITS_OLD, _WAS_OPTIONAL),
    (
        "attribute-removed",
        "required+wildcard",
        COMPATIBLE,
        BREAKING,
        _ATTRIBUTE_NEW_WILDCARD,
        _WAS_REQUIRED,
    ),
    (
        "attribute-removed",
        "optional+wildcard",
        COMPATIBLE,
        COMPATIBLE,
        _ATTRIBUTE_NEW_WILDCARD,
        _WAS_OPTIONAL,
    ),
    (
        "attribute-use-changed",
        "became-required",
        BREAKING,
        COMPATIBLE,
        _NOW_REQUIRED,
        "documents produced under {NEW} always carry {subject}, which {OLD} allows",
    ),
    (
        "attribute-use-changed",
        "became-optional",
        COMPATIBLE,
        BREAKING,
        "documents valid under {OLD} carry {subject}, which {NEW} still allows",
        "{subject} is now optional: documents produced under {NEW} may lack it, which {OLD} "
        "rejects",
    ),
    (
        "content-model-changed",
        "order",
        BREAKING,
        BREAKING,
        "the order of the content of {subject} changed ({old} → {new}): documents valid under "
        "{OLD} have the old order",
        "the order of the content of {subject} changed ({old} → {new}): documents produced "
        "under {NEW} have the new order, which {OLD} rejects",
    ),
    (
        "content-model-changed",
        "min-raised",
        BREAKING,
        COMPATIBLE,
        "in {subject}, {detail} must occur more often ({old} → {new}): documents valid under "
        "{OLD} may have too few",
        "documents produced under {NEW} have {detail} at least as often as {OLD} requires",
    ),
    (
        "content-model-changed",
        "min-lowered",
        COMPATIBLE,
        BREAKING,
        "documents valid under {OLD} have {detail} at least as often as {NEW} requires",
        "in {subject}, {detail} may now occur fewer times or be left out ({old} → {new}): "
        "documents produced under {NEW} may lack what {OLD} requires",
    ),
    (
        "content-model-changed",
        "max-raised",
        COMPATIBLE,
        BREAKING,
        "documents valid under {OLD} stay within the higher maximum of {detail}",
        "in {subject}, {detail} may occur more often ({old} → {new}): documents produced under "
        "{NEW} may exceed {OLD}'s maximum",
    ),
    (
        "content-model-changed",
        "max-lowered",
        BREAKING,
        COMPATIBLE,
        "in {subject}, {detail} may occur less often ({old} → {new}): documents valid under "
        "{OLD} may exceed the new maximum",
        "documents produced under {NEW} stay within {OLD}'s higher maximum of {detail}",
    ),
    (
        "content-model-changed",
        "branch-added",
        COMPATIBLE,
        BREAKING,
        "documents valid under {OLD} take choices that {NEW} still offers in {subject}",
        "a choice in {subject} has a new branch ({old} → {new}): documents produced under "
        "{NEW} may take it, which {OLD} rejects",
    ),
    (
        "content-model-changed",
        "branch-removed",
        BREAKING,
        COMPATIBLE,
        "a choice in {subject} lost a branch ({old} → {new}): documents valid under {OLD} "
        "that take it are rejected",
        "documents produced under {NEW} take a branch that {OLD} also offers",
    ),
    (
        "content-model-changed",
        "wildcard-added",
        COMPATIBLE,
        BREAKING,
        "documents valid under {OLD} stay valid: {NEW} accepts more in {subject}",
        "{subject} accepts more through a new wildcard ({old} → {new}): documents produced "
        "under {NEW} may carry content that {OLD} rejects",
    ),
    (
        "content-model-changed",
        "wildcard-removed",
        BREAKING,
        COMPATIBLE,
        "{subject} lost a wildcard ({old} → {new}): documents valid under {OLD} that use it "
        "are rejected",
        "documents produced under {NEW} carry nothing that {OLD}'s wildcard would not accept",
    ),
    (
        "content-model-changed",
        "wildcard-changed",
        REVIEW,
        REVIEW,
        "a wildcard of {subject} changed ({old} → {new}): check what each accepts",
        "a wildcard of {subject} changed ({old} → {new}): check what each accepts",
    ),
    (
        "content-model-changed",
        "restructured",
        REVIEW,
        REVIEW,
        "the content of {subject} was restructured ({old} → {new}): documents valid under "
        "{OLD} may not fit the new structure",
        "the content of {subject} was restructured ({old} → {new}): documents produced under "
        "{NEW} may not fit the old structure",
    ),
    (
        "nillable-changed",
        "added",
        COMPATIBLE,
        BREAKING,
        "documents valid under {OLD} never have a nil {subject}",
        "{subject} may now be nil (xsi:nil): documents produced under {NEW} may use it, which "
        "{OLD} rejects",
    ),
    (
        "nillable-changed",
        "removed",
        BREAKING,
        COMPATIBLE,
        "{subject} may no longer be nil: documents valid under {OLD} with xsi:nil are rejected",
        "documents produced under {NEW} never have a nil {subject}",
    ),
    (
        "fixed-changed",
        "added",
        BREAKING,
        COMPATIBLE,
        "{subject} must now be {new}: documents valid under {OLD} with other values are rejected",
        "the value {new} that {NEW} requires for {subject} was already valid under {OLD}",
    ),
    (
        "fixed-changed",
        "removed",
        COMPATIBLE,
        BREAKING,
        "the value {old} that {OLD} required for {subject} is still valid",
        "{subject} need no longer be {old}: documents produced under {NEW} may hold other "
        "values, which {OLD} rejects",
    ),
    (
        "fixed-changed",
        "changed",
        BREAKING,
        BREAKING,
        "the fixed value of {subject} changed ({old} → {new}): documents valid under {OLD} "
        "carry the old one",
        "the fixed value of {subject} changed ({old} → {new}): documents produced under {NEW} "
        "carry the new one, which {OLD} rejects",
    ),
    (
        "default-changed",
        "changed",
        REVIEW,
        REVIEW,
        "the default of {subject} changed ({old} → {new}): a document that leaves it out now "
        "means something else",
        "the default of {subject} changed ({old} → {new}): a document that leaves it out now "
        "means something else",
    ),
    (
        "namespace-changed",
        "changed",
        BREAKING,
        BREAKING,
        "{subject} moved to another namespace ({old} → {new}): documents valid under {OLD} use "
        "the old one",
        "{subject} moved to another namespace ({old} → {new}): documents produced under {NEW} "
        "use the new one, which {OLD} rejects",
    ),
)


def _sentence(template: str, change: Change, old_label: str, new_label: str) -> str:
    old = change.old if change.old is not None else "none"
    new = change.new if change.new is not None else "none"
    text = template.format(
        subject=change.subject,
        detail=change.detail,
        old=old,
        new=new,
        what=f"{change.detail} {old} → {new}" if change.detail else f"{old} → {new}",
        OLD=old_label,
        NEW=new_label,
    )
    return text[0].upper() + text[1:] + "."


def quoted(value: str) -> str:
    """A value in a sentence: quoted, line breaks and other invisible characters escaped."""
    shown = []
    for char in value:
        if char in "'\\":
            shown.append("\\" + char)
        elif char.isprintable():
            shown.append(char)
        else:
            shown.append(char.encode("unicode_escape").decode("ascii"))
    return "'" + "".join(shown) + "'"


def _example(change: Change, audience: str, level: str, old_label: str, new_label: str) -> str:
    """The sentence that a decided change adds to an audience's reason: an example value it
    breaks, or what could not be decided."""
    decision = change.decision
    if decision is None:
        return ""
    if level == REVIEW and decision.reason:
        return f" Not decided: {decision.reason}."
    if level != BREAKING:
        return ""
    if audience == PRODUCERS and decision.dropped is not None:
        return (
            f" For example, {quoted(decision.dropped)} is valid under {old_label} and refused "
            f"under {new_label}."
        )
    if audience == CONSUMERS and decision.gained is not None:
        return (
            f" For example, {quoted(decision.gained)} is valid under {new_label} and refused "
            f"by {old_label}."
        )
    return ""


def judge(
    change: Change,
    change_id: str,
    schema: str,
    old_label: str,
    new_label: str,
    schemas: tuple[str | None, str | None] = (None, None),
) -> AssessedChange:
    """`change` with the producers' and the consumers' verdicts; `old_label` and `new_label`
    name the versions in the sentences, `schemas` the OLD and NEW schemas."""
    rules = [RULES[(change.kind, effect)] for effect in change.effects]
    producers = max(rules, key=lambda rule: _SEVERITY[rule.producers])
    consumers = max(rules, key=lambda rule: _SEVERITY[rule.consumers])
    verdicts = {}
    for audience, level, why in (
        (PRODUCERS, producers.producers, producers.producers_why),
        (CONSUMERS, consumers.consumers, consumers.consumers_why),
    ):
        sentence = _sentence(why, change, old_label, new_label)
        example = _example(change, audience, level, old_label, new_label)
        verdicts[audience] = Verdict(level, sentence + example)
    return AssessedChange(
        change_id, schema, change, verdicts[PRODUCERS], verdicts[CONSUMERS], schemas=schemas
    )


def worst(levels: list[str]) -> str:
    """The most severe of `levels` (compatible when there are none)."""
    return max(levels, key=_SEVERITY.__getitem__, default=COMPATIBLE)

"""Decide: what happens to an exchange, from its reports and the policy for its direction.

`block` stops the exchange (a request is not forwarded; a response is replaced by an answer in
the SNE's anomaly shape); `log` forwards it and records the violations; `off` does not
validate. When validation could not complete (an internal error, a body over the size limit
or in an encoding the gateway cannot decode),
production fails open and forwards; école and recette block if `fail_closed` is set.

Violations may carry their own action (`actions`, by code): a business rule configured to
`log` (`[rules] pays = "log"`, the default of a control the SNE has announced but does not
enforce yet) fails the exchange's conformance and is logged, but never blocks it. An exchange
is blocked when the policy blocks and one of its violations follows that policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from gateway.routing.route import Policy
from gateway.violation import DocumentReport

Conformance = Literal["pass", "fail", "skipped"]
#: Violations meaning "the gateway could not judge", not "the document is wrong".
INCOMPLETE_CODES = frozenset({"validation.failed", "limits.size", "http.content-encoding"})
FAIL_OPEN_ENVIRONMENTS = frozenset({"prod"})


@dataclass(frozen=True, slots=True)
class Decision:
    conformance: Conformance
    block: bool
    incomplete: bool = False

    @property
    def action(self) -> str:
        """What the gateway did, as logged: blocked, forwarded, or not validated."""
        if self.block:
            return "blocked"
        return "skipped" if self.conformance == "skipped" else "forwarded"


def overall_conformance(decisions: Iterable[Decision]) -> Conformance:
    """An exchange's conformance from its directions': fail if one failed, else pass if one
    passed, else skipped."""
    conformances = {decision.conformance for decision in decisions}
    return "fail" if "fail" in conformances else "pass" if "pass" in conformances else "skipped"


def decide(
    reports: Sequence[DocumentReport],
    policy: Policy,
    env: str,
    fail_closed: bool,
    actions: Mapping[str, Policy] | None = None,
) -> Decision:
    """The decision for one direction: `policy` is the direction's, `actions` overrides it
    for the violations of the codes it names."""
    if policy == "off" or not reports:
        return Decision("skipped", block=False)
    if all(report.valid for report in reports):
        return Decision("pass", block=False)
    violations = [violation for report in reports for violation in report.violations]
    incomplete = any(violation.code in INCOMPLETE_CODES for violation in violations)
    # Whether a violation follows the policy, rather than an action of its own (`log`).
    following = not actions or any(
        actions.get(violation.code, policy) == policy for violation in violations
    )
    if policy == "log" or not following:
        return Decision("fail", block=False, incomplete=incomplete)
    if incomplete and (env in FAIL_OPEN_ENVIRONMENTS or not fail_closed):
        return Decision("fail", block=False, incomplete=True)
    return Decision("fail", block=True, incomplete=incomplete)

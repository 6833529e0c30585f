"""Decide: what happens to an exchange, from its reports and the policy for its direction.

`block` stops the exchange (a request is not forwarded; a response is replaced by an answer in
the SNE's anomaly shape); `log` forwards it and records the violations; `off` does not
validate. When validation could not complete (an internal error, a body over the size limit
or in an encoding the gateway cannot decode),
production fails open and forwards; école and recette block if `fail_closed` is set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from gateway.config import Policy
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
    reports: Sequence[DocumentReport], policy: Policy, env: str, fail_closed: bool
) -> Decision:
    if policy == "off" or not reports:
        return Decision("skipped", block=False)
    if all(report.valid for report in reports):
        return Decision("pass", block=False)
    incomplete = any(
        violation.code in INCOMPLETE_CODES for report in reports for violation in report.violations
    )
    if policy == "log":
        return Decision("fail", block=False, incomplete=incomplete)
    if incomplete and (env in FAIL_OPEN_ENVIRONMENTS or not fail_closed):
        return Decision("fail", block=False, incomplete=True)
    return Decision("fail", block=True, incomplete=incomplete)

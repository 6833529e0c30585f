"""What is kept of a document the next XSD set judges otherwise than the set in service: plain
data, built off the client's path by the next set's process (`gateway.shadow.child`) and
handed to the violations store, which, like the report, reads it without importing the shadow.

Like an exchange's record, it holds no value, no violation message and no document or member
name: codes, schemas, element paths, positions, and the `sne-gateway diff` changes that explain
the difference (their id, kind, path and reason, which are about the schemas only).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.record import ViolationRecord

#: What the next set says of a document: it fails (valid today), or it passes (invalid today).
NEXT_FAILS, NEXT_PASSES = "fail", "pass"


@dataclass(frozen=True, slots=True)
class ExplainingChange:
    """A change between the two sets (as `sne-gateway diff` reports it) that explains the
    difference: its id in that diff, its kind, the element path, and its reason for the
    audience the difference breaks."""

    id: str
    kind: str
    path: str
    why: str


@dataclass(frozen=True, slots=True)
class NextSetDifference:
    """One document of one exchange's direction whose verdict differs between the XSD set in
    service (`current`) and the next one."""

    at_ms: int
    env: str
    request_id: str
    route: str | None
    direction: str
    client: str | None
    #: `name@version` of the schema that judged it in each set (None: none applied).
    current_schema: str | None
    next_schema: str | None
    #: NEXT_FAILS or NEXT_PASSES.
    next: str
    #: The violations of the set that rejects it.
    violations: tuple[ViolationRecord, ...] = ()
    explained_by: tuple[ExplainingChange, ...] = ()

    @property
    def audience(self) -> str:
        """Whom the next set breaks, in `sne-gateway diff`'s words: producers when a document
        valid today fails, consumers when one the set in service rejects passes."""
        return "producers" if self.next == NEXT_FAILS else "consumers"

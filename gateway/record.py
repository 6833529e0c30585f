"""What is kept of a finished exchange: plain data, built once at its end and handed to whatever
records it (the violations store; later the log and the metrics too).

It holds what a campaign is judged by (when, where, which route and schemas, what was decided,
each violation's code and place, how long it took, who sent it) and nothing a document said:
no element value, no violation message (a message may quote a value when `capture_values` is
on), no document or member name. Nothing in it refers to the proxy's objects, so a record can
cross a queue to another thread, or be built by a test, as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

#: An exchange's or a direction's conformance, as its `X-Conformance` header says.
PASS, FAIL, SKIPPED = "pass", "fail", "skipped"


@dataclass(frozen=True, slots=True)
class ViolationRecord:
    """One violation: its stable code, the schema that found it, where in the document."""

    code: str
    schema: str | None = None
    #: The XPath of the node at fault: element names and positions, never a value.
    path: str | None = None
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True, slots=True)
class DirectionRecord:
    """One direction whose body was checked."""

    direction: str
    #: pass, fail or skipped (nothing to validate in the body, or policy off).
    conformance: str
    #: forwarded, blocked or skipped.
    action: str
    #: `name@version` of each schema that judged one of its documents.
    schemas: tuple[str, ...] = ()
    documents: int = 0
    #: Every violation found, those listed below and those only counted (beyond
    #: `max_violations` per document, or failed export members not kept).
    violation_count: int = 0
    violations: tuple[ViolationRecord, ...] = ()
    validation_ms: float = 0.0
    #: Forwarded although it could not be judged whole (fail-open).
    incomplete: bool = False


@dataclass(frozen=True, slots=True)
class ExchangeRecord:
    """One exchange, from its request's arrival to its end."""

    #: When the request arrived, in milliseconds since the Unix epoch (UTC).
    at_ms: int
    env: str
    request_id: str
    method: str
    #: The configuration's route name; None when no route matched.
    route: str | None
    #: The exchange's X-Conformance: fail if a direction failed, else pass if one passed.
    conformance: str
    #: None when it went through; else how it ended (refused, client-disconnected,
    #: upstream.timeout, archive-cut…), as the log's `outcome`.
    outcome: str | None = None
    status: int | None = None
    #: Who sent it: the configured client header's value (the TLS client certificate's
    #: subject, as the TLS-terminating front passes it on), else the peer's address.
    client: str | None = None
    duration_ms: float = 0.0
    upstream_ms: float = 0.0
    directions: tuple[DirectionRecord, ...] = ()

    @property
    def violation_count(self) -> int:
        return sum(direction.violation_count for direction in self.directions)


class RecordSink(Protocol):
    """Whatever takes the records of finished exchanges (the violations store's queue). `put`
    is called on the event loop, at each exchange's end: it must not wait."""

    def put(self, record: ExchangeRecord) -> None: ...

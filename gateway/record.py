"""What is kept of a finished exchange: plain data, built once at its end and handed to every
observer of exchanges (`ExchangeObserver`): the log, the metrics, and whatever records them
next (a violations store), as mitmproxy's addons observe a flow.

It holds what an exchange is judged by: when, where (environment, route, path), what each
direction held and what was decided (the engine's reports, with their schemas as
`name@version`, conformance, action), how long it took, how it ended, who sent it. Nothing in
it refers to the proxy's objects, so a record can cross a queue to another thread, or be built
by a test, as it is. The reports' messages may quote a value when `capture_values` is on:
an observer that keeps records beyond the log keeps `violations`, which hold none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.violation import DocumentReport


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
    #: The engine's reports: an archive's failures only, a message's first failed documents.
    reports: tuple[DocumentReport, ...] = ()
    #: How many documents the body held (`reports` may not list them all).
    documents: int = 0
    #: Failed documents not listed in `reports`.
    omitted: int = 0
    validation_ms: float = 0.0
    #: Forwarded although it could not be judged whole (fail-open).
    incomplete: bool = False
    #: An export's: its check lasted as long as its download, not a validation time.
    archive: bool = False

    @property
    def schemas(self) -> tuple[str, ...]:
        """`name@version` of each schema that judged one of its documents, in order."""
        return tuple(dict.fromkeys(report.schema for report in self.reports if report.schema))

    @property
    def violations(self) -> tuple[ViolationRecord, ...]:
        """Every violation listed, without its message."""
        return tuple(
            ViolationRecord(v.code, report.schema, v.path, v.line, v.column)
            for report in self.reports
            for v in report.violations
        )

    @property
    def violation_count(self) -> int:
        """Violations listed, and those only counted (beyond `max_violations` per document)."""
        return sum(report.violation_count for report in self.reports)


@dataclass(frozen=True, slots=True)
class ExchangeRecord:
    """One exchange, from its request's arrival to its end."""

    #: When the request arrived, in milliseconds since the Unix epoch (UTC).
    at_ms: int
    env: str
    request_id: str
    method: str
    #: The route's name; None when no route matched.
    route: str | None
    #: The exchange's X-Conformance: fail if a direction failed, else pass if one passed.
    conformance: str
    #: None when it went through; else how it ended (refused, client-disconnected,
    #: upstream.timeout, archive-cut...), as the log's `outcome`.
    outcome: str | None = None
    status: int | None = None
    #: Who sent it: the TLS client certificate's subject, else the configured client header's
    #: value, else the peer's address.
    client: str | None = None
    duration_ms: float = 0.0
    upstream_ms: float = 0.0
    directions: tuple[DirectionRecord, ...] = ()
    #: The request's path as forwarded (canonical); as sent when it was refused.
    path: str = ""
    #: Why the gateway refused it (outcome `refused`).
    reason: str | None = None

    @property
    def violation_count(self) -> int:
        return sum(direction.violation_count for direction in self.directions)


class ExchangeObserver(Protocol):
    """Whatever observes finished exchanges. Called on the event loop at each exchange's end,
    in the order the observers were registered: it must not wait."""

    def exchange_ended(self, record: ExchangeRecord) -> None: ...

"""The record of a finished exchange, as the violations store keeps it (`gateway.record`),
built from the exchange's verdicts at its end, where it is also logged and counted."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from gateway.decide import overall_conformance
from gateway.proxy.headers import header
from gateway.record import DirectionRecord, ExchangeRecord, ViolationRecord

if TYPE_CHECKING:
    from gateway.proxy.check import Verdict
    from gateway.proxy.exchange import Exchange

#: A client header's value is kept up to this length (a certificate's subject fits).
MAX_CLIENT_LENGTH = 256


def keep_record(exchange: Exchange) -> None:
    """Hand the exchange's record to the store, if there is one, and to the exchange's taps
    (never waits)."""
    store = exchange.gateway.store
    if store is None and not exchange.taps:
        return
    record = exchange_record(exchange)
    if store is not None:
        store.put(record)
    for tap in exchange.taps:
        tap.ended(record)


def exchange_record(exchange: Exchange) -> ExchangeRecord:
    verdicts = exchange.verdicts
    return ExchangeRecord(
        at_ms=int(exchange.started_at * 1000),
        env=exchange.settings.env,
        request_id=exchange.request_id,
        method=exchange.method,
        route=exchange.route.name if exchange.route else None,
        conformance=overall_conformance(verdict.decision for verdict in verdicts.values()),
        outcome=exchange.outcome,
        status=exchange.status,
        client=client_identity(exchange),
        duration_ms=(time.perf_counter() - exchange.started) * 1000,
        upstream_ms=exchange.upstream_seconds * 1000,
        directions=tuple(
            _direction_record(direction, verdict) for direction, verdict in verdicts.items()
        ),
    )


def client_identity(exchange: Exchange) -> str | None:
    """The configured client header (a TLS client certificate's subject, as the front that
    terminates TLS passes it on), else the peer's address."""
    name = exchange.settings.client_header
    if name is not None:
        value = header(exchange.headers, name.encode("latin-1"))
        if value:
            return value[:MAX_CLIENT_LENGTH]
    client = exchange.scope.get("client")
    return str(client[0]) if client else None


def _direction_record(direction: str, verdict: Verdict) -> DirectionRecord:
    decision = verdict.decision
    schemas: list[str] = []
    count = 0
    violations = []
    # One plain loop: this runs on the event loop at every exchange's end.
    for report in verdict.reports:
        if report.schema and report.schema not in schemas:
            schemas.append(report.schema)
        count += len(report.violations) + report.omitted
        for violation in report.violations:
            violations.append(
                ViolationRecord(
                    violation.code, report.schema, violation.path, violation.line, violation.column
                )
            )
    return DirectionRecord(
        direction=direction,
        conformance=decision.conformance,
        action=decision.action,
        schemas=tuple(schemas),
        documents=len(verdict.reports) if verdict.documents is None else verdict.documents,
        violation_count=count,
        violations=tuple(violations),
        validation_ms=verdict.seconds * 1000,
        incomplete=decision.incomplete,
    )

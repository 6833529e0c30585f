"""The record of a finished exchange (`gateway.record`), built from what the proxy knows of it
at its end: its request's head, each direction's verdict, how it ended. Plain data, handed to
the worker's observers."""

from __future__ import annotations

import time
from collections.abc import Mapping

from gateway.config import Settings
from gateway.decide import overall_conformance
from gateway.proxy.request import RequestHead
from gateway.proxy.verdict import Verdict
from gateway.record import DirectionRecord, ExchangeRecord
from gateway.routing.route import Direction


def exchange_record(
    head: RequestHead,
    settings: Settings,
    route: str | None,
    verdicts: Mapping[Direction, Verdict],
    outcome: str | None,
    status: int | None,
    upstream_seconds: float = 0.0,
    reason: str | None = None,
) -> ExchangeRecord:
    return ExchangeRecord(
        at_ms=int(head.arrived_at * 1000),
        env=settings.env,
        request_id=head.request_id,
        method=head.method,
        route=route,
        conformance=overall_conformance(verdict.decision for verdict in verdicts.values()),
        outcome=outcome,
        status=status,
        client=head.client(settings.client_header),
        duration_ms=(time.perf_counter() - head.arrived) * 1000,
        upstream_ms=upstream_seconds * 1000,
        directions=tuple(direction_record(d, verdict) for d, verdict in verdicts.items()),
        path=head.path,
        reason=reason,
    )


def refused_record(
    head: RequestHead, settings: Settings, status: int, reason: str
) -> ExchangeRecord:
    """The record of a refused request: before any route, nothing checked."""
    return exchange_record(head, settings, None, {}, "refused", status, reason=reason)


def direction_record(direction: str, verdict: Verdict) -> DirectionRecord:
    decision = verdict.decision
    return DirectionRecord(
        direction=direction,
        conformance=decision.conformance,
        action=decision.action,
        reports=tuple(verdict.reports),
        documents=len(verdict.reports) if verdict.documents is None else verdict.documents,
        omitted=verdict.omitted,
        validation_ms=verdict.seconds * 1000,
        incomplete=decision.incomplete,
        archive=verdict.archive,
    )

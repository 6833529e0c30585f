"""Exchange records made by hand, for the store's tests, and a logger that keeps its events."""

from __future__ import annotations

from typing import Any

from gateway.record import DirectionRecord, ExchangeRecord
from gateway.violation import DocumentReport, Violation

#: A direction's violations, as (code, path); [] for a direction that passed.
Found = list[tuple[str, str | None]]


def exchange(
    at_ms: int,
    route: str | None = "drm-ressources",
    request_id: str = "r",
    *,
    request: Found | None = None,
    response: Found | None = None,
    env: str = "recette",
    outcome: str | None = None,
    client: str | None = "127.0.0.1",
) -> ExchangeRecord:
    """An exchange whose request and response were checked when given (blocked when a request
    failed)."""
    directions = []
    for direction, found in (("request", request), ("response", response)):
        if found is None:
            continue
        conformance = "fail" if found else "pass"
        blocked = bool(found) and direction == "request"
        violations = tuple(
            Violation(code, "what the engine says", 12, 7, path) for code, path in found
        )
        directions.append(
            DirectionRecord(
                direction,
                conformance,
                "blocked" if blocked else "forwarded",
                (DocumentReport("body", "drm-ressources@13.34", violations),),
                1,
                validation_ms=0.4,
            )
        )
    states = {direction.conformance for direction in directions}
    return ExchangeRecord(
        at_ms=at_ms,
        env=env,
        request_id=request_id,
        method="POST",
        route=route,
        conformance="fail" if "fail" in states else "pass" if "pass" in states else "skipped",
        outcome=outcome,
        status=200,
        client=client,
        duration_ms=3.0,
        upstream_ms=1.0,
        directions=tuple(directions),
    )


class EventLog:
    """A structlog-like logger keeping (level, event, fields)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def _keep(self, level: str) -> Any:
        return lambda event, **fields: self.events.append((level, event, fields))

    def __getattr__(self, level: str) -> Any:
        if level in ("debug", "info", "warning", "error", "exception"):
            return self._keep(level)
        raise AttributeError(level)

    def named(self, event: str) -> list[dict[str, Any]]:
        return [fields for _, name, fields in self.events if name == event]

"""The queries behind a campaign's summary, written once for SQLite and PostgreSQL.

Counts are grouped in the database; what the databases would spell differently (positions in
paths, local days) is folded here. Days are those of the time zone `report` runs in: the
database groups by hour, and each hour goes to its local day.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from gateway.store.backend import Backend
from gateway.store.summary import (
    Changes,
    CodeCount,
    Day,
    Filters,
    Finding,
    Flow,
    PathGroup,
    Summary,
    Totals,
    without_positions,
)

#: Request ids kept per code and path: the latest exchanges'.
REQUEST_IDS = 3
HOUR_MS = 3_600_000


def _where(filters: Filters) -> tuple[str, list[Any]]:
    """The condition on `exchanges e` the filters make, and its parameters."""
    clauses = ["e.at_ms >= ?", "e.at_ms < ?"]
    parameters: list[Any] = [filters.since_ms, filters.until_ms]
    if filters.env is not None:
        clauses.append("e.env = ?")
        parameters.append(filters.env)
    if filters.route is not None:
        clauses.append("e.route = ?")
        parameters.append(filters.route)
    if filters.direction is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM checks d WHERE d.exchange_id = e.id AND d.direction = ?)"
        )
        parameters.append(filters.direction)
    if filters.code is not None:
        inner = "w.exchange_id = e.id AND w.code = ?"
        parameters.append(filters.code)
        if filters.direction is not None:
            inner += " AND w.direction = ?"
            parameters.append(filters.direction)
        clauses.append(f"EXISTS (SELECT 1 FROM violations w WHERE {inner})")
    return " AND ".join(clauses), parameters


def _also(filters: Filters, alias: str, code: bool) -> tuple[str, list[Any]]:
    """The same filters on a joined `checks` or `violations` row."""
    clauses, parameters = [], []
    if filters.direction is not None:
        clauses.append(f" AND {alias}.direction = ?")
        parameters.append(filters.direction)
    if code and filters.code is not None:
        clauses.append(f" AND {alias}.code = ?")
        parameters.append(filters.code)
    return "".join(clauses), parameters


def _count(condition: str) -> str:
    return f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def summarize(backend: Backend, filters: Filters, made_at_ms: int) -> Summary:
    where, parameters = _where(filters)
    exchanges_by_end = backend.fetch(
        f"""SELECT e.conformance, coalesce(e.outcome, ''), count(*) FROM exchanges e
            WHERE {where} GROUP BY e.conformance, coalesce(e.outcome, '')""",
        parameters,
    )
    flows = _flows(backend, filters, where, parameters)
    found = _found(backend, filters, where, parameters)
    conformance: dict[str, int] = defaultdict(int)
    outcomes: dict[str, int] = defaultdict(int)
    for state, outcome, count in exchanges_by_end:
        conformance[state] += count
        if outcome:
            outcomes[outcome] += count
    totals = Totals(
        exchanges=sum(conformance.values()),
        passed=conformance["pass"],
        failed=conformance["fail"],
        skipped=conformance["skipped"],
        violations=sum(flow.violations for flow in flows),
    )
    findings: dict[Finding, int] = defaultdict(int)
    for route, direction, code, _path, count, _first, _last in found:
        findings[Finding(route, direction, code)] += int(count)
    return Summary(
        filters=filters,
        made_at_ms=made_at_ms,
        totals=totals,
        flows=flows,
        codes=_codes(backend, filters, where, parameters),
        groups=_groups(backend, filters, where, parameters, found),
        findings=tuple(sorted(findings.items(), key=lambda item: item[0].key())),
        days=_days(backend, where, parameters),
        outcomes=dict(sorted(outcomes.items())),
    )


def _flows(
    backend: Backend, filters: Filters, where: str, parameters: list[Any]
) -> tuple[Flow, ...]:
    also, more = _also(filters, "c", code=False)
    rows = backend.fetch(
        f"""SELECT e.route, c.direction, count(*), {_count("c.conformance = 'pass'")},
            {_count("c.conformance = 'fail'")}, {_count("c.conformance = 'skipped'")},
            {_count("c.action = 'blocked'")}, sum(c.violations)
            FROM exchanges e JOIN checks c ON c.exchange_id = e.id
            WHERE {where}{also} GROUP BY e.route, c.direction""",
        parameters + more,
    )
    # PostgreSQL sums BIGINTs as NUMERIC, which psycopg reads as Decimal.
    flows = [
        Flow(route, direction, *(int(n or 0) for n in counts)) for route, direction, *counts in rows
    ]
    if filters.direction is None:
        unchecked = backend.fetch(
            f"""SELECT e.route, count(*) FROM exchanges e WHERE {where} AND NOT EXISTS
                (SELECT 1 FROM checks c WHERE c.exchange_id = e.id) GROUP BY e.route""",
            parameters,
        )
        flows += [Flow(route, None, count) for route, count in unchecked]
    return tuple(sorted(flows, key=lambda flow: (flow.route, flow.direction or "~")))


def _found(
    backend: Backend, filters: Filters, where: str, parameters: list[Any]
) -> list[tuple[Any, ...]]:
    """Violations by route, direction, code and path: count, first and last seen."""
    also, more = _also(filters, "v", code=True)
    return backend.fetch(
        f"""SELECT e.route, v.direction, v.code, v.path, count(*), min(e.at_ms), max(e.at_ms)
            FROM exchanges e JOIN violations v ON v.exchange_id = e.id
            WHERE {where}{also} GROUP BY e.route, v.direction, v.code, v.path""",
        parameters + more,
    )


def _codes(
    backend: Backend, filters: Filters, where: str, parameters: list[Any]
) -> tuple[CodeCount, ...]:
    also, more = _also(filters, "v", code=True)
    rows = backend.fetch(
        f"""SELECT v.code, count(*), count(DISTINCT e.id), min(e.at_ms), max(e.at_ms)
            FROM exchanges e JOIN violations v ON v.exchange_id = e.id
            WHERE {where}{also} GROUP BY v.code""",
        parameters + more,
    )
    return tuple(sorted((CodeCount(*row) for row in rows), key=lambda c: (-c.violations, c.code)))


def _groups(
    backend: Backend,
    filters: Filters,
    where: str,
    parameters: list[Any],
    found: Iterable[Sequence[Any]],
) -> tuple[PathGroup, ...]:
    also, more = _also(filters, "v", code=True)
    latest = backend.fetch(
        f"""SELECT code, path, request_id, at_ms FROM (
                SELECT v.code, v.path, e.request_id, e.at_ms, ROW_NUMBER() OVER (
                    PARTITION BY v.code, v.path ORDER BY e.at_ms DESC, e.id DESC) AS n
                FROM exchanges e JOIN violations v ON v.exchange_id = e.id
                WHERE {where}{also}) ranked
            WHERE n <= {REQUEST_IDS}""",
        parameters + more,
    )
    counts: dict[tuple[str, str | None], list[Any]] = {}
    for route, direction, code, path, count, first, last in found:
        key = (code, without_positions(path))
        entry = counts.setdefault(key, [0, first, last, set(), set()])
        entry[0] += int(count)
        entry[1], entry[2] = min(entry[1], first), max(entry[2], last)
        entry[3].add(route)
        entry[4].add(direction)
    recent: dict[tuple[str, str | None], list[tuple[int, str]]] = defaultdict(list)
    for code, path, request_id, at_ms in latest:
        recent[code, without_positions(path)].append((at_ms, request_id))
    groups = []
    for (code, path), (count, first, last, routes, directions) in counts.items():
        ids = dict.fromkeys(
            request_id for _, request_id in sorted(recent[code, path], reverse=True)
        )
        groups.append(
            PathGroup(
                code,
                path,
                count,
                first,
                last,
                tuple(sorted(routes)),
                tuple(sorted(directions)),
                tuple(ids)[:REQUEST_IDS],
            )
        )
    return tuple(sorted(groups, key=lambda g: (-g.violations, g.code, g.path or "")))


def _days(backend: Backend, where: str, parameters: list[Any]) -> tuple[Day, ...]:
    rows = backend.fetch(
        f"""SELECT e.at_ms / {HOUR_MS}, count(*), {_count("e.conformance = 'pass'")},
            {_count("e.conformance = 'fail'")}, sum(e.violations)
            FROM exchanges e WHERE {where} GROUP BY e.at_ms / {HOUR_MS}""",
        parameters,
    )
    days: dict[Any, list[int]] = {}
    for hour, exchanges, passed, failed, violations in rows:
        day = datetime.fromtimestamp(hour * HOUR_MS / 1000).date()
        totals = days.setdefault(day, [0, 0, 0, 0])
        for index, value in enumerate((exchanges, passed, failed, violations)):
            totals[index] += int(value)
    return tuple(Day(day, *days[day]) for day in sorted(days))


def choices(backend: Backend, since_ms: int, until_ms: int) -> tuple[list[str], list[str]]:
    """The routes and codes seen in a window, for the dashboard's filters."""
    routes = backend.fetch(
        "SELECT DISTINCT route FROM exchanges WHERE at_ms >= ? AND at_ms < ?", (since_ms, until_ms)
    )
    codes = backend.fetch(
        """SELECT DISTINCT v.code FROM exchanges e JOIN violations v ON v.exchange_id = e.id
           WHERE e.at_ms >= ? AND e.at_ms < ?""",
        (since_ms, until_ms),
    )
    return sorted(row[0] for row in routes), sorted(row[0] for row in codes)


def compare_with_previous(backend: Backend, summary: Summary) -> Changes:
    """What changed since the last report of the same filters (nothing recorded)."""
    rows = backend.fetch(
        """SELECT made_at_ms, since_ms, until_ms, found FROM reports WHERE scope = ?
           ORDER BY id DESC LIMIT 1""",
        (summary.filters.scope(),),
    )
    if not rows:
        return Changes(None)
    made_at, since, until, found = rows[0]
    before = {Finding.from_key(key) for key in json.loads(found)}
    now = {finding for finding, _ in summary.findings}
    return Changes(
        made_at,
        since,
        until,
        new=tuple(sorted(now - before, key=Finding.key)),
        gone=tuple(sorted(before - now, key=Finding.key)),
    )


def remember(backend: Backend, summary: Summary) -> None:
    """Record what this report found, for the next one."""
    backend.execute(
        "INSERT INTO reports (made_at_ms, scope, since_ms, until_ms, found) VALUES (?, ?, ?, ?, ?)",
        (
            summary.made_at_ms,
            summary.filters.scope(),
            summary.filters.since_ms,
            summary.filters.until_ms,
            json.dumps([finding.key() for finding, _ in summary.findings]),
        ),
    )

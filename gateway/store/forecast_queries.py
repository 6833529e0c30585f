"""The queries behind the report's sections on what is coming: what the next XSD set would
break in the traffic (`next_set_differences`), and the GDM usage advisories (`gdm_calls`,
`gdm_advisories`). Their rows are few (documents judged otherwise, calls a few times a day),
so they are grouped here rather than in SQL, their JSON columns read once.

A store written before these tables existed has none until a gateway opens it to write: the
sections are then None (`report` says the store has no such records yet).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from gateway.next_set_record import NEXT_FAILS, ExplainingChange
from gateway.store.backend import Backend, StoreRejected, StoreUnavailable
from gateway.store.summary import (
    AdvisoryGroup,
    Filters,
    GdmClient,
    GdmUsage,
    NextSetFinding,
    NextSetForecast,
    without_positions,
)

#: Request ids kept per finding: the latest documents'.
REQUEST_IDS = 3
#: Advisories first by severity.
SEVERITY_ORDER = {"warning": 0, "notice": 1}


def _has(backend: Backend, table: str) -> bool:
    try:
        backend.fetch(f"SELECT 1 FROM {table} WHERE 1 = 0")
    except (StoreUnavailable, StoreRejected):  # SQLite's "no such table", PostgreSQL's
        return False
    return True


def _window(filters: Filters, with_route: bool) -> tuple[str, list[Any]]:
    clauses = ["at_ms >= ?", "at_ms < ?"]
    parameters: list[Any] = [filters.since_ms, filters.until_ms]
    if filters.env is not None:
        clauses.append("env = ?")
        parameters.append(filters.env)
    if with_route and filters.route is not None:
        clauses.append("route = ?")
        parameters.append(filters.route)
    if with_route and filters.direction is not None:
        clauses.append("direction = ?")
        parameters.append(filters.direction)
    return " AND ".join(clauses), parameters


def next_set_forecast(backend: Backend, filters: Filters) -> NextSetForecast | None:
    """The documents the next set judged otherwise in the window, by route, direction,
    verdict, schemas, code and path (with `filters.code`, only that code's)."""
    if not _has(backend, "next_set_differences"):
        return None
    where, parameters = _window(filters, with_route=True)
    rows = backend.fetch(
        f"""SELECT route, direction, verdict_next, schema_now, schema_next, violations,
            explained_by, at_ms, request_id FROM next_set_differences
            WHERE {where} ORDER BY at_ms, id""",
        parameters,
    )
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    counted = {NEXT_FAILS: 0, "pass": 0}
    versions: dict[str, None] = {}
    for route, direction, verdict, current, upcoming, violations, explained, at, rid in rows:
        codes = {
            (code, without_positions(path))
            for code, path, _, _ in json.loads(violations)
            if filters.code is None or code == filters.code
        }
        if not codes:
            continue
        counted[verdict] = counted.get(verdict, 0) + 1
        if upcoming:
            versions.setdefault(upcoming.rpartition("@")[2])
        changes = [ExplainingChange(*change) for change in json.loads(explained)]
        for code, path in sorted(codes, key=lambda pair: (pair[0], pair[1] or "")):
            key = (route, direction, verdict, current, upcoming, code, path)
            group = groups.setdefault(key, {"documents": 0, "first": at, "ids": [], "changes": {}})
            group["documents"] += 1
            group["last"] = at
            group["ids"].append(rid)
            for change in changes:
                group["changes"].setdefault((change.id, change.kind, change.path), change)
    findings = [
        NextSetFinding(
            route=key[0],
            direction=key[1],
            next=key[2],
            current_schema=key[3],
            next_schema=key[4],
            code=key[5],
            path=key[6],
            documents=group["documents"],
            first_ms=group["first"],
            last_ms=group["last"],
            request_ids=tuple(dict.fromkeys(reversed(group["ids"])))[:REQUEST_IDS],
            explained_by=tuple(group["changes"].values()),
        )
        for key, group in groups.items()
    ]
    findings.sort(key=lambda f: (f.next != NEXT_FAILS, -f.documents, f.route, f.direction, f.code))
    return NextSetForecast(
        failing=counted[NEXT_FAILS],
        passing=counted["pass"],
        next_versions=tuple(versions),
        findings=tuple(findings),
    )


def gdm_usage(backend: Backend, filters: Filters) -> GdmUsage | None:
    """Each client's GDM calls in the window, and its advisories by kind."""
    if not _has(backend, "gdm_calls") or not _has(backend, "gdm_advisories"):
        return None
    where, parameters = _window(filters, with_route=False)
    clients = backend.fetch(
        f"""SELECT client, count(*), min(at_ms), max(at_ms) FROM gdm_calls WHERE {where}
            GROUP BY client ORDER BY client""",
        parameters,
    )
    rows = backend.fetch(
        f"""SELECT client, kind, severity, at_ms, request_id, depuis_ms, previous_at_ms,
            figures FROM gdm_advisories WHERE {where} ORDER BY at_ms, id""",
        parameters,
    )
    grouped: dict[tuple[str, str, str], list[tuple[Any, ...]]] = defaultdict(list)
    for client, kind, severity, *rest in rows:
        grouped[client, kind, severity].append(tuple(rest))
    groups = [
        AdvisoryGroup(
            client,
            kind,
            severity,
            count=len(found),
            first_ms=found[0][0],
            last_ms=found[-1][0],
            latest_request_id=found[-1][1],
            latest_depuis_ms=found[-1][2],
            latest_previous_at_ms=found[-1][3],
            latest_figures=json.loads(found[-1][4]),
        )
        for (client, kind, severity), found in grouped.items()
    ]
    groups.sort(key=lambda g: (SEVERITY_ORDER.get(g.severity, 9), g.client, g.kind))
    return GdmUsage(
        clients=tuple(
            GdmClient(client, int(calls), first, last) for client, calls, first, last in clients
        ),
        groups=tuple(groups),
    )

"""The store's tables, the same in SQLite and PostgreSQL but for their column types, and the rows
of a record.

- `exchanges`: one row per exchange (when, where, who, how it ended, its violation count);
- `checks`: one row per direction checked (its conformance, action, schemas, durations);
- `violations`: one row per violation listed (code, schema, path, line, column);
- `reports`: what each `sne-gateway report` found, for the next one to say what changed;
- `meta`: the tables' version, and when retention last ran (so one worker runs it at a time);
- `next_set_differences`: each document the next XSD set judges otherwise than the set in
  service (`gateway.shadow`), its violations and explaining changes as JSON;
- `gdm_calls` and `gdm_advisories`: the GDM movements calls of each client and the advisories
  they gave (`gateway.advice`), which every worker and replica reads and writes.

The last three came after the first layout: a store of layout 1 gets them when a gateway
opens it to write (its readers find them missing until then, and say so), and so a column
added since (`ADDED_COLUMNS`: `gdm_advisories.once_key`, with its UNIQUE index).

An exchange's checks and violations are clustered by its id, so retention, which removes the
oldest exchanges, frees whole pages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from gateway.next_set_record import NextSetDifference
from gateway.record import ExchangeRecord

#: What the violations store's writer takes.
StoreRecord = ExchangeRecord | NextSetDifference

#: The tables' layout; a store of another version is refused (moved aside, for SQLite).
SCHEMA_VERSION = 1
#: An exchange no route matched, as a row says it (the metrics' label too).
NO_ROUTE = ""

EXCHANGE_COLUMNS = (
    "id",
    "at_ms",
    "env",
    "route",
    "method",
    "status",
    "outcome",
    "conformance",
    "request_id",
    "client",
    "duration_ms",
    "upstream_ms",
    "violations",
)
CHECK_COLUMNS = (
    "exchange_id",
    "direction",
    "conformance",
    "action",
    "schemas",
    "documents",
    "violations",
    "validation_ms",
    "incomplete",
)
VIOLATION_COLUMNS = (
    "exchange_id",
    "seq",
    "direction",
    "code",
    "schema_name",
    "path",
    "line",
    "col",
)


def _tables(
    key: str, text: str, integer: str, real: str, clustered: str, auto_key: str
) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS exchanges (
            id {key} PRIMARY KEY, at_ms {integer} NOT NULL, env {text} NOT NULL,
            route {text} NOT NULL, method {text} NOT NULL, status {integer}, outcome {text},
            conformance {text} NOT NULL, request_id {text} NOT NULL, client {text},
            duration_ms {real}, upstream_ms {real}, violations {integer} NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS exchanges_at ON exchanges (at_ms)",
        f"""CREATE TABLE IF NOT EXISTS checks (
            exchange_id {integer} NOT NULL, direction {text} NOT NULL,
            conformance {text} NOT NULL, action {text} NOT NULL, schemas {text},
            documents {integer} NOT NULL, violations {integer} NOT NULL,
            validation_ms {real}, incomplete {integer} NOT NULL,
            PRIMARY KEY (exchange_id, direction)){clustered}""",
        f"""CREATE TABLE IF NOT EXISTS violations (
            exchange_id {integer} NOT NULL, seq {integer} NOT NULL, direction {text} NOT NULL,
            code {text} NOT NULL, schema_name {text}, path {text}, line {integer},
            col {integer}, PRIMARY KEY (exchange_id, seq)){clustered}""",
        f"""CREATE TABLE IF NOT EXISTS reports (
            id {auto_key} PRIMARY KEY, made_at_ms {integer} NOT NULL, scope {text} NOT NULL,
            since_ms {integer} NOT NULL, until_ms {integer} NOT NULL, found {text} NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS meta (
            key {text} PRIMARY KEY, number {integer} NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS next_set_differences (
            id {auto_key} PRIMARY KEY, at_ms {integer} NOT NULL, env {text} NOT NULL,
            route {text} NOT NULL, direction {text} NOT NULL, request_id {text} NOT NULL,
            client {text}, schema_now {text}, schema_next {text}, verdict_next {text} NOT NULL,
            violations {text} NOT NULL, explained_by {text} NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS next_set_differences_at ON next_set_differences (at_ms)",
        f"""CREATE TABLE IF NOT EXISTS gdm_calls (
            id {auto_key} PRIMARY KEY, client {text} NOT NULL, at_ms {integer} NOT NULL,
            arrived_ms {integer} NOT NULL, depuis_ms {integer} NOT NULL,
            communes {text} NOT NULL, movements {integer}, env {text} NOT NULL,
            request_id {text} NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS gdm_calls_client ON gdm_calls (client, at_ms)",
        f"""CREATE TABLE IF NOT EXISTS gdm_advisories (
            id {auto_key} PRIMARY KEY, at_ms {integer} NOT NULL, env {text} NOT NULL,
            client {text} NOT NULL, kind {text} NOT NULL, severity {text} NOT NULL,
            request_id {text} NOT NULL, depuis_ms {integer}, previous_at_ms {integer},
            figures {text} NOT NULL, once_key {text})""",
        "CREATE INDEX IF NOT EXISTS gdm_advisories_at ON gdm_advisories (at_ms)",
    ]


#: Columns added to a table after it first shipped: (table, column, type), added to the
#: stores made before when a gateway opens them to write (their rows get NULL).
ADDED_COLUMNS = (("gdm_advisories", "once_key", "TEXT"),)
#: Statements that need the added columns. Each advisory is kept once per client
#: (`gateway.advice.gdm_rules.Advisory.once`), whichever worker or replica finds it; rows
#: from before the column (NULL) are all distinct to the index.
AFTER_ADDED_COLUMNS = (
    "CREATE UNIQUE INDEX IF NOT EXISTS gdm_advisories_once ON gdm_advisories (client, once_key)",
)


SQLITE_TABLES = _tables("INTEGER", "TEXT", "INTEGER", "REAL", " WITHOUT ROWID", "INTEGER")
POSTGRESQL_TABLES = [
    *_tables("BIGINT", "TEXT", "BIGINT", "DOUBLE PRECISION", "", "BIGSERIAL"),
    "CREATE SEQUENCE IF NOT EXISTS exchange_ids",
]


def exchange_rows(
    record: ExchangeRecord, exchange_id: int
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows of `record` in `exchanges`, `checks` and `violations`."""
    exchange = (
        exchange_id,
        record.at_ms,
        record.env,
        record.route or NO_ROUTE,
        record.method,
        record.status,
        record.outcome,
        record.conformance,
        record.request_id,
        record.client,
        round(record.duration_ms, 3),
        round(record.upstream_ms, 3),
        record.violation_count,
    )
    checks: list[tuple[Any, ...]] = []
    violations: list[tuple[Any, ...]] = []
    for direction in record.directions:
        checks.append(
            (
                exchange_id,
                direction.direction,
                direction.conformance,
                direction.action,
                ",".join(direction.schemas) or None,
                direction.documents,
                direction.violation_count,
                round(direction.validation_ms, 3),
                int(direction.incomplete),
            )
        )
        for violation in direction.violations:
            violations.append(
                (
                    exchange_id,
                    len(violations),
                    direction.direction,
                    violation.code,
                    violation.schema,
                    violation.path,
                    violation.line,
                    violation.column,
                )
            )
    return exchange, checks, violations


def all_rows(
    records: Iterable[ExchangeRecord], ids: Sequence[int]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows of `records`, the exchanges numbered by `ids` in turn."""
    exchanges, checks, violations = [], [], []
    for exchange_id, record in zip(ids, records, strict=True):
        exchange, its_checks, its_violations = exchange_rows(record, exchange_id)
        exchanges.append(exchange)
        checks.extend(its_checks)
        violations.extend(its_violations)
    return exchanges, checks, violations


NEXT_SET_COLUMNS = (
    "at_ms",
    "env",
    "route",
    "direction",
    "request_id",
    "client",
    "schema_now",
    "schema_next",
    "verdict_next",
    "violations",
    "explained_by",
)


def next_set_row(difference: NextSetDifference) -> tuple[Any, ...]:
    """The row of `difference` in `next_set_differences`."""
    return (
        difference.at_ms,
        difference.env,
        difference.route or NO_ROUTE,
        difference.direction,
        difference.request_id,
        difference.client,
        difference.current_schema,
        difference.next_schema,
        difference.next,
        json.dumps([[v.code, v.path, v.line, v.column] for v in difference.violations]),
        json.dumps(
            [[c.id, c.kind, c.path, c.why] for c in difference.explained_by], ensure_ascii=False
        ),
    )


def split(records: Sequence[StoreRecord]) -> tuple[list[ExchangeRecord], list[tuple[Any, ...]]]:
    """The exchanges' records, and the rows of the next set's differences."""
    exchanges = [record for record in records if isinstance(record, ExchangeRecord)]
    differences = [
        next_set_row(record) for record in records if isinstance(record, NextSetDifference)
    ]
    return exchanges, differences


def insert(table: str, columns: Sequence[str], rows: int = 1) -> str:
    """An INSERT of `rows` rows into `table`, with `?` placeholders."""
    row = f"({', '.join('?' * len(columns))})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * rows)}"

"""The PostgreSQL store, for several gateway replicas writing to one place.

psycopg 3 (with its binary wheel, which carries libpq: nothing to install on the host) is the
maintained PostgreSQL driver for Python; its COPY support writes a batch of rows in one round
trip. Each worker holds one connection; exchange ids come from a sequence, so replicas never
collide. Retention here is by age only: PostgreSQL keeps the space of removed rows for its own
reuse, so the size of the tables does not tell how much data they hold, and bounding a
database server's disk is its administrator's business.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import errors

from gateway.store.backend import Backend, StoreRejected, StoreUnavailable
from gateway.store.location import StoreLocation
from gateway.store.tables import (
    ADDED_COLUMNS,
    AFTER_ADDED_COLUMNS,
    CHECK_COLUMNS,
    EXCHANGE_COLUMNS,
    NEXT_SET_COLUMNS,
    POSTGRESQL_TABLES,
    VIOLATION_COLUMNS,
    StoreRecord,
    all_rows,
    split,
)

CONNECT_SECONDS = 5
#: How long a write may go unanswered before the server counts as unreachable.
SILENT_MS = 30_000
#: Taken while the tables are made, so that workers starting together do not race.
SCHEMA_LOCK = 7_220_020
#: The first key of the advisory locks `locked` takes (the second is the key's hash).
LOCK_SPACE = 7_220_021


def translated(error: psycopg.Error) -> Exception:
    """The store's kind of failure for a psycopg error: a connection or server problem (lost,
    shut down, disk full, read-only) may pass; anything else is about the rows."""
    reason = f"{type(error).__name__}: {str(error).strip()}"
    transient = (
        psycopg.OperationalError,
        psycopg.InterfaceError,
        errors.InsufficientResources,
        errors.ReadOnlySqlTransaction,
        errors.LockNotAvailable,
        errors.SerializationFailure,
    )
    if isinstance(error, transient):
        return StoreUnavailable(reason)
    return StoreRejected(reason)


class PostgresStore(Backend):
    def __init__(self, location: StoreLocation, prepare: bool = True) -> None:
        self.location = location
        try:
            self.connection = psycopg.connect(
                location.target,
                autocommit=True,
                connect_timeout=CONNECT_SECONDS,
                application_name="sne-gateway",
                # A server gone silent (a host down, a network cut) fails the write within
                # about half a minute rather than holding the writer thread for good.
                keepalives=1,
                keepalives_idle=10,
                keepalives_interval=5,
                keepalives_count=3,
                tcp_user_timeout=SILENT_MS,
                options=f"-c statement_timeout={SILENT_MS}",
            )
        except psycopg.Error as error:
            raise StoreUnavailable(
                f"{location.shown()}: {str(error).strip() or type(error).__name__}"
            ) from None
        if not prepare:
            return
        try:
            with self.connection.transaction():
                self.connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                for statement in POSTGRESQL_TABLES:
                    self.connection.execute(statement)
                for table, column, kind in ADDED_COLUMNS:
                    self.connection.execute(
                        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}"
                    )
                for statement in AFTER_ADDED_COLUMNS:
                    self.connection.execute(statement)
            self.prepare_meta()
        except psycopg.Error as error:
            self.close()
            raise translated(error) from None

    def write(self, records: Sequence[StoreRecord]) -> None:
        records, differences = split(records)
        try:
            with self.connection.transaction(), self.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval('exchange_ids') FROM generate_series(1, %s)", (len(records),)
                )
                ids = [row[0] for row in cursor.fetchall()]
                for table, columns, rows in zip(
                    ("exchanges", "checks", "violations", "next_set_differences"),
                    (EXCHANGE_COLUMNS, CHECK_COLUMNS, VIOLATION_COLUMNS, NEXT_SET_COLUMNS),
                    (*all_rows(records, ids), differences),
                    strict=True,
                ):
                    if not rows:
                        continue
                    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                    with cursor.copy(statement) as copy:
                        for row in rows:
                            copy.write_row(row)
        except psycopg.Error as error:
            raise translated(error) from None

    @contextlib.contextmanager
    def locked(self, key: str) -> Iterator[None]:
        """A transaction holding the advisory lock of `key` (its hash, in a space of the
        gateway's own), which replicas' workers take in turn."""
        try:
            with self.connection.transaction():
                self.connection.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_SPACE, key)
                )
                yield
        except psycopg.Error as error:
            raise translated(error) from None

    def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.connection.execute(_placeholders(sql), parameters).fetchall()
        except psycopg.Error as error:
            raise translated(error) from None

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        try:
            return self.connection.execute(_placeholders(sql), parameters).rowcount
        except psycopg.Error as error:
            raise translated(error) from None

    def delete_exchanges(self, ids: Sequence[int]) -> None:
        try:
            with self.connection.transaction():
                for table, column in (
                    ("violations", "exchange_id"),
                    ("checks", "exchange_id"),
                    ("exchanges", "id"),
                ):
                    self.connection.execute(
                        f"DELETE FROM {table} WHERE {column} = ANY(%s)",
                        (list(ids),),
                    )
        except psycopg.Error as error:
            raise translated(error) from None

    def close(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self.connection.close()


def _placeholders(sql: str) -> str:
    """The SQL written with `?` placeholders (as SQLite takes them), in psycopg's style."""
    return sql.replace("%", "%%").replace("?", "%s")

"""The SQLite store: one file, written by every worker of a `serve`.

Write-ahead logging lets the dashboard and `report` read while a worker writes; SQLite's own
write lock makes the workers' batches take turns (each waits up to `BUSY_SECONDS` for it), so
there is one writer at a time without a process of its own. `synchronous = NORMAL`: a power
cut may lose the last batches, never the file. Pages freed by retention go back to the file
system (`auto_vacuum = INCREMENTAL`).

A file that is not a database, or is damaged, is moved aside (`NAME.corrupt-TIMESTAMP`, with
its write-ahead log) and a new one started; another worker still writing to the old file sees
that its path now names another file, and opens the new one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gateway.store.backend import Backend, StoreCorrupt, StoreRejected, StoreUnavailable
from gateway.store.location import StoreLocation
from gateway.store.tables import (
    ADDED_COLUMNS,
    AFTER_ADDED_COLUMNS,
    CHECK_COLUMNS,
    EXCHANGE_COLUMNS,
    NEXT_SET_COLUMNS,
    SQLITE_TABLES,
    VIOLATION_COLUMNS,
    StoreRecord,
    all_rows,
    insert,
    split,
)

#: How long a worker waits for another's write (or retention) to end before giving up on a
#: batch (it keeps it and tries again).
BUSY_SECONDS = 10.0
#: The write-ahead log is cut back to this after a checkpoint.
WAL_LIMIT_BYTES = 64 * 1024 * 1024
#: SQLite's primary result codes (`sqlite_errorcode & 0xff`) for a damaged file.
CORRUPT_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB
#: ... and for a store that may take records later: busy, locked, read-only, I/O error, full,
#: cannot open, out of memory, permission, protocol.
TRANSIENT_CODES = frozenset({5, 6, 8, 10, 13, 14, 7, 3, 15})
SIDE_FILES = ("-wal", "-shm")
#: Rows a statement inserts (13 columns each at most: far under SQLite's 32,766 parameters).
ROWS_PER_INSERT = 100


def translated(error: sqlite3.Error, inode: int | None = None) -> Exception:
    """The store's kind of failure for an error of the sqlite3 module on the file `inode`."""
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    reason = f"{type(error).__name__}: {error}"
    if code in CORRUPT_CODES:
        return StoreCorrupt(reason, inode)
    if code in TRANSIENT_CODES or isinstance(error, sqlite3.OperationalError):
        return StoreUnavailable(reason)
    return StoreRejected(reason)


class SqliteStore(Backend):
    def __init__(self, location: StoreLocation, prepare: bool = True) -> None:
        self.location = location
        self.path = location.path
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.connection = sqlite3.connect(
                self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
            )
            self.inode = os.stat(self.path).st_ino
        except OSError as error:
            raise StoreUnavailable(f"{self.path}: {error.strerror or error}") from None
        except sqlite3.Error as error:
            raise translated(error) from None
        if not prepare:
            return
        try:
            self._prepare()
        except sqlite3.Error as error:
            self.close()
            raise translated(error, self.inode) from None
        except BaseException:
            self.close()
            raise

    def _prepare(self) -> None:
        connection = self.connection
        # Only a new, empty file takes it: it must come before the first table.
        connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES}")
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in SQLITE_TABLES:
                connection.execute(statement)
            for table, column, kind in ADDED_COLUMNS:
                # SQLite has no ADD COLUMN IF NOT EXISTS.
                present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            for statement in AFTER_ADDED_COLUMNS:
                connection.execute(statement)
            connection.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        self.prepare_meta()

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.connection.execute("ROLLBACK")

    def moved(self) -> bool:
        """Whether the path now names another file than the one open (moved aside by another
        worker, or removed)."""
        try:
            return os.stat(self.path).st_ino != self.inode
        except OSError:
            return True

    def write(self, records: Sequence[StoreRecord]) -> None:
        if self.moved():
            raise StoreUnavailable(f"{self.path} was moved or removed; it is opened again")
        connection = self.connection
        records, differences = split(records)
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                # The write lock is held: no other worker numbers exchanges meanwhile.
                ((first,),) = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM exchanges")
                exchanges, checks, violations = all_rows(
                    records, range(first, first + len(records))
                )
                for table, columns, rows in (
                    ("exchanges", EXCHANGE_COLUMNS, exchanges),
                    ("checks", CHECK_COLUMNS, checks),
                    ("violations", VIOLATION_COLUMNS, violations),
                    ("next_set_differences", NEXT_SET_COLUMNS, differences),
                ):
                    _insert(connection, table, columns, rows)
                connection.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        except sqlite3.Error as error:
            raise translated(error, self.inode) from None

    @contextlib.contextmanager
    def locked(self, key: str) -> Iterator[None]:
        """SQLite has one write lock for the whole file: held from the start (`BEGIN
        IMMEDIATE`), whatever `key`."""
        connection = self.connection
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise translated(error, self.inode) from None
        try:
            yield
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            self._rollback()
            raise translated(error, self.inode) from None
        except BaseException:
            self._rollback()
            raise

    def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.connection.execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            raise translated(error, self.inode) from None

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        try:
            return self.connection.execute(sql, parameters).rowcount
        except sqlite3.Error as error:
            raise translated(error, self.inode) from None

    def delete_exchanges(self, ids: Sequence[int]) -> None:
        marks = ", ".join("?" * len(ids))
        connection = self.connection
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                for table, column in (
                    ("violations", "exchange_id"),
                    ("checks", "exchange_id"),
                    ("exchanges", "id"),
                ):
                    connection.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", ids)
                connection.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        except sqlite3.Error as error:
            raise translated(error, self.inode) from None

    def used_bytes(self) -> int:
        ((pages,),) = self.fetch("PRAGMA page_count")
        ((free,),) = self.fetch("PRAGMA freelist_count")
        ((size,),) = self.fetch("PRAGMA page_size")
        return int((pages - free) * size)

    def compact(self) -> None:
        self.fetch("PRAGMA incremental_vacuum")
        self.fetch("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.connection.close()


def _insert(
    connection: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """`rows` inserted `ROWS_PER_INSERT` to a statement: a fifth less CPU than a statement a
    row (`executemany`), and the GIL, which sqlite3 lets go at each statement, handed to the
    event loop's thread and back a hundred times less often."""
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start : start + ROWS_PER_INSERT]
        connection.execute(
            insert(table, columns, len(chunk)), [value for row in chunk for value in row]
        )


def set_aside(path: Path, inode: int | None) -> Path | None:
    """Move the damaged store file `inode` at `path` (and its write-ahead log) aside, so that
    a new one can start; where it went, or None when another worker already did it."""
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
    try:
        if inode is not None and os.stat(path).st_ino != inode:
            return None
        os.rename(path, aside)
    except FileNotFoundError:
        return None
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            if suffix == "-wal":
                os.rename(side, aside.with_name(aside.name + suffix))
            else:
                side.unlink()
    return aside

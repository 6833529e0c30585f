"""What every store engine does, and how its failures are told apart.

A failure is one of three kinds, which decide what the writer does with the records it holds:
`StoreUnavailable` (unreachable, busy, full, read-only: keep them and try again later),
`StoreCorrupt` (a damaged SQLite file: move it aside, start a new one, try again) and
`StoreRejected` (the engine refuses these rows: trying again would not help, they are dropped
and counted).

SQL is written once, with `?` placeholders, for both engines.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Sequence
from typing import Any

from gateway.store.location import StoreLocation
from gateway.store.tables import SCHEMA_VERSION, StoreRecord

#: The `meta` rows: the tables' version, and when retention last ran.
VERSION_KEY = "schema_version"
RETENTION_KEY = "retention_at_ms"


class StoreUnavailable(Exception):
    """The store cannot take records now; it may later."""


class StoreCorrupt(Exception):
    """The store's file is damaged or is not a database: `inode` is that file's, so that it
    alone is moved aside (not a new one another worker started meanwhile)."""

    def __init__(self, reason: str, inode: int | None = None) -> None:
        super().__init__(reason)
        self.inode = inode


class StoreRejected(Exception):
    """The store refused the records themselves."""


class Backend(abc.ABC):
    """One connection to a store, used by one thread at a time."""

    location: StoreLocation

    @abc.abstractmethod
    def write(self, records: Sequence[StoreRecord]) -> None:
        """Insert `records` in one transaction."""

    @abc.abstractmethod
    def locked(self, key: str) -> contextlib.AbstractContextManager[None]:
        """A transaction during which no other connection, in any worker or replica, is in
        one locked by the same `key`: its `fetch` and `execute` are part of it, committed at
        the end (rolled back on an exception)."""

    @abc.abstractmethod
    def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query."""

    @abc.abstractmethod
    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one statement in a transaction of its own; the number of rows it changed."""

    @abc.abstractmethod
    def delete_exchanges(self, ids: Sequence[int]) -> None:
        """Remove these exchanges, their checks and violations, in one transaction."""

    def used_bytes(self) -> int | None:
        """The bytes the store's data takes, where it can be bounded (None: it cannot)."""
        return None

    def compact(self) -> None:  # noqa: B027 - nothing to do, for an engine that keeps its space
        """Give the space retention freed back to the file system, where the engine can."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def prepare_meta(self) -> None:
        """The `meta` rows, made if missing; a store of another layout is refused."""
        for key, number in ((VERSION_KEY, SCHEMA_VERSION), (RETENTION_KEY, 0)):
            self.execute(
                "INSERT INTO meta (key, number) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (key, number),
            )
        ((version,),) = self.fetch("SELECT number FROM meta WHERE key = ?", (VERSION_KEY,))
        if version != SCHEMA_VERSION:
            raise StoreUnavailable(
                f"{self.location.shown()} holds tables of layout {version}; this gateway "
                f"writes layout {SCHEMA_VERSION}: point store at another database"
            )

    def claim(self, key: str, now_ms: int, every_ms: int) -> bool:
        """Whether this connection is the one to run the periodic task `key` now: true for
        the first to ask once `every_ms` has passed since it last ran, in any worker."""
        return (
            self.execute(
                "UPDATE meta SET number = ? WHERE key = ? AND number <= ?",
                (now_ms, key, now_ms - every_ms),
            )
            == 1
        )


def open_backend(location: StoreLocation, prepare: bool = True) -> Backend:
    """A connection to the store at `location`; with `prepare`, its tables made if missing
    (the writers'; a reader finds them made)."""
    if location.kind == "sqlite":
        from gateway.store.sqlite import SqliteStore

        return SqliteStore(location, prepare)
    # psycopg is loaded only by gateways that use PostgreSQL.
    from gateway.store.postgres import PostgresStore

    return PostgresStore(location, prepare)

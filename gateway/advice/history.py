"""Each client's GDM calls, where every worker sees them: the violations store.

A call is judged against the client's earlier calls (`gateway.advice.gdm_rules.advise`) inside
one transaction that records it, its advisories with it, under a lock of that client's
(SQLite's write lock; a PostgreSQL advisory lock, which replicas share): every call is judged
once, by the worker that received it, against every call recorded before it by any worker or
replica. Two calls of one client at the same moment are judged in the order they are recorded.

With `store = "off"`, each worker keeps the calls it received in memory (`MemoryHistory`): a
client's calls spread over several workers are then judged each against that worker's share
only, and advisories are logged and counted, not recorded.
"""

from __future__ import annotations

import collections
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from gateway.advice.gdm_call import GdmCall
from gateway.advice.gdm_rules import HISTORY, Advisory
from gateway.store.backend import Backend, open_backend
from gateway.store.location import StoreLocation

#: Judges a call against the client's earlier calls (oldest first).
Judge = Callable[[Sequence[GdmCall]], list[Advisory]]
#: Clients a worker remembers without a store (the least recently seen forgotten first).
MEMORY_CLIENTS = 10_000
CALL_COLUMNS = "client, at_ms, arrived_ms, depuis_ms, communes, movements, env, request_id"
ADVISORY_COLUMNS = (
    "at_ms, env, client, kind, severity, request_id, depuis_ms, previous_at_ms, figures"
)


class CallHistory(Protocol):
    def record(self, call: GdmCall, judge: Judge) -> list[Advisory]:
        """Record `call` and what `judge` finds of it against the client's earlier calls."""

    def close(self) -> None: ...


def _call(row: tuple[Any, ...]) -> GdmCall:
    client, at_ms, arrived_ms, depuis_ms, communes, movements, env, request_id = row
    return GdmCall(
        client,
        int(at_ms),
        int(arrived_ms),
        int(depuis_ms),
        tuple(communes.split(",")) if communes else (),
        None if movements is None else int(movements),
        request_id,
        env,
    )


class StoreHistory:
    """The calls in the store's `gdm_calls`, the advisories in `gdm_advisories`; a connection
    of its own, used by the advisor's thread."""

    def __init__(
        self, location: StoreLocation, opener: Callable[[StoreLocation], Backend] = open_backend
    ) -> None:
        self.location = location
        self.opener = opener
        self._backend: Backend | None = None

    def _open(self) -> Backend:
        if self._backend is None:
            self._backend = self.opener(self.location)
        return self._backend

    def record(self, call: GdmCall, judge: Judge) -> list[Advisory]:
        try:
            return self._record(call, judge)
        except Exception:
            # Opened again next time: a store moved aside, or a connection lost.
            self.close()
            raise

    def _record(self, call: GdmCall, judge: Judge) -> list[Advisory]:
        backend = self._open()
        with backend.locked(f"gdm:{call.client}"):
            rows = backend.fetch(
                f"""SELECT {CALL_COLUMNS} FROM gdm_calls
                    WHERE client = ? AND at_ms <= ? AND at_ms > ? ORDER BY at_ms, id""",
                (call.client, call.at_ms, call.at_ms - HISTORY),
            )
            advisories = judge([_call(row) for row in rows])
            backend.execute(
                f"INSERT INTO gdm_calls ({CALL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    call.client,
                    call.at_ms,
                    call.arrived_ms,
                    call.depuis_ms,
                    ",".join(call.communes),
                    call.movements,
                    call.env,
                    call.request_id,
                ),
            )
            for advisory in advisories:
                backend.execute(
                    f"INSERT INTO gdm_advisories ({ADVISORY_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        call.at_ms,
                        call.env,
                        call.client,
                        advisory.kind,
                        advisory.severity,
                        call.request_id,
                        call.depuis_ms,
                        advisory.previous_at_ms,
                        json.dumps(advisory.figures),
                    ),
                )
        return advisories

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None


class MemoryHistory:
    """The calls this worker received, per client (no store)."""

    def __init__(self, clients: int = MEMORY_CLIENTS) -> None:
        self.clients = clients
        self._calls: collections.OrderedDict[str, list[GdmCall]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def record(self, call: GdmCall, judge: Judge) -> list[Advisory]:
        with self._lock:
            calls = self._calls.pop(call.client, [])
            earlier = [past for past in calls if call.at_ms - HISTORY < past.at_ms <= call.at_ms]
            advisories = judge(earlier)
            self._calls[call.client] = sorted(
                [*earlier, call, *(past for past in calls if past.at_ms > call.at_ms)],
                key=lambda past: past.at_ms,
            )
            while len(self._calls) > self.clients:
                self._calls.popitem(last=False)
        return advisories

    def close(self) -> None:
        """Nothing to close."""

"""Each client's GDM calls, where every worker sees them: the violations store.

A call is judged (`gateway.advice.gdm_rules.advise_arrival`) inside one transaction that
records it, its advisories with it, under a lock of that client's (SQLite's write lock; a
PostgreSQL advisory lock, which replicas share), against the client's calls recorded by any
worker or replica on both sides of its time: calls sent at once reach two workers' threads in
either order, and the outcome must not depend on which wins the lock. Each advisory is kept
once (a UNIQUE index on the client and `Advisory.once`, the insert doing nothing on conflict):
only those newly kept are returned, to be logged and counted.

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
from gateway.report.gdm_wording import PER_COMMUNE
from gateway.store.backend import Backend, open_backend
from gateway.store.location import StoreLocation

#: Judges a call against the client's other calls around it and the times of the per-commune
#: advisories already given around it (`gdm_rules.advise_arrival` but for the call).
Judge = Callable[[Sequence[GdmCall], Sequence[int]], list[Advisory]]
#: Clients a worker remembers without a store (the least recently seen forgotten first).
MEMORY_CLIENTS = 10_000
CALL_COLUMNS = "client, at_ms, arrived_ms, depuis_ms, communes, movements, env, request_id"
ADVISORY_COLUMNS = (
    "at_ms, env, client, kind, severity, request_id, depuis_ms, previous_at_ms, figures, once_key"
)


class CallHistory(Protocol):
    def record(self, call: GdmCall, judge: Judge) -> list[Advisory]:
        """Record `call` and what `judge` finds of its arrival; the advisories not given
        before."""

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
        window = (call.client, call.at_ms - HISTORY, call.at_ms + HISTORY)
        with backend.locked(f"gdm:{call.client}"):
            rows = backend.fetch(
                f"""SELECT {CALL_COLUMNS} FROM gdm_calls
                    WHERE client = ? AND at_ms > ? AND at_ms < ? ORDER BY at_ms, id""",
                window,
            )
            series_advised = backend.fetch(
                """SELECT at_ms FROM gdm_advisories
                   WHERE client = ? AND at_ms > ? AND at_ms < ? AND kind = ?""",
                (*window, PER_COMMUNE),
            )
            advisories = judge([_call(row) for row in rows], [at for (at,) in series_advised])
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
            return [advisory for advisory in advisories if _kept(backend, advisory)]

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None


def _kept(backend: Backend, advisory: Advisory) -> bool:
    """Whether `advisory` is new, kept now (not given before)."""
    said = advisory.call
    return (
        backend.execute(
            f"INSERT INTO gdm_advisories ({ADVISORY_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                said.at_ms,
                said.env,
                said.client,
                advisory.kind,
                advisory.severity,
                said.request_id,
                said.depuis_ms,
                advisory.previous_at_ms,
                json.dumps(advisory.figures),
                advisory.once,
            ),
        )
        == 1
    )


class MemoryHistory:
    """The calls this worker received, per client (no store)."""

    def __init__(self, clients: int = MEMORY_CLIENTS) -> None:
        self.clients = clients
        # Each client's calls and the advisories given of them (by `Advisory.once`).
        self._calls: collections.OrderedDict[str, tuple[list[GdmCall], dict[str, Advisory]]] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()

    def record(self, call: GdmCall, judge: Judge) -> list[Advisory]:
        with self._lock:
            calls, given = self._calls.pop(call.client, ([], {}))
            around = [past for past in calls if abs(past.at_ms - call.at_ms) < HISTORY]
            series_advised = [
                advisory.call.at_ms for advisory in given.values() if advisory.kind == PER_COMMUNE
            ]
            advisories = [
                advisory
                for advisory in judge(around, series_advised)
                if given.setdefault(advisory.once, advisory) is advisory
            ]
            newest = max([call.at_ms, *(past.at_ms for past in calls)])
            self._calls[call.client] = (
                [past for past in (*calls, call) if newest - past.at_ms < HISTORY],
                {
                    once: advisory
                    for once, advisory in given.items()
                    if newest - advisory.call.at_ms < HISTORY
                },
            )
            while len(self._calls) > self.clients:
                self._calls.popitem(last=False)
        return advisories

    def close(self) -> None:
        """Nothing to close."""

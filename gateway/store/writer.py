"""The worker's side of the store: a bounded queue the exchanges put their records in, without
waiting, and a thread that writes them in batches.

- `put` never blocks and never fails: past `capacity` records waiting, a record is dropped and
  counted (the store is too slow, or down).
- A batch the store cannot take now (unreachable, busy, full, read-only) is kept and tried
  again, after 1 s, then 2, 4… up to 30 s, while the queue takes new records up to its bound:
  a short outage loses nothing. The outage is logged once (`store.unavailable`) and its end
  (`store.recovered`); drops likewise (`store.records-dropped`, then `store.drops-ended` with
  how many).
- A damaged SQLite file is moved aside and a new one started (`store.corrupt`).
- Retention runs about every minute, in one worker at a time.

Every outcome is counted through `count(result, amount)`: `written`, `dropped` (queue full,
or held when the gateway stopped with the store down) and `rejected` (refused by the store).
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import Any

from gateway.record import ExchangeRecord
from gateway.store.backend import (
    RETENTION_KEY,
    Backend,
    StoreCorrupt,
    StoreRejected,
    StoreUnavailable,
    open_backend,
)
from gateway.store.location import StoreLocation
from gateway.store.retention import apply_retention
from gateway.store.sqlite import set_aside
from gateway.store.tables import StoreRecord

#: Records a worker holds for the store at most (about 1 KB each).
QUEUE_RECORDS = 10_000
#: Records written in one transaction at most.
BATCH_RECORDS = 1000
#: How often the thread looks for records to write.
FLUSH_SECONDS = 0.5
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0
RETENTION_SECONDS = 60.0
#: How long a stopping worker gives the store to take what it holds.
STOP_SECONDS = 10.0
DAY_MS = 86_400_000


class StoreWriter:
    def __init__(
        self,
        location: StoreLocation,
        logger: Any,
        count: Callable[[str, int], None],
        *,
        retention_days: int,
        max_bytes: int,
        capacity: int = QUEUE_RECORDS,
        open_store: Callable[[StoreLocation], Backend] = open_backend,
    ) -> None:
        self.location = location
        self.logger = logger
        self.count = count
        self.max_age_ms = retention_days * DAY_MS
        self.max_bytes = max_bytes
        self.capacity = capacity
        self.open_store = open_store
        self._queue: collections.deque[StoreRecord] = collections.deque()
        #: Records dropped by `put` (by the event loop's thread, and the rare differences of
        #: the next XSD set's thread: an increment lost to their race is only a count) and
        #: how many of them the thread has counted.
        self.dropped = 0
        self._dropped_counted = 0
        self._drop_episode = 0
        self._held: list[StoreRecord] = []
        self._backend: Backend | None = None
        #: Whether the store is failing now (read by the metrics' gauge).
        self.failing = False
        self._failing_since = 0.0
        self._next_retention = 0.0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sne-gateway-store", daemon=True)

    # -- the event loop's side ----------------------------------------------------------------

    def put(self, record: StoreRecord) -> None:
        """Queue `record` for the store (an exchange's, or a difference the next XSD set
        found); dropped (and counted) when the queue is full. Any thread."""
        if len(self._queue) >= self.capacity:
            self.dropped += 1
            return
        self._queue.append(record)

    def exchange_ended(self, record: ExchangeRecord) -> None:
        """The writer observes finished exchanges (`gateway.record.ExchangeObserver`)."""
        self.put(record)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Write what is held (for up to `STOP_SECONDS`), then close."""
        self._stopping.set()
        self._thread.join(STOP_SECONDS + 5)

    # -- the thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        delay = RETRY_FIRST_SECONDS
        deadline: float | None = None
        while True:
            stopping = self._stopping.wait(FLUSH_SECONDS)
            if stopping and deadline is None:
                deadline = time.monotonic() + STOP_SECONDS
            self._count_drops()
            try:
                self._write_all()
                self._retain()
            except (StoreUnavailable, StoreCorrupt) as error:
                self._close()
                self._failed(str(error))
            except Exception as error:
                # A bug must not end the thread (records would pile up unsaid): the batch at
                # hand is dropped, in case it is what fails, and the store opened again.
                self.logger.exception("store.failed", store=self.location.shown())
                self.count("rejected", len(self._held))
                self._held = []
                self._close()
                self._failed(f"{type(error).__name__}: {error}")
            else:
                self._recovered()
                delay = RETRY_FIRST_SECONDS
                if stopping:
                    break
                continue
            if stopping:
                if time.monotonic() < (deadline or 0):
                    time.sleep(RETRY_FIRST_SECONDS)
                    continue
                break
            # Sleeps, but wakes at once for a stop.
            self._stopping.wait(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
        self._give_up()
        self._close()

    def _recovered(self) -> None:
        if self.failing:
            self.failing = False
            self.logger.info(
                "store.recovered",
                store=self.location.shown(),
                after_s=round(time.monotonic() - self._failing_since, 1),
            )

    def _write_all(self) -> None:
        """Open the store (at start too: its retention runs, an outage is said at once), then
        write the held batch and the queue's records, batch by batch."""
        self._open()
        while True:
            if not self._held:
                queue = self._queue
                self._held = [queue.popleft() for _ in range(min(len(queue), BATCH_RECORDS))]
                if not self._held:
                    return
            backend = self._open()
            try:
                backend.write(self._held)
            except StoreCorrupt as error:
                self._close()
                self._set_aside(error)
                continue
            except StoreRejected as error:
                self.logger.error(
                    "store.records-rejected",
                    store=self.location.shown(),
                    records=len(self._held),
                    reason=str(error),
                    consequence="these records are dropped",
                )
                self.count("rejected", len(self._held))
                self._held = []
                continue
            self.count("written", len(self._held))
            self._held = []

    def _open(self) -> Backend:
        if self._backend is not None:
            return self._backend
        try:
            self._backend = self.open_store(self.location)
        except StoreCorrupt as error:
            self._set_aside(error)
            self._backend = self.open_store(self.location)
        return self._backend

    def _set_aside(self, error: StoreCorrupt) -> None:
        if self.location.kind != "sqlite":
            raise StoreUnavailable(str(error))
        aside = set_aside(self.location.path, error.inode)
        self.logger.error(
            "store.corrupt",
            store=self.location.shown(),
            reason=str(error),
            moved_to=str(aside) if aside else None,
            consequence="a new store is started; the damaged file is kept beside it",
        )

    def _retain(self) -> None:
        if self._backend is None or time.monotonic() < self._next_retention:
            return
        self._next_retention = time.monotonic() + RETENTION_SECONDS
        now_ms = int(time.time() * 1000)
        # A little less than the period: this worker's next turn must not just miss it.
        if not self._backend.claim(RETENTION_KEY, now_ms, int(RETENTION_SECONDS * 900)):
            return
        removed = apply_retention(self._backend, now_ms, self.max_age_ms, self.max_bytes)
        if removed.by_age or removed.by_size:
            self.logger.info(
                "store.retention",
                store=self.location.shown(),
                removed_by_age=removed.by_age,
                removed_by_size=removed.by_size,
            )

    def _failed(self, reason: str) -> None:
        if self.failing:
            return
        self.failing = True
        self._failing_since = time.monotonic()
        self.logger.error(
            "store.unavailable",
            store=self.location.shown(),
            reason=reason,
            consequence=f"records wait in memory (up to {self.capacity} per worker, then "
            "are dropped and counted) and are written when the store is back; traffic is "
            "not affected",
        )

    def _count_drops(self) -> None:
        dropped = self.dropped
        new = dropped - self._dropped_counted
        if new:
            self._dropped_counted = dropped
            self.count("dropped", new)
            if not self._drop_episode:
                self.logger.warning(
                    "store.records-dropped",
                    store=self.location.shown(),
                    reason=f"{self.capacity} records were waiting for the store, which is "
                    "down or slower than the traffic",
                )
            self._drop_episode += new
        elif self._drop_episode:
            self.logger.info(
                "store.drops-ended", store=self.location.shown(), dropped=self._drop_episode
            )
            self._drop_episode = 0

    def _give_up(self) -> None:
        """At a stop with the store down: what is still held is lost, and said."""
        self._count_drops()
        lost = len(self._held) + len(self._queue)
        if lost:
            self.count("dropped", lost)
            self.logger.error(
                "store.records-lost",
                store=self.location.shown(),
                records=lost,
                reason="the gateway stopped while the store could not take them",
            )
        self._held = []
        self._queue.clear()

    def _close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None

"""The documents waiting to be judged by the next XSD set, and their bound.

Exchanges hand their checked bodies (and export members) over without waiting; a thread of
the worker takes them in turn (`gateway.shadow.worker`). What waits is bounded in bytes
(`shadow_queue_mb`): past it, work is dropped and counted, never waited for, so the client's
path never pays for the next set, and memory does not grow with a backlog.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass

from gateway.catalog import SchemaSet
from gateway.exchange_tap import CheckedBody
from gateway.extract.document import Document
from gateway.shadow.comparison import Difference
from gateway.violation import DocumentReport

#: What an item costs beyond its bytes (its reports, its objects), so that many tiny ones
#: are bounded too.
ITEM_OVERHEAD = 1024


@dataclass(frozen=True, slots=True)
class Origin:
    """The exchange and direction the documents came from, as the difference is recorded."""

    at_ms: int
    env: str
    request_id: str
    route: str | None
    direction: str
    client: str | None


@dataclass(frozen=True, slots=True)
class ShadowWork:
    """Documents to judge by the next set: a body to read again (`body`, its documents left
    out: their trees would take many times its bytes while waiting), or export members
    (`documents`), each with its report in service, and the set in service that judged them.
    Or documents already judged on the client's path (`X-Conformance-Next` was asked for),
    whose `differences` by the `next_set` of then are only to be explained and recorded."""

    origin: Origin
    current: SchemaSet
    reports: tuple[DocumentReport, ...]
    body: CheckedBody | None = None
    documents: tuple[Document, ...] = ()
    differences: tuple[Difference, ...] = ()
    next_set: SchemaSet | None = None

    @property
    def size(self) -> int:
        held = len(self.body.data) if self.body else 0
        return held + sum(len(document.data) for document in self.documents) + ITEM_OVERHEAD


class ShadowQueue:
    """A queue bounded by the bytes it holds. `offer` never waits (any thread); `take` waits
    up to `timeout` for an item (the shadow's thread)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held = 0
        #: Documents dropped for want of room, since the start (read by the shadow's thread).
        self.dropped = 0
        self._items: collections.deque[ShadowWork] = collections.deque()
        self._ready = threading.Condition()

    def offer(self, work: ShadowWork) -> bool:
        size = work.size
        with self._ready:
            if self.held + size > self.max_bytes:
                self.dropped += len(work.reports)
                return False
            self.held += size
            self._items.append(work)
            self._ready.notify()
        return True

    def take(self, timeout: float) -> ShadowWork | None:
        with self._ready:
            if not self._items and not self._ready.wait(timeout):
                return None
            if not self._items:
                return None
            work = self._items.popleft()
            self.held -= work.size
            return work

    def clear(self) -> int:
        """Empty the queue; how many documents it held."""
        with self._ready:
            documents = sum(len(work.reports) for work in self._items)
            self._items.clear()
            self.held = 0
            return documents

    def wake(self) -> None:
        with self._ready:
            self._ready.notify_all()

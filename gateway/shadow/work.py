"""The documents waiting to be judged by the next XSD set, and their bound.

Exchanges hand their checked bodies (and export members) over without waiting; a thread of
the worker hands them in turn to the next set's process (`gateway.shadow.process`). What waits is bounded in bytes
(`shadow_queue_mb`): past it, work is dropped and counted, never waited for, so the client's
path never pays for the next set, and memory does not grow with a backlog.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass

from gateway.exchange_tap import CheckedBody
from gateway.extract.document import Document
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
    """Documents to judge by the next set: a body to read again (`body`, without its
    documents, whose trees could not cross to the next set's process and would take many
    times its bytes while waiting), or export members (`documents`, as read); with each
    document's report by the set in service (`reports`, in the same order)."""

    origin: Origin
    reports: tuple[DocumentReport, ...]
    body: CheckedBody | None = None
    documents: tuple[Document, ...] = ()

    @property
    def count(self) -> int:
        """How many documents."""
        return len(self.reports)

    @property
    def size(self) -> int:
        held = len(self.body.data) if self.body else 0
        return held + sum(len(document.data) for document in self.documents) + ITEM_OVERHEAD


class ShadowQueue:
    """A queue bounded by the bytes it holds. `offer` never waits and wakes no thread (any
    thread: waking the sending thread at every document would hand the interpreter's lock to
    it in the middle of exchanges); the sending thread takes what is there a few times a
    second (`take_all`)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held = 0
        #: Documents dropped for want of room, since the start (read by the counting thread).
        self.dropped = 0
        self._items: collections.deque[ShadowWork] = collections.deque()
        self._lock = threading.Lock()

    def offer(self, work: ShadowWork) -> bool:
        size = work.size
        with self._lock:
            if self.held + size > self.max_bytes:
                self.dropped += work.count
                return False
            self.held += size
            self._items.append(work)
        return True

    def take_all(self) -> list[ShadowWork]:
        """What waits, oldest first. Its bytes still count against the bound until each piece
        is `done` with (sent on, or dropped)."""
        with self._lock:
            taken = list(self._items)
            self._items.clear()
        return taken

    def done(self, work: ShadowWork) -> None:
        with self._lock:
            self.held -= work.size

    def clear(self) -> int:
        """Empty the queue; how many documents it held."""
        taken = self.take_all()
        for work in taken:
            self.done(work)
        return sum(work.count for work in taken)

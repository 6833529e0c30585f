"""The applications the simulator registered (getNumUnique), so that getDemandeLogement returns
what an SI sent rather than a generated application. Bounded: the oldest are forgotten first,
then answered like any other numUnique, from fake data."""

from __future__ import annotations

import threading
from collections import OrderedDict

CAPACITY = 1000


class Registry:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._applications: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._sequence = 0

    def next_sequence(self) -> int:
        """A number that is never given twice in this run (it makes each numUnique unique)."""
        with self._lock:
            self._sequence += 1
            return self._sequence

    def register(self, num_unique: str, document: bytes) -> None:
        with self._lock:
            self._applications[num_unique] = document
            self._applications.move_to_end(num_unique)
            while len(self._applications) > self.capacity:
                self._applications.popitem(last=False)

    def get(self, num_unique: str) -> bytes | None:
        with self._lock:
            return self._applications.get(num_unique)

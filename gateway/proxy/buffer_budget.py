"""The bytes a worker holds in buffers for validation, bounded by `max_buffered_bytes`.

Every exchange of a worker draws on one `BufferBudget`, for both directions: a chunk of a body
buffered for validation is taken from it as it arrives (and a body's decoded copy, when it
has a Content-Encoding), and given back when the exchange no longer holds it. A chunk that does
not fit stops the buffering: the body is then not validated and streams on, as a body over
`max_body_bytes` does. The worker's event loop is single-threaded, so counting is plain integer
arithmetic, without locks.
"""

from __future__ import annotations

import asyncio
from typing import Any


class BufferBudget:
    """What a worker's exchanges hold in buffers for validation (`held`), and how much they
    may hold at once (`limit`)."""

    __slots__ = ("held", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def claim(self) -> BufferClaim:
        """An exchange's share of the budget, empty at first."""
        return BufferClaim(self)


class BufferClaim:
    """The bytes one exchange holds from its worker's `BufferBudget`. `release` gives them all
    back when the exchange ends, however it ends; a validation thread still running then (its
    client left) keeps them until it finishes."""

    __slots__ = ("budget", "size", "validating")

    def __init__(self, budget: BufferBudget) -> None:
        self.budget = budget
        self.size = 0
        self.validating: asyncio.Future[Any] | None = None

    def take(self, size: int) -> bool:
        """Count `size` more bytes held, if the worker's budget has room for them."""
        budget = self.budget
        if budget.held + size > budget.limit:
            return False
        budget.held += size
        self.size += size
        return True

    def give_back(self, size: int) -> None:
        """`size` bytes taken are no longer held (a decoded copy, once validated)."""
        self.budget.held -= size
        self.size -= size

    def hold_while(self, validating: asyncio.Future[Any]) -> None:
        """The bytes are also held by `validating` (a thread), until it is done."""
        self.validating = validating

    def release(self) -> None:
        """Give back everything held, now or once the validating thread is done."""
        if self.validating is not None and not self.validating.done():
            self.validating.add_done_callback(lambda _: self.release())
            return
        self.budget.held -= self.size
        self.size = 0

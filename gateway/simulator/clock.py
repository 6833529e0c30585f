"""The simulator's clock: the real one, unless a request steers it (`X-Simulator-Now`).

An answer is built as if produced at that moment: its `entete/dateFichier`, the window of a
GDM feed, an export's age. A test can so play a day of calls in seconds, without waiting and
without touching the clock of any process. The steered moment holds for the request's
context only (a context variable, which the thread building the answer inherits).
"""

from __future__ import annotations

import contextvars
from datetime import UTC, datetime

HEADER = "X-Simulator-Now"
#: The years a steered moment may be in.
FIRST_YEAR, LAST_YEAR = 1971, 9000
_STEERED: contextvars.ContextVar[datetime | None] = contextvars.ContextVar(
    "simulator_now", default=None
)


class ClockError(ValueError):
    """An `X-Simulator-Now` value that is not a time with its offset."""


def now() -> datetime:
    """The moment the answer being built is produced at."""
    return _STEERED.get() or datetime.now(UTC)


def parse_now(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClockError(
            f"{text[:64]!r} is not an ISO 8601 time (2025-06-12T14:41:07+02:00)"
        ) from None
    if moment.tzinfo is None:
        raise ClockError(f"{text[:64]!r} has no offset: write it as 2025-06-12T14:41:07+02:00")
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        # What an answer makes of it (its UTC time, a window of days back) would overflow.
        raise ClockError(f"{text[:64]!r} is not between the years {FIRST_YEAR} and {LAST_YEAR}")
    return moment.astimezone(UTC)


def steer(moment: datetime | None) -> None:
    """Answers built in this context are produced at `moment` (None: now)."""
    _STEERED.set(moment)

"""A report's window as people write it: `7d` (that long before now: `s`, `m`, `h`, `d`, `w`),
a date (`2026-11-02`, the start of that local day), a local time (`2026-11-02T14:30`) or one
with its offset (`2026-11-02T14:30+01:00`), or `now`."""

from __future__ import annotations

import re
from datetime import datetime

UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_AGO = re.compile(r"(\d+)\s*([smhdw])")


class WindowError(ValueError):
    """A moment that cannot be read."""


def moment_ms(text: str, now_ms: int) -> int:
    """The moment `text` names, in milliseconds since the epoch."""
    written = text.strip()
    if written.lower() == "now":
        return now_ms
    if ago := _AGO.fullmatch(written.lower()):
        return now_ms - int(ago[1]) * UNITS_MS[ago[2]]
    try:
        moment = datetime.fromisoformat(written)
    except ValueError:
        raise WindowError(
            f"{text!r} is not a moment: write a duration before now (30m, 12h, 7d, 2w), a date "
            "(2026-11-02), a local time (2026-11-02T14:30) or now"
        ) from None
    return int(moment.timestamp() * 1000)

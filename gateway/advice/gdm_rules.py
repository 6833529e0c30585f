"""The SNE's rules for calling the GDM movements feed, as its editors' club of 22 May 2025 worded
them, and what breaks each, judged on one call against the same client's earlier calls.

| advisory | severity | when |
| --- | --- | --- |
| `gdm.gap` | warning | the call's `depuis` is later than the previous call's time: the movements in between were asked for by no call, and may have been missed |
| `gdm.no-overlap` | notice | no gap, but the windows overlap by less than `MIN_OVERLAP` |
| `gdm.per-commune` | notice | the call asks for one commune, another one-commune call for another commune came less than `BURST` before it (once per such series) |
| `gdm.too-frequent` | notice | more calls than the client's volume justifies: within the last hour (`HOURLY`, less a tolerance) when the volume is over `LARGE_VOLUME` a day, else a third call within a day (`DAILY`, less a tolerance) |
| `gdm.round-hour` | notice | the call came at minute 00 |

"The previous call" of a call is the client's latest earlier call that asked for a commune in
common with it (a call without communes asks for all). The client's volume is read from its
answers: the movements its calls of the last day received over the time their windows cover,
as movements a day. A movement is one change to one application, so this counts at least the
applications the guichet receives, and favours the client: a volume over 5,000 that the SNE
would count under it is never judged too frequent on that account. Without a movement count
(answers the gateway could not read), the frequency is not judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway.advice.gdm_call import GdmCall
from gateway.report.gdm_wording import (
    GAP,
    NO_OVERLAP,
    NOTICE,
    PER_COMMUNE,
    ROUND_HOUR,
    RULES,
    SEVERITIES,
    TOO_FREQUENT,
    Rule,
)

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
#: Consecutive windows should overlap by at least this ("un léger chevauchement": the SNE's
#: example overlaps by 5 minutes).
MIN_OVERLAP = 2 * MINUTE_MS
#: One-commune calls for different communes this close together are one series.
BURST = 15 * MINUTE_MS
#: Applications a day above which hourly calls are justified.
LARGE_VOLUME = 5000
#: At most one call an hour (large volume), two a day (otherwise), less a tolerance for the
#: jitter of schedulers.
HOURLY = HOUR_MS - 5 * MINUTE_MS
DAILY = DAY_MS - 2 * HOUR_MS
#: How far back a call's earlier calls are read.
HISTORY = DAY_MS + HOUR_MS


@dataclass(frozen=True, slots=True)
class Advisory:
    """One rule broken by one call: the figures that show it, and the previous call when it
    is about the two."""

    kind: str
    call: GdmCall
    previous_at_ms: int | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return SEVERITIES.get(self.kind, NOTICE)

    @property
    def rule(self) -> Rule:
        return RULES[self.kind]


def _minutes(milliseconds: int) -> float:
    return round(milliseconds / MINUTE_MS, 1)


def _window(call: GdmCall, previous: GdmCall | None) -> list[Advisory]:
    if previous is None:
        return []
    if call.depuis_ms > previous.at_ms:
        return [
            Advisory(
                GAP,
                call,
                previous.at_ms,
                {"gap_minutes": _minutes(call.depuis_ms - previous.at_ms)},
            )
        ]
    overlap = previous.at_ms - call.depuis_ms
    if overlap < MIN_OVERLAP:
        return [Advisory(NO_OVERLAP, call, previous.at_ms, {"overlap_seconds": overlap // 1000})]
    return []


def _per_commune(call: GdmCall, earlier: Sequence[GdmCall]) -> list[Advisory]:
    """The second commune of a series of one-commune calls (the series going back while each
    call came less than `BURST` after the one before)."""
    if len(call.communes) != 1:
        return []
    series: list[GdmCall] = []
    after = call
    for before in reversed(earlier):
        if len(before.communes) != 1 or after.at_ms - before.at_ms >= BURST:
            break
        series.append(before)
        after = before
    communes = {before.communes[0] for before in series}
    if len(communes) != 1 or call.communes[0] in communes:
        return []
    first = series[-1]
    return [
        Advisory(
            PER_COMMUNE,
            call,
            first.at_ms,
            {"communes": [*sorted(communes), call.communes[0]], "calls": len(series) + 1},
        )
    ]


def daily_volume(call: GdmCall, earlier: Sequence[GdmCall]) -> int | None:
    """Movements a day, from the answers of the day's calls (None when none says)."""
    counted = [
        past
        for past in (*earlier, call)
        if past.movements is not None and call.at_ms - past.at_ms < DAY_MS
    ]
    covered = sum(max(past.window_ms, MINUTE_MS) for past in counted)
    if not counted:
        return None
    return round(sum(past.movements or 0 for past in counted) * DAY_MS / covered)


def _frequency(
    call: GdmCall, meeting: Sequence[GdmCall], earlier: Sequence[GdmCall]
) -> list[Advisory]:
    volume = daily_volume(call, earlier)
    if volume is None or not meeting:
        return []
    large = volume > LARGE_VOLUME
    period, allowed = (HOURLY, 0) if large else (DAILY, 1)
    recent = [past for past in meeting if call.at_ms - past.at_ms < period]
    if len(recent) <= allowed:
        return []
    return [
        Advisory(
            TOO_FREQUENT,
            call,
            meeting[-1].at_ms,
            {
                "daily_volume": volume,
                "allowed": "hourly" if large else "twice a day",
                "since_previous_minutes": _minutes(call.at_ms - meeting[-1].at_ms),
                "calls_in_period": len(recent) + 1,
            },
        )
    ]


def _round_hour(call: GdmCall) -> list[Advisory]:
    moment = datetime.fromtimestamp(call.at_ms / 1000, UTC)
    if moment.minute:
        return []
    return [Advisory(ROUND_HOUR, call, None, {"time": moment.strftime("%H:%M:%S")})]


def advise(call: GdmCall, earlier: Sequence[GdmCall]) -> list[Advisory]:
    """What `call` breaks of the SNE's rules, given the client's `earlier` calls (oldest
    first, those of the last `HISTORY`)."""
    meeting = [past for past in earlier if past.meets(call)]
    previous = meeting[-1] if meeting else None
    return [
        *_window(call, previous),
        *_per_commune(call, earlier),
        *_frequency(call, meeting, earlier),
        *_round_hour(call),
    ]

"""The SNE's rules for calling the GDM movements feed, as its editors' club of 22 May 2025 worded
them, and what breaks each, judged on one call against the same client's earlier calls.

| advisory | severity | when |
| --- | --- | --- |
| `gdm.gap` | warning | the call's `depuis` is later than the previous call's time: the movements in between were asked for by no call, and may have been missed |
| `gdm.no-overlap` | notice | no gap, but the windows overlap by less than `MIN_OVERLAP` |
| `gdm.per-commune` | notice | one-commune calls for different communes, each less than `BURST` from the next: once per such series, whatever order its calls arrive in |
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

    @property
    def once(self) -> str:
        """What the store keeps one advisory of, per client: a series (by its first call's
        time), a call's window (a gap or too little overlap, not both), each other advisory
        of a call."""
        if self.kind == PER_COMMUNE:
            return f"{PER_COMMUNE}@{self.previous_at_ms}"
        family = "window" if self.kind in (GAP, NO_OVERLAP) else self.kind
        return f"{family}@{self.call.at_ms}/{self.call.request_id}"


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


def _series(call: GdmCall, calls: Sequence[GdmCall]) -> list[GdmCall]:
    """The series of one-commune calls `call` belongs to in `calls` (oldest first, `call`
    among them): going both ways while each call came less than `BURST` from the next."""
    if len(call.communes) != 1:
        return []
    index = calls.index(call)
    start = end = index
    while start > 0 and _chained(calls[start - 1], calls[start]):
        start -= 1
    while end + 1 < len(calls) and _chained(calls[end], calls[end + 1]):
        end += 1
    return list(calls[start : end + 1])


def _chained(before: GdmCall, after: GdmCall) -> bool:
    return (
        len(before.communes) == 1
        and len(after.communes) == 1
        and after.at_ms - before.at_ms < BURST
    )


def _per_commune(series: Sequence[GdmCall]) -> Advisory | None:
    """A series' advisory, given to its first call for a second commune (of the calls known
    when it is found: sent at once, they arrive in any order), with the communes and calls
    up to it."""
    first = series[0] if series else None
    for index, later in enumerate(series):
        if first is not None and later.communes != first.communes:
            return Advisory(
                PER_COMMUNE,
                later,
                first.at_ms,
                {"communes": [first.communes[0], later.communes[0]], "calls": index + 1},
            )
    return None


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


def _by_time(calls: Sequence[GdmCall]) -> list[GdmCall]:
    return sorted(calls, key=lambda past: (past.at_ms, past.request_id))


def _of_call(call: GdmCall, earlier: Sequence[GdmCall]) -> list[Advisory]:
    """The advisories about `call` alone, given its `earlier` calls."""
    meeting = [past for past in earlier if past.meets(call)]
    previous = meeting[-1] if meeting else None
    return [*_window(call, previous), *_frequency(call, meeting, earlier), *_round_hour(call)]


def advise(call: GdmCall, earlier: Sequence[GdmCall]) -> list[Advisory]:
    """What `call` breaks of the SNE's rules, given the client's `earlier` calls (oldest
    first, those of the last `HISTORY`)."""
    series = _series(call, _by_time([*earlier, call]))
    per_commune = _per_commune(series)
    return [
        *_of_call(call, earlier),
        *([per_commune] if per_commune is not None and per_commune.call == call else []),
    ]


def advise_arrival(
    call: GdmCall, around: Sequence[GdmCall], series_advised: Sequence[int]
) -> list[Advisory]:
    """What the arrival of `call` makes known, whatever order the client's calls arrive in
    (two workers' threads judge calls sent at once in either order): `call` judged against
    its earlier calls, each later call already recorded judged again against its earlier
    ones (now with `call`), and the series of one-commune calls `call` belongs to judged
    whole, unless a per-commune advisory was already given at a time within it
    (`series_advised`). `around`: the client's other calls within `HISTORY` either side.

    Advisories already given come again: the store keeps each once (`Advisory.once`)."""
    calls = _by_time([*around, call])
    index = calls.index(call)
    found = _of_call(call, calls[:index])
    for later in range(index + 1, len(calls)):
        found += _of_call(calls[later], calls[:later])
    series = _series(call, calls)
    per_commune = _per_commune(series)
    if per_commune is not None and not any(
        series[0].at_ms <= at_ms <= series[-1].at_ms for at_ms in series_advised
    ):
        found.append(per_commune)
    return found

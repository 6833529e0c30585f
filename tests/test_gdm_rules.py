"""The GDM usage rules, in process: each advisory from crafted calls (the time of every call is
given, nothing waits for a clock), the SNE's own example giving none, the volume read from the
answers, a series of one-commune calls advised once, the query and answer read for what they
say and nothing else, and the two histories (the store's, shared; the worker's memory)."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.advice.gdm_call import GdmCall, moment_ms, read_answer, read_query
from gateway.advice.gdm_rules import LARGE_VOLUME, advise, advise_arrival, daily_volume
from gateway.advice.history import CallHistory, MemoryHistory, StoreHistory
from gateway.report.gdm_wording import RULES, sentence
from gateway.store.backend import open_backend
from gateway.store.location import parse_store

DAY = datetime(2025, 4, 28, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def at(text: str, day: int = 0) -> int:
    """`HH:MM[:SS]` of 28 April 2025 (plus `day` days), in milliseconds."""
    parts = [int(part) for part in text.split(":")]
    hours, minutes, seconds = (*parts, 0)[:3]
    moment = DAY.replace(day=28 + day, hour=hours, minute=minutes, second=seconds)
    return int(moment.timestamp() * 1000)


def call(
    time: str,
    depuis: str,
    communes: tuple[str, ...] = (),
    movements: int | None = 300,
    day: int = 0,
    depuis_day: int | None = None,
) -> GdmCall:
    return GdmCall(
        client="CN=si-essai",
        at_ms=at(time, day),
        arrived_ms=at(time, day),
        depuis_ms=at(depuis, day if depuis_day is None else depuis_day),
        communes=communes,
        movements=movements,
        request_id=f"r-{time}",
        env="recette",
    )


def kinds(found: GdmCall, earlier: list[GdmCall]) -> list[str]:
    return [advisory.kind for advisory in advise(found, earlier)]


def test_the_sne_example_breaks_no_rule() -> None:
    # Le 28/04/2025 : 14:41 depuis 00:00, 15:41 depuis 14:36, 16:41 depuis 15:36, with the
    # volume of a guichet receiving over 5,000 applications a day.
    calls = [call("14:41:07", "00:00", movements=4000)]
    calls.append(call("15:41:07", "14:36"))
    calls.append(call("16:41:07", "15:36"))
    for index, later in enumerate(calls):
        assert kinds(later, calls[:index]) == []


def test_a_gap_between_windows_is_a_warning() -> None:
    earlier = [call("14:41:07", "00:00", movements=4000)]
    (gap,) = advise(call("15:41:07", "14:45"), earlier)
    assert (gap.kind, gap.severity) == ("gdm.gap", "warning")
    assert gap.figures == {"gap_minutes": 3.9}
    assert gap.previous_at_ms == at("14:41:07")
    assert "may have been missed" in sentence(gap.kind, gap.figures, "14:45", "14:41:07")


def test_windows_that_touch_without_overlapping_by_a_few_minutes() -> None:
    earlier = [call("14:41:07", "00:00", movements=4000)]
    (advisory,) = advise(call("15:41:07", "14:40"), earlier)
    assert (advisory.kind, advisory.severity) == ("gdm.no-overlap", "notice")
    assert advisory.figures == {"overlap_seconds": 67}
    # Exactly at the previous call's time: no gap, no overlap either.
    assert kinds(call("15:41:07", "14:41:07"), earlier) == ["gdm.no-overlap"]
    assert kinds(call("15:41:07", "14:39:07"), earlier) == []


def test_the_previous_call_is_one_with_a_commune_in_common() -> None:
    earlier = [
        call("14:41:07", "00:00", ("38185",), movements=4000),
        call("14:43:07", "00:00", ("38151",), movements=4000),
    ]
    # For 38185, the previous window ends at 14:41:07: 14:42 is a gap for it.
    assert kinds(call("15:41:07", "14:42", ("38185",)), earlier) == ["gdm.gap"]


def test_one_call_per_commune_is_advised_once_a_series() -> None:
    first = call("14:41:07", "13:36", ("38185",))
    second = call("14:42:07", "13:36", ("38151",))
    third = call("14:43:07", "13:36", ("38169",))
    assert kinds(first, []) == []
    (advisory,) = advise(second, [first])
    assert advisory.kind == "gdm.per-commune"
    assert advisory.figures == {"communes": ["38185", "38151"], "calls": 2}
    assert advisory.previous_at_ms == first.at_ms
    assert kinds(third, [first, second]) == []
    # The same commune again is no series (but too frequent); a series an hour later is
    # another one.
    assert kinds(call("14:42:07", "13:36", ("38185",)), [first]) == ["gdm.too-frequent"]
    later = [first, second, third, call("15:41:07", "14:36", ("38185",))]
    assert "gdm.per-commune" in kinds(call("15:42:07", "14:37", ("38151",)), later)


def test_hourly_calls_need_a_large_volume() -> None:
    large = [call("14:41:07", "00:00", movements=4000)]
    assert daily_volume(call("15:41:07", "14:36"), large) > LARGE_VOLUME
    assert kinds(call("15:41:07", "14:36"), large) == []
    (advisory,) = advise(call("15:11:07", "14:36"), large)
    assert advisory.kind == "gdm.too-frequent"
    assert advisory.figures["allowed"] == "hourly"
    assert advisory.figures["since_previous_minutes"] == 30.0
    small = [call("08:07:07", "00:00", movements=40), call("14:41:07", "08:02", movements=40)]
    (advisory,) = advise(call("15:41:07", "14:36", movements=5), small)
    assert advisory.figures["allowed"] == "twice a day"
    assert advisory.figures["daily_volume"] < LARGE_VOLUME


def test_twice_a_day_under_the_volume() -> None:
    morning = call("08:07:07", "20:00", movements=40, depuis_day=-1)
    evening = call("20:07:07", "08:02", movements=40)
    next_morning = call("08:07:07", "20:02", movements=40, day=1, depuis_day=0)
    assert kinds(evening, [morning]) == []
    assert kinds(next_morning, [morning, evening]) == []
    noon = call("12:07:07", "08:02", movements=40)
    assert kinds(noon, [morning]) == []
    assert kinds(call("20:07:07", "12:02", movements=40), [morning, noon]) == ["gdm.too-frequent"]


def test_without_a_movement_count_the_frequency_is_not_judged() -> None:
    earlier = [call("14:41:07", "00:00", movements=None)]
    assert kinds(call("14:51:07", "14:36", movements=None), earlier) == []


def test_a_call_at_a_round_hour() -> None:
    (advisory,) = advise(call("14:00:20", "00:00"), [])
    assert advisory.kind == "gdm.round-hour"
    assert advisory.figures == {"time": "14:00:20"}
    assert kinds(call("14:01:00", "00:00"), []) == []


def test_every_advisory_names_a_rule_of_the_sne() -> None:
    for kind in (
        "gdm.gap",
        "gdm.no-overlap",
        "gdm.per-commune",
        "gdm.too-frequent",
        "gdm.round-hour",
    ):
        rule = RULES[kind]
        assert rule.title and rule.sne and rule.english
    assert "chevauchement" in RULES["gdm.gap"].sne
    assert "commune par commune" in RULES["gdm.per-commune"].sne


def test_the_query_is_read_for_depuis_and_commune_codes_only() -> None:
    depuis, communes = read_query(
        b"depuis=2025-04-28T15:36:00%2B02:00&communes=38185,38151&communes=2A004"
        b"&communes=DUPONT&nom=DUPONT&communes=38185"
    )
    assert depuis == int(datetime(2025, 4, 28, 13, 36, tzinfo=UTC).timestamp() * 1000)
    assert communes == ("2A004", "38151", "38185")
    assert read_query(b"communes=38185") == (None, ("38185",))
    assert read_query(b"depuis=hier") == (None, ())
    # Without an offset, the SNE's local time (France's: +02:00 in April).
    assert read_query(b"depuis=2025-04-28T15:36:00")[0] == depuis


def test_a_depuis_without_an_offset_is_the_sne_s_local_time() -> None:
    # The SNE's own example: depuis 14:36 (no offset) after a call answered at 14:41:07+02:00.
    previous = replace(
        call("14:41:07", "00:00", movements=4000),
        at_ms=int(datetime(2025, 4, 28, 12, 41, 7, tzinfo=UTC).timestamp() * 1000),
    )
    depuis, _ = read_query(b"depuis=2025-04-28T14:36")
    assert depuis == int(datetime(2025, 4, 28, 12, 36, tzinfo=UTC).timestamp() * 1000)
    assert moment_ms("2025-04-28T14:41:07+02:00") == previous.at_ms
    later = replace(previous, at_ms=previous.at_ms + 3_600_000, depuis_ms=depuis, request_id="r-2")
    assert kinds(later, [previous]) == []
    # In winter, France is at +01:00.
    assert moment_ms("2025-01-15T09:00") == moment_ms("2025-01-15T08:00Z")


@pytest.mark.parametrize(
    "text", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "1999-12-31T23:59:59Z"]
)
def test_a_time_outside_the_years_read_is_not_read(text: str) -> None:
    assert moment_ms(text) is None
    assert read_query(f"depuis={text}".encode()) == (None, ())


def test_the_answer_says_its_time_and_movements() -> None:
    answer = (FIXTURES / "valid/13.34/gdm-mouvements/empty-adresse-postale.xml").read_bytes()
    produced, movements = read_answer(answer)
    assert produced == int(datetime(2025, 4, 28, 14, 41, 9, tzinfo=UTC).timestamp() * 1000)
    assert movements == 2
    assert read_answer(b"<not xml") == (None, None)


def history_of(kind: str, tmp_path: Path) -> CallHistory:
    if kind == "memory":
        return MemoryHistory()
    return StoreHistory(parse_store(f"sqlite:///{tmp_path / 'store.db'}"))  # type: ignore[arg-type]


def record_all(history: CallHistory, calls: list[GdmCall]) -> list[list[str]]:
    """Each call recorded in turn, and the advisories each newly gave."""
    return [
        [
            advisory.kind
            for advisory in history.record(
                later, lambda around, advised, c=later: advise_arrival(c, around, advised)
            )
        ]
        for later in calls
    ]


@pytest.mark.parametrize("kind", ["memory", "store"])
def test_a_history_judges_each_call_against_those_recorded_before(
    kind: str, tmp_path: Path
) -> None:
    history = history_of(kind, tmp_path)
    calls = [
        call("14:41:07", "00:00", movements=4000),
        call("15:41:07", "14:45"),
        call("16:41:07", "15:36"),
    ]
    found = record_all(history, calls)
    history.close()
    assert found == [[], ["gdm.gap"], []]


SERIES = [
    call("14:41:07", "13:36", ("38185",)),
    call("14:41:27", "13:36", ("38151",)),
    call("14:41:47", "13:36", ("38169",)),
]


@pytest.mark.parametrize("kind", ["memory", "store"])
@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_series_is_advised_once_whatever_order_its_calls_are_judged_in(
    kind: str, order: tuple[int, ...], tmp_path: Path
) -> None:
    # Sent at once, the calls reach two workers' threads in any order (c1, c3, c2 gave two
    # advisories, c2, c1, c3 none): the series is judged whole, and given to its first call
    # for a second commune (of those known when it is found).
    history = history_of(kind, tmp_path)
    found = record_all(history, [SERIES[index] for index in order])
    history.close()
    assert sorted(kind for kinds in found for kind in kinds) == ["gdm.per-commune"]
    if kind == "store":
        backend = open_backend(parse_store(f"sqlite:///{tmp_path / 'store.db'}"))  # type: ignore[arg-type]
        rows = backend.fetch("SELECT kind FROM gdm_advisories")
        backend.close()
        assert rows == [("gdm.per-commune",)]


@pytest.mark.parametrize("kind", ["memory", "store"])
def test_calls_judged_out_of_their_order_give_the_advisories_of_their_order(
    kind: str, tmp_path: Path
) -> None:
    # Judged in their order, the second call leaves a gap and is a third call in a day; the
    # later call judged first knows no earlier one, and is judged again when the earlier
    # arrives.
    calls = [
        call("08:41:07", "00:00"),
        call("12:41:07", "08:36"),
        call("16:41:07", "12:45"),
    ]
    history = history_of(kind, tmp_path)
    found = record_all(history, [calls[0], calls[2], calls[1]])
    history.close()
    assert sorted(kind for kinds in found for kind in kinds) == ["gdm.gap", "gdm.too-frequent"]


def test_a_store_made_before_advisories_were_kept_once_gets_its_index(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with contextlib.closing(sqlite3.connect(path)) as old:
        old.execute(
            """CREATE TABLE gdm_advisories (
            id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, env TEXT NOT NULL,
            client TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,
            request_id TEXT NOT NULL, depuis_ms INTEGER, previous_at_ms INTEGER,
            figures TEXT NOT NULL)"""
        )
        for _ in range(2):  # a series advised twice before the fix: both kept
            old.execute(
                "INSERT INTO gdm_advisories (at_ms, env, client, kind, severity, request_id, "
                "figures) VALUES (1, 'recette', 'c', 'gdm.per-commune', 'notice', 'r', '{}')"
            )
        old.commit()
    history = StoreHistory(parse_store(f"sqlite:///{path}"))  # type: ignore[arg-type]
    found = record_all(history, SERIES)
    history.close()
    assert found == [[], ["gdm.per-commune"], []]
    with contextlib.closing(sqlite3.connect(path)) as store:
        indexes = store.execute("PRAGMA index_list(gdm_advisories)").fetchall()
        assert any(row[1] == "gdm_advisories_once" and row[2] for row in indexes)
        assert store.execute("SELECT count(*) FROM gdm_advisories").fetchone() == (3,)


@given(st.binary(max_size=2048))
def test_any_query_reads_as_a_time_and_commune_codes_or_nothing(query: bytes) -> None:
    depuis, communes = read_query(query)
    assert depuis is None or isinstance(depuis, int)
    assert all(len(code) == 5 for code in communes)


@given(st.binary(max_size=2048))
def test_any_answer_reads_as_a_time_and_a_count_or_nothing(answer: bytes) -> None:
    produced, movements = read_answer(answer)
    assert produced is None or isinstance(produced, int)
    assert movements is None or movements >= 0

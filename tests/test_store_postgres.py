"""The violations store on a real PostgreSQL server that the tests start (tests/postgres.py):
the same summary as SQLite's for the same records, replicas writing at once, an outage that
loses nothing and is said once, retention by age, and a GDM series advised once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

import gateway.store.writer as writer_module
from gateway.advice.gdm_rules import advise_arrival
from gateway.advice.history import StoreHistory
from gateway.store.backend import StoreUnavailable, open_backend
from gateway.store.location import StoreLocation, parse_store
from gateway.store.queries import summarize
from gateway.store.summary import Filters
from tests.postgres import PostgresServer, postgres_server
from tests.records import exchange
from tests.servers import wait_for
from tests.test_gdm_rules import SERIES
from tests.test_store import FACET, PATTERN, writer_for

DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with postgres_server() as running:
        yield running


@pytest.fixture
def location(server: PostgresServer) -> Iterator[StoreLocation]:
    """The server's store, emptied after each test."""
    parsed = parse_store(server.url)
    assert parsed is not None
    yield parsed
    backend = open_backend(parsed)
    backend.execute("TRUNCATE exchanges, checks, violations, reports")
    backend.close()


@pytest.fixture(autouse=True)
def quick_writer(monkeypatch) -> None:
    monkeypatch.setattr(writer_module, "FLUSH_SECONDS", 0.02)
    monkeypatch.setattr(writer_module, "RETRY_FIRST_SECONDS", 0.05)
    monkeypatch.setattr(writer_module, "RETRY_MAX_SECONDS", 0.2)


def records(now: int) -> list:
    return [
        exchange(now - 5000, request_id="a", request=[], response=[]),
        exchange(now - 4000, request_id="b", request=[PATTERN]),
        exchange(now - 3000, request_id="c", request=[PATTERN, FACET]),
        exchange(now - 2000, "getNumUnique", "d", request=[], response=[FACET]),
        exchange(now - 1000, None, "e", outcome="upstream.timeout"),
    ]


def test_the_summary_is_sqlites_for_the_same_records(location, tmp_path) -> None:
    now = int(time.time() * 1000)
    sqlite = parse_store(f"sqlite:///{tmp_path / 'store.db'}")
    assert sqlite is not None
    summaries = []
    for where in (location, sqlite):
        backend = open_backend(where)
        backend.write(records(now))
        summaries.append(summarize(backend, Filters(now - DAY_MS, now), now))
        backend.close()
    postgres, expected = summaries
    assert postgres == expected
    assert postgres.totals.exchanges == 5 and postgres.totals.violations == 4


def test_replicas_writing_at_once_never_collide(location) -> None:
    writers = [writer_for(location)[0] for _ in range(3)]
    now = int(time.time() * 1000)
    for writer in writers:
        writer.start()
    for index in range(3000):
        writers[index % 3].put(exchange(now + index, request_id=str(index), request=[PATTERN]))
    for writer in writers:
        writer.stop()
    backend = open_backend(location)
    assert backend.fetch("SELECT count(*), count(DISTINCT id) FROM exchanges") == [(3000, 3000)]
    assert backend.fetch("SELECT count(*) FROM violations") == [(3000,)]
    backend.close()


def test_an_outage_loses_nothing_is_said_once_and_ends(server, location) -> None:
    writer, log, counted = writer_for(location)
    writer.start()
    now = int(time.time() * 1000)
    writer.put(exchange(now, request_id="before", request=[]))
    wait_for(lambda: counted.counts["written"] == 1)
    server.stop()
    try:
        for index in range(50):
            writer.put(exchange(now + index + 1, request_id=f"during-{index}", request=[PATTERN]))
        wait_for(lambda: writer.failing)
        time.sleep(0.5)  # retries fail meanwhile
    finally:
        server.start()
    wait_for(lambda: counted.counts["written"] == 51)
    writer.stop()
    [unavailable] = log.named("store.unavailable")
    assert unavailable["store"] == location.shown()
    assert len(log.named("store.recovered")) == 1
    assert counted.counts["dropped"] == 0
    backend = open_backend(location)
    assert backend.fetch("SELECT count(*) FROM exchanges") == [(51,)]
    backend.close()


def test_retention_removes_what_is_older_than_its_age(location) -> None:
    now = int(time.time() * 1000)
    backend = open_backend(location)
    backend.write(
        [
            exchange(now - 40 * DAY_MS, request_id="old", request=[PATTERN]),
            exchange(now - 1000, request_id="new", request=[PATTERN]),
        ]
    )
    # Whichever worker ran it last, now is a time to run it again.
    backend.execute("UPDATE meta SET number = 0 WHERE key = 'retention_at_ms'")
    backend.close()
    writer, log, _ = writer_for(location, retention_days=30)
    writer.start()
    wait_for(lambda: bool(log.named("store.retention")))
    writer.stop()
    backend = open_backend(location)
    assert backend.fetch("SELECT request_id FROM exchanges") == [("new",)]
    assert backend.fetch("SELECT count(*) FROM violations") == [(1,)]
    backend.close()


def test_an_unreachable_server_is_said_with_its_password_masked(server) -> None:
    location = parse_store(f"postgresql://sne:secret@127.0.0.1:{server.port + 1}/postgres")
    assert location is not None
    with pytest.raises(StoreUnavailable) as caught:
        open_backend(replace(location))
    assert "secret" not in str(caught.value) and "***" in str(caught.value)


def test_a_series_is_advised_once_whatever_order_its_calls_are_judged_in(location) -> None:
    # Two replicas' threads, each with its connection, judge a series' calls in the order
    # that made two advisories (c1, c3, c2); a store of the layout before the once-only
    # index gets it, and keeps the series once.
    backend = open_backend(location)
    backend.execute("ALTER TABLE gdm_advisories DROP COLUMN once_key")
    backend.close()
    first, second = StoreHistory(location), StoreHistory(location)
    found = [
        advisory.kind
        for history, call in ((first, SERIES[0]), (second, SERIES[2]), (first, SERIES[1]))
        for advisory in history.record(
            call, lambda around, advised, c=call: advise_arrival(c, around, advised)
        )
    ]
    first.close()
    second.close()
    backend = open_backend(location)
    rows = backend.fetch("SELECT kind FROM gdm_advisories")
    backend.execute("TRUNCATE gdm_calls, gdm_advisories")
    backend.close()
    assert found == ["gdm.per-commune"]
    assert rows == [("gdm.per-commune",)]

"""The violations store on SQLite, in process: the writer thread, its queue's bound, outages,
a full store, a damaged file, retention by age and size, workers writing to one file, and the
summary a campaign is reported from (PostgreSQL: test_store_postgres.py; over real sockets
with `serve --workers 2`: test_campaign.py)."""

from __future__ import annotations

import collections
import sqlite3
import threading
import time
from pathlib import Path

import pytest

import gateway.store.writer as writer_module
from gateway.store.backend import open_backend
from gateway.store.location import StoreLocation, parse_store
from gateway.store.queries import summarize
from gateway.store.sqlite import SqliteStore
from gateway.store.summary import Filters, Finding, Flow
from gateway.store.writer import StoreWriter
from tests.records import EventLog, exchange
from tests.servers import wait_for

DAY_MS = 86_400_000
PATTERN = ("xsd.pattern", "/nuu:interfaceNuu/nuu:requeteRessources/nuu:numUnique[2]")
FACET = ("xsd.facet", "/nuu:interfaceNuu/nuu:demande/nuu:nom")


@pytest.fixture(autouse=True)
def quick_writer(monkeypatch) -> None:
    """The writer's periods shortened: the tests wait for what it does, not for its clock."""
    monkeypatch.setattr(writer_module, "FLUSH_SECONDS", 0.02)
    monkeypatch.setattr(writer_module, "RETRY_FIRST_SECONDS", 0.05)
    monkeypatch.setattr(writer_module, "RETRY_MAX_SECONDS", 0.2)


class Counted:
    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    def __call__(self, result: str, amount: int) -> None:
        with self.lock:
            self.counts[result] += amount


def writer_for(location: StoreLocation, **options) -> tuple[StoreWriter, EventLog, Counted]:
    log, counted = EventLog(), Counted()
    options = {"retention_days": 90, "max_bytes": 1 << 30, **options}
    return StoreWriter(location, log, counted, **options), log, counted


def sqlite_at(path: Path) -> StoreLocation:
    location = parse_store(f"sqlite:///{path}")
    assert location is not None
    return location


def count_exchanges(location: StoreLocation) -> int:
    backend = open_backend(location)
    try:
        return backend.fetch("SELECT count(*) FROM exchanges")[0][0]
    finally:
        backend.close()


def test_records_are_written_by_the_thread_and_summed(tmp_path: Path) -> None:
    location = sqlite_at(tmp_path / "store.db")
    writer, log, counted = writer_for(location)
    now = int(time.time() * 1000)
    writer.start()
    writer.put(exchange(now - 5000, request_id="a", request=[], response=[]))
    writer.put(exchange(now - 4000, request_id="b", request=[PATTERN]))
    writer.put(exchange(now - 3000, request_id="c", request=[PATTERN, FACET]))
    writer.put(exchange(now - 2000, "getNumUnique", "d", request=[], response=[FACET]))
    writer.put(exchange(now - 1000, None, "e", outcome="upstream.timeout"))
    writer.stop()
    assert counted.counts == {"written": 5}
    assert not log.events
    backend = open_backend(location)
    summary = summarize(backend, Filters(now - DAY_MS, now), now)
    backend.close()
    assert summary.totals.exchanges == 5
    assert (summary.totals.passed, summary.totals.failed, summary.totals.skipped) == (1, 3, 1)
    assert summary.flows == (
        Flow("", None, 1),
        Flow("drm-ressources", "request", 3, passed=1, failed=2, blocked=2, violations=3),
        Flow("drm-ressources", "response", 1, passed=1),
        Flow("getNumUnique", "request", 1, passed=1),
        Flow("getNumUnique", "response", 1, failed=1, violations=1),
    )
    assert [(code.code, code.violations, code.exchanges) for code in summary.codes] == [
        ("xsd.facet", 2, 2),
        ("xsd.pattern", 2, 2),
    ]
    pattern = next(group for group in summary.groups if group.code == "xsd.pattern")
    # The position left out; the latest exchange's request id first.
    assert pattern.path == "/nuu:interfaceNuu/nuu:requeteRessources/nuu:numUnique"
    assert pattern.request_ids == ("c", "b")
    assert (pattern.first_ms, pattern.last_ms) == (now - 4000, now - 3000)
    assert dict(summary.findings) == {
        Finding("drm-ressources", "request", "xsd.facet"): 1,
        Finding("drm-ressources", "request", "xsd.pattern"): 2,
        Finding("getNumUnique", "response", "xsd.facet"): 1,
    }
    assert summary.outcomes == {"upstream.timeout": 1}
    assert sum(day.exchanges for day in summary.days) == 5


def test_filters_narrow_the_exchanges(tmp_path: Path) -> None:
    location = sqlite_at(tmp_path / "store.db")
    backend = open_backend(location)
    now = int(time.time() * 1000)
    backend.write(
        [
            exchange(now - 3 * DAY_MS, request_id="old", request=[PATTERN]),
            exchange(now - 3000, request_id="a", request=[PATTERN]),
            exchange(now - 2000, "getNumUnique", "b", request=[], response=[FACET]),
            exchange(now - 1000, request_id="c", request=[], env="prod"),
        ]
    )
    window = Filters(now - DAY_MS, now)
    assert summarize(backend, window, now).totals.exchanges == 3
    by_code = summarize(backend, Filters(now - DAY_MS, now, code="xsd.facet"), now)
    assert by_code.totals.exchanges == 1 and [c.code for c in by_code.codes] == ["xsd.facet"]
    by_direction = summarize(backend, Filters(now - DAY_MS, now, direction="response"), now)
    assert {flow.direction for flow in by_direction.flows} == {"response"}
    assert summarize(backend, Filters(now - DAY_MS, now, env="prod"), now).totals.exchanges == 1
    by_route = summarize(backend, Filters(now - 4 * DAY_MS, now, route="drm-ressources"), now)
    assert by_route.totals.exchanges == 3 and by_route.totals.violations == 2
    backend.close()


def test_a_store_that_cannot_be_opened_keeps_the_records_and_says_so_once(tmp_path: Path) -> None:
    # Its directory cannot be made while a file holds its name.
    blocker = tmp_path / "stores"
    blocker.write_text("not a directory")
    location = sqlite_at(blocker / "store.db")
    writer, log, counted = writer_for(location)
    writer.start()
    now = int(time.time() * 1000)
    for index in range(3):
        writer.put(exchange(now + index, request_id=str(index), request=[]))
    wait_for(lambda: writer.failing)
    time.sleep(0.5)  # several retries fail meanwhile
    blocker.unlink()
    wait_for(lambda: counted.counts["written"] == 3)
    writer.stop()
    [unavailable] = log.named("store.unavailable")
    assert unavailable["store"] == str(blocker / "store.db")
    assert "traffic is not affected" in unavailable["consequence"]
    assert len(log.named("store.recovered")) == 1
    assert not writer.failing and count_exchanges(location) == 3


def test_past_its_bound_the_queue_drops_records_counts_them_and_says_so_once(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "stores"
    blocker.write_text("not a directory")
    location = sqlite_at(blocker / "store.db")
    writer, log, counted = writer_for(location, capacity=5)
    writer.start()
    now = int(time.time() * 1000)
    for index in range(12):
        writer.put(exchange(now + index, request_id=str(index), request=[]))
    assert writer.dropped == 7
    wait_for(lambda: counted.counts["dropped"] == 7)
    blocker.unlink()
    wait_for(lambda: counted.counts["written"] == 5)
    wait_for(lambda: bool(log.named("store.drops-ended")))
    writer.stop()
    assert len(log.named("store.records-dropped")) == 1
    assert log.named("store.drops-ended") == [{"store": location.shown(), "dropped": 7}]
    assert count_exchanges(location) == 5


def test_a_full_store_is_an_outage_and_the_records_wait(tmp_path: Path) -> None:
    location = sqlite_at(tmp_path / "store.db")
    room = {"pages": 0}

    def limited(location: StoreLocation) -> SqliteStore:
        store = SqliteStore(location)
        if room["pages"]:
            # As a full disk does, SQLite answers SQLITE_FULL past this many pages.
            store.fetch(f"PRAGMA max_page_count = {room['pages']}")
        return store

    SqliteStore(location).close()
    ((pages,),) = sqlite3.connect(location.path).execute("PRAGMA page_count").fetchall()
    room["pages"] = pages
    writer, log, counted = writer_for(location, open_store=limited)
    writer.start()
    now = int(time.time() * 1000)
    for index in range(300):
        writer.put(exchange(now + index, request_id=f"{index:040d}", request=[PATTERN]))
    wait_for(lambda: writer.failing)
    [unavailable] = log.named("store.unavailable")
    assert "full" in unavailable["reason"]
    room["pages"] = 0
    wait_for(lambda: counted.counts["written"] == 300)
    writer.stop()
    assert count_exchanges(location) == 300 and counted.counts["dropped"] == 0


def test_a_damaged_file_is_moved_aside_and_a_new_store_started(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.write_bytes(b"this is no database, whatever its name says " * 100)
    location = sqlite_at(path)
    writer, log, counted = writer_for(location)
    writer.start()
    writer.put(exchange(int(time.time() * 1000), request=[]))
    wait_for(lambda: counted.counts["written"] == 1)
    writer.stop()
    [aside] = tmp_path.glob("store.db.corrupt-*")
    assert aside.read_bytes().startswith(b"this is no database")
    [corrupt] = log.named("store.corrupt")
    assert corrupt["moved_to"] == str(aside) and "not a database" in corrupt["reason"]
    assert count_exchanges(location) == 1


def test_retention_removes_what_is_older_than_its_age(tmp_path: Path) -> None:
    location = sqlite_at(tmp_path / "store.db")
    now = int(time.time() * 1000)
    backend = open_backend(location)
    backend.write(
        [
            exchange(now - 40 * DAY_MS, request_id="old", request=[PATTERN]),
            exchange(now - 1000, request_id="new", request=[PATTERN]),
        ]
    )
    backend.close()
    writer, log, _ = writer_for(location, retention_days=30)
    writer.start()
    wait_for(lambda: bool(log.named("store.retention")))
    writer.stop()
    assert log.named("store.retention") == [
        {"store": location.shown(), "removed_by_age": 1, "removed_by_size": 0}
    ]
    backend = open_backend(location)
    assert backend.fetch("SELECT request_id FROM exchanges") == [("new",)]
    # Its violations went with it.
    assert backend.fetch("SELECT count(*) FROM violations") == [(1,)]
    backend.close()


def test_retention_keeps_the_store_under_its_size_the_newest_kept(tmp_path: Path) -> None:
    location = sqlite_at(tmp_path / "store.db")
    now = int(time.time() * 1000)
    backend = open_backend(location)
    for batch in range(10):
        backend.write(
            [
                exchange(
                    now - 100_000 + batch * 1000 + index,
                    request_id=f"{batch}-{index}",
                    request=[PATTERN, FACET],
                )
                for index in range(1000)
            ]
        )
    before = backend.used_bytes()
    backend.close()
    bound = before // 4
    writer, log, _ = writer_for(location, max_bytes=bound)
    writer.start()
    wait_for(lambda: bool(log.named("store.retention")))
    writer.stop()
    [retention] = log.named("store.retention")
    assert retention["removed_by_size"] > 0 and retention["removed_by_age"] == 0
    backend = open_backend(location)
    assert backend.used_bytes() <= bound
    ((oldest,),) = backend.fetch("SELECT min(at_ms) FROM exchanges")
    ((newest,),) = backend.fetch("SELECT request_id FROM exchanges ORDER BY at_ms DESC LIMIT 1")
    backend.close()
    assert newest == "9-999" and oldest > now - 100_000
    # The pages freed went back to the file system.
    assert location.path.stat().st_size < before


def test_workers_writing_to_one_file_take_turns(tmp_path: Path) -> None:
    location = sqlite_at(tmp_path / "store.db")
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


def test_what_the_queue_holds_at_a_stop_is_written(tmp_path: Path, monkeypatch) -> None:
    # The thread does not look before the stop: only the stop writes them.
    monkeypatch.setattr(writer_module, "FLUSH_SECONDS", 3600)
    location = sqlite_at(tmp_path / "store.db")
    writer, _, counted = writer_for(location)
    writer.start()
    now = int(time.time() * 1000)
    for index in range(2500):
        writer.put(exchange(now + index, request_id=str(index), request=[]))
    writer.stop()
    assert counted.counts == {"written": 2500}
    assert count_exchanges(location) == 2500

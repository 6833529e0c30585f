"""What is coming, in a real PostgreSQL server the tests start (tests/postgres.py): the next
XSD set's differences written by the store's writer path and read by the report's query, and
two replicas judging one client's GDM calls in turn, each call once, under PostgreSQL's
advisory lock."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from gateway.advice.gdm_rules import advise_arrival
from gateway.advice.history import StoreHistory
from gateway.store.backend import open_backend
from gateway.store.forecast_queries import gdm_usage, next_set_forecast
from gateway.store.location import StoreLocation, parse_store
from gateway.store.summary import Filters
from tests.postgres import postgres_server
from tests.test_report_forecast import difference, gdm_call

MINUTE = 60_000


@pytest.fixture(scope="module")
def location() -> Iterator[StoreLocation]:
    with postgres_server() as running:
        parsed = parse_store(running.url)
        assert parsed is not None
        yield parsed


def test_the_next_sets_differences_in_postgresql(location: StoreLocation) -> None:
    now = int(time.time() * 1000)
    backend = open_backend(location)
    try:
        backend.write(
            [
                difference(now - 3 * MINUTE, "n1", "fail"),
                difference(now - 2 * MINUTE, "n2", "fail"),
                difference(now - MINUTE, "m1", "pass"),
            ]
        )
        forecast = next_set_forecast(backend, Filters(now - 60 * MINUTE, now))
    finally:
        backend.close()
    assert forecast is not None
    assert (forecast.failing, forecast.passing) == (2, 1)
    failing = forecast.findings[0]
    assert (failing.route, failing.documents, failing.request_ids) == (
        "getNumUnique",
        2,
        ("n2", "n1"),
    )
    assert [change.kind for change in failing.explained_by] == ["facet-changed"]


def test_two_replicas_judge_one_clients_calls_once_each(location: StoreLocation) -> None:
    replicas = [StoreHistory(location), StoreHistory(location)]
    first = (int(time.time() * 1000) // (60 * MINUTE) - 5) * 60 * MINUTE + 41 * MINUTE + 7_000
    calls = [
        gdm_call(first, first - 600 * MINUTE, movements=4000),
        gdm_call(first + 60 * MINUTE, first - 5 * MINUTE),
        gdm_call(first + 120 * MINUTE, first + 64 * MINUTE),  # a gap of 4 minutes
        gdm_call(first + 180 * MINUTE, first + 116 * MINUTE),
    ]
    found = []
    for index, call in enumerate(calls):
        history = replicas[index % 2]
        found.append(
            [a.kind for a in history.record(call, lambda e, s, c=call: advise_arrival(c, e, s))]
        )
    for history in replicas:
        history.close()
    assert found == [[], [], ["gdm.gap"], []]
    backend = open_backend(location)
    try:
        usage = gdm_usage(backend, Filters(first - MINUTE, first + 200 * MINUTE))
    finally:
        backend.close()
    assert usage is not None
    assert [(c.client, c.calls) for c in usage.clients] == [("CN=guichet-essai", 4)]
    assert [(g.kind, g.count, g.latest_figures) for g in usage.groups] == [
        ("gdm.gap", 1, {"gap_minutes": 4.0})
    ]


def test_a_reader_finds_the_tables_a_writer_made(location: StoreLocation) -> None:
    backend = open_backend(location, prepare=False)
    try:
        assert next_set_forecast(backend, Filters(0, 1)) is not None
        assert gdm_usage(backend, Filters(0, 1)) is not None
    finally:
        backend.close()

"""The simulator's steering, over real sockets: two versions served at once (the first unless a
request names the other in `X-Simulator-Version`), the moment an answer is produced at
(`X-Simulator-Now`), and the size of a GDM feed (`X-Simulator-Movements`); every answer valid
against its version, and every bad steering value refused with the reason."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from lxml import etree

from gateway.catalog import SHIPPED_XSD, load_catalog
from gateway.simulator.app import create_simulator
from gateway.simulator.settings import SimulatorSettings
from gateway.validate import validate
from tests.servers import RunningServer, serve_asgi

ROOT = Path(__file__).resolve().parent.parent
NUU = "{http://nuu.application.i2/}"
GDM = "/v1.0/gdm/mouvements"
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningServer]:
    settings = SimulatorSettings(version="13.33", other_versions=("13.34",))
    with serve_asgi(create_simulator(settings)) as running:
        yield running


def feed(url: str, **headers: str) -> httpx.Response:
    depuis = (NOW - timedelta(hours=1)).isoformat()
    return httpx.get(url + GDM, params={"depuis": depuis}, headers=headers)


def test_two_versions_the_first_by_default(simulator: RunningServer) -> None:
    catalog = load_catalog(SHIPPED_XSD)
    for named, version in ((None, "13.33"), ("13.34", "13.34"), ("13.33", "13.33")):
        headers = {"x-simulator-version": named} if named else {}
        headers["x-simulator-movements"] = "40"
        answer = feed(simulator.url, **headers)
        assert answer.status_code == 200
        assert etree.fromstring(answer.content).get("versionInterface") == version
        report = validate(answer.content, catalog.version(version).schema("gdm-mouvements"))
        assert report.valid, report.violations
    health = httpx.get(simulator.url + "/_simulator/health").json()
    assert (health["version"], health["versions"]) == ("13.33", ["13.33", "13.34"])


def test_an_answer_produced_at_the_moment_asked(simulator: RunningServer) -> None:
    steered = datetime(2026, 3, 2, 14, 41, 7, tzinfo=UTC)
    answer = httpx.get(
        simulator.url + GDM,
        params={"depuis": "2026-03-02T13:36:00+00:00"},
        headers={"x-simulator-now": "2026-03-02T15:41:07+01:00", "x-simulator-movements": "7"},
    )
    root = etree.fromstring(answer.content)
    assert root.findtext(f"{NUU}entete/{NUU}dateFichier") == steered.isoformat()
    moments = [
        datetime.fromisoformat(text)
        for text in root.xpath("//*[local-name()='dateMouvement']/text()")
    ]
    assert len(moments) == 7
    assert all(datetime(2026, 3, 2, 13, 36, tzinfo=UTC) <= m <= steered for m in moments)


def test_a_feed_of_the_size_asked(simulator: RunningServer) -> None:
    for count in (0, 1, 250):
        answer = feed(simulator.url, **{"x-simulator-movements": str(count)})
        assert answer.content.count(b"<mouvement>") == count
    # Unsteered, the feed is the seed's.
    assert feed(simulator.url).status_code == 200


@pytest.mark.parametrize(
    ("header", "value", "said"),
    [
        ("x-simulator-version", "12.00", "serves 13.33, 13.34"),
        ("x-simulator-now", "demain", "not an ISO 8601 time"),
        ("x-simulator-now", "2026-03-02T15:41:07", "has no offset"),
        ("x-simulator-now", "9999-12-31T23:59:59-14:00", "not between the years"),
        ("x-simulator-now", "0001-01-01T00:00:00+14:00", "not between the years"),
        ("x-simulator-movements", "-3", "from 0 to 20000"),
        ("x-simulator-movements", "20001", "from 0 to 20000"),
    ],
)
def test_a_bad_steering_value_is_refused(
    simulator: RunningServer, header: str, value: str, said: str
) -> None:
    answer = feed(simulator.url, **{header: value})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/plain")
    assert said in answer.text


def test_simulate_serves_the_versions_given() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli.main",
            "simulate",
            "--version",
            "13.33",
            "--version",
            "13.99",
            "--port",
            "0",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "13.99" in completed.stderr

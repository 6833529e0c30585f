"""GDM usage advisories over real sockets: a client's day of movements calls, through the gateway
to the SNE simulator, whose clock and feed size each call steers (`X-Simulator-Now`,
`X-Simulator-Movements`): nothing waits for real minutes. The sequence holds a gap, windows
that do not overlap, a call too frequent for the volume, a call at a round hour and a series
of one-commune calls; it yields exactly those advisories, once each, whether the calls go
through `serve --workers 2` or alternately through two gateways sharing one store (replicas),
and `sne-gateway report` shows them with the SNE's rules.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from gateway.simulator.app import create_simulator
from gateway.simulator.settings import SimulatorSettings
from gateway.store.backend import open_backend
from gateway.store.location import parse_store
from tests.servers import RunningServer, gateway_settings, serve_asgi, serve_gateway, wait_for
from tests.test_proxy_metrics import serve_workers

ROOT = Path(__file__).resolve().parent.parent
GDM = "/v1.0/gdm/mouvements"
SUBJECT = "CN=guichet-essai,O=Editeur SI,C=FR"
CANARY = "zzcanary7f3a91"
#: Yesterday, so that every steered time is in the past, within the store's retention and
#: the simulator's 31 days.
DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)


@dataclass(frozen=True)
class Call:
    now: str
    depuis: str
    movements: int
    commune: str | None = None
    #: What the call breaks.
    expected: str | None = None


def moment(clock: str) -> datetime:
    hours, minutes, *seconds = (int(part) for part in clock.split(":"))
    return DAY + timedelta(hours=hours, minutes=minutes, seconds=seconds[0] if seconds else 0)


#: A guichet of about 6,500 movements a day, so hourly calls are its due (the SNE's example:
#: 14:41 depuis 00:00, 15:41 depuis 14:36); then each rule broken once.
SEQUENCE = (
    Call("14:41:07", "00:00", 4000),
    Call("15:41:07", "14:36", 300),
    Call("16:41:07", "15:45", 280, expected="gdm.gap"),
    Call("17:41:07", "16:40", 300, expected="gdm.no-overlap"),
    Call("18:10:07", "17:36", 150, expected="gdm.too-frequent"),
    Call("20:00:20", "18:05", 500, expected="gdm.round-hour"),
    Call("21:41:07", "19:55", 300, commune="38185"),
    Call("21:43:07", "19:55", 300, commune="38151", expected="gdm.per-commune"),
    Call("21:45:07", "19:55", 300, commune="38169"),
)


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningServer]:
    with serve_asgi(create_simulator(SimulatorSettings())) as running:
        yield running


def rows(store: str, sql: str) -> list[tuple[object, ...]]:
    backend = open_backend(parse_store(store))  # type: ignore[arg-type]
    try:
        return backend.fetch(sql)
    finally:
        backend.close()


def play(urls: list[str], store: str) -> None:
    """The sequence, each call on a connection of its own, through `urls` in turn; each call
    judged before the next is sent (a client's calls come minutes apart). Each query also
    carries a personal-data canary, which is read nowhere."""
    for index, call in enumerate(SEQUENCE):
        params = {"depuis": moment(call.depuis).isoformat(), "nom": CANARY}
        if call.commune:
            params["communes"] = call.commune
        answer = httpx.get(
            urls[index % len(urls)] + GDM,
            params=params,
            headers={
                "x-simulator-now": moment(call.now).isoformat(),
                "x-simulator-movements": str(call.movements),
                "x-client-subject": SUBJECT,
                "x-request-id": f"gdm-{index}",
            },
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-conformance"] == "pass"
        assert answer.text.count("<mouvement>") == call.movements
        wait_for(lambda n=index: rows(store, "SELECT count(*) FROM gdm_calls")[0][0] == n + 1)


def expected() -> list[tuple[str, str, str]]:
    return [
        (call.expected, f"gdm-{index}", SUBJECT)
        for index, call in enumerate(SEQUENCE)
        if call.expected
    ]


def advisories(store: str) -> list[tuple[object, ...]]:
    return rows(store, "SELECT kind, request_id, client FROM gdm_advisories ORDER BY at_ms")


def test_the_sequence_through_two_workers(simulator: RunningServer, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    environment = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "SNE_GATEWAY_LOG_FORMAT": "json",
        "SNE_GATEWAY_STORE": store,
        "SNE_GATEWAY_CLIENT_HEADER": "X-Client-Subject",
    }
    log: list[str] = []
    with serve_workers(simulator.url, environment, log) as url:
        play([url], store)
        scrape = httpx.get(url + "/_gateway/metrics").text
    assert advisories(store) == expected()
    assert not [line for line in log if CANARY in line]
    assert CANARY.encode() not in (tmp_path / "store.db").read_bytes()
    events = [json.loads(line) for line in log if line.startswith("{")]
    said = [(e["event"], e["request_id"]) for e in events if e["event"].startswith("gdm.")]
    assert said == [(kind, request_id) for kind, request_id, _ in expected()]
    gap = next(e for e in events if e["event"] == "gdm.gap")
    assert gap["level"] == "warning"
    assert gap["gap_minutes"] == 3.9
    assert gap["previous_at"] == moment("15:41:07").isoformat()
    assert gap["depuis"] == moment("15:45").isoformat()
    assert "chevauchement" in gap["rule"]
    for kind, _, _ in expected():
        assert f'sne_gateway_gdm_advisories_total{{advisory="{kind}"}} 1.0' in scrape
    assert 'sne_gateway_gdm_calls_total{result="judged"} 9.0' in scrape
    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli.main",
            "report",
            "--store",
            store,
            "--since",
            "3d",
            "--format",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert CANARY not in report.stdout
    usage = json.loads(report.stdout)["gdm_usage"]
    assert [(c["client"], c["calls"]) for c in usage["clients"]] == [(SUBJECT, 9)]
    assert {(a["advisory"], a["count"]) for a in usage["advisories"]} == {
        (kind, 1) for kind, _, _ in expected()
    }
    assert usage["advisories"][0]["advisory"] == "gdm.gap"  # warnings first
    assert usage["advisories"][0]["rule"]["title"] == "3. Évitez les désynchronisations"


def test_the_sequence_through_two_replicas_sharing_a_store(
    simulator: RunningServer, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    settings = gateway_settings(simulator.url, store=store, client_header="X-Client-Subject")
    with serve_gateway(settings) as first, serve_gateway(settings) as second:
        play([first.url, second.url], store)
    assert advisories(store) == expected()


def test_without_a_store_each_worker_judges_its_own_calls(simulator: RunningServer) -> None:
    settings = gateway_settings(simulator.url, client_header="X-Client-Subject")
    with serve_gateway(settings) as gateway:
        for index, call in enumerate(SEQUENCE[:3]):
            httpx.get(
                gateway.url + GDM,
                params={"depuis": moment(call.depuis).isoformat()},
                headers={
                    "x-simulator-now": moment(call.now).isoformat(),
                    "x-simulator-movements": str(call.movements),
                    "x-client-subject": SUBJECT,
                    "x-request-id": f"gdm-{index}",
                },
            )

        def gap_counted() -> bool:
            scrape = httpx.get(gateway.url + "/_gateway/metrics").text
            return 'sne_gateway_gdm_advisories_total{advisory="gdm.gap"} 1.0' in scrape

        wait_for(gap_counted)


def test_series_sent_at_once_through_two_workers_are_advised_once_each(
    simulator: RunningServer, tmp_path: Path
) -> None:
    # Ten clients each send four one-commune calls at once (20 s apart on the SNE's clock):
    # the two workers' advisor threads judge them in whatever order they win the store's
    # lock, and each series is still advised exactly once.
    store = f"sqlite:///{tmp_path / 'store.db'}"
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    environment = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "SNE_GATEWAY_STORE": store,
        "SNE_GATEWAY_CLIENT_HEADER": "X-Client-Subject",
    }
    clients = [f"CN=guichet-{number}" for number in range(10)]
    communes = ("38185", "38151", "38169", "38421")

    def send(url: str, client: str, index: int) -> int:
        answer = httpx.get(
            url + GDM,
            params={"depuis": moment("13:36").isoformat(), "communes": communes[index]},
            headers={
                "x-simulator-now": (moment("14:41:07") + timedelta(seconds=20 * index)).isoformat(),
                "x-simulator-movements": "10",
                "x-client-subject": client,
            },
            timeout=30,
        )
        return answer.status_code

    with (
        serve_workers(simulator.url, environment) as url,
        concurrent.futures.ThreadPoolExecutor(8) as pool,
    ):
        statuses = list(
            pool.map(
                lambda pair: send(url, *pair),
                [(client, index) for client in clients for index in range(4)],
            )
        )
        assert statuses == [200] * 40
        wait_for(lambda: rows(store, "SELECT count(*) FROM gdm_calls")[0][0] == 40)
    advised = rows(
        store,
        "SELECT client, count(*) FROM gdm_advisories WHERE kind = 'gdm.per-commune' "
        "GROUP BY client ORDER BY client",
    )
    assert advised == [(client, 1) for client in sorted(clients)]

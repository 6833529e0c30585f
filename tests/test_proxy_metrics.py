"""`/_gateway/metrics`: the exchanges counted by route, conformance and outcome, each direction's
decision, the violations by code and the validation time, in Prometheus's text format; with
several workers, every worker's counts whichever answers. Never a path or a value."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

import gateway.proxy.upstream
from gateway.catalog import SHIPPED_XSD, load_catalog
from gateway.report.metrics import MULTIPROCESS_VARIABLE
from tests.servers import (
    RunningServer,
    gateway_settings,
    scraped,
    series,
    serve_asgi,
    serve_command,
    serve_gateway,
    wait_for,
)
from tests.upstream import Answer, ScriptedUpstream

ROOT = Path(__file__).resolve().parent.parent
DRM = "/v1.0/drm/ressources"
REQUEST = (ROOT / "fixtures/valid/13.33/drm-ressources/requete.xml").read_bytes()
RESPONSE = (ROOT / "fixtures/valid/13.33/drm-ressources/reponse.xml").read_bytes()
INVALID = (
    ROOT / "fixtures/invalid/drm-ressources/xsd.pattern--numunique-lowercase-key.xml"
).read_bytes()
EXPORT = (ROOT / "fixtures/archives/export-valid.tgz").read_bytes()
XML = {"content-type": "application/xml"}
VERSION = load_catalog(SHIPPED_XSD).latest.version
PASSED = series(
    "sne_gateway_exchanges_total", route="drm-ressources", conformance="pass", outcome="completed"
)


@pytest.fixture(scope="module")
def upstream() -> Iterator[RunningServer]:
    scripted = ScriptedUpstream()
    scripted.answer(DRM, Answer(200, "application/xml", RESPONSE))
    scripted.answer(DRM + "/invalid-answer", Answer(200, "application/xml", INVALID))
    scripted.answer("/elsewhere", Answer(200, "text/plain", b"ok"))
    scripted.answer("/v1.0/exports/7/fichier", Answer(200, "application/gzip", EXPORT))
    with serve_asgi(scripted) as running:
        yield running


def test_exchanges_checks_and_violations_are_counted(upstream) -> None:
    with serve_gateway(gateway_settings(upstream.url, env="recette")) as gateway:
        for _ in range(2):
            assert httpx.post(gateway.url + DRM, content=REQUEST, headers=XML).status_code == 200
        assert httpx.post(gateway.url + DRM, content=INVALID, headers=XML).status_code == 422
        elsewhere = httpx.post(gateway.url + "/elsewhere", content=b"hello")
        assert elsewhere.headers["x-conformance"] == "skipped"
        export = httpx.get(gateway.url + "/v1.0/exports/7/fichier")
        assert export.content == EXPORT and export.headers["x-conformance"] == "streaming"
        # Refused by the gateway's checks, then by the router of its own endpoints.
        assert httpx.request("TRACE", gateway.url + "/x").status_code == 405
        assert httpx.post(gateway.url + "/_gateway/health").status_code == 405
        scrape = httpx.get(gateway.url + "/_gateway/metrics")
        counted = scraped(gateway.url)

    assert scrape.status_code == 200
    assert scrape.headers["content-type"] == CONTENT_TYPE_PLAIN_0_0_4
    route, export_route = "drm-ressources", "exports-download"
    counters = tuple(f"sne_gateway_{name}_total" for name in ("exchanges", "checks", "violations"))
    assert {key: value for key, value in counted.items() if key[0] in counters} == {
        PASSED: 2,
        series("sne_gateway_exchanges_total", route=route, conformance="fail", outcome="completed"): 1,
        series("sne_gateway_exchanges_total", route="", conformance="skipped", outcome="completed"): 1,
        series("sne_gateway_exchanges_total", route=export_route, conformance="pass", outcome="completed"): 1,
        series("sne_gateway_exchanges_total", route="", conformance="skipped", outcome="refused"): 2,
        series("sne_gateway_checks_total", route=route, direction="request", conformance="pass", action="forwarded"): 2,
        series("sne_gateway_checks_total", route=route, direction="response", conformance="pass", action="forwarded"): 2,
        series("sne_gateway_checks_total", route=route, direction="request", conformance="fail", action="blocked"): 1,
        series("sne_gateway_checks_total", route=export_route, direction="response", conformance="pass", action="forwarded"): 1,
        series("sne_gateway_violations_total", route=route, direction="request", code="xsd.pattern"): 1,
    }  # fmt: skip
    # An export's check lasts its whole download: it is not a validation time.
    assert counted[series("sne_gateway_validations_total", direction="request")] == 3
    assert counted[series("sne_gateway_validations_total", direction="response")] == 2
    assert counted[series("sne_gateway_validation_seconds_total", direction="request")] > 0
    assert counted[series("sne_gateway_xsd_version", version=VERSION)] == 1
    assert counted[series("sne_gateway_xsd_degraded")] == 0
    # Neither the value at fault nor any request's path.
    assert "912h" not in scrape.text and "elsewhere" not in scrape.text
    assert DRM not in scrape.text and "exports/7" not in scrape.text


def test_a_blocked_answer_and_a_failed_upstream_are_counted(upstream, tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[gateway]\nxsd = "{ROOT / "xsd"}"\n[policy.recette]\nresponse = "block"\n'
        f'[[routes]]\nname = "drm"\npath = "{DRM}**"\nrequest = {{ schema = "drm-ressources" }}\n'
        'response = { schema = "drm-ressources" }\n'
    )
    with serve_gateway(gateway_settings(upstream.url, config=config, env="recette")) as gateway:
        answer = httpx.post(gateway.url + DRM + "/invalid-answer", content=REQUEST, headers=XML)
        assert answer.status_code == 502
        blocked = scraped(gateway.url)
    with serve_gateway(gateway_settings("http://127.0.0.1:9", config=config)) as gateway:
        assert httpx.post(gateway.url + DRM, content=REQUEST, headers=XML).status_code == 502
        unreachable = scraped(gateway.url)
    assert (
        blocked[
            series(
                "sne_gateway_checks_total",
                route="drm",
                direction="response",
                conformance="fail",
                action="blocked",
            )
        ]
        == 1
    )
    assert (
        blocked[
            series(
                "sne_gateway_violations_total",
                route="drm",
                direction="response",
                code="xsd.pattern",
            )
        ]
        == 1
    )
    assert (
        unreachable[
            series(
                "sne_gateway_exchanges_total",
                route="drm",
                conformance="pass",
                outcome="upstream.unreachable",
            )
        ]
        == 1
    )


def test_an_exchange_the_gateway_failed_is_counted_and_logged_as_an_error(
    upstream, monkeypatch, capfd, logging_restored
) -> None:
    def bug(*arguments: object, **options: object) -> None:
        raise RuntimeError("a bug in the gateway")

    # Past the checks, where nothing turns an exception into an answer of the gateway's own.
    monkeypatch.setattr(gateway.proxy.upstream, "upstream_request_headers", bug)
    with serve_gateway(gateway_settings(upstream.url, env="recette")) as server:
        assert httpx.post(server.url + DRM, content=REQUEST, headers=XML).status_code == 500
        counted = scraped(server.url)
    failed = series(
        "sne_gateway_exchanges_total", route="drm-ressources", conformance="pass", outcome="error"
    )
    assert counted[failed] == 1
    (event,) = [
        json.loads(line)
        for line in capfd.readouterr().err.splitlines()
        if "exchange.failed" in line
    ]
    assert event["route"] == "drm-ressources" and "RuntimeError: a bug" in event["exception"]


def test_counts_a_worker_could_not_hand_over_are_kept_and_said(upstream, tmp_path: Path) -> None:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    environment = {**os.environ, MULTIPROCESS_VARIABLE: str(metrics)}
    environment["SNE_GATEWAY_LOG_FORMAT"] = "json"
    log: list[str] = []
    with serve_workers(upstream.url, environment, log) as url:
        # Removed before any worker wrote its file there: the files cannot be made.
        metrics.rmdir()
        assert httpx.post(url + DRM, content=REQUEST, headers=XML).status_code == 200
        wait_for(lambda: sum("metrics.flush-failed" in line for line in log) == 1)
        metrics.mkdir()
        wait_for(lambda: scraped(url).get(PASSED, 0) == 1)
    failures = [json.loads(line) for line in log if "metrics.flush-failed" in line]
    assert len(failures) == 1 and failures[0]["directory"] == str(metrics)
    assert failures[0]["reason"].startswith("FileNotFoundError")
    assert any("metrics.flush-recovered" in line for line in log)


@contextlib.contextmanager
def serve_workers(
    upstream: str, environment: dict[str, str], log: list[str] | None = None
) -> Iterator[str]:
    """`sne-gateway serve --workers 2` in front of `upstream`, until the block ends; its log
    lines go into `log`."""
    command, port = serve_command("--upstream", upstream, "--workers", "2", "--env", "recette")
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    started = threading.Semaphore(0)

    def read_log() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if log is not None:
                log.append(line)
            # A worker listens once its start-up is complete, after `gateway.started`.
            if '"Application startup complete."' in line:
                started.release()

    threading.Thread(target=read_log, daemon=True).start()
    try:
        for _ in range(2):
            assert started.acquire(timeout=120), f"a worker did not start ({process.poll()})"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_every_workers_counts_are_in_each_scrape(upstream, tmp_path: Path) -> None:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    environment = {
        **os.environ,
        MULTIPROCESS_VARIABLE: str(metrics),
        "SNE_GATEWAY_LOG_FORMAT": "json",
    }
    sent = 0
    with serve_workers(upstream.url, environment) as url:

        def post(_: int) -> int:
            # A connection each: the workers take turns accepting them.
            return httpx.post(url + DRM, content=REQUEST, headers=XML).status_code

        # Until both workers have counted (each writes its own files there).
        with ThreadPoolExecutor(8) as pool:
            while len({file.stem.rsplit("_", 1)[1] for file in metrics.glob("counter_*.db")}) < 2:
                assert sent < 2000, "both workers should have counted by now"
                assert set(pool.map(post, range(32))) == {200}
                sent += 32
        # A worker hands its counts over every second: another may answer before.
        wait_for(lambda: scraped(url).get(PASSED, 0) == sent)
        scrapes = [scraped(url)[PASSED] for _ in range(6)]
    assert scrapes == [sent] * 6


def test_serve_gives_its_workers_a_metrics_directory_and_removes_it(
    upstream, tmp_path: Path
) -> None:
    environment = {
        key: value for key, value in os.environ.items() if key != MULTIPROCESS_VARIABLE
    } | {"TMPDIR": str(tmp_path), "SNE_GATEWAY_LOG_FORMAT": "json"}
    with serve_workers(upstream.url, environment) as url:
        assert httpx.post(url + DRM, content=REQUEST, headers=XML).status_code == 200
        wait_for(lambda: scraped(url).get(PASSED, 0) == 1)
        directories = list(tmp_path.glob("sne-gateway-metrics-*"))
        assert len(directories) == 1 and list(directories[0].glob("counter_*.db"))
    assert not directories[0].exists()


def test_an_unusable_metrics_directory_stops_serve_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    command, _ = serve_command("--upstream", "http://127.0.0.1:9")
    completed = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, MULTIPROCESS_VARIABLE: str(missing)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode != 0
    assert f"{MULTIPROCESS_VARIABLE}={missing} is not a directory" in completed.stderr

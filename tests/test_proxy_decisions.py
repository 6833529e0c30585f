"""When validation itself cannot conclude (a bug, a body over the limit): production fails
open, école and recette follow `fail_closed`. And what the logs say, without personal data."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.config
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from lxml import etree

import gateway.proxy.app
import gateway.proxy.check
from gateway.report.log import (
    UNFINISHED_RESPONSE,
    configure_logging,
    server_log_config,
    server_log_formatter,
)
from tests.servers import (
    RunningServer,
    free_socket,
    gateway_settings,
    serve_asgi,
    serve_command,
    serve_gateway,
)
from tests.test_proxy_exchanges import anomalies
from tests.upstream import Answer, ScriptedUpstream

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
EXPORT_REQUEST = sorted((FIXTURES / "valid/13.33/export-demande").glob("*.xml"))[0].read_bytes()
EXPORT_STATUS = sorted((FIXTURES / "valid/13.33/export-statut").glob("*.xml"))[0].read_bytes()
LATIN1_EXPORT = (FIXTURES / "charset/export-demande-latin1-undeclared.xml").read_bytes()


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[ScriptedUpstream, RunningServer]]:
    scripted = ScriptedUpstream()
    scripted.answer("/v1.0/exports", Answer(200, "application/xml", EXPORT_STATUS))
    with serve_asgi(scripted) as running:
        yield scripted, running


def post_export(url: str, body: bytes = EXPORT_REQUEST) -> httpx.Response:
    return httpx.post(
        url + "/v1.0/exports", content=body, headers={"content-type": "application/xml"}
    )


@pytest.mark.parametrize(
    ("env", "fail_closed", "status"),
    [
        ("recette", "true", 422),
        ("ecole", "true", 422),
        ("recette", "false", 200),
        ("prod", "true", 200),
    ],
)
def test_a_body_over_the_limit(upstream, env: str, fail_closed: str, status: int) -> None:
    _, running = upstream
    settings = gateway_settings(running.url, env=env, fail_closed=fail_closed, max_body_bytes="200")
    with serve_gateway(settings) as server:
        response = post_export(server.url)
    assert response.status_code == status
    assert response.headers["x-conformance-request"] == "fail"
    if status == 422:
        assert b"limits.size" in response.content


@pytest.mark.parametrize(("env", "status"), [("recette", 422), ("prod", 200)])
def test_a_bug_in_validation(upstream, monkeypatch, env: str, status: int) -> None:
    _, running = upstream

    def broken(*arguments, **keywords):
        raise RuntimeError("a bug")

    monkeypatch.setattr(gateway.proxy.check, "validate_document", broken)
    with serve_gateway(gateway_settings(running.url, env=env)) as server:
        response = post_export(server.url)
    assert response.status_code == status
    if status == 422:
        assert b"validation.failed" in response.content
        assert b"a bug" not in response.content


@pytest.mark.parametrize(
    ("body", "content_type", "status", "conformance", "code"),
    [
        (LATIN1_EXPORT, "application/xml; charset=ISO-8859-1", 200, "pass", None),
        (LATIN1_EXPORT, "application/xml", 422, "fail", "XML01"),
        # EXPORT_REQUEST declares UTF-8.
        (EXPORT_REQUEST, "application/xml; charset=ISO-8859-1", 422, "fail", "GTW08"),
    ],
)
def test_the_proxy_reads_a_request_with_its_charset(
    upstream, body: bytes, content_type: str, status: int, conformance: str, code: str | None
) -> None:
    scripted, running = upstream
    with serve_gateway(gateway_settings(running.url, env="recette")) as server:
        response = httpx.post(
            server.url + "/v1.0/exports", content=body, headers={"content-type": content_type}
        )
    assert response.status_code == status
    assert response.headers["x-conformance-request"] == conformance
    if code is None:
        assert scripted.received[-1].body == body  # forwarded as sent, not re-encoded
        return
    [anomaly] = anomalies(etree.fromstring(response.content))
    assert anomaly["code"] == code


def run_gateway(upstream: str, *flags: str, **settings: str) -> tuple[subprocess.Popen[bytes], str]:
    """`serve` on `upstream` with `flags`, and `settings` as SNE_GATEWAY_* variables."""
    command, port = serve_command("--upstream", upstream, *flags)
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={
            "PATH": "/usr/bin:/bin",
            # As the suite's own environment says (conftest): no store in the repository.
            "SNE_GATEWAY_STORE": "off",
            "SNE_GATEWAY_LOG_FORMAT": "json",
            "SNE_GATEWAY_RELOAD": "false",
            **{f"SNE_GATEWAY_{key}": value for key, value in settings.items()},
        },
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/_gateway/ready").status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.1)


def logged(process: subprocess.Popen[bytes]) -> list[dict]:
    process.terminate()
    _, stderr = process.communicate(timeout=30)
    return [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]


SECRET_NAME = "ZORGLUBZORGLUBZORGLUBZORGLUBZORGLUBZORGLUBZORGLUBZORGLUB"


def invalid_request() -> bytes:
    document = (FIXTURES / "valid/13.33/demande/minimal.xml").read_bytes()
    return document.replace(b"<nom>TESTARD</nom>", f"<nom>{SECRET_NAME}</nom>".encode(), 1)


def test_an_upstream_host_that_does_not_resolve_is_said_at_start() -> None:
    process, _ = run_gateway("http://sne.invalid")  # .invalid never resolves (RFC 2606)
    # The check runs in the background once the gateway serves: read its log as it comes.
    watchdog = threading.Timer(60, process.terminate)
    watchdog.start()
    try:
        warning = next(
            event
            for line in process.stderr
            if line.startswith(b"{")
            and (event := json.loads(line))["event"] == "upstream.unresolved"
        )
    finally:
        watchdog.cancel()
        process.terminate()
        process.communicate(timeout=30)
    assert (warning["level"], warning["host"]) == ("warning", "sne.invalid")
    assert warning["consequence"].startswith("exchanges are answered 502 (GTW03)")


@pytest.mark.parametrize(
    ("upstream", "warned"), [("http://127.0.0.1:9", False), ("https://sne.invalid", True)]
)
def test_the_start_up_resolution_check(upstream: str, warned: bool) -> None:
    warnings: list[str] = []

    class Recording:
        def warning(self, event: str, **fields: object) -> None:
            warnings.append(event)

    asyncio.run(gateway.proxy.app._warn_if_unresolved(upstream, Recording()))
    assert warnings == (["upstream.unresolved"] if warned else [])


def test_logs_say_what_happened_and_never_the_values(upstream) -> None:
    _, running = upstream
    process, url = run_gateway(running.url)
    # No route: an XML body is still validated, its schema selected from the document.
    response = httpx.post(
        url + "/sne/demandes",
        content=invalid_request(),
        headers={"content-type": "application/xml", "x-request-id": "trace-42"},
    )
    assert response.status_code == 422
    events = logged(process)
    exchange = next(
        e for e in events if e["event"] == "exchange" and e.get("request_id") == "trace-42"
    )
    assert {
        "method",
        "route",
        "direction",
        "env",
        "schemas",
        "action",
        "violations",
        "upstream_ms",
        "validation_ms",
    } <= set(exchange)
    assert (
        exchange["route"],
        exchange["direction"],
        exchange["action"],
        exchange["violations"],
    ) == (None, "request", "blocked", 1)
    assert exchange["schemas"] == ["demande@13.34"]
    violation = next(e for e in events if e["event"] == "violation")
    assert (violation["code"], violation["line"]) == ("xsd.facet", 17)
    assert violation["path"].endswith("/nuu:demandeur/nuu:nom")
    everything = json.dumps(events)
    assert "ZORGLUB" not in everything
    assert "TESTARD" not in everything


def test_at_warning_level_only_failures_are_logged(upstream) -> None:
    _, running = upstream
    process, url = run_gateway(running.url, LOG_LEVEL="warning")
    for request_id, body in (("passes", EXPORT_REQUEST), ("fails", invalid_request())):
        httpx.post(
            url + "/sne/demandes",
            content=body,
            headers={"content-type": "application/xml", "x-request-id": request_id},
        )
    events = [e for e in logged(process) if e.get("request_id") in ("passes", "fails")]
    assert [(e["event"], e["request_id"], e["level"]) for e in events] == [
        ("exchange", "fails", "warning"),
        ("violation", "fails", "warning"),
    ]


def test_capture_values_is_explicit(upstream, tmp_path: Path) -> None:
    _, running = upstream
    config = tmp_path / "gateway.toml"
    config.write_text(f'[gateway]\nxsd = "{ROOT / "xsd"}"\ncapture_values = true\n')
    process, url = run_gateway(running.url, "--config", str(config))
    httpx.post(
        url + "/sne/demandes",
        content=invalid_request().replace(b"<codePostal>", b"<codePostal>X", 1),
        headers={"content-type": "application/xml"},
    )
    assert any(
        "value '" in e.get("message", "") for e in logged(process) if e["event"] == "violation"
    )


def test_in_json_mode_the_server_s_own_lines_are_json_too(upstream) -> None:
    _, running = upstream
    process, url = run_gateway(running.url)
    httpx.post(url + "/sne/demandes", content=invalid_request())
    process.terminate()
    _, stderr = process.communicate(timeout=30)
    events = [json.loads(line) for line in stderr.decode().splitlines()]
    assert {
        "logger": "uvicorn.error",
        "level": "info",
        "event": "Application startup complete.",
    }.items() <= next(
        event for event in events if event["event"] == "Application startup complete."
    ).items()
    assert any(event["event"] == "exchange" for event in events)


@pytest.mark.parametrize("level", ["info", "warning"])
def test_an_unfinished_response_is_reported_as_the_deliberate_cut_it_is(
    capsys: pytest.CaptureFixture[str], level: str
) -> None:
    config = server_log_config("json", level, "recette")
    # The configuration as served, on a logger of the test's own rather than uvicorn's.
    config["loggers"] = {"test-cut.uvicorn": config["loggers"]["uvicorn"]}
    logging.config.dictConfig(config)
    logging.getLogger("test-cut.uvicorn.error").error(UNFINISHED_RESPONSE)
    lines = capsys.readouterr().err.splitlines()
    if level == "warning":
        assert lines == []
    else:
        [line] = lines
        assert {
            "event": "connection closed before the end of the response (archive-cut or "
            "upstream-broke-off: see the exchange's outcome)",
            "level": "info",
        }.items() <= json.loads(line).items()


def test_server_tracebacks_stay_in_the_json_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord(
            "uvicorn.error",
            logging.ERROR,
            "",
            0,
            "Exception in ASGI application",
            (),
            sys.exc_info(),
        )
    line = server_log_formatter("json", "recette").format(record)
    event = json.loads(line)
    assert event["exception"].startswith("Traceback (most recent call last):")
    assert "RuntimeError: boom" in event["exception"]
    # The same compact form as the gateway's own events: one grep finds both.
    assert '"level":"error"' in line


def test_what_orjson_refuses_is_still_logged(capfd, logging_restored) -> None:
    configure_logging("json", "info", "prod")
    structlog.get_logger("gateway").info(
        "odd", big=2**70, keys={1: "int key"}, name="caf\udce9.xsd"
    )
    line = capfd.readouterr().err.strip()
    assert json.loads(line) | {"timestamp": None} == {
        "big": 2**70,
        "keys": {"1": "int key"},
        "name": "caf\udce9.xsd",
        "event": "odd",
        "level": "info",
        "timestamp": None,
    }


def test_a_text_only_stderr_still_gets_json_lines(monkeypatch, logging_restored) -> None:
    text = io.StringIO()
    monkeypatch.setattr(sys, "stderr", text)
    configure_logging("json", "info", "prod")
    structlog.get_logger("gateway").info("exchange", reason="délai dépassé")
    assert json.loads(text.getvalue())["reason"] == "délai dépassé"


def test_serve_says_when_its_port_is_taken() -> None:
    taken = free_socket()
    taken.listen()
    port = taken.getsockname()[1]
    try:
        finished = subprocess.run(
            [
                sys.executable,
                "-m",
                "gateway.cli.main",
                "serve",
                "--port",
                str(port),
                "--upstream",
                "http://127.0.0.1:9",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "SNE_GATEWAY_STORE": "off"},
        )
    finally:
        taken.close()
    assert finished.returncode == 2
    assert finished.stderr.startswith(
        f"sne-gateway: error: cannot listen on 127.0.0.1:{port}: the address is already in use. "
    )
    assert "--port" in finished.stderr


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("gateway.invalid", "the host name 'gateway.invalid' does not resolve"),
        # TEST-NET-1 (RFC 5737): an address no machine of this suite has.
        ("192.0.2.1", "the address is not one of this machine's"),
    ],
)
def test_serve_says_when_it_cannot_listen_on_its_host(host: str, reason: str) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "serve", "--host", host, "--port", "8080"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "SNE_GATEWAY_STORE": "off"},
    )
    assert finished.returncode == 2
    assert finished.stderr.startswith(f"sne-gateway: error: cannot listen on {host}:8080: {reason}")
    assert "--host" in finished.stderr
    # Said before anything started: no simulator, no banner.
    assert finished.stderr.count("\n") == 1


def test_exchanges_that_do_not_end_normally_say_why(upstream) -> None:
    scripted, running = upstream
    # Longer than the client waits (0.5 s): it leaves first.
    scripted.answer("/waiting", Answer(200, "text/plain", b"late", delay=2))
    process, url = run_gateway(running.url, CLIENT_TIMEOUT="0.5")
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url + "/waiting", headers={"x-request-id": "gone"}, timeout=0.5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            url + "/waiting",
            content=EXPORT_REQUEST,
            headers={"content-type": "application/xml", "x-request-id": "gone-validated"},
            timeout=0.5,
        )
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=30) as stalled:
        stalled.sendall(
            b"POST /sne/demandes HTTP/1.1\r\nHost: a\r\nX-Request-ID: stalled\r\n"
            b"Content-Type: application/xml\r\nContent-Length: 100\r\n\r\n<a"
        )
        assert stalled.recv(65536).startswith(b"HTTP/1.1 408 ")
    events = logged(process)
    exchanges = {e.get("request_id"): e for e in events if e["event"] == "exchange"}
    assert (exchanges["gone"]["outcome"], exchanges["gone"]["action"]) == (
        "client-disconnected",
        "abandoned",
    )
    # A validated direction keeps its action; the wait for the upstream is counted.
    validated = exchanges["gone-validated"]
    assert (validated["outcome"], validated["direction"], validated["action"]) == (
        "client-disconnected",
        "request",
        "forwarded",
    )
    assert validated["upstream_ms"] > 0
    assert (
        exchanges["stalled"]["outcome"],
        exchanges["stalled"]["action"],
        exchanges["stalled"]["status"],
    ) == ("client.timeout", "answered", 408)
    warning = next(e for e in events if e["event"] == "client.timeout")
    assert (warning["level"], warning["request_id"]) == ("warning", "stalled")

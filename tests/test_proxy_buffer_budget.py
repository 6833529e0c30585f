"""A worker's bodies buffered for validation are bounded all together (`max_buffered_bytes`):
a body the worker has no room for is not validated but streams on, as a `limits.size`
violation that names the budget; and whatever way its exchanges end, what they held is given
back. A real gateway in front of a real upstream, both on loopback; the budget is read from
the worker's `Gateway`, recorded as the app builds it in this process."""

from __future__ import annotations

import asyncio
import gzip
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

import gateway.proxy.check
import gateway.proxy.worker
from gateway.config import ConfigError, Settings, load_settings
from gateway.proxy.buffer_budget import BufferBudget
from gateway.proxy.check import THREAD_THRESHOLD
from tests.servers import RunningServer, gateway_settings, serve_asgi, serve_gateway
from tests.upstream import read_body, serve_lifespan

ROOT = Path(__file__).resolve().parent.parent
DRM = ROOT / "fixtures/valid/13.33/drm-ressources"
REQUEST = (DRM / "requete.xml").read_bytes()
RESPONSE = (DRM / "reponse.xml").read_bytes()
INVALID_REQUEST = REQUEST.replace(b"<numUnique>0", b"<numUnique>x", 1)
ROUTE = "/v1.0/drm/ressources"
XML = {"content-type": "application/xml"}
SMALL_LIMIT = 64 * 1024
BUDGET_MESSAGE = (
    "The {direction} body was not validated: the bodies this worker holds for validation "
    "would have gone over {budget:,} bytes (max_buffered_bytes)."
)


def padded(document: bytes, size: int) -> bytes:
    """`document`, still valid, made `size` bytes long by a comment after its root."""
    filler = size - len(document) - len(b"\n<!---->")
    assert filler >= 0
    return document + b"\n<!--" + b"x" * filler + b"-->"


class Upstream:
    """Answers the DRM route; `/hold` waits, its request received whole, until `go` is set
    (`held` is set meanwhile); `/big` answers `big`; `/broken` breaks off in the middle of its
    answer; `/crash` fails before answering."""

    def __init__(self) -> None:
        self.held = threading.Event()
        self.go = threading.Event()
        self.big = RESPONSE
        self.received: list[bytes] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        body = await read_body(receive)
        self.received.append(body)
        path = scope["path"].removeprefix(ROUTE)
        if path == "/hold":
            self.held.set()
            while not self.go.is_set():
                await asyncio.sleep(0.005)
        if path == "/crash":
            raise RuntimeError("the upstream fails before answering")
        answer = self.big if path == "/big" else RESPONSE
        headers = [(b"content-type", b"application/xml")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if path == "/broken":
            await send({"type": "http.response.body", "body": answer[:100], "more_body": True})
            raise RuntimeError("the upstream breaks off its answer")
        await send({"type": "http.response.body", "body": answer})

    def reset(self) -> None:
        self.held.clear()
        self.go.clear()


@pytest.fixture
def upstream() -> Iterator[tuple[Upstream, RunningServer]]:
    scripted = Upstream()
    try:
        with serve_asgi(scripted) as running:
            yield scripted, running
    finally:
        scripted.go.set()


@pytest.fixture
def budgets(monkeypatch) -> list[BufferBudget]:
    """Every worker budget built while the test runs (one per gateway started)."""
    built: list[BufferBudget] = []

    class Recorded(BufferBudget):
        def __init__(self, limit: int) -> None:
            super().__init__(limit)
            built.append(self)

    monkeypatch.setattr(gateway.proxy.worker, "BufferBudget", Recorded)
    return built


def config(tmp_path: Path, response_policy: str = "log") -> Path:
    """The DRM route, and the response policy of recette."""
    file = tmp_path / "gateway.toml"
    file.write_text(
        f'[gateway]\nxsd = "{ROOT / "xsd"}"\n'
        f'[policy.recette]\nresponse = "{response_policy}"\n'
        f'[[routes]]\nname = "drm"\npath = "{ROUTE}**"\n'
        'request = { schema = "drm-ressources" }\n'
        'response = { schema = ["drm-ressources", "anomalies"] }\n'
    )
    return file


def settings(
    running: RunningServer, file: Path, env: str, body: int, budget: int, **more: Any
) -> Settings:
    return gateway_settings(
        running.url,
        config=file,
        env=env,
        max_body_bytes=str(body),
        max_buffered_bytes=str(budget),
        **more,
    )


def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait for `condition` (what an exchange's end does, after its answer went out)."""
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def held_at_upstream(pool: ThreadPoolExecutor, upstream: Upstream, url: str, body: bytes) -> Any:
    """Post `body` to `/hold` in the background; return once the upstream holds it (so the
    gateway holds it too, buffered and validated, until the upstream answers)."""
    upstream.reset()
    future = pool.submit(httpx.post, url + ROUTE + "/hold", content=body, headers=XML, timeout=30)
    assert upstream.held.wait(20), "the held request did not reach the upstream"
    return future


def anomaly_message(content: bytes) -> str:
    """The `<message>` of a blocking answer's anomaly, unescaped as XML has it."""
    messages = [e.text for e in ElementTree.fromstring(content).iter() if e.tag.endswith("message")]
    assert len(messages) == 1, content
    return messages[0] or ""


# -- a body the worker has no room for ------------------------------------------------------


@pytest.mark.parametrize(("env", "status"), [("recette", 422), ("prod", 200)])
def test_a_request_over_the_budget_while_another_is_held(
    upstream, budgets, tmp_path: Path, env: str, status: int
) -> None:
    scripted, running = upstream
    first = padded(REQUEST, 40 * 1024)
    second = padded(REQUEST, 41 * 1024)
    gateway_config = settings(running, config(tmp_path), env, SMALL_LIMIT, SMALL_LIMIT)
    with serve_gateway(gateway_config) as server, ThreadPoolExecutor(1) as pool:
        (budget,) = budgets
        holding = held_at_upstream(pool, scripted, server.url, first)
        assert budget.held == len(first)
        response = httpx.post(server.url + ROUTE, content=second, headers=XML, timeout=30)
        scripted.go.set()
        assert holding.result().status_code == 200
        assert holding.result().headers["x-conformance-request"] == "pass"
        eventually(lambda: budget.held == 0, "the budget was not given back")
    assert response.status_code == status
    assert response.headers["x-conformance-request"] == "fail"
    if env == "recette":
        # Blocked in the SNE's anomaly shape, saying which setting stopped the validation.
        assert response.headers["content-type"].startswith("application/xml")
        assert b'<anomalie code="LIM01"' in response.content
        assert b'<complement nom="violation">limits.size</complement>' in response.content
        assert anomaly_message(response.content) == "[limits.size] body: " + BUDGET_MESSAGE.format(
            direction="request", budget=SMALL_LIMIT
        )
        assert scripted.received == [first]
    else:
        # Forwarded unvalidated, whole.
        assert scripted.received == [first, second]


def test_an_answer_over_the_budget_is_blocked_where_its_policy_blocks(
    upstream, budgets, tmp_path: Path
) -> None:
    scripted, running = upstream
    scripted.big = padded(RESPONSE, 40 * 1024)
    gateway_config = settings(
        running, config(tmp_path, response_policy="block"), "recette", SMALL_LIMIT, SMALL_LIMIT
    )
    with serve_gateway(gateway_config) as server, ThreadPoolExecutor(1) as pool:
        (budget,) = budgets
        holding = held_at_upstream(pool, scripted, server.url, padded(REQUEST, 40 * 1024))
        response = httpx.post(server.url + ROUTE + "/big", content=REQUEST, headers=XML)
        scripted.go.set()
        assert holding.result().status_code == 200
        # Alone, the same answer fits: the worker's budget, not its size, stopped it.
        alone = httpx.post(server.url + ROUTE + "/big", content=REQUEST, headers=XML)
        eventually(lambda: budget.held == 0, "the budget was not given back")
    assert response.status_code == 502
    assert response.headers["x-conformance-request"] == "pass"
    assert response.headers["x-conformance-response"] == "fail"
    assert anomaly_message(response.content) == "[limits.size] body: " + BUDGET_MESSAGE.format(
        direction="response", budget=SMALL_LIMIT
    )
    assert alone.status_code == 200
    assert alone.headers["x-conformance-response"] == "pass"
    assert alone.content == scripted.big


def test_an_answer_over_the_budget_streams_on_where_its_policy_logs(
    upstream, budgets, tmp_path: Path
) -> None:
    scripted, running = upstream
    scripted.big = padded(RESPONSE, 40 * 1024)
    gateway_config = settings(running, config(tmp_path), "recette", SMALL_LIMIT, SMALL_LIMIT)
    with serve_gateway(gateway_config) as server, ThreadPoolExecutor(1) as pool:
        (budget,) = budgets
        holding = held_at_upstream(pool, scripted, server.url, padded(REQUEST, 40 * 1024))
        response = httpx.post(server.url + ROUTE + "/big", content=REQUEST, headers=XML)
        scripted.go.set()
        holding.result()
        eventually(lambda: budget.held == 0, "the budget was not given back")
    assert response.status_code == 200
    assert response.headers["x-conformance-response"] == "fail"
    assert response.content == scripted.big


def test_an_idle_worker_validates_a_body_as_large_as_its_budget(
    upstream, budgets, tmp_path: Path
) -> None:
    _, running = upstream
    body = padded(REQUEST, SMALL_LIMIT)
    gateway_config = settings(running, config(tmp_path), "recette", SMALL_LIMIT, SMALL_LIMIT)
    with serve_gateway(gateway_config) as server:
        response = httpx.post(server.url + ROUTE, content=body, headers=XML)
        eventually(lambda: budgets[0].held == 0, "the budget was not given back")
    assert response.status_code == 200
    assert response.headers["x-conformance-request"] == "pass"


# -- whatever way an exchange ends, what it held is given back --------------------------------


def raw_request(port: int, path: str, length: int, body: bytes) -> socket.socket:
    """A connection that sent a request announcing `length` bytes of body, and `body`."""
    connection = socket.create_connection(("127.0.0.1", port))
    connection.sendall(
        f"POST {path} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {length}\r\n\r\n".encode()
        + body
    )
    return connection


def test_the_budget_returns_to_zero_however_exchanges_end(
    upstream, budgets, tmp_path: Path, monkeypatch, capfd, logging_restored
) -> None:
    scripted, running = upstream
    body_limit = 512 * 1024
    large = padded(REQUEST, THREAD_THRESHOLD + 64 * 1024)
    scripted.big = padded(RESPONSE, THREAD_THRESHOLD + 64 * 1024)
    # Large documents (validated in a thread) wait for `proceed` while `slow` is set: a client
    # can leave meanwhile.
    slow, entered, proceed = threading.Event(), threading.Event(), threading.Event()
    validate = gateway.proxy.check.validate_document

    def gated(document: Any, *arguments: Any, **keywords: Any) -> Any:
        if slow.is_set() and len(document.data) > THREAD_THRESHOLD:
            entered.set()
            proceed.wait(20)
        return validate(document, *arguments, **keywords)

    monkeypatch.setattr(gateway.proxy.check, "validate_document", gated)
    gateway_config = settings(running, config(tmp_path), "recette", body_limit, 2 * body_limit)
    with serve_gateway(gateway_config) as server:
        (budget,) = budgets
        url = server.url + ROUTE

        def settled() -> None:
            eventually(lambda: budget.held == 0, "the budget was not given back")

        # Validated and forwarded, both ways: small, large (in a thread), gzip-encoded.
        assert httpx.post(url, content=REQUEST, headers=XML).status_code == 200
        assert httpx.post(url + "/big", content=large, headers=XML).status_code == 200
        encoded = httpx.post(
            url, content=gzip.compress(large), headers={**XML, "content-encoding": "gzip"}
        )
        assert encoded.headers["x-conformance-request"] == "pass"
        settled()
        # Blocked: invalid, or over max_body_bytes (which says so, not the budget).
        assert httpx.post(url, content=INVALID_REQUEST, headers=XML).status_code == 422
        too_large = httpx.post(url, content=padded(REQUEST, body_limit + 1), headers=XML)
        assert too_large.status_code == 422
        assert anomaly_message(too_large.content) == (
            f"[limits.size] body: The request body is larger than {body_limit:,} bytes "
            "(max_body_bytes); it was not validated."
        )
        settled()
        # The upstream fails: before answering, or in the middle of an answer being buffered.
        assert httpx.post(url + "/crash", content=REQUEST, headers=XML).status_code == 500
        assert httpx.post(url + "/broken", content=REQUEST, headers=XML).status_code == 502
        settled()
        # The client leaves in the middle of its body, once part of it is held.
        connection = raw_request(server.port, ROUTE, len(large), large[:100_000])
        eventually(lambda: budget.held >= 65_536, "the partial body was not counted")
        connection.close()
        settled()
        # The client leaves while the upstream has its request (the exchange is cancelled).
        scripted.reset()
        connection = raw_request(server.port, ROUTE + "/hold", len(REQUEST), REQUEST)
        assert scripted.held.wait(20)
        assert budget.held == len(REQUEST)
        connection.close()
        settled()
        scripted.go.set()
        # The client leaves while the answer is validated in a thread: the thread still holds
        # the bodies, until it is done.
        slow.set()
        connection = raw_request(server.port, ROUTE + "/big", len(REQUEST), REQUEST)
        assert entered.wait(20), "the answer was not validated in a thread"
        assert budget.held == len(REQUEST) + len(scripted.big)
        capfd.readouterr()
        connection.close()
        logged = ""

        def abandoned() -> bool:
            nonlocal logged
            logged += capfd.readouterr().err
            return '"outcome":"client-disconnected"' in logged

        eventually(abandoned, "the exchange did not end when its client left")
        assert budget.held == len(REQUEST) + len(scripted.big)
        proceed.set()
        settled()
        # And the worker still validates as before.
        slow.clear()
        assert httpx.post(url + "/big", content=large, headers=XML).status_code == 200
        settled()


def test_a_claim_outlives_its_exchange_while_its_validation_thread_runs() -> None:
    async def scenario() -> None:
        budget = BufferBudget(100)
        first, second = budget.claim(), budget.claim()
        assert first.take(60)
        assert not second.take(41)  # would go over: nothing taken
        assert second.take(40)
        assert budget.held == 100
        validating = asyncio.get_running_loop().create_future()
        first.hold_while(validating)
        first.release()  # the exchange ends; its thread still holds the bytes
        second.release()
        assert budget.held == 60
        validating.set_result(None)
        await asyncio.sleep(0)
        assert budget.held == 0
        first.release()  # releasing twice gives back nothing more
        assert budget.held == 0

    asyncio.run(scenario())


# -- configuration -----------------------------------------------------------------------------


def test_the_default_budget() -> None:
    settings = load_settings(None, environ={})
    assert settings.max_buffered_bytes == 256 * 1024 * 1024
    assert settings.max_buffered_bytes >= settings.max_body_bytes
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert "| `max_buffered_bytes` | `268435456` (256 MiB) |" in documented


def test_a_budget_below_max_body_bytes_fails_at_load(tmp_path: Path) -> None:
    reason = (
        "max_buffered_bytes (500) is below max_body_bytes (1,000): a body of max_body_bytes "
        "could never be validated; set max_buffered_bytes to at least max_body_bytes"
    )
    file = tmp_path / "gateway.toml"
    file.write_text("[gateway]\nmax_body_bytes = 1000\nmax_buffered_bytes = 500\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(file, environ={})
    assert str(caught.value) == f"{file}: gateway.max_buffered_bytes: {reason}"
    environ = {"SNE_GATEWAY_MAX_BODY_BYTES": "1000", "SNE_GATEWAY_MAX_BUFFERED_BYTES": "500"}
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ=environ)
    assert str(caught.value) == f"$SNE_GATEWAY_MAX_BUFFERED_BYTES: {reason}"
    # Only max_body_bytes raised, above the default budget: that is the key named.
    file.write_text(f"[gateway]\nmax_body_bytes = {512 * 1024 * 1024}\n")
    with pytest.raises(ConfigError, match=r"gateway\.max_body_bytes: max_buffered_bytes "):
        load_settings(file, environ={})
    # Equal is fine: an idle worker has room for one body of max_body_bytes.
    file.write_text("[gateway]\nmax_body_bytes = 1000\nmax_buffered_bytes = 1000\n")
    assert load_settings(file, environ={}).max_buffered_bytes == 1000


def test_serve_stops_at_start_on_a_budget_below_max_body_bytes(tmp_path: Path) -> None:
    file = tmp_path / "gateway.toml"
    file.write_text("[gateway]\nmax_body_bytes = 1000\nmax_buffered_bytes = 500\n")
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "serve", "--config", str(file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"sne-gateway: error: {file}: gateway.max_buffered_bytes: max_buffered_bytes (500) is "
        "below max_body_bytes (1,000)"
    )

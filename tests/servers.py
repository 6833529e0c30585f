"""Real servers on loopback for the tests: the gateway, upstreams, the simulator.

Each server runs uvicorn in a thread of the test process, on a socket bound to a free port
before the server starts (so there is no race on the port), and is stopped at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from gateway.config import Settings, load_settings
from gateway.proxy.app import create_app
from gateway.proxy.protocol import GatewayProtocol, gateway_protocol

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = ROOT / "gateway.toml"


@dataclass
class RunningServer:
    url: str
    port: int
    server: uvicorn.Server


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def serve_command(*arguments: str) -> tuple[list[str], int]:
    """`sne-gateway serve ARGUMENTS --port N` as a subprocess command line, with N a port free
    now (the process binds it itself, later), and N."""
    placeholder = free_socket()
    port = placeholder.getsockname()[1]
    placeholder.close()
    command = [sys.executable, "-m", "gateway.cli.main", "serve", *arguments, "--port", str(port)]
    return command, port


@dataclass
class ServeProcess:
    """A `sne-gateway serve` subprocess: its URL and the lines it wrote on stderr."""

    url: str
    process: subprocess.Popen[str]
    lines: list[str]

    def events(self, name: str) -> list[dict[str, Any]]:
        """The JSON log events called `name` it wrote so far."""
        events = [json.loads(line) for line in self.lines if line.startswith("{")]
        return [event for event in events if event.get("event") == name]


@contextlib.contextmanager
def serve_process(*arguments: str) -> Iterator[ServeProcess]:
    """`sne-gateway serve ARGUMENTS --port N` from the repository root, as a user starts it
    (JSON logs), until it is ready; stopped at the end."""
    command, port = serve_command(*arguments)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SNE_GATEWAY_")}
    environment["SNE_GATEWAY_LOG_FORMAT"] = "json"
    environment["SNE_GATEWAY_STORE"] = "off"  # no store in the checkout (conftest)
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = ServeProcess(f"http://127.0.0.1:{port}", process, [])
    assert process.stderr is not None
    stderr = process.stderr
    reader = threading.Thread(
        target=lambda: served.lines.extend(iter(stderr.readline, "")), daemon=True
    )
    reader.start()

    def ready() -> bool:
        assert process.poll() is None, "".join(served.lines)
        with contextlib.suppress(httpx.TransportError):
            return httpx.get(served.url + "/_gateway/ready").status_code == 200
        return False

    try:
        wait_for(ready)
        yield served
    finally:
        process.terminate()
        process.wait(15)
        reader.join(5)


@contextlib.contextmanager
def serve_asgi(
    app: Any, protocol: Any = GatewayProtocol, **options: Any
) -> Iterator[RunningServer]:
    """Serve an ASGI app on loopback for the duration of the block."""
    sock = free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        http=protocol,
        loop="asyncio",
        log_level="warning",
        lifespan="on",
        access_log=False,
        proxy_headers=False,
        **options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", port, server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def gateway_settings(
    upstream: str, config: Path | None = SHIPPED_CONFIG, **overrides: Any
) -> Settings:
    """Settings from `config` (the shipped one by default) pointed at `upstream`, without a
    violations store unless `store` is given."""
    values = {
        "upstream": upstream,
        "log_format": "json",
        "reload": False,
        "store": "off",
        **overrides,
    }
    return load_settings(config, {key: value for key, value in values.items()}, environ={})


@contextlib.contextmanager
def serve_gateway(settings: Settings, **options: Any) -> Iterator[RunningServer]:
    """The gateway for `settings` on loopback; `options` are uvicorn's."""
    with serve_asgi(create_app(settings), gateway_protocol(settings), **options) as running:
        yield running


def scraped(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the gateway at `url`'s `/_gateway/metrics`, by name and labels."""
    exposition = httpx.get(url + "/_gateway/metrics").text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def series(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    """The key of one series in `scraped`'s samples."""
    return name, frozenset(labels.items())


def wait_for(condition: Callable[[], object], seconds: float = 30.0) -> None:
    """Poll for `condition`; the deadline only bounds a failing test, it is not a timing check."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)

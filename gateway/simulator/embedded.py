"""The simulator as a managed child process of `sne-gateway serve`, when no upstream is set.

A child process rather than a thread of the gateway: the gateway process stays exactly the one
that runs in production (its event loop, its memory, its CPU), with the "SNE" across a real
loopback socket; generating documents and export archives never competes with validation for
the gateway's interpreter lock.

The parent binds the loopback port and hands the listening socket to the child, so the URL is
known before the child starts and nothing can take the port in between. The child serves on
that socket and stops when its standard input closes: when `serve` stops it, or when `serve`
dies, even by SIGKILL. The child runs in its own session, so a Ctrl-C in the terminal reaches
the gateway only, which drains its exchanges first and then stops the simulator.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from types import TracebackType

import httpx
import uvicorn
from litestar import Litestar

from gateway.catalog import SHIPPED_XSD, load_catalog
from gateway.simulator.app import HEALTH_PATH

#: How `serve` tells the child which inherited file descriptor is its listening socket.
SOCKET_VARIABLE = "_SNE_GATEWAY_SIMULATOR_FD"
LOOPBACK = "127.0.0.1"
BACKLOG = 128
READY_SECONDS = 30.0
STOP_SECONDS = 5.0
POLL_SECONDS = 0.05


def simulated_version(version: str) -> str:
    """The version the simulator answers in: `version` when the shipped XSD set has it, so that
    it answers in the version the gateway validates with; else the shipped set's newest."""
    shipped = load_catalog(SHIPPED_XSD)
    return version if version in shipped.versions else shipped.latest.version


class SimulatorStartError(Exception):
    """The simulator child did not come up."""


class EmbeddedSimulator:
    """A simulator child on a loopback port: `start` it, use `url`, `stop` it (or use `with`)."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((LOOPBACK, 0))
        self._socket.listen(BACKLOG)
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, version: str | None = None) -> None:
        """Start the child and wait until it answers; raise `SimulatorStartError`."""
        descriptor = self._socket.fileno()
        command = [sys.executable, "-m", "gateway.cli.main", "simulate"]
        command += ["--host", LOOPBACK, "--port", str(self.port)]
        if version is not None:
            command += ["--version", version]
        environment = {**os.environ, SOCKET_VARIABLE: str(descriptor)}
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            env=environment,
            pass_fds=(descriptor,),
            start_new_session=True,
        )
        self._socket.close()
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            status = self.process.poll()
            if status is not None:
                raise SimulatorStartError(f"the SNE simulator exited at start (status {status})")
            try:
                health = httpx.get(self.url + HEALTH_PATH, timeout=1.0, trust_env=False)
                if health.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(POLL_SECONDS)
        self.stop()
        raise SimulatorStartError(f"the SNE simulator did not answer within {READY_SECONDS:g}s")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def stop(self) -> None:
        """Close the child's standard input (it shuts down gracefully), then insist."""
        self._socket.close()
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> EmbeddedSimulator:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _stop_when_stdin_closes(server: uvicorn.Server) -> None:
    sys.stdin.buffer.read()
    server.should_exit = True


def serve_inherited(app: Litestar, descriptor: int) -> None:
    """The child's side: serve `app` on the inherited listening socket until stdin closes."""
    listening = socket.socket(fileno=descriptor)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=False,
    )
    server = uvicorn.Server(config)
    threading.Thread(target=_stop_when_stdin_closes, args=(server,), daemon=True).start()
    server.run(sockets=[listening])

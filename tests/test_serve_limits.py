"""What `serve` does with the process's own limits: a low soft limit on open files (systemd's
1024 for services) is raised to the hard one, so idle connections do not lock clients out."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import serve_command

ROOT = Path(__file__).resolve().parent.parent
SOFT, HARD = resource.getrlimit(resource.RLIMIT_NOFILE)
IDLE_CONNECTIONS = 1100


#: Runs the rest of its command line under a soft limit of 1024 open files (rather than a
#: preexec_fn, unsafe in a process with threads).
UNDER_1024 = (
    "import os, resource, sys; "
    "resource.setrlimit(resource.RLIMIT_NOFILE, (1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1])); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


@pytest.mark.skipif(
    HARD == resource.RLIM_INFINITY or HARD < 4096 or SOFT < 2 * IDLE_CONNECTIONS,
    reason="needs a finite hard limit on open files of 4096 or more, and room in this process",
)
def test_a_low_open_files_limit_is_raised_and_idle_connections_do_not_lock_clients_out() -> None:
    command, port = serve_command("--upstream", "http://127.0.0.1:9")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SNE_GATEWAY_")}
    environment |= {"SNE_GATEWAY_LOG_FORMAT": "json", "SNE_GATEWAY_RELOAD": "false"}
    environment["SNE_GATEWAY_STORE"] = "off"  # no store in the checkout (conftest)
    process = subprocess.Popen(
        [sys.executable, "-c", UNDER_1024, *command],
        cwd=ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    threading.Thread(
        target=lambda: lines.extend(iter(process.stderr.readline, "")), daemon=True
    ).start()
    connections: list[socket.socket] = []
    try:
        url = f"http://127.0.0.1:{port}/_gateway/health"
        deadline = time.monotonic() + 60  # bounds a failing start, not a timing check
        while True:
            with contextlib.suppress(httpx.TransportError):
                answered = httpx.get(url).status_code == 200
                if answered and any('"gateway.started"' in line for line in lines):
                    break
            assert process.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.05)
        started = json.loads(next(line for line in lines if '"gateway.started"' in line))
        assert started["open_files"] == HARD
        for _ in range(IDLE_CONNECTIONS):
            connections.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200
    finally:
        for connection in connections:
            connection.close()
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        if process.poll() is None:
            process.kill()

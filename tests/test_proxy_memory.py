"""Large bodies stream through the gateway with flat memory: a 200 MB response, whether it is
not XML (passed through) or XML over the validation limit (a limits.size violation, then
streamed on). The gateway runs as its own process, so its peak RSS is its own."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import serve_asgi, serve_command
from tests.upstream import Answer, ScriptedUpstream

ROOT = Path(__file__).resolve().parent.parent
TOTAL = 200 * 1024 * 1024
CHUNK = 256 * 1024
VALIDATION_LIMIT = 4 * 1024 * 1024


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def big_body(prefix: bytes = b"") -> AsyncIterator[bytes]:
    async def stream() -> AsyncIterator[bytes]:
        yield prefix
        chunk = b"x" * CHUNK
        for _ in range(TOTAL // CHUNK):
            yield chunk
            await asyncio.sleep(0)

    return stream


@pytest.fixture(scope="module")
def gateway_process(tmp_path_factory) -> Iterator[tuple[str, int, ScriptedUpstream]]:
    upstream = ScriptedUpstream()
    upstream.answer("/blob", Answer(200, "application/octet-stream", stream=big_body()))
    upstream.answer(
        "/v1.0/gdm/mouvements", Answer(200, "application/xml", stream=big_body(b"<interfaceNuu>"))
    )
    config = tmp_path_factory.mktemp("memory") / "gateway.toml"
    config.write_text(
        f'[gateway]\nxsd = "{ROOT / "xsd"}"\nmax_body_bytes = {VALIDATION_LIMIT}\nlog_format = "json"\nreload = false\n'
        '[[routes]]\nname = "gdm"\npath = "/v1.0/gdm/mouvements"\nresponse = { schema = "gdm-mouvements" }\n'
    )
    with serve_asgi(upstream) as running:
        command, port = serve_command("--config", str(config), "--upstream", running.url)
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/_gateway/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None and time.monotonic() < deadline, (
                    "gateway did not start"
                )
                time.sleep(0.1)
            yield url, process.pid, upstream
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.mark.parametrize("path", ["/blob", "/v1.0/gdm/mouvements"])
def test_a_200_mb_response_streams_with_flat_memory(gateway_process, path: str) -> None:
    url, pid, _ = gateway_process
    httpx.get(url + "/_gateway/health")
    before = peak_rss(pid)
    received = 0
    with httpx.stream("GET", url + path, timeout=120) as response:
        for chunk in response.iter_raw():
            received += len(chunk)
    assert received >= TOTAL
    growth = peak_rss(pid) - before
    assert growth < VALIDATION_LIMIT + 48 * 1024 * 1024, (
        f"peak RSS grew by {growth / 2**20:.0f} MiB"
    )
    if path != "/blob":
        assert response.headers["x-conformance"] == "fail"  # limits.size: judged, then streamed on

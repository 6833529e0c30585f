"""The README's two shell demos (recette and prod side by side, the hot reload), run as a
newcomer pastes them into a shell, on free ports and in a temporary directory: their output is
the one the README shows."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import free_socket

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: What changes from one run to the next: times, ports, request ids, durations.
VARYING = (
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)"), "TIME"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r'"request_id":"[0-9a-f]{32}"'), '"request_id":"ID"'),
    (re.compile(r'"(validation|upstream)_ms":[0-9.]+'), r'"\1_ms":N'),
)
#: The README waits up to 30 s for the servers to listen; a loaded CI machine gets longer.
PATIENT_RETRIES = ("--retry 30 ", "--retry 180 ")

pytestmark = pytest.mark.skipif(
    not (shutil.which("bash") and shutil.which("curl")), reason="the demos need bash and curl"
)


def demo(heading: str) -> tuple[str, str]:
    """The shell block under `heading`, and the output block right after it."""
    section = README[README.index(f"### {heading}\n") :]
    following = re.search(r"\n#{2,3} ", section[4:])
    section = section[: following.start() + 4] if following else section
    match = re.search(r"```sh\n((?:(?!```).)*)```\n```\n((?:(?!```).)*)```\n", section, re.DOTALL)
    assert match, f"no shell block followed by its output under {heading!r}"
    return match[1], match[2]


def on_free_ports(script: str, *ports: str) -> str:
    placeholders = [free_socket() for _ in ports]
    for port, placeholder in zip(ports, placeholders, strict=True):
        script = re.sub(rf"\b{port}\b", str(placeholder.getsockname()[1]), script)
    for placeholder in placeholders:
        placeholder.close()
    return script


def run(script: str, directory: Path) -> str:
    """`script` in bash from the repository root, with this interpreter for `uv run`; whatever
    it started is stopped, even when it fails."""
    script = script.replace("uv run sne-gateway", f"{sys.executable} -m gateway.cli.main")
    script = script.replace(*PATIENT_RETRIES)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SNE_GATEWAY_")}
    environment["NO_PROXY"] = environment["no_proxy"] = "127.0.0.1,localhost"
    environment["SNE_GATEWAY_STORE"] = "off"  # no store in the checkout (conftest)
    process = subprocess.Popen(
        ["bash", "-c", script],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    logs = {log.name: log.read_text() for log in directory.glob("*.log")}
    assert process.returncode == 0, (stdout, stderr, logs)
    return stdout


def normalized(text: str, directory: Path) -> str:
    text = text.replace(f"{directory}/", "/tmp/")
    for varying, constant in VARYING:
        text = varying.sub(constant, text)
    return text


def test_recette_and_prod_side_by_side(tmp_path) -> None:
    script, shown = demo("Recette and production, side by side")
    script = on_free_ports(script, "8081", "8090", "8091").replace("/tmp/", f"{tmp_path}/")
    assert normalized(run(script, tmp_path), tmp_path) == normalized(shown, tmp_path)


def test_the_hot_reload_demo(tmp_path) -> None:
    script, shown = demo("Hot reload of the XSD set")
    script = on_free_ports(script, "8092").replace("/tmp/", f"{tmp_path}/")
    health = re.search(r"curl -s (\S+/_gateway/health)", script)[1]
    # "sleep 2" gives a person at a quiet machine time to see the reload; the test waits for
    # the state itself, which a busy machine may reach later.
    states = ["degraded", '"status":"ok"']
    assert len(re.findall(r"^sleep 2$", script, re.MULTILINE)) == len(states)
    for state in states:
        script = re.sub(
            r"^sleep 2$",
            f"for i in $(seq 600); do curl -s {health} | grep -q '{state}' && break; "
            "sleep 0.1; done",
            script,
            count=1,
            flags=re.MULTILINE,
        )
    assert normalized(run(script, tmp_path), tmp_path) == normalized(shown, tmp_path)

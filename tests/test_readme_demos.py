"""The README's two shell demos (recette and prod side by side, the hot reload), run as a
newcomer pastes them into a shell, on free ports and in a temporary directory: their output is
the one the README shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.servers import free_socket

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: What changes from one run to the next: times, ports, request ids, durations.
VARYING = (
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)"), "TIME"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r'"request_id": "[0-9a-f]{32}"'), '"request_id": "ID"'),
    (re.compile(r'"(validation|upstream)_ms": [0-9.]+'), r'"\1_ms": N'),
)


def demo(heading: str) -> tuple[str, str]:
    """The first shell block after `heading`, and the output block right after it."""
    section = README[README.index(f"### {heading}\n") :]
    match = re.search(r"```sh\n(.*?)```\n```\n(.*?)```\n", section, re.DOTALL)
    assert match, f"no shell block and output under {heading!r}"
    return match[1], match[2]


def free_ports(script: str, *ports: str) -> str:
    for port in ports:
        placeholder = free_socket()
        script = re.sub(rf"\b{port}\b", str(placeholder.getsockname()[1]), script)
        placeholder.close()
    return script


def run(script: str) -> str:
    """`script` in bash from the repository root, with this interpreter for `uv run`."""
    script = script.replace("uv run sne-gateway", f"{sys.executable} -m gateway.cli.main")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SNE_GATEWAY_")}
    completed = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def normalized(text: str, directory: Path) -> str:
    text = text.replace(f"{directory}/", "/tmp/")
    for varying, constant in VARYING:
        text = varying.sub(constant, text)
    return text


def test_recette_and_prod_side_by_side(tmp_path) -> None:
    script, shown = demo("Recette and production, side by side")
    script = free_ports(script, "8081", "8090", "8091").replace("/tmp/", f"{tmp_path}/")
    assert normalized(run(script), tmp_path) == normalized(shown, tmp_path)


def test_the_hot_reload_demo(tmp_path) -> None:
    script, shown = demo("Hot reload of the XSD set")
    script = free_ports(script, "8092").replace("/tmp/", f"{tmp_path}/")
    health = re.search(r"curl -s (\S+/_gateway/health)", script)[1]
    # "sleep 2" gives a person at a quiet machine time to see the reload; the test waits for
    # the state itself, which a busy machine may reach later.
    waits = iter(("degraded", '"status":"ok"'))
    script = re.sub(
        r"sleep 2",
        lambda _: (
            f"for i in $(seq 300); do curl -s {health} | grep -q '{next(waits)}' && break; "
            "sleep 0.1; done"
        ),
        script,
    )
    assert normalized(run(script), tmp_path) == normalized(shown, tmp_path)

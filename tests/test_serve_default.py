"""`sne-gateway serve` with no upstream, as a newcomer runs it: it starts the SNE école
simulator, prints the banner, answers the README's three curls as the README shows, and stops
the simulator when it stops (Ctrl-C, SIGTERM, or even SIGKILL)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from gateway.config import SHIPPED_CONFIG, load_settings
from gateway.simulator.quickstart import curls
from tests.servers import serve_command

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SOAP12_GET_NUM_UNIQUE = (
    'application/soap+xml; charset=UTF-8; action="http://ws.metier.nuu.application.i2/getNumUnique"'
)
ECOLE = load_settings(SHIPPED_CONFIG, {"env": "ecole"}, environ={})
#: The outputs the README's quick start shows for its three curls.
README_OUTPUTS = (
    """HTTP/1.1 200 OK
x-conformance: pass
x-conformance-request: pass
x-conformance-response: pass
x-conformance-schema: ws-demande-logement@13.34, demande@13.34
""",
    """<?xml version='1.0' encoding='UTF-8'?>
<interfaceNuu xmlns="http://nuu.application.i2/" versionInterface="13.34">
  <entete>
    <typeFichier>ANO</typeFichier>
    <dateFichier>2026-11-29T10:00:00+00:00</dateFichier>
  </entete>
  <listeAnomalie>
    <anomalie code="XSD05" propriete="/nuu:interfaceNuu/nuu:requeteRessources/nuu:listeNumUnique/nuu:numUnique[2]">
      <complement nom="violation">xsd.pattern</complement>
      <complement nom="document">body</complement>
      <complement nom="schema">drm-ressources@13.34</complement>
      <complement nom="ligne">12</complement>
      <complement nom="colonne">7</complement>
      <message>[xsd.pattern] body line 12, column 7: &lt;nuu:numUnique&gt;: the value does not match the pattern [0-9]{2}[0-9AB][0-9]{2}(0[1-9]|1[0-2])[0-9]{10}[A-Z].</message>
    </anomalie>
  </listeAnomalie>
</interfaceNuu>
HTTP 422
""",
    """HTTP/1.1 200 OK
x-conformance: fail
x-conformance-request: pass
x-conformance-response: fail
x-conformance-schema: ws-demande-logement@13.34, demande@13.34
""",
)
DATE_FICHIER = re.compile(r"<dateFichier>[^<]+</dateFichier>")


def same_but_the_time(text: str) -> str:
    return DATE_FICHIER.sub("<dateFichier>…</dateFichier>", text)


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    simulator_url: str
    simulator_pid: int
    banner: str
    lines: list[str] = field(default_factory=list)


def wait_until(condition, seconds: float = 30.0) -> None:
    """Poll for `condition`; the deadline only bounds a failing test, it is not a timing check."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def is_running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def serve_without_upstream(*arguments: str) -> Iterator[Served]:
    """`serve ARGUMENTS --port N` from the repository root, with no upstream anywhere."""
    command, port = serve_command(*arguments)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SNE_GATEWAY_")}
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
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(process.stderr.readline, "")), daemon=True
    )
    reader.start()
    try:
        wait_until(
            lambda: any("Ctrl-C stops" in line for line in lines) or process.poll() is not None
        )
        banner = "".join(lines)
        assert process.poll() is None, banner
        running = Served(
            process,
            f"http://127.0.0.1:{port}",
            re.search(r"upstream  (\S+)", banner)[1],
            int(re.search(r"pid (\d+)", banner)[1]),
            banner,
            lines,
        )
        wait_until(lambda: _ready(running.url))
        yield running
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        reader.join(5)


@pytest.fixture(scope="module")
def running() -> Iterator[Served]:
    with serve_without_upstream() as served:
        yield served


@pytest.fixture
def served() -> Iterator[Served]:
    with serve_without_upstream() as served:
        yield served


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/_gateway/ready").status_code == 200
    except httpx.TransportError:
        return False


def conformance_lines(response: httpx.Response) -> str:
    """What `curl -si … | grep -iE '^(HTTP|x-conformance)'` prints."""
    lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
    lines += [
        f"{name}: {value}"
        for name, value in response.headers.items()
        if name.startswith("x-conformance")
    ]
    return "\n".join(lines) + "\n"


def readme_calls(url: str) -> list[str]:
    """The README's three curls, made with httpx; their outputs as curl prints them."""
    get_num_unique = (FIXTURES / "soap/soap12-getNumUnique-request.xml").read_bytes()
    invalid_drm = (
        FIXTURES / "invalid/drm-ressources/xsd.pattern--numunique-lowercase-key.xml"
    ).read_bytes()
    service = url + "/nuu-ws/services/DemandeLogement"
    first = httpx.post(
        service, content=get_num_unique, headers={"content-type": SOAP12_GET_NUM_UNIQUE}
    )
    second = httpx.post(
        url + "/v1.0/drm/ressources",
        content=invalid_drm,
        headers={"content-type": "application/xml"},
    )
    third = httpx.post(
        service,
        content=get_num_unique,
        headers={"content-type": SOAP12_GET_NUM_UNIQUE, "x-simulator-fault": "too-long"},
    )
    return [
        conformance_lines(first),
        second.text + f"HTTP {second.status_code}\n",
        conformance_lines(third),
    ]


def test_the_banner_says_where_everything_is(running) -> None:
    served = running
    assert f"gateway   {served.url}" in served.banner
    assert (
        f"upstream  {served.simulator_url} (SNE école simulator, pid {served.simulator_pid}, interface 13.34)"
        in served.banner
    )
    assert "env       ecole" in served.banner
    assert "policy    requests: block, responses: log" in served.banner
    for _, command in curls(served.url, ECOLE):
        assert command in served.banner
    assert httpx.get(served.simulator_url + "/_simulator/health").json()["version"] == "13.34"
    health = httpx.get(served.url + "/_gateway/health").json()
    assert (health["env"], health["upstream"]) == ("ecole", served.simulator_url)


def test_the_readme_curls_answer_as_the_readme_shows(running) -> None:
    logged = len(running.lines)
    outputs = readme_calls(running.url)
    for output, expected in zip(outputs, README_OUTPUTS, strict=True):
        assert same_but_the_time(output) == same_but_the_time(expected)

    def violations() -> list[dict]:
        events = [json.loads(line) for line in running.lines[logged:] if line.startswith("{")]
        return [event for event in events if event["event"] == "violation"]

    wait_until(lambda: len(violations()) == 2)
    assert [(v["direction"], v["code"]) for v in violations()] == [
        ("request", "xsd.pattern"),
        ("response", "xsd.facet"),
    ]
    assert violations()[1]["path"].endswith("/nuu:demandeur/nuu:nom")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_curls_themselves(running) -> None:
    for (_, command), expected in zip(curls(running.url, ECOLE), README_OUTPUTS, strict=True):
        completed = subprocess.run(
            ["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=30
        )
        assert same_but_the_time(completed.stdout) == same_but_the_time(expected), command


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_stopping_the_gateway_stops_the_simulator(served, stop) -> None:
    assert is_running(served.simulator_pid)
    served.process.send_signal(stop)
    status = served.process.wait(15)
    expected = {
        signal.SIGINT: 0,
        signal.SIGTERM: 128 + signal.SIGTERM,
        signal.SIGKILL: -signal.SIGKILL,
    }
    assert status == expected[stop]
    wait_until(lambda: not is_running(served.simulator_pid))  # SIGKILL: its stdin closed
    with pytest.raises(httpx.TransportError):
        httpx.get(served.simulator_url + "/_simulator/health", timeout=2)
    if stop != signal.SIGKILL:
        assert not any("Traceback" in line for line in served.lines)


def test_an_environment_chosen_applies_to_the_simulator_too() -> None:
    with serve_without_upstream("--env", "prod") as served:
        assert "env       prod" in served.banner
        assert "policy    requests: log, responses: log" in served.banner
        assert (
            "# 2. An invalid DRM request: forwarded, and logged here (the simulator answers "
            "with its own anomaly)" in served.banner
        )
        assert httpx.get(served.url + "/_gateway/health").json()["env"] == "prod"
        invalid_drm = (
            FIXTURES / "invalid/drm-ressources/xsd.pattern--numunique-lowercase-key.xml"
        ).read_bytes()
        answer = httpx.post(
            served.url + "/v1.0/drm/ressources",
            content=invalid_drm,
            headers={"content-type": "application/xml"},
        )
    # Forwarded and logged: the simulator's own anomaly (HTTP 400) comes back, and is valid.
    assert answer.status_code == 400
    assert answer.headers["x-conformance-request"] == "fail"
    assert answer.headers["x-conformance-response"] == "pass"

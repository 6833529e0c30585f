"""`compose.yaml` and the `Dockerfile` describe what `docs/deployment.md` promises, and what they
run is what the CLI and the shipped configuration accept (Docker is not available here)."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from gateway.cli.main import build_parser
from gateway.cli.serve import FLAGS
from gateway.config import load_settings
from gateway.simulator.app import HEALTH_PATH

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
DEPLOYMENT = (ROOT / "docs/deployment.md").read_text(encoding="utf-8")
GATEWAY_HEALTH = "/_gateway/health"
IMAGE_XSD = "/app/xsd"


def documented_services() -> dict[str, dict[str, str]]:
    """The rows of the compose table of docs/deployment.md, by service."""
    section = DEPLOYMENT.split("## The compose demo", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = dict(
            zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True)
        )
        rows[re.search(r"`([^`]+)`", cells["service"])[1]] = cells
    return rows


DOCUMENTED = documented_services()


def ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def listening_port(command: list[str]) -> int:
    return int(command[command.index("--port") + 1])


def test_the_services_are_the_documented_ones() -> None:
    assert set(SERVICES) == set(DOCUMENTED) == {"sne-simulator", "gateway", "gateway-prod"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_runs_the_project_image(name) -> None:
    service = SERVICES[name]
    assert service["build"] == "."
    assert service["image"] == "sne-gateway:latest"
    assert (ROOT / "Dockerfile").is_file()


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_is_as_documented(name) -> None:
    service, row = SERVICES[name], DOCUMENTED[name]
    assert " ".join(service["command"]) == ticked(row["command"])[0]
    assert (
        "profile `prod`" in row["service"]
        if service.get("profiles") == ["prod"]
        else "profile" not in row["service"]
    )
    host_port = ticked(row["host port"])[0]
    assert service["ports"] == [f"{host_port}:{listening_port(service['command'])}"]
    assert host_port.startswith("127.0.0.1:"), "published on the host's loopback only"
    environment = dict(item.split("=", 1) for item in ticked(row["environment"]))
    assert service.get("environment", {}) == environment
    volumes = ticked(row["XSD"])
    assert service.get("volumes", []) == volumes
    health = ticked(row["healthcheck"])[0]
    test = " ".join(service["healthcheck"]["test"])
    assert f"http://127.0.0.1:{listening_port(service['command'])}{health}" in test
    after = ticked(row["starts after"])
    assert {k: v["condition"] for k, v in service.get("depends_on", {}).items()} == dict.fromkeys(
        after, "service_healthy"
    )


def test_published_ports_do_not_clash() -> None:
    published = [service["ports"][0].rsplit(":", 1)[0] for service in SERVICES.values()]
    assert len(published) == len(set(published))


def test_the_simulator_command_is_one_the_cli_accepts() -> None:
    simulator = SERVICES["sne-simulator"]
    arguments = build_parser().parse_args(simulator["command"])
    assert (arguments.host, arguments.port) == ("0.0.0.0", 8081)
    assert HEALTH_PATH in " ".join(simulator["healthcheck"]["test"])


@pytest.mark.parametrize(
    ("name", "env", "policy"),
    [
        ("gateway", "recette", {"request": "block", "response": "log"}),
        ("gateway-prod", "prod", {"request": "log", "response": "log"}),
    ],
)
def test_the_gateways_run_as_documented(name, env, policy) -> None:
    """What `serve` would load in the container: the image's gateway.toml, the flags, the
    service's environment."""
    service = SERVICES[name]
    arguments = build_parser().parse_args(service["command"])
    overrides = {
        flag: getattr(arguments, flag) for flag in FLAGS if getattr(arguments, flag) is not None
    }
    settings = load_settings(ROOT / "gateway.toml", overrides, environ=service["environment"])
    assert (settings.env, settings.host, settings.port) == (env, "0.0.0.0", 8080)
    assert settings.policies[settings.env] == policy
    simulator = SERVICES["sne-simulator"]["command"]
    assert settings.upstream == f"http://sne-simulator:{listening_port(simulator)}"
    assert settings.log_format == "json"
    assert GATEWAY_HEALTH in " ".join(service["healthcheck"]["test"])
    # The host's xsd/ replaces the image's set where the shipped gateway.toml points.
    assert service["volumes"] == [f"./xsd:{IMAGE_XSD}:ro"]
    assert settings.xsd == ROOT / "xsd"  # "xsd" beside gateway.toml: /app/xsd in the image
    assert service["environment"]["WATCHFILES_FORCE_POLLING"] == "1"


def test_the_dockerfile_is_multi_stage_locked_and_non_root() -> None:
    instructions = [
        line.strip()
        for line in DOCKERFILE.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    stages = [line for line in instructions if line.startswith("FROM ")]
    assert len(stages) == 2 and stages[0].endswith(" AS build")
    assert "COPY --from=ghcr.io/astral-sh/uv:" in DOCKERFILE
    assert DOCKERFILE.count("uv sync --frozen --no-dev") == 2
    assert "WORKDIR /app" in instructions
    user = next(line for line in instructions if line.startswith("USER "))
    assert user.split()[1] not in ("root", "0")
    assert f"COPY xsd {IMAGE_XSD}" in instructions
    healthcheck = DOCKERFILE.split("HEALTHCHECK", 1)[1].split("\nENTRYPOINT", 1)[0]
    assert f"http://127.0.0.1:8080{GATEWAY_HEALTH}" in healthcheck
    assert "EXPOSE 8080" in instructions
    assert 'ENTRYPOINT ["sne-gateway"]' in instructions
    command = next(line for line in DOCKERFILE.splitlines() if line.startswith("CMD "))
    assert build_parser().parse_args(yaml.safe_load(command[4:])).port == 8080


def test_the_build_context_keeps_what_the_dockerfile_copies() -> None:
    allowed = [
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    ]
    copied = set()
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            copied.update(shlex.split(line)[1:-1])
    copied.update(re.findall(r"source=([\w.]+)", DOCKERFILE))
    assert copied and copied <= set(allowed)
    for name in copied:
        assert (ROOT / name).exists()


def test_the_build_stage_copies_what_building_the_project_needs() -> None:
    """The build stage's `uv sync` builds the project: without its build hook, it fails."""
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"][
        "build"
    ]["targets"]["wheel"]
    needed = {"pyproject.toml", "README.md"}
    if "custom" in wheel.get("hooks", {}):
        needed.add(wheel["hooks"]["custom"].get("path", "hatch_build.py"))
    build_stage = DOCKERFILE.split(" AS build", 1)[1].split("\nFROM ", 1)[0]
    copied = {
        name
        for line in build_stage.splitlines()
        if line.startswith("COPY ") and "--from=" not in line
        for name in shlex.split(line)[1:-1]
    }
    assert needed <= copied

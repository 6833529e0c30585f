"""The wheel carries the shipped XSD set, gateway.toml and the rules' country referential, so that an installed `sne-gateway`
(`uv tool install`, `pip install sne_gateway-*.whl`) works outside a clone.

Everything runs offline: uv builds with the hatchling of its cache, and the installation uses
the locked dependencies (`uv export` to pylock.toml), which `uv sync` has put in the cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from gateway.catalog import SHIPPED_XSD
from gateway.rules.referential import DATA as RULES_DATA

ROOT = Path(__file__).resolve().parent.parent
VALID = ROOT / "fixtures" / "valid" / "13.34" / "demande" / "pj-metadata.xml"
MARTINIQUE = ROOT / "fixtures" / "invalid" / "demande" / "rule.pays-overseas--martinique.xml"
DIRTY = ROOT / "fixtures" / "pays" / "dirty-values.csv"
PACKAGED = "gateway/shipped"
#: The request bodies of `serve`'s demo (its startup banner's curls).
DEMO_BODIES = (
    ROOT / "fixtures/soap/soap12-getNumUnique-request.xml",
    ROOT / "fixtures/invalid/drm-ressources/xsd.pattern--numunique-lowercase-key.xml",
)
UV = os.environ.get("UV") or shutil.which("uv")
pytestmark = pytest.mark.skipif(UV is None, reason="uv not found (neither $UV nor on PATH)")
#: Run by the installed interpreter: where it finds the shipped set and configuration.
PROBE = """
import json, shlex, sysconfig
from gateway.catalog import SHIPPED_XSD, load_catalog
from gateway.config import SHIPPED_CONFIG, load_settings
from gateway.rules import load_referential
from gateway.simulator.quickstart import curls

settings = load_settings(SHIPPED_CONFIG, environ={})
print(json.dumps({
    "site": sysconfig.get_path("purelib"),
    "xsd": str(SHIPPED_XSD),
    "config": str(SHIPPED_CONFIG),
    "settings_xsd": str(settings.xsd),
    "routes": len(settings.routes),
    "versions": sorted(load_catalog(SHIPPED_XSD).versions),
    "demo": [word[1:] for _, curl in curls("http://gw", settings) for word in shlex.split(curl)
             if word.startswith("@")],
    "referential": str(load_referential().source),
    "countries": load_referential().accepted,
}))
"""


def _environment() -> dict[str, str]:
    """This process's environment without what points at the project or configures the gateway."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in ("VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT")
        and not name.startswith("SNE_GATEWAY_")
    }


def _run(command: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _uv(*arguments: str | Path, cwd: Path) -> None:
    done = _run([str(UV), *arguments], cwd)
    assert done.returncode == 0, f"uv {' '.join(map(str, arguments))}:\n{done.stderr}"


def _shipped_files() -> dict[str, bytes]:
    """What the wheel must carry under gateway/shipped/, by path in the wheel."""
    files = {f"{PACKAGED}/gateway.toml": (ROOT / "gateway.toml").read_bytes()}
    for fixture in DEMO_BODIES:
        files[f"{PACKAGED}/demo/{fixture.name}"] = fixture.read_bytes()
    for path in sorted((ROOT / "xsd").rglob("*")):
        if path.is_file():
            files[f"{PACKAGED}/xsd/{path.relative_to(ROOT / 'xsd').as_posix()}"] = path.read_bytes()
    return files


def _assert_carries_the_shipped_files(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        packaged = {
            name: archive.read(name)
            for name in archive.namelist()
            if name.startswith(f"{PACKAGED}/") and not name.endswith("/")
        }
        # The rules' reference data (the COG country list, France and its overseas parts) is
        # package data: the wheel carries it beside the code.
        data = f"gateway/rules/{RULES_DATA.name}"
        rules_data = {
            name: archive.read(name) for name in archive.namelist() if name.startswith(data + "/")
        }
    expected = _shipped_files()
    assert sorted(packaged) == sorted(expected)
    different = [name for name in expected if packaged[name] != expected[name]]
    assert not different, f"not the repository's bytes: {different}"
    assert rules_data == {
        f"{data}/{path.name}": path.read_bytes() for path in RULES_DATA.iterdir() if path.is_file()
    }
    assert f"{data}/cog-pays-2025.csv" in rules_data


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _uv("build", "--offline", "--wheel", "--out-dir", out, ROOT, cwd=out)
    (built,) = out.glob("sne_gateway-*.whl")
    return built


def test_the_clone_uses_the_repository_xsd_set() -> None:
    assert not (ROOT / "gateway" / "shipped").exists(), "nothing is generated in the tree"
    assert SHIPPED_XSD == ROOT / "xsd"


def test_the_wheel_carries_the_shipped_xsd_set_and_configuration(wheel: Path) -> None:
    _assert_carries_the_shipped_files(wheel)


def test_the_wheel_carries_the_dashboards_files(wheel: Path) -> None:
    """The dashboard's stylesheet and script are served from the package, not a CDN."""
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("campaign.css", "dashboard.js"):
        assert f"gateway/report/campaign/static/{name}" in names


def test_a_wheel_built_from_the_sdist_carries_them_too(tmp_path: Path) -> None:
    _uv("build", "--offline", "--out-dir", tmp_path, ROOT, cwd=tmp_path)
    (sdist,) = tmp_path.glob("sne_gateway-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    sources = {"gateway.toml", "hatch_build.py"}
    sources |= {path.relative_to(ROOT).as_posix() for path in (ROOT / "xsd").rglob("*.xsd")}
    sources |= {fixture.relative_to(ROOT).as_posix() for fixture in DEMO_BODIES}
    assert sources <= names
    (built,) = tmp_path.glob("sne_gateway-*.whl")
    _assert_carries_the_shipped_files(built)


def test_the_installed_wheel_validates_with_its_packaged_xsd_set(
    wheel: Path, tmp_path: Path
) -> None:
    venv, locked = tmp_path / "venv", tmp_path / "pylock.toml"
    python = venv / "bin" / "python"
    _uv("venv", "--offline", "--python", sys.executable, venv, cwd=tmp_path)
    _uv(
        "export",
        "--project",
        ROOT,
        "--frozen",
        "--no-dev",
        "--no-emit-project",
        "--format",
        "pylock.toml",
        "--output-file",
        locked,
        cwd=tmp_path,
    )
    _uv("pip", "install", "--offline", "--python", python, "-r", locked, cwd=tmp_path)
    _uv("pip", "install", "--offline", "--python", python, wheel, cwd=tmp_path)

    # The installed package finds its packaged set and configuration, which work together.
    probe = _run([python, "-I", "-c", PROBE], tmp_path)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    shipped = Path(found["site"]).resolve() / "gateway" / "shipped"
    assert Path(found["xsd"]) == shipped / "xsd"
    assert Path(found["config"]) == shipped / "gateway.toml"
    assert Path(found["settings_xsd"]) == shipped / "xsd"
    assert found["routes"] > 0
    assert found["versions"] == sorted(p.name for p in (ROOT / "xsd").iterdir() if p.is_dir())
    # The startup banner's curls (getNumUnique, the invalid DRM request, getNumUnique again)
    # send the wheel's copies of the demo bodies.
    soap, drm = (str(shipped / "demo" / fixture.name) for fixture in DEMO_BODIES)
    assert found["demo"] == [soap, drm, soap]
    # The country referential is the wheel's copy, read from the installed package.
    installed = Path(found["site"]).resolve() / "gateway" / "rules" / "data"
    assert Path(found["referential"]) == installed / "cog-pays-2025.csv"
    assert found["countries"] == 228

    # `sne-gateway validate` on its defaults, outside the repository.
    shutil.copyfile(VALID, tmp_path / VALID.name)
    done = _run([venv / "bin" / "sne-gateway", "validate", VALID.name], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"PASS {VALID.name}" in done.stdout
    assert "site-packages/gateway/shipped/xsd" in done.stdout
    # The rules run there too, with the packaged referential.
    shutil.copyfile(MARTINIQUE, tmp_path / MARTINIQUE.name)
    done = _run([venv / "bin" / "sne-gateway", "validate", MARTINIQUE.name], tmp_path)
    assert done.returncode == 1 and "rule.pays-overseas" in done.stdout, done.stderr
    done = _run([venv / "bin" / "sne-gateway", "pays", "check", "-q", str(DIRTY)], tmp_path)
    assert done.returncode == 1 and "france-or-overseas        10   23.8 %" in done.stdout

"""pyproject.toml declares what the package imports, and bounds what it relies on privately."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
#: Libraries whose private APIs the code uses: a new minor version may break it unseen.
PRIVATE_APIS_USED = ("aiohttp", "httpx-aiohttp", "uvicorn", "httptools", "prometheus-client")


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _imported_modules() -> set[str]:
    modules = set()
    for path in (ROOT / "gateway").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"gateway"}


def test_every_imported_distribution_is_declared() -> None:
    declared = {_name(requirement) for requirement in PROJECT["dependencies"]}
    distributions = packages_distributions()
    imported = {
        _name(distribution)
        for module in _imported_modules()
        for distribution in distributions.get(module, [module])
    }
    assert imported - declared == set()


def test_libraries_used_privately_are_bounded_above() -> None:
    bounds = {_name(requirement): requirement for requirement in PROJECT["dependencies"]}
    assert [name for name in PRIVATE_APIS_USED if "<" not in bounds.get(name, "")] == []


def test_the_interpreter_range_is_the_one_ci_runs() -> None:
    assert PROJECT["requires-python"] == ">=3.11,<3.12"
    assert sys.version_info[:2] == (3, 11)

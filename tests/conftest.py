"""Shared fixtures: the shipped catalog (compiled once per test session) and fixture paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.catalog import SHIPPED_XSD, Catalog, load_catalog

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_XSD)


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES

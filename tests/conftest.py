"""Shared fixtures: the shipped catalog (compiled once per test session), fixture paths, and
the logging configuration restored after a test that changes it; no violations store for the
suite's gateways unless a test gives one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from gateway.catalog import SHIPPED_XSD, Catalog, load_catalog

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

# The suite's gateways (in process and `serve` subprocesses, which inherit it) write no
# violations store unless a test gives them one: else each would write
# ./sne-gateway-store.db in the checkout, together.
os.environ["SNE_GATEWAY_STORE"] = "off"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_XSD)


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def logging_restored() -> Iterator[None]:
    """The logging configuration as it was, after a test that configures its own (or starts a
    gateway, which does, while pytest captures stderr: its loggers would keep writing to a
    stream pytest closes)."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)

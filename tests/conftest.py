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
CHECKOUT_STORE = ROOT / "sne-gateway-store.db"


@pytest.fixture(autouse=True)
def no_store_in_the_checkout() -> Iterator[None]:
    """A test that starts a gateway with an environment of its own must keep the store off
    too: a store appearing in the checkout during a test is that test's fault."""
    existed = CHECKOUT_STORE.exists()
    yield
    if not existed and CHECKOUT_STORE.exists():
        CHECKOUT_STORE.unlink()
        for suffix in ("-wal", "-shm"):
            CHECKOUT_STORE.with_name(CHECKOUT_STORE.name + suffix).unlink(missing_ok=True)
        pytest.fail(f"this test wrote {CHECKOUT_STORE.name} in the checkout")


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

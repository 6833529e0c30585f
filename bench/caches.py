"""Why validating inside the proxy costs more than in a tight loop: the CPU caches.

    uv run python bench/caches.py [--documents 4000]

Parses and validates the 15 KB application against `demande` in a tight loop, then with work
between two documents: Python work like a proxy's (building the upstream requests of a few
exchanges, rendering their log events), then touching 4 MB of memory (twice the L2 cache of the
reference machine). It prints the parse and validation times of each, and their ratio to the
tight loop: the same libxml2 work is slower when something else ran in between.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.catalog import load_catalog  # noqa: E402
from gateway.limits import DEFAULT_LIMITS  # noqa: E402
from gateway.parse import parse_xml  # noqa: E402

APPLICATION = (ROOT / "fixtures/valid/13.33/demande/complete-household.xml").read_bytes()
EVICTION = bytearray(4 * 1024 * 1024)


def proxy_like_work() -> None:
    for _ in range(20):
        httpx.Request(
            "POST",
            "http://127.0.0.1:8081/nuu-ws/services/DemandeLogement?trace=1",
            headers={"content-type": "application/soap+xml", "x-request-id": "0" * 32},
            content=APPLICATION,
        )
        json.dumps({"event": "exchange", "route": "getNumUnique", "documents": list(range(40))})


def evict() -> None:
    for offset in range(0, len(EVICTION), 64):
        EVICTION[offset] ^= 1


def measure(between: Callable[[], None], documents: int) -> tuple[float, float]:
    """Microseconds to parse and to validate one document, with `between` run before each."""
    schema = load_catalog(ROOT / "xsd").latest.schema("demande")
    parsing = validating = 0
    for _ in range(documents):
        between()
        started = time.perf_counter_ns()
        root = parse_xml(APPLICATION, DEFAULT_LIMITS)
        parsed = time.perf_counter_ns()
        if schema.errors(root):
            raise SystemExit("the application is invalid")
        validating += time.perf_counter_ns() - parsed
        parsing += parsed - started
    return parsing / documents / 1000, validating / documents / 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=4000)
    documents = parser.parse_args().documents
    tight = measure(lambda: None, documents)
    print(f"{'between two documents':<34} {'parse µs':>9} {'validate µs':>12}  ratio")
    for label, between in (
        ("nothing (tight loop)", lambda: None),
        ("a proxy's Python work", proxy_like_work),
        ("4 MB of memory touched", evict),
    ):
        parse, validate = measure(between, documents)
        print(
            f"{label:<34} {parse:>9.1f} {validate:>12.1f}  {parse / tight[0]:.2f} / {validate / tight[1]:.2f}"
        )


if __name__ == "__main__":
    main()

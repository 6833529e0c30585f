"""Choosing the schema of a document that names none: by identity against trying the schemas.

    uv run python bench/selection.py [--rounds 200]

For every valid fixture, judged with the shipped 13.34 set (9 schemas sharing the root
`interfaceNuu`) and one invalid application, it times, on one core and in the same run:
1. `select_schema` as the gateway runs it: identity from the parsed root (the element after
   `entete`, `versionInterface`), then libxml2 with the one schema it picks;
2. the selection the gateway made before identity: each schema declaring the root tried in
   catalog order until one validates, else all of them and the closest kept.
It prints microseconds per document for each and the ratio trial / identity, and the same for
the delivery of fixtures/delivery-sne (versions 02.00 and 02.01 side by side).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.catalog import SchemaSet, load_catalog  # noqa: E402
from gateway.limits import DEFAULT_LIMITS  # noqa: E402
from gateway.parse import parse_xml  # noqa: E402
from gateway.select import select_schema  # noqa: E402


def trial(element, schema_set: SchemaSet) -> object:
    """The former selection: every schema declaring the root, in order, until one validates."""
    candidates = [s for s in schema_set.schemas.values() if element.tag in s.roots]
    tried = []
    for schema in candidates:
        errors = schema.errors(element)
        if not errors:
            return schema
        tried.append((schema, errors))
    return max(tried, key=lambda t: (t[1][0].line, -len(t[1])))[0]


def timed(documents, schema_set, select, rounds: int) -> float:
    elements = [parse_xml(data, DEFAULT_LIMITS) for data in documents]
    for element in elements:
        select(element, schema_set)  # each schema's validator compiled before timing
    started = time.perf_counter()
    for _ in range(rounds):
        for element in elements:
            select(element, schema_set)
    return (time.perf_counter() - started) / (rounds * len(elements)) * 1e6


def report(title: str, documents: list[bytes], schema_set: SchemaSet, rounds: int) -> None:
    identity = timed(documents, schema_set, select_schema, rounds)
    tried = timed(documents, schema_set, trial, rounds)
    print(
        f"{title}: {len(documents)} documents; identity {identity:.0f} µs/document, "
        f"trial {tried:.0f} µs/document, trial / identity {tried / identity:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    os.sched_setaffinity(0, {0})
    shipped = load_catalog(ROOT / "xsd").version("13.34")
    fixtures = sorted((ROOT / "fixtures/valid").rglob("*.xml"))
    valid = [path.read_bytes() for path in fixtures]
    invalid = [(ROOT / "fixtures/invalid/demande/xsd.facet--nom-too-long.xml").read_bytes()]
    report("shipped 13.34, valid fixtures", valid, shipped, rounds)
    report("shipped 13.34, one invalid application", invalid, shipped, rounds)
    delivery = load_catalog(ROOT / "fixtures/delivery-sne/xsd").version()
    documents = [
        (ROOT / "fixtures/delivery-sne/documents" / name).read_bytes()
        for name in ("demande-v0200.xml", "demande-v0201.xml", "evenements-v0200.xml")
    ]
    report("delivery 02.00 + 02.01, three documents", documents, delivery, rounds)


if __name__ == "__main__":
    main()

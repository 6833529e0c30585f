"""The violations store's cost, in one run on loopback.

    uv run python bench/store.py [--duration 5] [--rounds 3] [--workers 2] [--records 200000]

1. Validated exchanges/s through two gateways validating both directions in recette, one with
   the store off and one writing to SQLite, taken in turns (wrk, 16 clients, the 15 KB XML and
   MTOM workloads of bench/proxy.py, nginx serving the canned answers); the ratio on/off is the
   figure (goal: within 5 %). On a shared machine requests/s swing with the neighbours' load,
   so the CPU time the gateway's workers spent per exchange (the store's thread included) is
   measured in the same runs: its ratio off/on is what the throughput ratio would be on a
   machine the gateway had to itself. The store's gateway then says how many records it wrote
   and dropped.
2. The store's size per million exchanges: `--records` synthetic records (9 in 10 passing both
   directions, 1 in 10 with two violations), written by batches of 1,000 as the writer does,
   into SQLite and, when Debian's PostgreSQL is installed, into a PostgreSQL server started
   for the purpose; the size is extrapolated linearly to a million.
Requires nginx (Debian: nginx-light) and wrk.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.proxy import (  # noqa: E402
    WORKLOADS,
    WRK_SCRIPT,
    start_gateway,
    start_nginx,
    stop,
    wrk,
)
from gateway.record import DirectionRecord, ExchangeRecord  # noqa: E402
from gateway.store.backend import Backend, open_backend  # noqa: E402
from gateway.store.location import parse_store  # noqa: E402
from gateway.violation import DocumentReport, Violation  # noqa: E402

CLIENTS = 16
ROUTES = ("getNumUnique", "drm-ressources", "exports-download", "ajouterEvenementDemande")
PATHS = (
    "/nuu:interfaceNuu/nuu:demande/nuu:demandeLogement/nuu:personnePhysique/nuu:demandeur/nuu:nom",
    "/nuu:interfaceNuu/nuu:requeteRessources/nuu:listeNumUnique/nuu:numUnique[2]",
)


def synthetic(index: int, now_ms: int, rng: random.Random) -> ExchangeRecord:
    failing = index % 10 == 0
    violations = (
        tuple(Violation("xsd.facet", "what the engine says", 17, 11, path) for path in PATHS)
        if failing
        else ()
    )
    reports = (
        DocumentReport("ws:demandeLogement", "ws-demande-logement@13.34"),
        DocumentReport("fichierDemande", "demande@13.34", violations),
    )
    return ExchangeRecord(
        at_ms=now_ms - (1_000_000 - index) * 50,
        env="recette",
        request_id=f"{rng.getrandbits(128):032x}",
        method="POST",
        route=ROUTES[index % len(ROUTES)],
        conformance="fail" if failing else "pass",
        status=400 if failing else 200,
        client="CN=si-editeur.example,O=Editeur,C=FR",
        duration_ms=12.5,
        upstream_ms=8.25,
        directions=(
            DirectionRecord(
                "request",
                "fail" if failing else "pass",
                "blocked" if failing else "forwarded",
                reports,
                2,
                validation_ms=1.8,
            ),
            *(
                ()
                if failing
                else (
                    DirectionRecord("response", "pass", "forwarded", reports, 2, validation_ms=1.7),
                )
            ),
        ),
    )


def fill(backend: Backend, records: int) -> float:
    """Write `records` synthetic records by batches of 1,000; records per second."""
    rng = random.Random(7)
    now_ms = int(time.time() * 1000)
    started = time.perf_counter()
    for first in range(0, records, 1000):
        backend.write(
            [synthetic(index, now_ms, rng) for index in range(first, min(first + 1000, records))]
        )
    return records / (time.perf_counter() - started)


def sizes(records: int, directory: Path) -> None:
    print(
        f"\nStore size, {records:,} synthetic records (1 in 10 with 2 violations), extrapolated to 1,000,000:"
    )
    location = parse_store(f"sqlite:///{directory / 'size.db'}")
    assert location is not None
    backend = open_backend(location)
    rate = fill(backend, records)
    backend.compact()
    used = backend.used_bytes()
    backend.close()
    on_disk = sum(file.stat().st_size for file in directory.glob("size.db*"))
    print(
        f"  SQLite: {used / records * 1e6 / 1e6:.0f} MB per million exchanges (data pages; "
        f"{on_disk / records * 1e6 / 1e6:.0f} MB of files), written at {rate:,.0f} records/s"
    )
    try:
        from tests.postgres import binaries, postgres_server
    except ImportError:
        return
    if binaries() is None:
        print("  PostgreSQL: not installed here (Debian: postgresql), not measured")
        return
    with postgres_server() as server:
        location = parse_store(server.url)
        assert location is not None
        backend = open_backend(location)
        rate = fill(backend, records)
        backend.execute("VACUUM ANALYZE")
        ((total,),) = backend.fetch(
            "SELECT pg_total_relation_size('exchanges') + pg_total_relation_size('checks') "
            "+ pg_total_relation_size('violations')"
        )
        backend.close()
    print(
        f"  PostgreSQL: {total / records * 1e6 / 1e6:.0f} MB per million exchanges (tables and "
        f"indexes), written at {rate:,.0f} records/s"
    )


def workers_cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) of `serve`'s worker processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0
    for child in children:
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def store_counts(url: str) -> dict[str, float]:
    text = httpx.get(url + "/_gateway/metrics").text
    return {
        sample.labels["result"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "sne_gateway_store_records_total"
    }


def throughput(arguments: argparse.Namespace, directory: Path) -> None:
    nginx, upstream, _ = start_nginx(directory)
    gateways = {}
    try:
        for name, store in (
            ("store off", "off"),
            ("store on", f"sqlite:///{directory / 'store.db'}"),
        ):
            os.environ["SNE_GATEWAY_STORE"] = store
            (directory / name).mkdir()
            gateways[name] = start_gateway(
                directory / name, "block", upstream, arguments.workers, "auto"
            )
        time.sleep(5)  # ready means one worker answers; the others may still be compiling
        print(
            f"Validated exchanges/s at {CLIENTS} clients, {arguments.workers} workers, median of {arguments.rounds} rounds taken in turns:"
        )
        for workload in WORKLOADS:
            body = directory / f"{workload.path.strip('/').replace('/', '-')}.body"
            body.write_bytes(workload.request)
            script = directory / f"{body.stem}.lua"
            script.write_text(WRK_SCRIPT.format(content_type=workload.content_type, body=str(body)))
            runs: dict[str, list[float]] = {name: [] for name in gateways}
            cpu: dict[str, list[float]] = {name: [] for name in gateways}
            for _ in range(arguments.rounds):
                for name, (process, url) in gateways.items():
                    before = workers_cpu_seconds(process.pid)
                    measure = wrk(url + workload.path, script, CLIENTS, arguments.duration)
                    spent = workers_cpu_seconds(process.pid) - before
                    if measure.errors:
                        raise SystemExit(f"{name}: {measure.errors} errors")
                    runs[name].append(measure.requests_per_second)
                    cpu[name].append(spent / (measure.requests_per_second * arguments.duration))
            off, on = (statistics.median(runs[name]) for name in ("store off", "store on"))
            ratios = [b / a for a, b in zip(runs["store off"], runs["store on"], strict=True)]
            cpu_off, cpu_on = (statistics.median(cpu[name]) for name in ("store off", "store on"))
            print(
                f"  {workload.name}: off {off:,.0f}, on {on:,.0f}: on/off {on / off:.3f} "
                f"(rounds {min(ratios):.3f} to {max(ratios):.3f}); workers' CPU per exchange "
                f"off {cpu_off * 1e6:,.0f} us, on {cpu_on * 1e6:,.0f} us: off/on "
                f"{cpu_off / cpu_on:.3f}"
            )
        time.sleep(2)  # the writers' last batches
        print(f"  the store's gateway: {store_counts(gateways['store on'][1])} records")
    finally:
        for process, _ in gateways.values():
            stop(process)
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per gateway, in turns")
    parser.add_argument("--workers", type=int, default=2, help="gateway worker processes")
    parser.add_argument(
        "--records", type=int, default=200_000, help="synthetic records for the size"
    )
    arguments = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is required (Debian: nginx-light, wrk)")
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        throughput(arguments, directory)
        if arguments.records:
            sizes(arguments.records, directory)


if __name__ == "__main__":
    main()

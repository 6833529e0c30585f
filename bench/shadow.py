"""The next XSD set's cost, in one run on loopback.

    uv run python bench/shadow.py [--duration 5] [--rounds 3] [--workers 2]

Two gateways validating both directions in recette (store off), one of them also validating
against a next XSD set (`shadow_xsd`: the shipped 13.33 beside the 13.34 in service, which the
workloads' documents pass both), taken in turns on the 15 KB XML and MTOM workloads of
bench/proxy.py (nginx serving the canned answers):

1. at 1 client (wrk), the p50 latency clients see: with the next set against without (goal:
   within 10 %, the next set's work being off the client's path);
2. at 16 clients, validated exchanges/s with against without (the next set costs CPU), and the
   CPU time the workers spent per exchange in the same runs, which says the same on a machine
   shared with others.

The shadow gateway then says how many documents its next set compared and dropped (dropped:
its queue was full, the machine saturated). Requires nginx (Debian: nginx-light) and wrk.
"""

from __future__ import annotations

import argparse
import os
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
from bench.store import workers_cpu_seconds  # noqa: E402

BUSY_CLIENTS = 16
WITHOUT, WITH = "without next set", "with next set"


def shadow_counts(url: str) -> dict[str, float]:
    text = httpx.get(url + "/_gateway/metrics").text
    return {
        sample.labels["result"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "sne_gateway_shadow_documents_total"
    }


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure(arguments: argparse.Namespace, directory: Path) -> None:
    nginx, upstream, _ = start_nginx(directory)
    gateways = {}
    os.environ["SNE_GATEWAY_STORE"] = "off"
    try:
        for name, shadow in ((WITHOUT, None), (WITH, str(ROOT / "xsd" / "13.33"))):
            os.environ.pop("SNE_GATEWAY_SHADOW_XSD", None)
            if shadow:
                os.environ["SNE_GATEWAY_SHADOW_XSD"] = shadow
            (directory / name).mkdir()
            gateways[name] = start_gateway(
                directory / name, "block", upstream, arguments.workers, "auto"
            )
        time.sleep(5)  # ready means one worker answers; the others may still be compiling
        print(
            f"{arguments.workers} workers, median of {arguments.rounds} rounds taken in turns, "
            f"{arguments.duration} s each; load average before: {load_average()}"
        )
        for workload in WORKLOADS:
            body = directory / f"{workload.path.strip('/').replace('/', '-')}.body"
            body.write_bytes(workload.request)
            script = directory / f"{body.stem}.lua"
            script.write_text(WRK_SCRIPT.format(content_type=workload.content_type, body=str(body)))
            p50: dict[str, list[float]] = {name: [] for name in gateways}
            rates: dict[str, list[float]] = {name: [] for name in gateways}
            cpu: dict[str, list[float]] = {name: [] for name in gateways}
            for _ in range(arguments.rounds):
                for name, (process, url) in gateways.items():
                    alone = wrk(url + workload.path, script, 1, arguments.duration)
                    before = workers_cpu_seconds(process.pid)
                    busy = wrk(url + workload.path, script, BUSY_CLIENTS, arguments.duration)
                    spent = workers_cpu_seconds(process.pid) - before
                    if alone.errors or busy.errors:
                        raise SystemExit(f"{name}: {alone.errors + busy.errors} errors")
                    p50[name].append(alone.p50_ms)
                    rates[name].append(busy.requests_per_second)
                    cpu[name].append(spent / (busy.requests_per_second * arguments.duration))
            ratio = {
                figure: [b / a for a, b in zip(runs[WITHOUT], runs[WITH], strict=True)]
                for figure, runs in (("p50", p50), ("rate", rates), ("cpu", cpu))
            }

            def median(runs: dict[str, list[float]], name: str) -> float:
                return statistics.median(runs[name])

            print(f"  {workload.name}:")
            print(
                f"    p50 at 1 client: without {median(p50, WITHOUT):.3f} ms, with "
                f"{median(p50, WITH):.3f} ms: with/without {statistics.median(ratio['p50']):.3f} "
                f"(rounds {min(ratio['p50']):.3f} to {max(ratio['p50']):.3f}; goal <= 1.10)"
            )
            print(
                f"    validated exchanges/s at {BUSY_CLIENTS} clients: without "
                f"{median(rates, WITHOUT):,.0f}, with {median(rates, WITH):,.0f}: with/without "
                f"{statistics.median(ratio['rate']):.3f} (rounds {min(ratio['rate']):.3f} to "
                f"{max(ratio['rate']):.3f})"
            )
            print(
                f"    workers' CPU per exchange at {BUSY_CLIENTS} clients: without "
                f"{median(cpu, WITHOUT) * 1e6:,.0f} us, with {median(cpu, WITH) * 1e6:,.0f} us: "
                f"with/without {statistics.median(ratio['cpu']):.3f}"
            )
        print(f"  the next set's documents: {shadow_counts(gateways[WITH][1])}")
        print(f"  load average after: {load_average()}")
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
    arguments = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is required (Debian: nginx-light, wrk)")
    with tempfile.TemporaryDirectory() as temporary:
        measure(arguments, Path(temporary))


if __name__ == "__main__":
    main()

"""The workers' CPU per validated exchange of two checkouts of the project, in one run.

    uv run python bench/compare.py BEFORE AFTER [--rounds 5] [--duration 4] [--clients 16]

BEFORE and AFTER are two checkouts (a `git archive` of the older commit, and this one, say).
Each gets one gateway of one worker, validating both directions, in front of the same nginx;
wrk sends each gateway the 15 KB XML and MTOM workloads of `bench/proxy.py` in turns, and the
gateway's CPU time, read from /proc around each run, is divided by the exchanges it served. On
a machine shared with other work, requests per second swing with the load; CPU time per
exchange swings less. Requires nginx (Debian: nginx-light) and wrk, and AFTER's bench/proxy.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

TICK = os.sysconf("SC_CLK_TCK")


def proxy_bench(root: Path, name: str) -> ModuleType:
    """`root`'s bench/proxy.py, imported as `name` (it puts `root` first on the path for its
    own imports, which are then forgotten, so the other checkout's can follow)."""
    spec = importlib.util.spec_from_file_location(name, root / "bench" / "proxy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    path = list(sys.path)
    spec.loader.exec_module(module)
    sys.path[:] = path
    for loaded in [key for key in sys.modules if key == "gateway" or key.startswith("gateway.")]:
        del sys.modules[loaded]
    return module


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--clients", type=int, default=16)
    arguments = parser.parse_args()
    benches = {
        "before": proxy_bench(arguments.before.resolve(), "bench_before"),
        "after": proxy_bench(arguments.after.resolve(), "bench_after"),
    }
    after = benches["after"]
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        www = directory / "www"
        direct, proxy = after.free_port(), after.free_port()
        for workload in after.WORKLOADS:
            target = www / workload.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(workload.response)
        (www / "bench").mkdir(exist_ok=True)
        (www / "bench" / "ready").write_bytes(b"ready")
        (directory / "nginx.conf").write_text(
            after.NGINX_CONFIG.format(
                prefix=directory,
                direct=direct,
                proxy=proxy,
                mtom_type=after.MTOM_TYPE.replace("'", ""),
            )
        )
        nginx = subprocess.Popen(
            [
                shutil.which("nginx") or "/usr/sbin/nginx",
                "-c",
                str(directory / "nginx.conf"),
                "-p",
                str(directory),
            ]
        )
        after.wait_ready(f"http://127.0.0.1:{direct}/bench/ready", nginx)
        upstream = f"http://127.0.0.1:{direct}"
        gateways = {}
        for side, bench in benches.items():
            (directory / side).mkdir()
            gateways[side] = bench.start_gateway(directory / side, "block", upstream, 1, "system")
        try:
            for workload in after.WORKLOADS:
                body = directory / f"{workload.path.strip('/').replace('/', '-')}.body"
                body.write_bytes(workload.request)
                script = directory / f"{body.stem}.lua"
                script.write_text(
                    after.WRK_SCRIPT.format(content_type=workload.content_type, body=str(body))
                )
                runs: dict[str, list[tuple[float, float]]] = {side: [] for side in gateways}
                for _ in range(arguments.rounds):
                    for side, (process, url) in gateways.items():
                        started = cpu_seconds(process.pid)
                        try:
                            measure = after.wrk(
                                url + workload.path, script, arguments.clients, arguments.duration
                            )
                        except TypeError:  # wrk said no latencies: the run is dropped
                            continue
                        used = cpu_seconds(process.pid) - started
                        served = measure.requests_per_second * arguments.duration
                        runs[side].append((measure.requests_per_second, used / served * 1e6))
                print(f"{workload.name}, {arguments.clients} clients:")
                for side, values in runs.items():
                    rates = [rate for rate, _ in values]
                    costs = [cost for _, cost in values]
                    print(
                        f"  {side:6}  req/s {statistics.median(rates):6.0f} "
                        f"({min(rates):.0f} to {max(rates):.0f})  CPU per exchange "
                        f"{statistics.median(costs):5.0f} us ({min(costs):.0f} to {max(costs):.0f}), "
                        f"{len(values)} runs"
                    )
        finally:
            for process, _ in gateways.values():
                after.stop(process)
            nginx.terminate()
            nginx.wait()


if __name__ == "__main__":
    main()

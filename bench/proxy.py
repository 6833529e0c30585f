"""The proxy against its references, in one run on loopback.

    uv run python bench/proxy.py [--duration 5] [--rounds 3] [--workers 2] [--export-mb 1024]
                                 [--allocator auto|system]

For 15 KB XML POSTs and 15 KB MTOM SOAP calls (getNumUnique with the application as an XOP
attachment, answered the same way), at 1, 16 and 64 clients (wrk), it measures requests/s and
latency p50/p99 (each point is the median of `--rounds` runs, taken in turns so that a
passing disturbance does not fall on one target only):
  direct      straight to the upstream (nginx serving the canned answers);
  nginx       through nginx `proxy_pass` (the non-validating reference);
  gateway-off through the gateway, validation off;
  gateway-on  through the gateway, validating both directions.
It also measures the engine's raw in-process cost (parse + validate) of the same documents,
in a child process that runs with the gateway's memory allocator (`--allocator`, as the
`allocator` setting: mimalloc where the system has it, by default), then streams a TGZ export
of `--export-mb` MB of XML through the validating gateway and reports MB/s and the gateway's
peak RSS. The goals of the proxy issue are printed next to the results.
Requires nginx (Debian: nginx-light) and wrk.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.allocator import allocator_library, in_use  # noqa: E402
from gateway.catalog import load_catalog  # noqa: E402
from gateway.extract.message import extract_documents  # noqa: E402
from gateway.limits import DEFAULT_LIMITS  # noqa: E402
from gateway.routing.route import DirectionRule  # noqa: E402
from gateway.validate import validate_document  # noqa: E402

APPLICATION = (ROOT / "fixtures/valid/13.33/demande/complete-household.xml").read_bytes()
BOUNDARY = "uuid:0b5c7f1e-bench-4d5e-8f9a-0b1c2d3e4f5a"
MTOM_TYPE = (
    f'multipart/related; type="application/xop+xml"; boundary="{BOUNDARY}"; '
    'start="<root.message@cxf.apache.org>"; start-info="application/soap+xml"; '
    'action="http://ws.metier.nuu.application.i2/getNumUnique"'
)
CLIENTS = (1, 16, 64)
WS = "http://ws.metier.nuu.application.i2/"


def mtom(operation: str, wrapper: str) -> bytes:
    """A getNumUnique request or response as Apache CXF sends it: the application attached."""
    envelope = (
        '<?xml version="1.0" encoding="UTF-8"?><soap:Envelope '
        'xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
        f'<ns2:{operation} xmlns:ns2="{WS}"><ns2:{wrapper}>'
        "<ns2:nomFichierDemande>demande.xml</ns2:nomFichierDemande><ns2:fichierDemande>"
        '<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:doc-1@bench"/>'
        "</ns2:fichierDemande>"
        + (
            "<ns2:nomCertificat>guichet.cer</ns2:nomCertificat><ns2:certificat>"
            + base64.b64encode(b"fake certificate").decode()
            + "</ns2:certificat>"
            if operation == "getNumUnique"
            else ""
        )
        + f"</ns2:{wrapper}></ns2:{operation}></soap:Body></soap:Envelope>"
    )
    return (
        (
            f"\r\n--{BOUNDARY}\r\nContent-Type: application/xop+xml; charset=UTF-8; "
            'type="application/soap+xml"\r\nContent-Transfer-Encoding: binary\r\n'
            f"Content-ID: <root.message@cxf.apache.org>\r\n\r\n{envelope}\r\n--{BOUNDARY}\r\n"
            "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
            "Content-ID: <doc-1@bench>\r\n\r\n"
        ).encode()
        + APPLICATION
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


@dataclass(frozen=True)
class Workload:
    name: str
    path: str
    content_type: str
    request: bytes
    response: bytes
    rule: DirectionRule


WORKLOADS = (
    Workload(
        "15 KB XML POST",
        "/bench/xml",
        "application/xml",
        APPLICATION,
        APPLICATION,
        DirectionRule(schema="demande"),
    ),
    Workload(
        "15 KB MTOM SOAP",
        "/nuu-ws/services/DemandeLogement",
        MTOM_TYPE,
        mtom("getNumUnique", "numUniqueParametres"),
        mtom("getNumUniqueResponse", "numUniqueReponse"),
        DirectionRule(
            wrapper="ws-demande-logement", schema="demande", embedded=("fichierDemande",)
        ),
    ),
)

GATEWAY_CONFIG = """
[gateway]
xsd = "{xsd}"
env = "recette"
allocator = "{allocator}"
log_level = "warning"
log_format = "json"
reload = false
[policy.recette]
request = "{policy}"
response = "{policy}"
[[routes]]
name = "bench-xml"
path = "/bench/xml"
request = {{ schema = "demande" }}
response = {{ schema = "demande" }}
[[routes]]
name = "getNumUnique"
path = "/nuu-ws/services/DemandeLogement"
request = {{ wrapper = "ws-demande-logement", schema = "demande", embedded = ["fichierDemande"] }}
response = {{ wrapper = "ws-demande-logement", schema = "demande", embedded = ["fichierDemande"] }}
[[routes]]
name = "download"
path = "/bench/export.tgz"
response = {{ extract = "tgz" }}
"""

NGINX_CONFIG = """
worker_processes 1;
daemon off;
user root;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_buffer_size 64k;
    upstream answers {{ server 127.0.0.1:{direct}; keepalive 128; }}
    server {{
        listen 127.0.0.1:{direct};
        root {prefix}/www;
        types {{ }}
        location = /bench/xml {{ default_type application/xml; error_page 405 =200 $uri; }}
        location = /nuu-ws/services/DemandeLogement {{
            default_type '{mtom_type}';
            error_page 405 =200 $uri;
        }}
        location = /bench/export.tgz {{ default_type application/gzip; }}
    }}
    server {{
        listen 127.0.0.1:{proxy};
        location / {{
            proxy_pass http://answers;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_request_buffering on;
        }}
    }}
}}
"""

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = {content_type!r}
local file = io.open({body!r}, "rb")
wrk.body = file:read("*a")
file:close()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def start_nginx(directory: Path) -> tuple[subprocess.Popen[bytes], str, int]:
    """nginx, from `directory`, serving the workloads' canned answers and
    `www/bench/export.tgz` (empty unless written before): the process, the upstream URL the
    gateways are given, and the port of nginx's own proxy to compare them with."""
    www = directory / "www"
    direct, proxy = free_port(), free_port()
    for workload in WORKLOADS:
        target = www / workload.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(workload.response)
    export = www / "bench" / "export.tgz"
    if not export.exists():
        export.write_bytes(b"")
    (directory / "nginx.conf").write_text(
        NGINX_CONFIG.format(
            prefix=directory, direct=direct, proxy=proxy, mtom_type=MTOM_TYPE.replace("'", "")
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
    wait_ready(f"http://127.0.0.1:{direct}/bench/export.tgz", nginx)
    return nginx, f"http://127.0.0.1:{direct}", proxy


@dataclass
class Measure:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def _milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, script: Path, clients: int, duration: int) -> Measure:
    threads = min(clients, 2)
    output = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{clients}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Measure(
        float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),  # type: ignore[index]
        _milliseconds(re.search(r"^\s+50%\s+(\S+)$", output, re.M)[1]),  # type: ignore[index]
        _milliseconds(re.search(r"^\s+99%\s+(\S+)$", output, re.M)[1]),  # type: ignore[index]
        (int(errors[1]) if errors else 0)
        + (sum(map(int, socket_errors.groups())) if socket_errors else 0),
    )


def raw_engine_cost(workload: Workload, repeats: int = 400) -> float:
    """Seconds to extract, parse and validate the documents of one exchange, in process."""
    schema_set = load_catalog(ROOT / "xsd").latest
    started = time.perf_counter()
    for _ in range(repeats):
        for body in (workload.request, workload.response):
            extraction = extract_documents(
                body, workload.content_type, workload.rule, DEFAULT_LIMITS
            )
            for document in extraction.documents:
                if not validate_document(document, schema_set).valid:
                    raise SystemExit(f"{workload.name}: a document is invalid")
    return (time.perf_counter() - started) / repeats


class RawEngine:
    """`raw_engine_cost` measured in a child process started with the gateway's allocator,
    so that the raw cost and the gateway's are measured alike."""

    def __init__(self, allocator: str) -> None:
        library = allocator_library(allocator)
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--raw-engine"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "LD_PRELOAD": library} if library else None,
        )
        self.allocator = self._answer()

    def _answer(self) -> str:
        line = self.process.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise SystemExit("the raw engine measurement process ended")
        return line.strip()

    def cost(self, workload: Workload) -> float:
        self.process.stdin.write(f"{WORKLOADS.index(workload)}\n")  # type: ignore[union-attr]
        self.process.stdin.flush()  # type: ignore[union-attr]
        return float(self._answer())

    def close(self) -> None:
        self.process.stdin.close()  # type: ignore[union-attr]
        self.process.wait(timeout=20)


def serve_raw_engine() -> None:
    """The child side of `RawEngine`: the allocator in use, then a cost per workload asked."""
    print(in_use(), flush=True)
    for line in sys.stdin:
        print(raw_engine_cost(WORKLOADS[int(line)]), flush=True)


def start_gateway(
    directory: Path,
    policy: str,
    upstream: str,
    workers: int,
    allocator: str,
    log: Path | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """A gateway validating with `policy`, logging warnings only, or every exchange (with its
    `validation_ms`) into `log`."""
    config = directory / f"gateway-{policy}{'-logged' if log else ''}.toml"
    text = GATEWAY_CONFIG.format(xsd=ROOT / "xsd", policy=policy, allocator=allocator)
    config.write_text(text.replace('"warning"', '"info"') if log else text)
    port = free_port()
    stderr = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway.cli.main",
            "serve",
            "--config",
            str(config),
            "--upstream",
            upstream,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        stderr=stderr,
    )
    if log:
        stderr.close()  # the gateway has its own copy
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/_gateway/health", process)
    return process, url


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def peak_rss_mb(pid: int) -> float:
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    for each in pids:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total = max(total, int(line.split()[1]))
    return total / 1024


def build_export(path: Path, megabytes: int) -> int:
    rng = random.Random(7)
    name = re.compile(rb"(<(?:nom|prenom)>)([A-Za-z]+)<")
    written = 0
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        index = 0
        while written < megabytes * 1_000_000:
            index += 1
            data = name.sub(
                lambda m: (
                    m[1] + bytes(rng.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in m[2]) + b"<"
                ),
                APPLICATION,
            )
            info = tarfile.TarInfo(f"CERFA/{index:07d}.xml")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            written += len(data)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs per point, in turns (the median is kept)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gateway worker processes")
    parser.add_argument(
        "--export-mb", type=int, default=1024, help="MB of XML in the streamed export"
    )
    parser.add_argument(
        "--allocator",
        default="auto",
        help="the gateway's (and the raw measurement's) memory allocator: auto, system or a "
        "library's path, as the allocator setting",
    )
    parser.add_argument("--raw-engine", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.raw_engine:
        serve_raw_engine()
        return
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is required (Debian: nginx-light, wrk)")
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        export = directory / "www" / "bench" / "export.tgz"
        export.parent.mkdir(parents=True)
        export_xml = build_export(export, arguments.export_mb)
        nginx, upstream, proxy = start_nginx(directory)
        allocator = arguments.allocator
        off, off_url = start_gateway(directory, "off", upstream, arguments.workers, allocator)
        on, on_url = start_gateway(directory, "block", upstream, arguments.workers, allocator)
        logged_log = directory / "logged.jsonl"
        logged, logged_url = start_gateway(
            directory, "block", upstream, 1, allocator, log=logged_log
        )
        # Ready means one worker answers; the others may still be compiling their schemas.
        time.sleep(5)
        targets = {
            "direct": upstream,
            "nginx": f"http://127.0.0.1:{proxy}",
            "gateway-off": off_url,
            "gateway-on": on_url,
        }
        raw_engine = None
        try:
            raw_engine = RawEngine(allocator)
            print(f"memory allocator (gateway workers and raw measurement): {raw_engine.allocator}")
            interpreter = os.path.realpath(sys.executable)
            print(
                f"Python {platform.python_version()} ({interpreter}) for the gateway and raw measurement"
            )
            for workload in WORKLOADS:
                body = directory / f"{workload.path.strip('/').replace('/', '-')}.body"
                body.write_bytes(workload.request)
                script = directory / f"{body.stem}.lua"
                script.write_text(
                    WRK_SCRIPT.format(content_type=workload.content_type, body=str(body))
                )
                check = httpx.post(
                    on_url + workload.path,
                    content=workload.request,
                    headers={"content-type": workload.content_type},
                )
                if check.headers.get("x-conformance") != "pass":
                    raise SystemExit(
                        f"{workload.name}: the gateway says {check.status_code} {check.headers.get('x-conformance')}"
                    )
                # The raw cost is sampled in every round too: a slow moment of the machine then
                # weighs on it no more than on the rest.
                raw_costs = []
                runs: dict[tuple[str, int], list[Measure]] = {}
                for _ in range(arguments.rounds):
                    raw_costs += [raw_engine.cost(workload) for _ in range(3)]
                    for name, url in targets.items():
                        for clients in CLIENTS:
                            measure = wrk(url + workload.path, script, clients, arguments.duration)
                            runs.setdefault((name, clients), []).append(measure)
                raw = statistics.median(raw_costs)
                print(
                    f"\n{workload.name} (engine raw cost per exchange, both directions: {raw * 1000:.3f} ms, "
                    f"{min(raw_costs) * 1000:.3f} to {max(raw_costs) * 1000:.3f} over the rounds)"
                )
                print(
                    f"  {'target':<12} {'clients':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
                )
                results = {
                    point: Measure(
                        statistics.median(m.requests_per_second for m in measures),
                        statistics.median(m.p50_ms for m in measures),
                        statistics.median(m.p99_ms for m in measures),
                        sum(m.errors for m in measures),
                    )
                    for point, measures in runs.items()
                }
                for (name, clients), measure in results.items():
                    print(
                        f"  {name:<12} {clients:>7} {measure.requests_per_second:>9.0f} {measure.p50_ms:>8.2f} {measure.p99_ms:>8.2f} {measure.errors:>7}"
                    )
                scaling_runs = [
                    sixty_four.requests_per_second / sixteen.requests_per_second
                    for sixty_four, sixteen in zip(
                        runs["gateway-on", 64], runs["gateway-on", 16], strict=True
                    )
                ]
                overheads = [
                    on.p50_ms - off.p50_ms
                    for on, off in zip(runs["gateway-on", 1], runs["gateway-off", 1], strict=True)
                ]
                overhead = statistics.median(overheads)
                sixteen = results["gateway-on", 16]
                logged_log.write_bytes(b"")
                wrk(logged_url + workload.path, script, 1, arguments.duration)
                # The validation work inside the gateway: each direction's median validation_ms.
                by_direction: dict[str, list[float]] = {}
                for line in logged_log.read_text().splitlines():
                    try:
                        event = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if event.get("event") == "exchange" and "validation_ms" in event:
                        by_direction.setdefault(event["direction"], []).append(
                            event["validation_ms"]
                        )
                in_situ = sum(statistics.median(values) for values in by_direction.values())
                print(
                    f"  goal 1: validation overhead at 1 client {overhead:.3f} ms = {overhead / (raw * 1000):.2f}x the raw cost (goal <= 1.3x; rounds {min(overheads) / (raw * 1000):.2f} to {max(overheads) / (raw * 1000):.2f})"
                )
                print(
                    f"          the same validation work measured inside the gateway (median validation_ms, both directions, 1 client): {in_situ:.3f} ms = {in_situ / (raw * 1000):.2f}x the raw cost"
                )
                print(
                    f"  goal 2: at 16 clients {sixteen.requests_per_second:.0f} validated exchanges/s (goal >= 1500), p99 {sixteen.p99_ms:.1f} ms (goal < 25),"
                    f" {sixteen.requests_per_second / results['nginx', 16].requests_per_second:.2f}x nginx's requests/s"
                )
                print(
                    f"  goal 3: 64 clients / 16 clients = {results['gateway-on', 64].requests_per_second / sixteen.requests_per_second:.2f} (goal >= 1; rounds {min(scaling_runs):.2f} to {max(scaling_runs):.2f})"
                )
            print(
                f"\nTGZ export: {export_xml / 1e6:.0f} MB of XML, {export.stat().st_size / 1e6:.0f} MB compressed"
            )
            started = time.perf_counter()
            received = 0
            with httpx.stream("GET", on_url + "/bench/export.tgz", timeout=600) as response:
                for chunk in response.iter_raw():
                    received += len(chunk)
            seconds = time.perf_counter() - started
            print(
                f"  streamed through the validating gateway in {seconds:.1f} s: {export_xml / 1e6 / seconds:.0f} MB/s of XML validated (goal >= 50)"
            )
            print(f"  gateway peak RSS (largest worker): {peak_rss_mb(on.pid):.0f} MB (goal < 150)")
        finally:
            for process in (on, off, logged):
                stop(process)
            if raw_engine is not None:
                raw_engine.close()
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(timeout=20)


if __name__ == "__main__":
    main()

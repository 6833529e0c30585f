"""`sne-gateway serve`: the conformance reverse proxy in front of an SNE platform.

With no upstream configured, `serve` starts the SNE école simulator as a managed child process
(`gateway.simulator.embedded`), proxies to it (in école mode, unless an environment is chosen)
and prints where everything is, with the README's quick-start curls; stopping the gateway stops
the simulator.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import resource
import signal
import socket
import sys
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from gateway.allocator import allocator_library, restart_with
from gateway.cli.arguments import fail, positive_int
from gateway.config import SHIPPED_CONFIG, ConfigError, Settings, load_settings
from gateway.routing.route import ENVIRONMENTS
from gateway.schema import CatalogError
from gateway.shadow.schemas import next_schemas

if TYPE_CHECKING:
    # Imported where `serve` runs: the reloader brings structlog and watchfiles, which every
    # other command (validate, diff) would otherwise load at start.
    from gateway.reload import SchemaHolder

CONFIG_VARIABLE = "SNE_GATEWAY_CONFIG"
FLAGS = ("env", "upstream", "host", "port", "workers", "xsd", "referential", "shadow_xsd")
#: Exit status after Ctrl-C, as shells report a SIGINT.
INTERRUPTED = 130
LISTEN_ADDRESS_ADVICE = (
    "Listen on an address of this machine with --host (or SNE_GATEWAY_HOST): 127.0.0.1 for "
    "this machine only, 0.0.0.0 for every interface."
)
#: Why the gateway cannot listen where it is told to, and what to do about it.
LISTEN_PROBLEMS = {
    errno.EADDRINUSE: "the address is already in use. Stop the process that holds that port "
    "(an earlier gateway?), or choose another one with --port (or SNE_GATEWAY_PORT).",
    errno.EADDRNOTAVAIL: "the address is not one of this machine's. " + LISTEN_ADDRESS_ADVICE,
    errno.EACCES: "permission denied: ports below 1024 need privileges. Choose a port from "
    "1024 up with --port (or SNE_GATEWAY_PORT).",
}


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the conformance reverse proxy",
        description="Forward every exchange to the configured SNE platform, validating XML "
        "requests and responses; violations are logged or blocked by environment. Flags "
        "override SNE_GATEWAY_* variables, which override the configuration file.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help=f"configuration file (default: ${CONFIG_VARIABLE}, else ./gateway.toml, else the shipped one)",
    )
    parser.add_argument("--env", choices=ENVIRONMENTS, help="environment: decides the policy")
    parser.add_argument(
        "--upstream",
        help="base URL of the SNE platform to forward to (none: the embedded SNE école simulator)",
    )
    parser.add_argument("--host", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: 8080)")
    parser.add_argument("--workers", type=positive_int, help="worker processes (default: 1)")
    parser.add_argument("--xsd", help="catalog directory, or one entry .xsd/.wsdl file")
    parser.add_argument(
        "--referential",
        metavar="FILE",
        help="COG country export for rule.pays (default: the COG 2025 list shipped)",
    )
    parser.add_argument(
        "--shadow-xsd",
        metavar="CATALOG",
        help="the next XSD set (a delivery as received, a version directory or an entry file): "
        "every document is also validated against it off the client's path, and what it "
        "judges otherwise is recorded",
    )
    parser.set_defaults(run=run)


def config_file(given: Path | None) -> Path | None:
    if given is not None:
        return given
    if configured := os.environ.get(CONFIG_VARIABLE):
        return Path(configured)
    local = Path("gateway.toml")
    if local.is_file():
        return local
    return SHIPPED_CONFIG if SHIPPED_CONFIG.is_file() else None


def _terminated(signum: int, frame: FrameType | None) -> None:
    # uvicorn drains the exchanges on SIGTERM, then re-raises it: end with the status a
    # SIGTERM gives, through the callers' cleanup (the embedded simulator is stopped there).
    raise SystemExit(128 + signum)


def _raise_open_files_limit() -> None:
    """Every client and upstream connection is a file descriptor: under a soft limit of 1024
    (systemd's default for services), 1,100 idle connections made the gateway refuse the next
    one. Raised to the hard limit (as Go's runtime does on Linux); the workers and the embedded
    simulator inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        # An unlimited hard limit is not a value the soft one may take: keep what there is.
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _serve(
    settings: Settings, config: Path | None, overrides: dict[str, Any], holder: SchemaHolder
) -> int:
    # The web stack is imported when the gateway serves, not each time any command starts.
    from gateway.proxy.server import serve

    # Compiled before the port is served, as the set in service is: a broken next set stops
    # `serve` at start, naming its file and line.
    shadow = next_schemas(settings)
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        serve(settings, config, overrides, holder, shadow)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _serve_with_simulator(config: Path | None, overrides: dict[str, Any]) -> int:
    """No upstream: start the SNE école simulator, proxy to it (in école mode unless an
    environment was chosen), stop it after."""
    from gateway.reload import SchemaHolder
    from gateway.simulator.embedded import EmbeddedSimulator, SimulatorStartError, simulated_version
    from gateway.simulator.quickstart import banner

    with EmbeddedSimulator() as simulator:
        overrides = {**overrides, "upstream": simulator.url}
        settings = load_settings(config, overrides)
        if "env" not in settings.chosen:
            overrides["env"] = "ecole"
            settings = replace(settings, env="ecole")
        holder = SchemaHolder(settings)
        interface = simulated_version(holder.current.schema_set.version)
        try:
            simulator.start(interface)
        except SimulatorStartError as error:
            return fail(str(error))
        print(
            banner(settings, holder.current, interface, simulator.pid), file=sys.stderr, flush=True
        )
        return _serve(settings, config, overrides, holder)


def run(arguments: argparse.Namespace) -> int:
    _raise_open_files_limit()
    config = config_file(arguments.config)
    overrides = {
        flag: getattr(arguments, flag) for flag in FLAGS if getattr(arguments, flag) is not None
    }
    # Imported here rather than at the top: prometheus-client, as the web stack in `_serve`, is
    # for `serve` only, not for every command's start.
    from gateway.reload import SchemaHolder
    from gateway.report.metrics import multiprocess_directory_problem

    if problem := multiprocess_directory_problem():
        return fail(problem)
    try:
        settings = load_settings(config, overrides)
        # The address is tried as uvicorn will bind it, so that a problem with it is said
        # before anything starts (the XSD set, the simulator, the workers).
        family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
        try:
            with socket.socket(family) as probe:
                # As uvicorn binds: a port left in TIME_WAIT by an earlier run is usable.
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind((settings.host, settings.port))
        except OSError as error:
            reason = LISTEN_PROBLEMS.get(
                error.errno or 0,
                f"{error.strerror or error}. Choose the address with --host (or "
                "SNE_GATEWAY_HOST) and the port with --port (or SNE_GATEWAY_PORT).",
            )
            if isinstance(error, socket.gaierror):
                reason = (
                    f"the host name {settings.host!r} does not resolve ({error.strerror}). "
                    + LISTEN_ADDRESS_ADVICE
                )
            return fail(f"cannot listen on {settings.host}:{settings.port}: {reason}")
        library = allocator_library(settings.allocator)
        # A configuration read from a pipe (`--config <(...)`) could not be read a second time.
        rereadable = config is None or config.is_file()
        if library is not None and arguments.restartable and rereadable:
            restart_with(library)
        if settings.upstream is None:
            return _serve_with_simulator(config, overrides)
        holder = SchemaHolder(settings)
        return _serve(settings, config, overrides, holder)
    except (ConfigError, CatalogError) as error:
        return fail(str(error))
    except KeyboardInterrupt:
        # uvicorn re-raises the SIGINT it drained on; a second Ctrl-C may land while the
        # simulator stops (it stops anyway: its standard input is closed first).
        return INTERRUPTED

"""`sne-gateway simulate`: the SNE école simulator, for demos, tests and CI (docs/simulator.md)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from gateway.catalog import SchemaNotFound
from gateway.cli.arguments import fail, positive_int
from gateway.schema import CatalogError
from gateway.simulator.faults import FaultSpec, FaultSpecError, parse_faults
from gateway.simulator.settings import (
    DEFAULT_EXPORT_DELAY,
    DEFAULT_EXPORT_SIZE,
    DEFAULT_PORT,
    SimulatorSettings,
)


def _faults(text: str) -> FaultSpec:
    try:
        return parse_faults(text)
    except FaultSpecError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds of at least 0, not {text}")
    return value


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "simulate",
        help="run the SNE école simulator (SOAP, exports, DRM, GDM) with fake data",
        description="Answer the SNE interfaces (DemandeLogement, GestionPartageeEVT, /v1.0/exports, "
        "/v1.0/drm/ressources, /v1.0/gdm/mouvements) with documents valid against the shipped "
        "XSD set, built from deterministic fake data; inject faults on demand.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--version",
        action="append",
        help="interface version of the shipped XSD set answers are valid against (default: "
        "the newest); repeat it to serve more versions, the first by default, another to the "
        "requests that name it in X-Simulator-Version",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the fake data and of the fault draws (default: 0)",
    )
    parser.add_argument(
        "--faults",
        type=_faults,
        default=FaultSpec(),
        metavar="SPEC",
        help="faults to inject, e.g. 'too-long=0.1,slow=0.05:2s,5xx=0.01' "
        "(kinds: empty-adresse, pj-metadata, too-long, unknown-element, malformed, slow, 5xx; "
        "see docs/simulator.md). Default: none, every answer is valid",
    )
    parser.add_argument(
        "--export-size",
        type=positive_int,
        default=DEFAULT_EXPORT_SIZE,
        metavar="N",
        help=f"applications per export archive (default: {DEFAULT_EXPORT_SIZE})",
    )
    parser.add_argument(
        "--export-delay",
        type=_seconds,
        default=DEFAULT_EXPORT_DELAY,
        metavar="SECONDS",
        help=f"time an export takes to become ready (default: {DEFAULT_EXPORT_DELAY:g})",
    )
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    # The web stack is imported when the simulator runs, not each time any command starts.
    import uvicorn

    from gateway.simulator.app import create_simulator
    from gateway.simulator.embedded import SOCKET_VARIABLE, serve_inherited

    versions = arguments.version or [None]
    settings = SimulatorSettings(
        version=versions[0],
        other_versions=tuple(versions[1:]),
        seed=arguments.seed,
        faults=arguments.faults,
        export_size=arguments.export_size,
        export_delay=arguments.export_delay,
    )
    try:
        app = create_simulator(settings)
    except (CatalogError, SchemaNotFound) as error:
        return fail(str(error))
    inherited = os.environ.pop(SOCKET_VARIABLE, None)
    if inherited is not None:
        serve_inherited(app, int(inherited))
        return 0
    print(
        f"SNE école simulator on http://{arguments.host}:{arguments.port} "
        f"(interface {', '.join(app.state.versions)}, seed {settings.seed}, faults: {settings.faults}, exports of "
        f"{settings.export_size} applications ready after {settings.export_delay:g}s)",
        file=sys.stderr,
    )
    uvicorn.run(
        app,
        host=arguments.host,
        port=arguments.port,
        loop="uvloop",
        log_level="info",
        server_header=False,
        date_header=False,
    )
    return 0

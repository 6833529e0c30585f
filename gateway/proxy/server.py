"""Serving the gateway with uvicorn.

uvicorn (with httptools and uvloop) was kept over granian after measuring both in front of the
same application (see `docs/benchmarks.md`), and because its protocol class can be extended:
`gateway.proxy.protocol` adds what the gateway needs of each HTTP connection.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import uvicorn

from gateway.config import Settings, load_settings
from gateway.proxy.app import create_app
from gateway.proxy.protocol import gateway_protocol
from gateway.proxy.reserved import Endpoints
from gateway.reload import SchemaHolder
from gateway.report.log import server_log_config
from gateway.report.metrics import MULTIPROCESS_VARIABLE

#: How `serve` tells its worker processes which configuration to load.
SERVE_SPEC_VARIABLE = "_SNE_GATEWAY_SERVE_SPEC"


def app_from_environment() -> Endpoints:
    """The application of a worker process, from the spec its parent left in the environment."""
    spec = json.loads(os.environ[SERVE_SPEC_VARIABLE])
    config = Path(spec["config"]) if spec["config"] else None
    return create_app(load_settings(config, spec["overrides"]))


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "http": gateway_protocol(settings),
        "loop": "uvloop",
        "lifespan": "on",
        "access_log": False,
        "log_level": settings.log_level,
        "log_config": server_log_config(settings.log_format, settings.log_level, settings.env),
        "server_header": False,
        "proxy_headers": False,
        "date_header": False,
    }


def serve(
    settings: Settings,
    config: Path | None,
    overrides: dict[str, Any],
    holder: SchemaHolder,
    shadow: SchemaHolder | None = None,
) -> None:
    """Run the gateway until interrupted. `holder` is the XSD set already compiled by the
    caller (to fail before binding the port), `shadow` the next one if any; with several
    workers, each compiles its own."""
    if settings.workers == 1:
        uvicorn.run(create_app(settings, holder, shadow=shadow), **_uvicorn_options(settings))
        return
    os.environ[SERVE_SPEC_VARIABLE] = json.dumps(
        {"config": str(config) if config else None, "overrides": overrides}
    )
    with contextlib.ExitStack() as cleanup:
        if not os.environ.get(MULTIPROCESS_VARIABLE):
            # The workers count into files there, read by whichever answers a scrape; they
            # are new processes, whose prometheus-client reads this when it is imported.
            os.environ[MULTIPROCESS_VARIABLE] = cleanup.enter_context(
                tempfile.TemporaryDirectory(prefix="sne-gateway-metrics-")
            )
            cleanup.callback(os.environ.pop, MULTIPROCESS_VARIABLE, None)
        uvicorn.run(
            "gateway.proxy.server:app_from_environment",
            factory=True,
            workers=settings.workers,
            **_uvicorn_options(settings),
        )

"""`sne-gateway serve`: the conformance reverse proxy in front of an SNE platform."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from gateway.cli.arguments import fail, positive_int
from gateway.config import ENVIRONMENTS, SHIPPED_CONFIG, ConfigError, load_settings
from gateway.proxy.server import serve
from gateway.reload import SchemaHolder
from gateway.schema import CatalogError

CONFIG_VARIABLE = "SNE_GATEWAY_CONFIG"
FLAGS = ("env", "upstream", "host", "port", "workers", "xsd")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the conformance reverse proxy",
        description="Forward every exchange to the configured SNE platform, validating XML "
        "requests and responses; violations are logged or blocked by environment. Flags "
        "override the configuration file, which overrides SNE_GATEWAY_* variables.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help=f"configuration file (default: ${CONFIG_VARIABLE}, else ./gateway.toml, else the shipped one)",
    )
    parser.add_argument("--env", choices=ENVIRONMENTS, help="environment: decides the policy")
    parser.add_argument("--upstream", help="base URL of the SNE platform to forward to")
    parser.add_argument("--host", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: 8080)")
    parser.add_argument("--workers", type=positive_int, help="worker processes (default: 1)")
    parser.add_argument("--xsd", help="catalog directory, or one entry .xsd/.wsdl file")
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


def run(arguments: argparse.Namespace) -> int:
    config = config_file(arguments.config)
    overrides = {
        flag: getattr(arguments, flag) for flag in FLAGS if getattr(arguments, flag) is not None
    }
    try:
        settings = load_settings(config, overrides)
        if settings.upstream is None:
            return fail(
                "no upstream configured: set [gateway] upstream in the configuration, "
                "SNE_GATEWAY_UPSTREAM, or --upstream URL"
            )
        holder = SchemaHolder(settings)
    except (ConfigError, CatalogError) as error:
        return fail(str(error))
    serve(settings, config, overrides, holder)
    return 0

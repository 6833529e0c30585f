"""`sne-gateway report`: a recette campaign's answer, from the violations store.

Exit status: 0 when the window holds no violation (or no exchange), 1 when it holds at least
one, 2 when the store cannot be read or an argument is wrong.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from gateway.cli.arguments import fail
from gateway.cli.serve import config_file
from gateway.config import ConfigError, load_settings
from gateway.report.campaign.html_report import html_report
from gateway.report.campaign.json_report import json_report
from gateway.report.campaign.junit import junit_report
from gateway.report.campaign.markdown import markdown_report
from gateway.routing.route import DIRECTIONS, ENVIRONMENTS
from gateway.schema import CatalogError
from gateway.store.backend import StoreCorrupt, StoreRejected, StoreUnavailable, open_backend
from gateway.store.forecast_queries import gdm_usage, next_set_forecast
from gateway.store.location import StoreLocation, StoreLocationError, parse_store
from gateway.store.queries import compare_with_previous, remember, summarize
from gateway.store.summary import Filters, Summary
from gateway.store.window import WindowError, moment_ms

FORMATS = ("md", "html", "json", "junit")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "report",
        help="report a recette campaign from the violations store",
        description="Exchanges and pass rate per route and direction, violations by code and "
        "path (first and last seen, latest request ids), the daily trend, what changed "
        "since the previous report, what the next XSD set (shadow_xsd) would break in the "
        "traffic and the GDM usage advisories, from the store serve writes. Exit status: 0 no "
        "violation in the window, 1 at least one, 2 store or usage error.",
    )
    parser.add_argument(
        "--store",
        help="sqlite:///PATH or postgresql://... (default: the store of the configuration "
        "serve reads: --config, $SNE_GATEWAY_CONFIG, ./gateway.toml, $SNE_GATEWAY_STORE, "
        "else sqlite:///sne-gateway-store.db)",
    )
    parser.add_argument("--config", type=Path, help="the configuration whose store to read")
    parser.add_argument(
        "--since",
        default="7d",
        help="start of the window: a duration before now (12h, 7d, 2w), a date (2026-11-02) "
        "or a local time (2026-11-02T14:30) (default: 7d)",
    )
    parser.add_argument("--until", default="now", help="end of the window (default: now)")
    parser.add_argument("--env", choices=ENVIRONMENTS, help="only this environment's exchanges")
    parser.add_argument(
        "--route", help="only this route's exchanges (its name in the configuration)"
    )
    parser.add_argument("--direction", choices=DIRECTIONS, help="only checks in this direction")
    parser.add_argument("--code", help="only exchanges with a violation of this code")
    parser.add_argument("--format", choices=FORMATS, default="md", help="default: md")
    parser.add_argument("--output", "-o", type=Path, help="write the report to this file")
    parser.set_defaults(run=run)


def _location(arguments: argparse.Namespace) -> StoreLocation | None:
    if arguments.store is not None:
        return parse_store(arguments.store)
    settings = load_settings(config_file(arguments.config))
    return parse_store(settings.store)


def run(arguments: argparse.Namespace) -> int:
    now_ms = int(time.time() * 1000)
    try:
        since = moment_ms(arguments.since, now_ms)
        until = moment_ms(arguments.until, now_ms)
    except WindowError as error:
        return fail(str(error))
    if since >= until:
        return fail(f"--since ({arguments.since}) must be before --until ({arguments.until})")
    try:
        location = _location(arguments)
    except (ConfigError, CatalogError, StoreLocationError) as error:
        return fail(str(error))
    if location is None:
        return fail(
            'the store is off (store = "off"): nothing was recorded. Set store in the '
            "configuration (or --store) to the store serve writes."
        )
    if location.kind == "sqlite" and not location.path.is_file():
        return fail(
            f"no store at {location.path}: serve writes it once it has recorded an exchange "
            "(store in the configuration); give --store sqlite:///PATH for another"
        )
    filters = Filters(
        since, until, arguments.env, arguments.route, arguments.direction, arguments.code
    )
    try:
        backend = open_backend(location, prepare=False)
    except (StoreUnavailable, StoreCorrupt, StoreRejected) as error:
        return fail(f"cannot read the store {location.shown()}: {error}")
    try:
        summary = summarize(backend, filters, now_ms)
        if not summary.empty:
            summary = replace(
                summary,
                changes=compare_with_previous(backend, summary),
                next_set=next_set_forecast(backend, filters),
                gdm=gdm_usage(backend, filters),
            )
            try:
                remember(backend, summary)
            except (StoreUnavailable, StoreRejected) as error:
                print(
                    f"sne-gateway: warning: this report could not be recorded for the next "
                    f"one to compare with ({error})",
                    file=sys.stderr,
                )
    except (StoreUnavailable, StoreCorrupt, StoreRejected) as error:
        return fail(f"cannot read the store {location.shown()}: {error}")
    finally:
        backend.close()
    try:
        _write(RENDERERS[arguments.format](summary, location.shown()), arguments.output)
    except OSError as error:
        return fail(f"cannot write {arguments.output}: {error.strerror or error}")
    return 1 if summary.totals.violations else 0


RENDERERS: dict[str, Callable[[Summary, str], str | bytes]] = {
    "md": markdown_report,
    "html": html_report,
    "json": json_report,
    "junit": junit_report,
}


def _write(report: str | bytes, output: Path | None) -> None:
    data = report.encode() if isinstance(report, str) else report
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    output.write_bytes(data)

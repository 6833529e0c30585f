"""`sne-gateway validate`: contract tests for CI.

Exit status: 0 when every document is valid, 1 when at least one violation was found (the
business rules' included), 2 on a usage or I/O error (missing file, unreadable archive, broken
XSD set, a referential that is not a COG export).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import sys
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from gateway.batch import Validation
from gateway.catalog import SchemaNotFound, load_catalog
from gateway.cli.arguments import default_referential, default_xsd, fail, positive_int
from gateway.inputs import (
    STDIN,
    InputError,
    check_inputs,
    is_archive,
    iter_sources,
    xml_files,
)
from gateway.limits import DEFAULT_LIMITS, Limits
from gateway.report.console import render_report, render_summary
from gateway.report.json_report import json_report
from gateway.report.junit import junit_report
from gateway.rules import RULES, ReferentialError, load_rules
from gateway.schema import CatalogError
from gateway.violation import UNREADABLE_CODES, DocumentReport

if TYPE_CHECKING:
    from rich.progress import Progress

FORMATS = ("text", "json", "junit")
#: From this many documents, or an export this large (compressed: about 10 MB of XML), the
#: work outweighs starting the worker processes and handing them the documents (measured in
#: docs/benchmarks.md), also on a machine whose cores are busy with other work.
AUTO_DOCUMENTS = 500
AUTO_ARCHIVE_BYTES = 1_000_000


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "validate",
        help="validate XML documents against the SNE XSD set (CI contract tests)",
        description="Validate XML documents, directories (*.xml, recursively), XML TGZ "
        "archives and stdin (-) against a schema of the catalog. Exit status: 0 all valid, "
        "1 at least one violation, 2 usage or I/O error.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="file, directory, .tgz or -")
    parser.add_argument(
        "--xsd",
        type=Path,
        help="catalog directory, or one entry .xsd/.wsdl file with its includes "
        "(default: $SNE_GATEWAY_XSD, else the XSD set shipped in xsd/)",
    )
    parser.add_argument("--version", help="interface-contract version (default: the newest)")
    parser.add_argument(
        "--schema",
        help="schema name, e.g. demande (default: selected from each document's root)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="default: text")
    parser.add_argument("--output", "-o", type=Path, help="write the report to this file")
    parser.add_argument(
        "--jobs",
        "-j",
        type=positive_int,
        default=None,
        help=f"validate in N parallel processes (default: one per core available when the "
        f"paths hold {AUTO_DOCUMENTS} documents or more, or an export of "
        f"{AUTO_ARCHIVE_BYTES // 1_000_000} MB or more; else 1)",
    )
    parser.add_argument(
        "--max-bytes",
        type=positive_int,
        default=DEFAULT_LIMITS.max_bytes,
        help=f"largest document accepted (default: {DEFAULT_LIMITS.max_bytes})",
    )
    parser.add_argument(
        "--show-values",
        action="store_true",
        help="quote element values in messages (off by default: documents hold personal data)",
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="text: list invalid documents only"
    )
    parser.add_argument(
        "--referential",
        type=Path,
        metavar="FILE",
        help="COG country export for rule.pays (default: $SNE_GATEWAY_REFERENTIAL, else the "
        "COG 2025 list shipped with the project)",
    )
    parser.add_argument(
        "--skip-rule",
        action="append",
        default=[],
        choices=sorted(RULES),
        metavar="RULE",
        help=f"do not run this business rule ({', '.join(sorted(RULES))}); repeatable",
    )
    parser.set_defaults(run=run)


def _progress(console: Console) -> Progress:
    # Imported only for a terminal: a fifth of rich's import time, which CI never needs.
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("validating: {task.completed} documents"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _cores() -> int:
    """The cores this process may run on (its CPU affinity where the system says)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _large(paths: list[str]) -> bool:
    """Whether `paths` hold `AUTO_DOCUMENTS` documents or more, or an export of
    `AUTO_ARCHIVE_BYTES` or more; directories are counted no further than that."""
    documents = 0
    for name in paths:
        path = Path(name)
        if name == STDIN:
            documents += 1
        elif path.is_dir():
            documents += sum(1 for _ in itertools.islice(xml_files(path), AUTO_DOCUMENTS))
        elif is_archive(path):
            with contextlib.suppress(OSError):
                if path.stat().st_size >= AUTO_ARCHIVE_BYTES:
                    return True
            documents += 1
        else:
            documents += 1
        if documents >= AUTO_DOCUMENTS:
            return True
    return False


def default_jobs(paths: list[str]) -> int:
    """One process per core for a large workload (see `_large`), else one."""
    cores = _cores()
    return cores if cores > 1 and _large(paths) else 1


def _shown_path(path: Path) -> str:
    """`path` relative to the working directory when it lies under it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def run(arguments: argparse.Namespace) -> int:
    xsd = arguments.xsd or default_xsd()
    try:
        rules = load_rules(arguments.referential or default_referential(), arguments.skip_rule)
        catalog = load_catalog(xsd)
        schema_set = replace(catalog.version(arguments.version), rules=rules)
        if arguments.schema:
            schema_set.schema(arguments.schema)
        check_inputs(arguments.paths)
    except (CatalogError, SchemaNotFound, InputError, ReferentialError) as error:
        return fail(str(error))
    for warning in catalog.warnings:
        print(f"sne-gateway: warning: {warning}", file=sys.stderr)
    limits = Limits(max_bytes=arguments.max_bytes)
    try:
        output = arguments.output.open("w", encoding="utf-8") if arguments.output else None
    except OSError as error:
        return fail(f"{arguments.output}: {error.strerror or error}")
    with ExitStack() as stack:
        if output is not None:
            stack.enter_context(output)
        out = output or sys.stdout
        console = Console(file=out, soft_wrap=True)
        errors = Console(stderr=True)
        streaming = arguments.format == "text"
        validation = stack.enter_context(
            Validation(
                schema_set,
                limits=limits,
                show_values=arguments.show_values,
                jobs=arguments.jobs or default_jobs(arguments.paths),
            )
        )
        # After the workers are forked: the progress display runs a thread.
        progress = _progress(errors) if errors.is_terminal else None
        if progress is not None:
            stack.enter_context(progress)
            task = progress.add_task("validate")
        reports: list[DocumentReport] = []
        broken: str | None = None
        try:
            for report in validation.reports(
                iter_sources(arguments.paths, limits, arguments.schema)
            ):
                reports.append(report)
                if streaming:
                    render_report(console, report, quiet=arguments.quiet)
                if progress is not None:
                    progress.advance(task)
        except InputError as error:
            broken = str(error)
        shown_xsd = _shown_path(catalog.source)
        if streaming:
            # Versions side by side all judge (each document by the one it declares).
            shown_versions = (
                list(catalog.versions)
                if catalog.side_by_side and arguments.version is None
                else [schema_set.version]
            )
            render_summary(console, reports, shown_xsd, ", ".join(shown_versions))
        elif arguments.format == "json":
            out.write(json_report(reports, shown_xsd, schema_set.version) + "\n")
        else:
            out.write(junit_report(reports, schema_set.version).decode("utf-8"))
    unreadable = [
        violation.message
        for report in reports
        for violation in report.violations
        if violation.code in UNREADABLE_CODES
    ]
    if broken is not None or unreadable:
        return fail(broken or "; ".join(unreadable))
    if not reports:
        return fail(
            f"no XML document found in {' '.join(arguments.paths)} (directories are searched "
            "for *.xml files, archives for .xml members)"
        )
    return 0 if all(report.valid for report in reports) else 1

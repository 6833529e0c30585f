"""`sne-gateway diff`: the XSD upgrade report between two SNE deliveries.

Exit status: 0 when nothing breaks the audience chosen by `--fail-on`, 1 when something does,
2 on a usage or load error (unknown version, unreadable schema or sample).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.catalog import SchemaNotFound
from gateway.cli.arguments import default_xsd, fail
from gateway.diff.judge import AUDIENCES, CONSUMERS, PRODUCERS
from gateway.inputs import InputError, check_inputs, iter_inputs
from gateway.limits import DEFAULT_LIMITS
from gateway.schema import CatalogError

FORMATS = ("md", "html", "json")
FAIL_ON = {
    "producers": (PRODUCERS,),
    "consumers": (CONSUMERS,),
    "any": AUDIENCES,
    "none": (),
}
_SIDE_HELP = (
    "a version of the catalog (13.33), a version or delivery directory, or an entry "
    ".xsd/.wsdl file as received from the SNE"
)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "diff",
        help="XSD upgrade report: what changed between two XSD sets, whom it breaks, which "
        "documents now fail",
        description="Compare two XSD sets by their compiled components and judge every change "
        "for producers (who send documents that must validate against NEW) and consumers (who "
        "validate with OLD documents produced under NEW); with --samples, validate your own "
        "documents against both. Exit status: 0 nothing breaking for --fail-on, 1 something "
        "breaking, 2 usage or load error.",
    )
    parser.add_argument("old", metavar="OLD", help=_SIDE_HELP)
    parser.add_argument("new", metavar="NEW", help=_SIDE_HELP)
    parser.add_argument(
        "--schema",
        metavar="NAME",
        help="compare only this schema, e.g. demande (default: every schema)",
    )
    parser.add_argument(
        "--samples",
        action="append",
        metavar="PATH",
        help="documents to validate against OLD and NEW: a file, a directory (*.xml, "
        "recursively), a .tgz archive or -; repeat for several",
    )
    parser.add_argument("--format", choices=FORMATS, default="md", help="default: md")
    parser.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write the report to this file"
    )
    parser.add_argument(
        "--fail-on",
        choices=tuple(FAIL_ON),
        default="any",
        help="exit with 1 when a change or a sample breaks this audience (default: any)",
    )
    parser.add_argument(
        "--xsd",
        type=Path,
        metavar="CATALOG",
        help="the catalog that version labels refer to (default: $SNE_GATEWAY_XSD, else the "
        "XSD set shipped in xsd/)",
    )
    parser.set_defaults(run=run)


def _command(arguments: argparse.Namespace) -> str:
    """The command line that reproduces the report's content (whatever its format)."""
    words = ["sne-gateway", "diff", arguments.old, arguments.new]
    if arguments.xsd:
        words += ["--xsd", str(arguments.xsd)]
    if arguments.schema:
        words += ["--schema", arguments.schema]
    for path in arguments.samples or ():
        words += ["--samples", path]
    return shlex.join(words)


def run(arguments: argparse.Namespace) -> int:
    # The report's modules load xmlschema's component model: imported when a diff runs, not
    # each time any command starts.
    from gateway.diff.html_report import render_html
    from gateway.diff.json_report import render_json
    from gateway.diff.markdown_report import render_markdown
    from gateway.diff.report import UpgradeReport, upgrade_report
    from gateway.diff.side import open_sides

    renderers: dict[str, Callable[[UpgradeReport], str]] = {
        "md": render_markdown,
        "html": render_html,
        "json": render_json,
    }
    try:
        old, new = open_sides(arguments.old, arguments.new, arguments.xsd or default_xsd())
        samples = None
        if arguments.samples:
            check_inputs(arguments.samples)
            samples = iter_inputs(arguments.samples, DEFAULT_LIMITS)
        report = upgrade_report(
            old, new, schema=arguments.schema, samples=samples, command=_command(arguments)
        )
    except (CatalogError, SchemaNotFound, InputError) as error:
        return fail(str(error))
    # Two versions of one catalog share its warnings: each is said once.
    for warning in dict.fromkeys([*old.warnings, *new.warnings]):
        print(f"sne-gateway: warning: {warning}", file=sys.stderr)
    text = renderers[arguments.format](report)
    broken = [audience for audience in FAIL_ON[arguments.fail_on] if report.breaks(audience)]
    if arguments.output:
        try:
            arguments.output.write_text(text, encoding="utf-8")
        except OSError as error:
            return fail(f"{arguments.output}: {error.strerror or error}")
        # The report is in the file: the terminal still says what it holds, and why the status.
        verdicts = ", ".join(f"{audience} {report.verdict(audience)}" for audience in AUDIENCES)
        status = (
            f"; exit status 1: breaking for {' and '.join(broken)} (--fail-on {arguments.fail_on})"
            if broken
            else ""
        )
        print(
            f"{arguments.output}: {len(report.changes)} change(s): {verdicts}{status}",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return 1 if broken else 0

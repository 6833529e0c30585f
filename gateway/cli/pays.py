"""`sne-gateway pays check|fix`: clean the country values of an editor's own data.

`check` reads a CSV column, or every `pays` element of XML documents, directories and TGZ
exports, and says of each distinct value whether it is valid, fixable (with the COG name to
write), France or an overseas part (the address is French), or unfixable; then the counts and
shares. `fix` writes a CSV with the fixable values corrected, and a report of the rows it could
not fix. Exit status: 0 when every value is valid (`check`) or was fixed (`fix`), 1 otherwise,
2 on a usage or input error.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from gateway.cleaning.csv_table import CsvProblem, CsvTable, open_table, write_table
from gateway.cleaning.report import reason, summary_lines, write_csv, write_text
from gateway.cleaning.tally import JudgedValue, Tally
from gateway.cleaning.xml_values import XmlReading, pays_values
from gateway.cli.arguments import default_referential, fail
from gateway.filenames import printable
from gateway.inputs import InputError, check_inputs
from gateway.limits import DEFAULT_LIMITS
from gateway.rules import CountryReferential, ReferentialError, load_referential

CSV_SUFFIX = ".csv"
#: Inputs from this size on get a progress bar (on a terminal).
LARGE_BYTES = 4 * 1024 * 1024
PROBLEM = 1


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--column",
        default="pays",
        help="CSV: the column of country names, by header name or number from 1 (default: pays)",
    )
    parser.add_argument(
        "--encoding",
        help="CSV: its encoding (default: detected: UTF-8, UTF-16 with a byte-order mark, "
        "else Windows-1252 or Latin-1)",
    )
    parser.add_argument(
        "--delimiter", help="CSV: its delimiter (default: the header's most frequent of , ; tab |)"
    )
    parser.add_argument(
        "--referential",
        type=Path,
        metavar="FILE",
        help="COG country export (default: $SNE_GATEWAY_REFERENTIAL, else the COG 2025 list "
        "shipped with the project)",
    )


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "pays",
        help="check and fix country values against INSEE's COG (data cleaning)",
        description="Check country values against INSEE's COG, as the SNE will: in a CSV "
        "column, or in every pays element of XML documents, directories and TGZ exports.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="judge every value: valid, fixable, france-or-overseas, unfixable",
        description="Judge every distinct value and print the counts and shares. Exit status: "
        "0 all valid, 1 some are not, 2 usage or input error.",
    )
    check.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="one .csv, or XML files, directories and .tgz exports",
    )
    _common(check)
    check.add_argument("--format", choices=("text", "csv"), default="text", help="default: text")
    check.add_argument("--output", "-o", type=Path, help="write the values' report to this file")
    check.add_argument(
        "--quiet", "-q", action="store_true", help="print the counts and shares only"
    )
    check.set_defaults(run=run_check)
    fix = actions.add_parser(
        "fix",
        help="write the CSV with its fixable values corrected, and report the others",
        description="Write a copy of the CSV whose fixable values are replaced by their COG "
        "name, every other field as read, and a CSV report of the rows left as they were. "
        "Exit status: 0 nothing left, 1 some rows left (see the report), 2 usage or input error.",
    )
    fix.add_argument("path", type=Path, metavar="CSV", help="the CSV export to correct")
    _common(fix)
    fix.add_argument("--output", "-o", type=Path, required=True, help="the corrected CSV")
    fix.add_argument(
        "--report",
        type=Path,
        help="the rows not fixed (default: the output's name with .unfixed.csv)",
    )
    fix.set_defaults(run=run_fix)


def _progress(total: int | None, what: str) -> Progress | nullcontext[None]:
    console = Console(stderr=True)
    if not console.is_terminal or (total is not None and total < LARGE_BYTES):
        return nullcontext()
    if total is None:
        columns: tuple[Any, ...] = (SpinnerColumn(), TextColumn(what + ": {task.completed:,}"))
    else:
        columns = (TextColumn(what), BarColumn(), DownloadColumn())
    return Progress(*columns, TimeElapsedColumn(), console=console, transient=True)


def _advance(progress: Progress | None, total: int | None) -> Callable[[int], None]:
    if not isinstance(progress, Progress):
        return lambda _: None
    task = progress.add_task("", total=total)
    return lambda done: progress.update(task, completed=done)


def _referential(arguments: argparse.Namespace) -> CountryReferential:
    return load_referential(arguments.referential or default_referential())


def _table(arguments: argparse.Namespace, path: Path) -> CsvTable:
    return open_table(path, arguments.column, arguments.encoding, arguments.delimiter)


def _read_csv(table: CsvTable) -> Tally:
    tally = Tally()
    size = table.path.stat().st_size
    with _progress(size, f"reading {printable(table.path)}") as progress:
        tally.add_all(table.values(_advance(progress, size)))
    if not tally.total:
        raise CsvProblem(
            f"{table.path}: the column {table.column_name!r} holds no value ({tally.empty:,} "
            "rows, all empty); is it the right column (--column)?"
        )
    return tally


def _read_xml(paths: list[str], reading: XmlReading) -> Tally:
    tally = Tally()
    with _progress(None, "documents read") as progress:
        tally.add_all(pays_values(paths, DEFAULT_LIMITS, reading, _advance(progress, None)))
    return tally


def _csv_source(table: CsvTable) -> str:
    return (
        f"{printable(table.path)}, column {table.column_name!r} ({table.encoding}, "
        f"separated by {table.delimiter!r})"
    )


def _outcome(judged: list[JudgedValue]) -> int:
    return PROBLEM if any(value.verdict.status != "valid" for value in judged) else 0


def run_check(arguments: argparse.Namespace) -> int:
    csvs = [path for path in arguments.paths if path.lower().endswith(CSV_SUFFIX)]
    if csvs and (len(csvs) > 1 or len(arguments.paths) > 1):
        return fail("give one CSV file, or XML files, directories and .tgz exports")
    reading = XmlReading()
    try:
        check_inputs(arguments.paths)
        referential = _referential(arguments)
        if csvs:
            table = _table(arguments, Path(csvs[0]))
            tally = _read_csv(table)
            source = _csv_source(table)
        else:
            tally = _read_xml(arguments.paths, reading)
            source = f"{reading.documents:,} documents"
    except (CsvProblem, InputError, ReferentialError) as error:
        return fail(str(error))
    if not tally.total and not csvs:
        unread = f", {len(reading.unreadable)} unreadable" if reading.unreadable else ""
        return fail(f"no pays value in the {reading.documents:,} documents read{unread}")
    judged = tally.judge(referential)
    with ExitStack() as stack:
        out: IO[str] = sys.stdout
        if arguments.output is not None:
            try:
                out = stack.enter_context(arguments.output.open("w", encoding="utf-8", newline=""))
            except OSError as error:
                return fail(f"{arguments.output}: {error.strerror or error}")
        summary_out = sys.stderr if arguments.format == "csv" and out is sys.stdout else sys.stdout
        if arguments.format == "csv":
            write_csv(out, judged)
        elif not arguments.quiet:
            write_text(out, judged)
            if out is sys.stdout:
                out.write("\n")
        for source_name, why in reading.unreadable:
            print(f"unreadable: {source_name}: {why}", file=summary_out)
        print("\n".join(summary_lines(judged, tally.empty, source)), file=summary_out)
    return _outcome(judged)


def _report_path(arguments: argparse.Namespace) -> Path:
    output: Path = arguments.output
    return arguments.report or output.with_name(output.stem + ".unfixed.csv")


def _corrections(judged: list[JudgedValue], encoding: str) -> tuple[dict[str, str], dict[str, str]]:
    """The replacement of each fixable value, and why the others stay as they are."""
    corrections, left = {}, {}
    for value in judged:
        verdict = value.verdict
        if verdict.status == "valid":
            continue
        if verdict.status == "fixable" and verdict.suggestion is not None:
            try:
                verdict.suggestion.encode(encoding)
            except UnicodeEncodeError:
                left[value.value] = f"{verdict.suggestion} cannot be written in {encoding}"
                continue
            corrections[value.value] = verdict.suggestion
        else:
            left[value.value] = reason(verdict)
    return corrections, left


def run_fix(arguments: argparse.Namespace) -> int:
    path: Path = arguments.path
    report_path = _report_path(arguments)
    if path.resolve() in (arguments.output.resolve(), report_path.resolve()):
        return fail(f"{path}: the output and the report must be other files than the input")
    try:
        referential = _referential(arguments)
        table = _table(arguments, path)
        tally = _read_csv(table)
    except (CsvProblem, ReferentialError) as error:
        return fail(str(error))
    except OSError as error:
        return fail(f"{path}: {error.strerror or error}")
    judged = tally.judge(referential)
    corrections, left = _corrections(judged, table.encoding)
    statuses = {value.value: value.verdict.status for value in judged}
    fixed = unfixed = 0
    try:
        with ExitStack() as stack:
            output = stack.enter_context(
                arguments.output.open("w", encoding=table.encoding, newline="")
            )
            # UTF-8 with a byte-order mark, which Excel reads: a suggestion the input's
            # encoding cannot hold is said there too.
            report = stack.enter_context(report_path.open("w", encoding="utf-8-sig", newline=""))
            rows = _ReportRows(report, table)

            def corrected(line: int, value: str) -> str | None:
                nonlocal fixed, unfixed
                if value in corrections:
                    fixed += 1
                    return corrections[value]
                if value in left:
                    unfixed += 1
                    rows.write(line, value, statuses[value], left[value])
                return None

            size = table.path.stat().st_size
            with _progress(size, f"writing {printable(arguments.output)}") as progress:
                write_table(table, output, corrected, _advance(progress, size))
    except CsvProblem as error:
        return fail(str(error))
    except OSError as error:
        return fail(f"{error.filename}: {error.strerror or error}")
    print("\n".join(summary_lines(judged, tally.empty, _csv_source(table))))
    print(
        f"{fixed:,} values corrected ({len(corrections):,} distinct) in "
        f"{printable(arguments.output)}; {unfixed:,} rows left as they were, listed in "
        f"{printable(report_path)}"
    )
    return PROBLEM if unfixed else 0


class _ReportRows:
    """The rows `fix` left as they were: line, value, status, reason."""

    def __init__(self, out: IO[str], table: CsvTable) -> None:
        self.writer = csv.writer(out, delimiter=table.delimiter, lineterminator=table.newline)
        self.writer.writerow(("line", table.column_name, "status", "reason"))

    def write(self, line: int, value: str, status: str, why: str) -> None:
        self.writer.writerow((line, value, status, why))

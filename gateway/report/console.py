"""Reports for people in a terminal: grouped per document, coloured when it is a TTY."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from gateway.report.summary import Summary
from gateway.violation import DocumentReport


def render_report(console: Console, report: DocumentReport, *, quiet: bool = False) -> None:
    """Print one document's verdict: one line when valid, each violation under it when not."""
    schema = report.schema or "no schema"
    note = f"     [dim]{escape(report.note)}[/]" if report.note else None
    if report.valid:
        if not quiet:
            console.print(f"[green]PASS[/] {escape(report.source)}  [dim]{escape(schema)}[/]")
            if note:
                console.print(note, highlight=False)
        return
    console.print(f"[bold red]FAIL[/] {escape(report.source)}  [dim]{escape(schema)}[/]")
    if note:
        console.print(note, highlight=False)
    if len(report.candidates) > 1:
        console.print(f"     [dim]closest of: {escape(', '.join(report.candidates))}[/]")
    for violation in report.violations:
        where = violation.position or "-"
        path = f"  [cyan]{escape(violation.path)}[/]" if violation.path else ""
        console.print(f"  [yellow]{escape(violation.code)}[/]  {where}{path}")
        console.print(f"      {escape(violation.message)}", highlight=False)
    if report.omitted:
        console.print(f"  [dim]… and {report.omitted} more violation(s) not listed[/]")


def render_summary(
    console: Console, reports: Sequence[DocumentReport], xsd: str, version: str
) -> None:
    """The closing line; `version` may list several, comma-separated (versions side by side)."""
    summary = Summary.of(reports)
    colour = "green" if summary.invalid == 0 else "red"
    console.print(
        f"\n[bold {colour}]{escape(summary.sentence())}[/] "
        f"[dim](XSD set {escape(xsd)}, version{'s' if ', ' in version else ''} "
        f"{escape(version)})[/]"
    )

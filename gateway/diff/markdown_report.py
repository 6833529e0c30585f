"""The upgrade report as Markdown, for merge requests and tickets.

A verdict line, the summary table (per audience: breaking, review, compatible), the changes
grouped by schema and global element, then the sample documents whose verdict changes.
Nothing in it depends on the machine it was produced on, so it can be committed.
"""

from __future__ import annotations

import re

from gateway.diff.change import Outline
from gateway.diff.evidence import SampleResult
from gateway.diff.judge import AUDIENCES, BREAKING, LEVELS, AssessedChange, Verdict
from gateway.diff.report import UpgradeReport
from gateway.diff.side import Side
from gateway.report.summary import plural

_SPECIAL = re.compile(r"([\\`*_<>])")


def _text(text: str) -> str:
    """Plain text, with the characters Markdown would interpret escaped."""
    return _SPECIAL.sub(r"\\\1", text)


def _cell(text: str) -> str:
    """Plain text for a table cell, where `|` would end the cell."""
    return _text(text).replace("|", "\\|")


def _code(text: str | None) -> str:
    """A code span (pipes escaped, so it may sit in a table cell)."""
    if text is None:
        return "—"
    fence = "``" if "`" in text else "`"
    return f"{fence}{text.replace('|', chr(92) + '|')}{fence}"


def _level(level: str) -> str:
    return f"**{level}**" if level == BREAKING else level


def _side(name: str, side: Side) -> str:
    return f"{name}: {_code(side.argument)} ({side.description})"


def _summary(report: UpgradeReport) -> list[str]:
    lines = [
        "| audience | verdict | breaking | review | compatible |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for audience in AUDIENCES:
        counts = report.counts(audience)
        cells = " | ".join(str(counts[level]) for level in LEVELS)
        lines.append(
            f"| **{audience}**: {_cell(report.role(audience))} "
            f"| {_level(report.verdict(audience))} | {cells} |"
        )
    return lines


def _outline(outline: Outline, depth: int) -> list[str]:
    name, _, rest = str(outline).partition(" ")
    lines = ["  " * depth + f"- {_code(name)} {_text(rest)}"]
    for child in outline.children:
        lines += _outline(child, depth + 1)
    return lines


def _why(change: AssessedChange) -> list[str]:
    where = f" ({_code(str(change.change.source))})" if change.change.source else ""
    parts = []
    for audience in AUDIENCES:
        verdict: Verdict = change.verdict(audience)
        parts.append(f"{audience} {_level(verdict.level)}: {_text(verdict.why)}")
    lines = [f"- **{change.id}**{where}. " + " ".join(parts)]
    paths = change.change.paths
    if len(paths) > 1:
        lines.append(f"  - Used at {len(paths)} paths:")
        lines += [f"    - {_code(path)}" for path in paths]
    if change.change.outline is not None:
        lines.append("  - Structure:")
        lines += _outline(change.change.outline, 2)
    return lines


def _path(change: AssessedChange) -> str:
    """The change's path, and how many other paths share its cause."""
    others = len(change.change.paths) - 1
    more = f" and {others} other path{'s' if others > 1 else ''}" if others else ""
    return f"{_code(change.change.path)}{more}"


def _changes(report: UpgradeReport) -> list[str]:
    lines = ["## Changes", ""]
    if not report.changes:
        return [*lines, "None: the compiled schema sets are equivalent.", ""]
    for (schema, root), changes in report.groups().items():
        lines += [
            f"### {_text(schema)}: {_code(root)}",
            "",
            "| id | path | kind | old | new | producers | consumers |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for change in changes:
            lines.append(
                f"| {change.id} | {_path(change)} | {change.change.kind} "
                f"| {_code(change.change.old)} | {_code(change.change.new)} "
                f"| {_level(change.producers.level)} | {_level(change.consumers.level)} |"
            )
        lines.append("")
        for change in changes:
            lines += _why(change)
        lines.append("")
    return lines


def _validity(valid: bool) -> str:
    return "valid" if valid else "**invalid**"


def _sample(sample: SampleResult, report: UpgradeReport) -> list[str]:
    rejecting = report.new.label if sample.old_valid else report.old.label
    lines = [f"#### {_code(sample.source)}: invalid under {rejecting}", ""]
    for violation in sample.violations:
        where = f", {violation.position}" if violation.position else ""
        at = f" at {_code(violation.path)}" if violation.path else ""
        lines.append(f"- {_code(violation.code)}{where}{at}: {_text(violation.message)}")
    explained = ", ".join(sample.explained_by) or "no reported change (check the paths above)"
    return [*lines, f"- Explained by: {explained}.", ""]


def _samples(report: UpgradeReport) -> list[str]:
    lines = ["## Sample documents whose verdict changes", ""]
    if report.evidence is None:
        return [
            *lines,
            "No samples given: pass your own documents with `--samples` to see which ones "
            "change verdict.",
            "",
        ]
    if not report.samples:
        documents = plural(report.evidence.documents, "sample document")
        return [*lines, f"None of the {documents} changes verdict.", ""]
    old, new = report.old.label, report.new.label
    lines += [
        f"| document | schema | {_cell(old)} | {_cell(new)} | breaks | explained by |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for sample in report.samples:
        lines.append(
            f"| {_code(sample.source)} | {_cell(sample.schema or '')} "
            f"| {_validity(sample.old_valid)} | {_validity(sample.new_valid)} "
            f"| {sample.regression} | {', '.join(sample.explained_by) or '—'} |"
        )
    lines.append("")
    for sample in report.samples:
        lines += _sample(sample, report)
    return lines


def render_markdown(report: UpgradeReport) -> str:
    title, sentence = report.headline()
    old, new = report.old, report.new
    lines = [
        f"# XSD upgrade report: {_text(old.title)} → {_text(new.title)}",
        "",
        f"**{title}.** {_text(sentence)}",
        "",
        *_summary(report),
        "",
        f"- {_side('OLD', old)}",
        f"- {_side('NEW', new)}",
    ]
    if report.command:
        lines.append(f"- Produced by {_code(report.command)}")
    if report.evidence is not None:
        evidence = report.evidence
        lines.append(
            f"- Samples: {plural(evidence.documents, 'document')}, "
            f"{len(report.samples)} changing verdict, {evidence.skipped} skipped "
            "(unreadable, or invalid under both versions)"
        )
    lines.append("")
    lines += _changes(report)
    lines += _samples(report)
    return "\n".join(lines).rstrip("\n") + "\n"

"""The upgrade report as one self-contained HTML file: the Markdown report's content, with
colour, per-audience filters and collapsible groups. Styles and script are inline; the file
refers to nothing outside itself, so it can be attached to a ticket or opened offline.
"""

from __future__ import annotations

from html import escape

from gateway.diff.change import Change, Outline
from gateway.diff.evidence import SampleResult
from gateway.diff.judge import AUDIENCES, LEVELS, AssessedChange, worst
from gateway.diff.report import UpgradeReport

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 78rem;
       padding: 0 1rem; color: #1d232a; }
h1 { font-size: 1.5rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
code { font: 13px ui-monospace, monospace; background: #f3f5f7; padding: 0 .25em;
       border-radius: 3px; word-break: break-all; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; } td.number { text-align: right; }
.banner { padding: .8rem 1rem; border-radius: 6px; border-left: 6px solid; }
.banner.breaking { background: #ffebe9; border-color: #cf222e; }
.banner.review { background: #fff8c5; border-color: #bf8700; }
.banner.compatible { background: #dafbe1; border-color: #1a7f37; }
.level { font-weight: 600; padding: 0 .4em; border-radius: 3px; white-space: nowrap; }
.level.breaking { background: #cf222e; color: #fff; }
.level.review { background: #bf8700; color: #fff; }
.level.compatible { background: #dafbe1; color: #1a7f37; }
tr.why td { color: #57606a; font-size: 13px; border-top: none; }
details { margin: .5rem 0; } summary { cursor: pointer; font-weight: 600; }
.filters label { margin-right: 1rem; }
.hidden { display: none; }
"""

_SCRIPT = """
document.querySelectorAll('input[name=filter]').forEach(function (input) {
  input.addEventListener('change', function () {
    var wanted = input.value;
    document.querySelectorAll('tr.change').forEach(function (row) {
      var p = row.dataset.producers, c = row.dataset.consumers;
      var shown = wanted === 'all'
        || (wanted === 'producers' && p === 'breaking')
        || (wanted === 'consumers' && c === 'breaking')
        || (wanted === 'review' && (p === 'review' || c === 'review'));
      row.classList.toggle('hidden', !shown);
      row.nextElementSibling.classList.toggle('hidden', !shown);
    });
    document.querySelectorAll('details.group').forEach(function (group) {
      var visible = group.querySelectorAll('tr.change:not(.hidden)').length;
      group.classList.toggle('hidden', visible === 0);
    });
  });
});
"""


def _code(text: str | None) -> str:
    return "—" if text is None else f"<code>{escape(text)}</code>"


def _level(level: str) -> str:
    return f'<span class="level {level}">{level}</span>'


def _summary(report: UpgradeReport) -> str:
    rows = []
    for audience in AUDIENCES:
        counts = report.counts(audience)
        cells = "".join(f'<td class="number">{counts[level]}</td>' for level in LEVELS)
        rows.append(
            f"<tr><th>{audience}: {escape(report.role(audience))}</th>"
            f"<td>{_level(report.verdict(audience))}</td>{cells}</tr>"
        )
    head = "".join(f"<th>{level}</th>" for level in LEVELS)
    return f"<table><tr><th>audience</th><th>verdict</th>{head}</tr>{''.join(rows)}</table>"


def _outline(outline: Outline) -> str:
    name, _, rest = str(outline).partition(" ")
    children = "".join(_outline(child) for child in outline.children)
    inner = f"<ul>{children}</ul>" if children else ""
    return f"<li>{_code(name)} {escape(rest)}{inner}</li>"


def _details(data: Change) -> str:
    """The paths a change's cause shows at, and the structure of an element added or
    removed."""
    parts = []
    if len(data.paths) > 1:
        paths = "".join(f"<li>{_code(path)}</li>" for path in data.paths)
        parts.append(
            f"<details><summary>Used at {len(data.paths)} paths</summary><ul>{paths}</ul></details>"
        )
    if data.outline is not None:
        parts.append(
            f"<details open><summary>Structure</summary><ul>{_outline(data.outline)}</ul></details>"
        )
    return "".join(parts)


def _change_rows(change: AssessedChange) -> str:
    data = change.change
    source = f" · {_code(str(data.source))}" if data.source else ""
    why = " ".join(
        f"<b>{audience}</b>: {escape(change.verdict(audience).why)}" for audience in AUDIENCES
    )
    others = len(data.paths) - 1
    more = f" and {others} other path{'s' if others > 1 else ''}" if others else ""
    return (
        f'<tr class="change" id="{change.id}" data-producers="{change.producers.level}" '
        f'data-consumers="{change.consumers.level}"><td>{change.id}</td>'
        f"<td>{_code(data.path)}{more}</td><td>{data.kind}</td><td>{_code(data.old)}</td>"
        f"<td>{_code(data.new)}</td><td>{_level(change.producers.level)}</td>"
        f"<td>{_level(change.consumers.level)}</td></tr>"
        f'<tr class="why"><td></td><td colspan="6">{why}{source}{_details(data)}</td></tr>'
    )


def _changes(report: UpgradeReport) -> str:
    if not report.changes:
        return "<p>None: the compiled schema sets are equivalent.</p>"
    filters = "".join(
        f'<label><input type="radio" name="filter" value="{value}"{checked}> {label}</label>'
        for value, label, checked in (
            ("all", "all changes", " checked"),
            ("producers", "breaking for producers", ""),
            ("consumers", "breaking for consumers", ""),
            ("review", "to review", ""),
        )
    )
    groups = []
    head = (
        "<tr><th>id</th><th>path</th><th>kind</th><th>old</th><th>new</th>"
        "<th>producers</th><th>consumers</th></tr>"
    )
    for (schema, root), changes in report.groups().items():
        rows = "".join(_change_rows(change) for change in changes)
        groups.append(
            f'<details class="group" open><summary>{escape(schema)}: {_code(root)} '
            f"({len(changes)})</summary><table>{head}{rows}</table></details>"
        )
    return f'<p class="filters">Show: {filters}</p>' + "".join(groups)


def _sample(sample: SampleResult, report: UpgradeReport) -> str:
    rejecting = report.new.label if sample.old_valid else report.old.label
    items = "".join(
        f"<li>{_code(v.code)} {escape(v.position)} {_code(v.path) if v.path else ''}: "
        f"{escape(v.message)}</li>"
        for v in sample.violations
    )
    links = ", ".join(f'<a href="#{i}">{i}</a>' for i in sample.explained_by) or "no change"
    return (
        f"<details open><summary>{_code(sample.source)}: invalid under {escape(rejecting)}, "
        f"breaks {sample.regression}</summary><ul>{items}</ul>"
        f"<p>Explained by: {links}</p></details>"
    )


def _samples(report: UpgradeReport) -> str:
    if report.evidence is None:
        return "<p>No samples given: pass your own documents with <code>--samples</code>.</p>"
    if not report.samples:
        return f"<p>None of the {report.evidence.documents} sample documents changes verdict.</p>"
    return "".join(_sample(sample, report) for sample in report.samples)


def render_html(report: UpgradeReport) -> str:
    title, sentence = report.headline()
    old, new = report.old, report.new
    level = worst([report.verdict(audience) for audience in AUDIENCES])
    heading = f"XSD upgrade report: {old.title} → {new.title}"
    sides = "".join(
        f"<li>{name}: {_code(side.argument)} ({escape(side.description)})</li>"
        for name, side in (("OLD", old), ("NEW", new))
    )
    if report.command:
        sides += f"<li>Produced by {_code(report.command)}</li>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(heading)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(heading)}</h1>"
        f'<p class="banner {level}"><b>{escape(title)}.</b> {escape(sentence)}</p>'
        f"{_summary(report)}<ul>{sides}</ul>"
        f"<h2>Changes</h2>{_changes(report)}"
        f"<h2>Sample documents whose verdict changes</h2>{_samples(report)}"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )

"""The three renderings of an upgrade report: JSON for CI, Markdown for merge requests and
tickets, one self-contained HTML file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import html

from gateway.diff.html_report import render_html
from gateway.diff.json_report import render_json
from gateway.diff.markdown_report import render_markdown
from gateway.diff.report import UpgradeReport, upgrade_report
from gateway.diff.side import open_sides
from gateway.inputs import iter_inputs
from gateway.limits import DEFAULT_LIMITS

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "xsd-diff"
SAMPLES = CASES / "pattern-undecided" / "samples"


@pytest.fixture(scope="module")
def shipped() -> UpgradeReport:
    root = CASES.parent.parent
    old, new = open_sides("13.33", "13.34", root / "xsd")
    samples = iter_inputs([str(root / "fixtures" / "valid")], DEFAULT_LIMITS)
    return upgrade_report(old, new, samples=samples)


@pytest.fixture(scope="module")
def with_review() -> UpgradeReport:
    case = CASES / "pattern-undecided"
    old, new = open_sides(str(case / "old.xsd"), str(case / "new.xsd"), case)
    return upgrade_report(
        old, new, samples=iter_inputs([str(SAMPLES / "corse.xml")], DEFAULT_LIMITS)
    )


def test_json_has_the_documented_shape(shipped: UpgradeReport) -> None:
    report = json.loads(render_json(shipped))
    assert set(report) == {"old", "new", "changes", "samples", "summary"}
    assert report["old"]["version"] == "13.33" and report["new"]["version"] == "13.34"
    for change in report["changes"]:
        assert {
            "id",
            "path",
            "kind",
            "old",
            "new",
            "producers",
            "consumers",
            "why",
            "source",
        } <= set(change)
        assert set(change["why"]) == {"producers", "consumers"}
        assert set(change["source"]) == {"file", "line"}
    ids = {change["id"] for change in report["changes"]}
    for sample in report["samples"]:
        assert {"source", "old_valid", "new_valid", "violations", "explained_by"} <= set(sample)
        assert set(sample["explained_by"]) <= ids
    assert report["summary"]["consumers"]["verdict"] == "breaking"
    assert report["summary"]["producers"] == {
        "verdict": "compatible",
        "breaking": 0,
        "review": 0,
        "compatible": len(report["changes"]),
    }


def test_json_carries_the_evidence_of_a_settled_review(with_review: UpgradeReport) -> None:
    (change,) = json.loads(render_json(with_review))["changes"]
    assert change["producers"] == "breaking"
    assert change["evidence"] == {"producers": "confirmed", "consumers": "unexercised"}


def test_markdown_has_a_verdict_a_summary_table_and_a_table_per_global_element(
    shipped: UpgradeReport,
) -> None:
    text = render_markdown(shipped)
    lines = text.splitlines()
    assert lines[0] == "# XSD upgrade report: 13.33 → 13.34"
    assert lines[2].startswith("**Breaking for consumers.**")
    summary = lines.index("| audience | verdict | breaking | review | compatible |")
    assert lines[summary + 1] == "| --- | --- | ---: | ---: | ---: |"
    assert (
        lines[summary + 2].startswith("| **producers**:")
        and "| compatible | 0 | 0 |" in lines[summary + 2]
    )
    assert (
        lines[summary + 3].startswith("| **consumers**:")
        and "| **breaking** |" in lines[summary + 3]
    )
    headings = [line for line in lines if line.startswith("### ")]
    assert headings == ["### demande: `interfaceNuu`", "### gdm-mouvements: `interfaceNuu`"]
    rows = [line for line in lines if re.match(r"\| C\d+ \|", line)]
    assert len(rows) == len(shipped.changes)
    assert all(row.count(" | ") == 6 for row in rows)
    assert "## Sample documents whose verdict changes" in lines


def test_markdown_escapes_what_it_would_otherwise_interpret(shipped: UpgradeReport) -> None:
    text = render_markdown(shipped)
    outside_code = re.sub(r"`[^`]*`", "", text)
    assert "<adressePostale>" not in outside_code
    assert "\\<adressePostale\\>" in outside_code


def test_html_is_self_contained(shipped: UpgradeReport) -> None:
    page = render_html(shipped)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert not re.search(r"<script[^>]+src", page)
    document = html.fromstring(page)
    assert document.find(".//style") is not None and document.find(".//script") is not None
    assert len(document.findall(".//details")) >= 2
    filters = [i.get("value") for i in document.iterfind(".//input[@name='filter']")]
    assert filters == ["all", "producers", "consumers", "review"]
    rows = document.findall(".//tr[@class='change']")
    assert len(rows) == len(shipped.changes)
    assert {row.get("data-consumers") for row in rows} == {"breaking"}


def test_every_format_says_when_nothing_changed() -> None:
    case = CASES / "equivalent-layout"
    old, new = open_sides(
        str(case / "old" / "NUU_Demande.xsd"), str(case / "new" / "NUU_Demande.xsd"), case
    )
    report = upgrade_report(old, new)
    assert json.loads(render_json(report))["changes"] == []
    assert "**No change.**" in render_markdown(report)
    assert "No change." in render_html(report)


def _fixture_report(name: str) -> UpgradeReport:
    case = CASES / name
    old, new = open_sides(str(case / "old.xsd"), str(case / "new.xsd"), case)
    return upgrade_report(old, new)


def test_a_shared_type_is_one_change_listing_its_uses_in_every_format() -> None:
    report = _fixture_report("pattern-narrowed")
    (change,) = json.loads(render_json(report))["changes"]
    assert change["schema"] == {"old": "old", "new": "new"}
    assert change["path"] == "interfaceNuu/demande/codeGuichet"
    assert len(change["uses"]) == 4 and change["uses"][0] == change["path"]
    assert change["examples"] == {"dropped": "A", "gained": None}
    assert change["why"]["producers"].startswith("The type codeType accepts fewer values")
    lines = render_markdown(report).splitlines()
    (row,) = [line for line in lines if line.startswith("| C1 |")]
    assert "`interfaceNuu/demande/codeGuichet` and 3 other paths" in row
    listed = lines.index("  - Used at 4 paths:")
    assert lines[listed + 4] == "    - `interfaceNuu/demande/listeCode/code`"
    page = html.fromstring(render_html(report))
    assert len(page.findall(".//tr[@class='why']//details//li")) == 4


def test_an_added_element_is_shown_with_its_children() -> None:
    report = _fixture_report("element-added-complex")
    (change,) = [c for c in report.changes if c.change.path.endswith("informationTraitement")]
    outline = change.change.outline
    assert outline is not None
    assert [(c.name, c.occurs, c.type) for c in outline.children] == [
        ("accordTransmission", "1..1", "xs:boolean"),
        ("accordCnil", "1..1", "xs:boolean"),
        ("dateTraitement", "0..1", "xs:date"),
    ]
    assert [a.name for a in outline.attributes] == ["source"]
    dumped = json.loads(render_json(report))["changes"][2]["outline"]
    assert dumped["children"][0] == {
        "name": "accordTransmission",
        "occurs": "1..1",
        "type": "xs:boolean",
    }
    text = render_markdown(report)
    assert "      - `accordCnil` 1..1, xs:boolean\n" in text
    assert "`informationTraitement` 0..1, informationTraitementType; attributes: source" in text
    # A simple element's declaration says it all: no outline.
    assert report.changes[0].change.outline is None


def test_files_given_as_files_title_the_report_as_given() -> None:
    report = _fixture_report("element-added-optional")
    old = str(CASES / "element-added-optional" / "old.xsd")
    new = str(CASES / "element-added-optional" / "new.xsd")
    assert render_markdown(report).splitlines()[0] == f"# XSD upgrade report: {old} → {new}"
    assert f"<h1>XSD upgrade report: {old} → {new}</h1>" in render_html(report)
    dumped = json.loads(render_json(report))
    assert (dumped["old"]["argument"], dumped["new"]["argument"]) == (old, new)

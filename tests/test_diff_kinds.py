"""The pairs of fixtures/xsd-diff/: one per change kind, and the layouts OLD and NEW arrive in
(split files, WSDL, deliveries without manifest, recursive types). Each `expected.toml` lists
the changes the pair must report, with kind, path and both audiences' verdicts: nothing more,
nothing less (an empty list for sets that accept the same documents)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gateway.diff.change import KINDS
from gateway.diff.judge import RULES
from gateway.diff.report import UpgradeReport, upgrade_report
from gateway.diff.side import open_sides

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "xsd-diff"
ALL_CASES = sorted(path.parent for path in CASES.glob("*/expected.toml"))


def settings(case: Path) -> dict:
    with (case / "expected.toml").open("rb") as file:
        return tomllib.load(file)


def diff(case: Path) -> UpgradeReport:
    pair = settings(case)
    old = case / pair.get("old", "old.xsd")
    new = case / pair.get("new", "new.xsd")
    return upgrade_report(*open_sides(str(old), str(new), CASES))


def expected(case: Path) -> list[tuple[str, str, str, str]]:
    changes = settings(case)["changes"]
    return sorted((c["kind"], c["path"], c["producers"], c["consumers"]) for c in changes)


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda case: case.name)
def test_each_pair_reports_exactly_its_changes_with_both_verdicts(case: Path) -> None:
    report = diff(case)
    found = sorted(
        (c.change.kind, c.change.path, c.producers.level, c.consumers.level) for c in report.changes
    )
    assert found == expected(case)


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda case: case.name)
def test_decided_changes_give_their_examples_and_shared_causes_their_uses(case: Path) -> None:
    """`dropped` (a value OLD accepts and NEW refuses) and `gained` (the reverse), where the
    fixture gives them; `uses`, the paths one change stands for."""
    found = {(c.change.kind, c.change.path): c.change for c in diff(case).changes}
    for wanted in settings(case)["changes"]:
        change = found[(wanted["kind"], wanted["path"])]
        decision = change.decision
        for name in ("dropped", "gained"):
            if name in wanted:
                assert decision is not None and getattr(decision, name) == wanted[name]
        assert list(change.paths) == wanted.get("uses", [wanted["path"]])


def test_every_kind_has_a_fixture_pair() -> None:
    covered = {kind for case in ALL_CASES for kind, *_ in expected(case)}
    assert covered == set(KINDS)


def test_every_rule_is_for_a_known_kind_and_every_kind_has_a_rule() -> None:
    assert {kind for kind, _ in RULES} == set(KINDS)


def test_changes_point_at_the_new_declaration_or_the_old_one_for_a_removal() -> None:
    added = diff(CASES / "element-added-optional").changes[0].change
    assert added.source is not None
    assert added.source.file == "new.xsd"
    line = (
        (CASES / "element-added-optional" / "new.xsd")
        .read_text()
        .splitlines()[added.source.line - 1]
    )
    assert 'name="refInterne"' in line
    removed = diff(CASES / "element-removed-optional").changes[0].change
    assert removed.source is not None and removed.source.file == "old.xsd"
    facet = diff(CASES / "facet-tightened").changes[0].change
    assert facet.source is not None
    line = (CASES / "facet-tightened" / "new.xsd").read_text().splitlines()[facet.source.line - 1]
    assert "maxLength" in line


def test_verdicts_explain_themselves_with_the_version_labels() -> None:
    change = diff(CASES / "element-added-optional").changes[0]
    assert change.consumers.why == (
        "Documents produced under NEW may carry <refInterne>, which OLD rejects."
    )
    assert change.producers.why.startswith("Documents valid under OLD")


def test_wsdl_changes_point_into_the_inline_schema_and_the_included_xsd() -> None:
    sources = {c.change.path: c.change.source for c in diff(CASES / "wsdl").changes}
    fault = sources["serviceFault/code"]
    included = sources["getNumUnique/numUniqueParametres/complet"]
    assert fault is not None and fault.file == "DemandeLogement.wsdl"
    assert included is not None and included.file == "DemandeLogementService.xsd"
    for source in (fault, included):
        line = (CASES / "wsdl" / "new" / source.file).read_text().splitlines()[source.line - 1]
        assert source.line and "<xs:element" in line

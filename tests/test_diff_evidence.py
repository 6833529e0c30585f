"""Evidence from documents: samples validated against OLD and NEW, the ones whose verdict
differs linked to the changes that explain them, and `review` verdicts settled by them."""

from __future__ import annotations

import tarfile
from pathlib import Path

from gateway.diff.evidence import change_path
from gateway.diff.judge import BREAKING, COMPATIBLE, REVIEW
from gateway.diff.report import UpgradeReport, upgrade_report
from gateway.diff.side import open_sides
from gateway.inputs import iter_inputs
from gateway.limits import DEFAULT_LIMITS

CASE = Path(__file__).resolve().parent.parent / "fixtures" / "xsd-diff" / "pattern-undecided"
SAMPLES = CASE / "samples"


def diff(*samples: Path | str) -> UpgradeReport:
    old, new = open_sides(str(CASE / "old.xsd"), str(CASE / "new.xsd"), CASE)
    documents = iter_inputs([str(s) for s in samples], DEFAULT_LIMITS) if samples else None
    return upgrade_report(old, new, samples=documents)


def test_a_pattern_the_translation_cannot_compare_is_left_to_review_naming_why() -> None:
    (change,) = diff().changes
    assert change.change.kind == "pattern-changed"
    assert change.change.effects == ("undecided",)
    assert (change.producers.level, change.consumers.level) == (REVIEW, REVIEW)
    assert change.evidence == {}
    assert "sample" not in change.producers.why
    assert change.producers.why.endswith(
        "Not decided: the repetition {1,150} of a group (over 100)."
    )


def test_a_sample_rejected_by_new_confirms_the_break_for_producers() -> None:
    report = diff(SAMPLES / "paris.xml", SAMPLES / "corse.xml")
    (change,) = report.changes
    assert change.producers.level == BREAKING
    assert change.evidence["producers"] == "confirmed"
    assert change.producers.why.endswith(f"Confirmed by {SAMPLES / 'corse.xml'}.")
    # paris.xml reaches the postal code and is valid under both: no break for consumers.
    assert change.consumers.level == COMPATIBLE
    assert change.evidence["consumers"] == "refuted"
    assert "1 document reaches it and stays valid" in change.consumers.why
    (sample,) = report.samples
    assert sample.source == str(SAMPLES / "corse.xml")
    assert (sample.old_valid, sample.new_valid, sample.regression) == (True, False, "producers")
    assert [v.code for v in sample.violations] == ["xsd.pattern"]
    assert sample.violations[0].path == "/nuu:interfaceNuu/nuu:demande/nuu:codePostal"
    assert sample.explained_by == (change.id,)


def test_a_sample_only_new_accepts_confirms_the_break_for_consumers() -> None:
    report = diff(SAMPLES / "new-format.xml")
    (change,) = report.changes
    assert change.consumers.level == BREAKING
    assert change.evidence == {"producers": "unexercised", "consumers": "confirmed"}
    assert change.producers.level == REVIEW
    assert report.samples[0].regression == "consumers"


def test_samples_valid_under_both_refute_the_review() -> None:
    report = diff(SAMPLES / "paris.xml")
    (change,) = report.changes
    assert (change.producers.level, change.consumers.level) == (COMPATIBLE, COMPATIBLE)
    assert change.evidence == {"producers": "refuted", "consumers": "refuted"}
    assert report.samples == ()
    assert report.summary()["samples"]["documents"] == 1


def test_samples_that_never_reach_the_change_say_so() -> None:
    (change,) = diff(SAMPLES / "no-postal-code.xml").changes
    assert (change.producers.level, change.consumers.level) == (REVIEW, REVIEW)
    assert change.producers.why.endswith("No sample exercised it.")
    assert change.evidence == {"producers": "unexercised", "consumers": "unexercised"}


def test_directories_and_tgz_archives_are_samples(tmp_path: Path) -> None:
    archive = tmp_path / "export.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("corse.xml", "new-format.xml"):
            tar.add(SAMPLES / name, arcname=f"CERFA/{name}")
    from_directory = diff(SAMPLES)
    from_archive = diff(archive)
    assert [s.regression for s in from_directory.samples] == ["producers", "consumers"]
    assert [s.source for s in from_archive.samples] == [
        f"{archive}!CERFA/corse.xml",
        f"{archive}!CERFA/new-format.xml",
    ]
    assert from_archive.changes[0].evidence == {"producers": "confirmed", "consumers": "confirmed"}


def test_unreadable_samples_and_samples_invalid_under_both_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "broken.xml").write_text("<interfaceNuu", encoding="utf-8")
    (tmp_path / "invalid.xml").write_text(
        '<interfaceNuu xmlns="http://nuu.application.i2/"><demande/></interfaceNuu>',
        encoding="utf-8",
    )
    report = diff(tmp_path)
    assert report.samples == ()
    assert report.summary()["samples"] == {
        "documents": 2,
        "examined": 0,
        "skipped": 2,
        "regressions": {"producers": 0, "consumers": 0},
        "unexplained": 0,
    }


def test_violation_paths_become_change_paths() -> None:
    assert change_path("/nuu:interfaceNuu/nuu:demande[2]/nuu:numGuichet") == (
        "interfaceNuu/demande/numGuichet"
    )
    assert change_path("/nuu:interfaceNuu/nuu:entete/@nuu:modifie") == (
        "interfaceNuu/entete/@modifie"
    )
    assert change_path("/{http://example.org/a/b}racine/enfant[3]/@code") == "racine/enfant/@code"


def test_the_shipped_upgrade_links_each_regression_to_its_change(fixtures: Path) -> None:
    old, new = open_sides("13.33", "13.34", fixtures.parent / "xsd")
    samples = iter_inputs([str(fixtures / "valid" / "13.34")], DEFAULT_LIMITS)
    report = upgrade_report(old, new, samples=samples)
    paths = {c.id: c.change.path for c in report.changes}
    explained = {Path(s.source).name + ":" + s.schema: s for s in report.samples}
    empty = explained["empty-adresse-postale.xml:demande"]
    assert empty.regression == "consumers"
    assert {paths[i].rsplit("/", 1)[-1] for i in empty.explained_by} >= {"etranger", "voie"}
    pj = explained["pj-metadata.xml:demande"]
    assert [paths[i] for i in pj.explained_by] == [
        "interfaceNuu/demande/demandeLogement/listePieceJustificative/pieceJustificative/"
        "listeContenuPiece"
    ]
    assert all(sample.explained_by for sample in report.samples)


def test_a_sample_using_three_new_elements_is_explained_by_the_three_changes() -> None:
    """libxml2 stops at the first unexpected element; the document's content names all three."""
    case = CASE.parent / "element-added-complex"
    old, new = open_sides(str(case / "old.xsd"), str(case / "new.xsd"), case)
    samples = iter_inputs([str(case / "samples")], DEFAULT_LIMITS)
    report = upgrade_report(old, new, samples=samples)
    (sample,) = report.samples
    assert [v.code for v in sample.violations] == ["xsd.unexpected-element"]
    added = {c.change.path.rpartition("/")[2]: c.id for c in report.changes}
    assert sample.explained_by == (
        added["refInterne"],
        added["canalDepot"],
        added["informationTraitement"],
    )


def test_a_value_change_explains_only_the_documents_whose_values_it_refuses(
    tmp_path: Path,
) -> None:
    """A narrowed code type: a document whose codes are all digits does not depend on it even
    if another change breaks it; one holding a letter does, at whichever use of the type."""
    case = CASE.parent / "pattern-narrowed"
    document = (
        '<interfaceNuu xmlns="http://nuu.application.i2/" versionInterface="1">'
        "<demande><numGuichet>G</numGuichet><codeGuichet>{guichet}</codeGuichet>"
        '<evenement><typeEvenement code="{code}">X</typeEvenement></evenement>'
        "</demande></interfaceNuu>"
    )
    (tmp_path / "letter-in-attribute.xml").write_text(document.format(guichet="12", code="AB1"))
    (tmp_path / "digits.xml").write_text(document.format(guichet="12", code="42"))
    old, new = open_sides(str(case / "old.xsd"), str(case / "new.xsd"), case)
    report = upgrade_report(old, new, samples=iter_inputs([str(tmp_path)], DEFAULT_LIMITS))
    (change,) = report.changes
    (sample,) = report.samples
    assert Path(sample.source).name == "letter-in-attribute.xml"
    assert sample.regression == "producers"
    assert sample.explained_by == (change.id,)

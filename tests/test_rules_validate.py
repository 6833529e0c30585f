"""The business rules through `sne-gateway validate`: the country rule's cases as files, in a
directory, as members of a TGZ export, with parallel jobs; a newer referential, a broken one,
a skipped rule; and `diff --samples`, where the rules run too."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.rules.referential import SHIPPED_COG

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
#: The issue's cases: a fixture, and the violation code it must get (None: it passes).
CASES = {
    "valid/13.33/demande/foreign-address.xml": None,  # allemagne
    "invalid/demande/rule.pays--typo.xml": "rule.pays",  # Republique dominicainne
    "invalid/demande/rule.pays-overseas--martinique.xml": "rule.pays-overseas",
    "invalid/demande/rule.pays-code--iso2.xml": "rule.pays-code",  # DE
}


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    status = main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def codes(out: str) -> dict[str, list[str]]:
    """Each document's violation codes, from the JSON report."""
    return {
        document["source"]: [violation["code"] for violation in document["violations"]]
        for document in json.loads(out)["documents"]
    }


def export(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for number, name in enumerate(CASES, 1):
            data = (FIXTURES / name).read_bytes()
            info = tarfile.TarInfo(f"CERFA/{number:04d}.xml")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_cases_as_files_and_as_export_members(capsys, tmp_path: Path, jobs: str) -> None:
    archive = export(tmp_path / "export.tgz")
    files = [str(FIXTURES / name) for name in CASES]
    status, out, _ = run(
        capsys, "validate", "--format", "json", "--jobs", jobs, *files, str(archive)
    )
    assert status == 1
    found = codes(out)
    for number, (name, code) in enumerate(CASES.items(), 1):
        expected = [] if code is None else [code]
        assert found[str(FIXTURES / name)] == expected
        assert found[f"{archive}!CERFA/{number:04d}.xml"] == expected


def test_the_text_report_says_the_rule_and_the_suggestion_with_values(capsys) -> None:
    typo = str(FIXTURES / "invalid/demande/rule.pays--typo.xml")
    status, out, _ = run(capsys, "validate", typo)
    assert status == 1
    assert "rule.pays  line 28" in out
    assert "République dominicaine" not in out and "dominicainne" not in out
    status, out, _ = run(capsys, "validate", "--show-values", typo)
    assert "did you mean 'République dominicaine' (98 % similar)?" in out


def test_a_newer_referential_from_the_flag_or_the_environment(
    capsys, monkeypatch, tmp_path: Path
) -> None:
    # A "newer" COG in INSEE's own layout, where Allemagne has another name.
    newer = tmp_path / "v_pays_territoire_2026.csv"
    newer.write_text(
        "COG;ACTUAL;CRPAY;ANI;LIBCOG;LIBENR;CODEISO2;CODEISO3;CODENUM3\n"
        "99109;1;;;Germanie;République fédérale de Germanie;DE;DEU;276\n",
        encoding="utf-8",
    )
    germany = str(FIXTURES / "valid/13.33/demande/foreign-address.xml")
    status, out, _ = run(capsys, "validate", "--referential", str(newer), "--show-values", germany)
    assert status == 1
    assert "'allemagne' is not a country name of INSEE's COG" in out
    monkeypatch.setenv("SNE_GATEWAY_REFERENTIAL", str(newer))
    assert run(capsys, "validate", germany)[0] == 1
    assert run(capsys, "validate", "--referential", str(SHIPPED_COG), germany)[0] == 0


def test_a_referential_that_is_not_a_cog_export_is_a_usage_error(capsys, tmp_path: Path) -> None:
    broken = tmp_path / "pays.csv"
    broken.write_text("pays\nAllemagne\n", encoding="utf-8")
    germany = str(FIXTURES / "valid/13.33/demande/foreign-address.xml")
    status, out, err = run(capsys, "validate", "--referential", str(broken), germany)
    assert status == 2
    assert out == ""
    assert err.startswith(f"sne-gateway: error: {broken}:1: not a COG country export")


def test_a_skipped_rule_is_not_run(capsys) -> None:
    files = [str(FIXTURES / name) for name in CASES]
    assert run(capsys, "validate", "--skip-rule", "pays", *files)[0] == 0
    overlap = str(FIXTURES / "invalid/demande/rule.pj-page-overlap--page-2.xml")
    assert run(capsys, "validate", "--skip-rule", "pays", overlap)[0] == 1
    assert run(capsys, "validate", "--skip-rule", "pj", "--skip-rule", "pays", overlap)[0] == 0


def test_diff_samples_run_the_rules(capsys, tmp_path: Path) -> None:
    """A sample valid under both versions' XSD but breaking a rule is invalid under both: the
    rules do not depend on the version, so it is counted as skipped, not as a regression."""
    samples = tmp_path / "samples"
    samples.mkdir()
    for name in ("valid/13.33/demande/foreign-address.xml", "invalid/demande/rule.pays--typo.xml"):
        (samples / Path(name).name).write_bytes((FIXTURES / name).read_bytes())
    output = tmp_path / "report.json"
    main(
        ["diff", "13.33", "13.34", "--samples", str(samples), "--format", "json", "-o", str(output)]
    )
    capsys.readouterr()
    report = json.loads(output.read_text(encoding="utf-8"))
    samples_summary = report["summary"]["samples"]
    assert (samples_summary["examined"], samples_summary["skipped"]) == (1, 1)

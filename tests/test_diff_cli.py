"""`sne-gateway diff` on the command line: exit status for each --fail-on, usage and load
errors in one line with status 2, output to a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli.main import main

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "xsd-diff"


def run(case: str, *options: str) -> int:
    folder = CASES / case
    return main(["diff", str(folder / "old.xsd"), str(folder / "new.xsd"), *options])


@pytest.mark.parametrize(
    ("case", "fail_on", "status"),
    [
        # An optional element added: breaks consumers only.
        ("element-added-optional", "producers", 0),
        ("element-added-optional", "consumers", 1),
        ("element-added-optional", "any", 1),
        ("element-added-optional", "none", 0),
        # An optional element removed: breaks producers only.
        ("element-removed-optional", "producers", 1),
        ("element-removed-optional", "consumers", 0),
        ("element-removed-optional", "any", 1),
        ("element-removed-optional", "none", 0),
        # Patterns decided: narrowed breaks producers, widened consumers, incomparable both,
        # equivalent (rewritten) nobody.
        *[
            (case, fail_on, status)
            for case, statuses in {
                "pattern-narrowed": (1, 0, 1),
                "pattern-widened": (0, 1, 1),
                "pattern-incomparable": (1, 1, 1),
                "pattern-equivalent": (0, 0, 0),
            }.items()
            for fail_on, status in zip(("producers", "consumers", "any"), statuses, strict=True)
        ],
        # A change to review breaks nobody until a sample shows it does.
        ("pattern-undecided", "any", 0),
    ],
)
def test_exit_status_follows_fail_on(case: str, fail_on: str, status: int, capsys) -> None:
    assert run(case, "--fail-on", fail_on) == status
    capsys.readouterr()


def test_fail_on_defaults_to_any(capsys) -> None:
    assert run("element-added-optional") == 1
    assert run("element-removed-optional") == 1
    capsys.readouterr()


def test_equivalent_sets_exit_0_with_no_change(capsys) -> None:
    folder = CASES / "equivalent-layout"
    status = main(
        [
            "diff",
            str(folder / "old" / "NUU_Demande.xsd"),
            str(folder / "new" / "NUU_Demande.xsd"),
            "--format",
            "json",
        ]
    )
    assert status == 0
    assert json.loads(capsys.readouterr().out)["changes"] == []


def test_a_sample_that_confirms_a_review_makes_it_fail(capsys) -> None:
    samples = CASES / "pattern-undecided" / "samples"
    assert run("pattern-undecided", "--samples", str(samples / "corse.xml")) == 1
    assert (
        run("pattern-undecided", "--samples", str(samples / "corse.xml"), "--fail-on", "consumers")
        == 0
    )
    assert run("pattern-undecided", "--samples", str(samples / "paris.xml")) == 0
    capsys.readouterr()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["diff", "12.00", "13.34"], "no version '12.00'"),
        (["diff", "13.33", "nowhere/NUU_Demande.xsd"], "no such file or directory"),
        (["diff", "13.33", "13.34", "--schema", "demandes"], "no schema named 'demandes'"),
        (["diff", "13.33", "13.34", "--samples", "no-such-dir"], "no-such-dir"),
        (
            ["diff", str(CASES.parent / "xsd-broken" / "remote-include"), "13.34"],
            "remote schemaLocation 'http://example.org/x.xsd' is never fetched",
        ),
    ],
)
def test_usage_and_load_errors_exit_2_with_one_line(arguments, message, capsys) -> None:
    assert main(arguments) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert message in captured.err


def test_a_broken_schema_is_reported_with_its_file(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.xsd"
    broken.write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">', encoding="utf-8")
    assert main(["diff", str(broken), str(CASES / "element-added-optional" / "new.xsd")]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"sne-gateway: error: {broken}:")
    assert error.count("\n") == 1


def test_the_report_goes_to_the_output_file(tmp_path: Path, capsys) -> None:
    output = tmp_path / "report.html"
    assert run("element-added-optional", "--format", "html", "--output", str(output)) == 1
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err == (
        f"{output}: 1 change(s): producers compatible, consumers breaking; exit status 1: "
        "breaking for consumers (--fail-on any)\n"
    )
    assert output.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert run("element-added-optional", "--output", str(output), "--fail-on", "producers") == 0
    assert capsys.readouterr().err == (
        f"{output}: 1 change(s): producers compatible, consumers breaking\n"
    )


def test_one_schema_of_the_shipped_catalog(capsys) -> None:
    status = main(["diff", "13.33", "13.34", "--schema", "gdm-mouvements", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 1
    assert {(change["schema"]["old"], change["schema"]["new"]) for change in report["changes"]} == {
        ("gdm-mouvements", "gdm-mouvements")
    }
    assert (report["old"]["label"], report["new"]["label"]) == ("13.33", "13.34")

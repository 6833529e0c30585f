"""`sne-gateway validate`: exit statuses, the three formats (JUnit parsed back), archives,
stdin, parallel jobs, and single-file catalogs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from gateway.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
VALID = FIXTURES / "valid" / "13.33" / "demande" / "minimal.xml"
INVALID = FIXTURES / "invalid" / "demande" / "xsd.facet--nom-too-long.xml"
THREE_ERRORS = FIXTURES / "invalid" / "multiple" / "demande-three-errors.xml"


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    status = main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_all_valid_exits_0(capsys) -> None:
    status, out, _ = run(capsys, "validate", str(FIXTURES / "valid" / "13.33"))
    assert status == 0
    assert "PASS" in out and "FAIL" not in out
    assert " 0 invalid" in out


def test_a_violation_exits_1_with_code_position_path_and_message(capsys) -> None:
    status, out, _ = run(capsys, "validate", str(VALID), str(INVALID))
    assert status == 1
    assert f"FAIL {INVALID}" in out
    assert "xsd.facet  line 17, column" in out
    assert (
        "/nuu:interfaceNuu/nuu:demande/nuu:demandeLogement/nuu:personnePhysique/nuu:demandeur/nuu:nom"
        in out
    )
    assert "2 documents: 1 valid, 1 invalid, 1 violation" in out


def test_values_are_not_shown_unless_asked(capsys) -> None:
    pattern = FIXTURES / "invalid" / "demande" / "xsd.pattern--code-postal-letters.xml"
    _, hidden, _ = run(capsys, "validate", "--format", "json", str(pattern))
    _, shown, _ = run(capsys, "validate", "--format", "json", "--show-values", str(pattern))
    hidden_message = json.loads(hidden)["documents"][0]["violations"][0]["message"]
    shown_message = json.loads(shown)["documents"][0]["violations"][0]["message"]
    assert "the value does not match" in hidden_message
    assert "the value '" in shown_message


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["validate", "absent.xml"], "absent.xml: no such file or directory"),
        (["validate", "/dev/null"], "/dev/null: not a file or a directory (a device or a pipe?)"),
        (["validate", "--schema", "demandes", str(VALID)], "no schema named 'demandes'"),
        (["validate", "--version", "99.99", str(VALID)], "no version '99.99'"),
        (["validate", "--xsd", "nowhere", str(VALID)], "nowhere: no such file or directory"),
    ],
)
def test_usage_and_io_errors_exit_2_with_one_line(
    capsys, arguments: list[str], message: str
) -> None:
    status, _, err = run(capsys, *arguments)
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith("sne-gateway: error: ") and message in err


def test_a_broken_xsd_set_exits_2_naming_file_and_line(capsys, tmp_path: Path) -> None:
    broken = tmp_path / "Broken.xsd"
    broken.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n'
        '  <xs:include schemaLocation="http://example.org/remote.xsd"/>\n</xs:schema>\n'
    )
    status, _, err = run(capsys, "validate", "--xsd", str(broken), str(VALID))
    assert status == 2
    assert f"{broken}:2: remote schemaLocation" in err


def test_json_format(capsys) -> None:
    status, out, _ = run(capsys, "validate", "--format", "json", str(VALID), str(THREE_ERRORS))
    report = json.loads(out)
    assert status == 1
    assert report["version"] == "13.34"
    assert report["summary"] == {"documents": 2, "valid": 1, "invalid": 1, "violations": 3}
    invalid = report["documents"][1]
    assert invalid["source"] == str(THREE_ERRORS)
    assert invalid["schema"] == "demande@13.34"
    assert set(invalid["violations"][0]) == {"code", "message", "line", "column", "path"}


def test_junit_format_parses_back(capsys, tmp_path: Path) -> None:
    output = tmp_path / "report.xml"
    status, out, _ = run(
        capsys,
        "validate",
        "--format",
        "junit",
        "--output",
        str(output),
        str(VALID),
        str(THREE_ERRORS),
    )
    assert status == 1
    assert out == ""
    suites = etree.parse(str(output)).getroot()
    assert (suites.tag, suites.get("tests"), suites.get("failures")) == ("testsuites", "2", "1")
    cases = suites.findall("testsuite/testcase")
    assert [case.get("name") for case in cases] == [str(VALID), str(THREE_ERRORS)]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure.get("message").startswith("3 violation(s)")
    assert len(failure.text.splitlines()) == 3


def test_a_single_official_looking_entry_file(capsys) -> None:
    delivery = FIXTURES / "delivery"
    entry = next(
        path
        for path in delivery.glob("*.xsd")
        if "Types" not in path.name
        and "Commun" not in path.name
        and "Domaines" not in path.name
        and "Doublons" not in path.name
    )
    status, out, _ = run(capsys, "validate", "--xsd", str(entry), str(VALID), str(INVALID))
    assert status == 1
    assert f"{entry.stem}@" in out


def test_archives_are_validated_member_by_member(capsys) -> None:
    archive = FIXTURES / "archives" / "export-mixed.tgz"
    status, out, _ = run(capsys, "validate", "--format", "json", str(archive))
    report = json.loads(out)
    assert status == 1
    sources = [document["source"] for document in report["documents"]]
    assert all(source.startswith(f"{archive}!") and source.endswith(".xml") for source in sources)
    assert report["summary"]["invalid"] >= 1


def test_a_truncated_archive_reports_what_was_read_and_the_break_then_exits_2(capsys) -> None:
    archive = FIXTURES / "archives" / "export-truncated.tgz"
    status, out, err = run(capsys, "validate", "--format", "json", str(archive), str(VALID))
    assert status == 2
    assert "truncated" in err
    documents = json.loads(out)["documents"]
    broken = [d for d in documents if d["source"] == str(archive)]
    assert broken and broken[0]["violations"][0]["code"] == "archive.truncated"
    assert documents[-1]["source"] == str(VALID)  # the paths after a broken archive are read


def test_a_truncated_archive_is_a_junit_error(capsys, tmp_path: Path) -> None:
    output = tmp_path / "report.xml"
    status, _, _ = run(
        capsys,
        "validate",
        "--format",
        "junit",
        "--output",
        str(output),
        str(FIXTURES / "archives" / "export-truncated.tgz"),
    )
    assert status == 2
    suites = etree.parse(str(output)).getroot()
    assert suites.get("errors") == "1"
    assert suites.find("testsuite/testcase/error").get("type") == "archive.truncated"


def test_no_document_at_all_exits_2(capsys, tmp_path: Path) -> None:
    status, _, err = run(capsys, "validate", str(tmp_path))
    assert status == 2
    assert "no XML document found" in err


def test_the_xml_suffix_is_matched_in_any_case(capsys, tmp_path: Path) -> None:
    (tmp_path / "DEMANDE.XML").write_bytes(VALID.read_bytes())
    status, out, _ = run(capsys, "validate", str(tmp_path))
    assert status == 0 and "DEMANDE.XML" in out


def test_control_characters_in_member_names_are_escaped(capsys, tmp_path: Path) -> None:
    import io
    import tarfile

    archive = tmp_path / "export.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        data = INVALID.read_bytes()
        info = tarfile.TarInfo("CERFA/\x1b[31mred\x01.xml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    output = tmp_path / "report.xml"
    status, _, _ = run(
        capsys, "validate", "--format", "junit", "--output", str(output), str(archive)
    )
    assert status == 1
    name = etree.parse(str(output)).find("testsuite/testcase").get("name")
    assert name == f"{archive}!CERFA/\\x1b[31mred\\x01.xml"


def test_not_an_archive_exits_2(capsys) -> None:
    status, _, err = run(capsys, "validate", str(FIXTURES / "archives" / "not-an-archive.tgz"))
    assert status == 2
    assert "not a readable tar archive" in err


def test_parallel_jobs_give_the_same_report_in_the_same_order(capsys) -> None:
    arguments = [
        "validate",
        "--format",
        "json",
        str(FIXTURES / "valid"),
        str(FIXTURES / "invalid" / "demande"),
    ]
    _, sequential, _ = run(capsys, *arguments)
    _, parallel, _ = run(capsys, *arguments, "--jobs", "2")
    assert json.loads(sequential)["documents"] == json.loads(parallel)["documents"]


def test_a_2_gb_file_is_refused_without_being_read(capsys, tmp_path: Path) -> None:
    huge = tmp_path / "huge.xml"
    with huge.open("wb") as file:
        file.truncate(2 * 1024**3)
    status, out, _ = run(capsys, "validate", "--format", "json", str(huge))
    assert status == 1
    assert json.loads(out)["documents"][0]["violations"][0]["code"] == "limits.size"


def test_stdin_through_the_installed_command() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "validate", "--format", "json", "-"],
        input=INVALID.read_bytes(),
        capture_output=True,
        check=False,
        cwd=ROOT,
    )
    assert completed.returncode == 1, completed.stderr
    document = json.loads(completed.stdout)["documents"][0]
    assert document["source"] == "<stdin>"
    assert document["violations"][0]["code"] == "xsd.facet"


def test_a_file_name_that_is_not_utf8_is_shown_escaped(capsys, tmp_path: Path) -> None:
    # "Données.xml" in Latin-1, as unzipped from Windows: the JUnit report is still written.
    valid = FIXTURES / "valid" / "13.34" / "demande" / "pj-metadata.xml"
    documents = tmp_path / "documents"
    documents.mkdir()
    Path(os.fsdecode(os.path.join(os.fsencode(documents), b"Donn\xe9es.xml"))).write_bytes(
        valid.read_bytes()
    )
    output = tmp_path / "report.xml"
    status, _, _ = run(
        capsys, "validate", "--format", "junit", "--output", str(output), str(documents)
    )
    assert status == 0
    (case,) = etree.parse(str(output)).getroot().findall("testsuite/testcase")
    assert case.get("name").endswith("/Donn\\xe9es.xml")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_documents_read_before_an_input_error_are_reported(
    capsys, tmp_path: Path, jobs: str
) -> None:
    """A path that cannot be read (a pipe) in the middle of a batch: the documents of that
    batch read before it are still validated and reported."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    status, out, err = run(
        capsys, "validate", "--format", "json", "--jobs", jobs, str(VALID), str(INVALID), str(fifo)
    )
    assert status == 2
    assert "not a file or a directory" in err
    sources = [document["source"] for document in json.loads(out)["documents"]]
    assert sources == [str(VALID), str(INVALID)]


def test_many_documents_or_a_large_export_use_every_core_by_default(tmp_path, monkeypatch):
    """500 documents or a 1 MB export: one process per core; fewer: one; `--jobs 1` still
    forces one (given, it is never replaced)."""
    from gateway.cli import validate as command

    monkeypatch.setattr(command.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    few = tmp_path / "few"
    few.mkdir()
    for index in range(3):
        (few / f"d{index}.xml").write_bytes(b"<a/>")
    many = tmp_path / "many"
    many.mkdir()
    for index in range(command.AUTO_DOCUMENTS):
        (many / f"d{index}.xml").write_bytes(b"<a/>")
    small, large = tmp_path / "small.tgz", tmp_path / "large.tgz"
    small.write_bytes(b"x" * 100)
    large.write_bytes(b"x" * command.AUTO_ARCHIVE_BYTES)
    assert command.default_jobs([str(few)]) == 1
    assert command.default_jobs([str(many)]) == 4
    assert command.default_jobs([str(few), str(small)]) == 1
    assert command.default_jobs([str(large)]) == 4
    named = [str(few / "d0.xml")] * command.AUTO_DOCUMENTS
    assert command.default_jobs(named) == 4
    monkeypatch.setattr(command.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert command.default_jobs([str(many)]) == 1


def test_a_directory_is_listed_as_rglob_lists_it(tmp_path: Path, monkeypatch) -> None:
    """Hidden files and any case of the suffix found; links to files followed, links to
    directories not; a directory or a broken link named .xml left out; paths sorted part by
    part (a/b.xml before a-b.xml), spelt as Path spells them (from ".": no "./")."""
    from gateway.inputs import xml_files

    for name in (
        "a/b.xml",
        "a-b.xml",
        "a-b/c.XML",
        ".hidden/h.xml",
        "sub/deep/z.xml",
        "x.xml/inner.xml",
        ".xml",
        "q.xml.",
        "b..xml",
        "Z.Xml",
        "notes.txt",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"<a/>")
    (tmp_path / "linked-dir").symlink_to(tmp_path / "sub")
    (tmp_path / "link.xml").symlink_to(tmp_path / "a-b.xml")
    (tmp_path / "broken.xml").symlink_to(tmp_path / "nowhere")
    os.mkfifo(tmp_path / "fifo.xml")

    def by_rglob(directory: Path) -> list[str]:
        found = (p for p in directory.rglob("*") if p.suffix.lower() == ".xml" and p.is_file())
        return [str(p) for p in sorted(found, key=lambda p: p.parts)]

    assert list(xml_files(tmp_path)) == by_rglob(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert list(xml_files(Path("."))) == by_rglob(Path("."))
    assert list(xml_files(Path("."))) == [
        ".hidden/h.xml",
        "Z.Xml",
        "a/b.xml",
        "a-b/c.XML",
        "a-b.xml",
        "b..xml",
        "link.xml",
        "sub/deep/z.xml",
        "x.xml/inner.xml",
    ]

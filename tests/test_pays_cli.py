"""`sne-gateway pays check|fix` on a corpus of dirty values of our own (fixtures/pays): the
shares it prints, the encodings editors' exports come in, the corrected CSV and the report of
what could not be fixed, XML documents and exports, clear errors on bad input; hypothesis on
the CSV reader."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.cleaning.csv_table import CsvProblem, detect_encoding, open_table
from gateway.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
DIRTY = FIXTURES / "pays" / "dirty-values.csv"
#: The corpus's counts and shares, over its 42 non-empty values (3 empty ones left out).
SHARES = [
    "  valid                     15   35.7 %",
    "  fixable                    7   16.7 %",
    "  france-or-overseas        10   23.8 %",
    "  unfixable                 10   23.8 %",
]


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    status = main(["pays", *arguments])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_check_prints_each_value_and_the_exact_shares(capsys) -> None:
    status, out, err = run(capsys, "check", str(DIRTY))
    assert status == 1
    assert err == ""
    lines = out.splitlines()
    assert lines[-5] == (
        f"42 values (36 distinct) in {DIRTY}, column 'pays' (cp1252, separated by ';'); "
        "3 empty, not counted"
    )
    assert lines[-4:] == SHARES
    rows = {line.split("  ")[0].strip(): line for line in lines[1:-6]}
    assert len(lines[1:-6]) == 36
    by_value = {}
    for line in lines[1:-6]:
        status_, count, rest = line.split(None, 2)
        by_value[rest.split("  ")[0]] = (status_, int(count), line)
    assert by_value["Allemagne"][:2] == ("valid", 4)
    assert by_value["Martinique"][:2] == ("france-or-overseas", 3)
    assert by_value["place vauban"][:2] == ("unfixable", 2)
    assert "-> République dominicaine (98 % similar" in by_value["Republique dominicainne"][2]
    assert "-> Allemagne (a country code, not a name)" in by_value["DE"][2]
    assert "(line 15)" in by_value["Republique dominicainne"][2]
    assert rows  # one line per distinct value, values shown: cleaning them is the point


def test_the_summary_alone_and_the_csv_report(capsys, tmp_path: Path) -> None:
    status, out, _ = run(capsys, "check", "--quiet", str(DIRTY))
    assert status == 1
    assert out.splitlines()[1:] == SHARES
    report = tmp_path / "values.csv"
    status, out, _ = run(capsys, "check", "--format", "csv", "-o", str(report), str(DIRTY))
    assert out.splitlines()[1:] == SHARES
    rows = list(csv.DictReader(report.open(encoding="utf-8", newline="")))
    assert len(rows) == 36
    typo = next(row for row in rows if row["value"] == "Republique dominicainne")
    assert (typo["status"], typo["suggestion"], typo["first_seen"]) == (
        "fixable",
        "République dominicaine",
        "line 15",
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_the_encoding_is_detected(capsys, tmp_path: Path, encoding: str) -> None:
    text = DIRTY.read_bytes().decode("cp1252")
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode(encoding))
    status, out, _ = run(capsys, "check", "-q", str(path))
    assert status == 1
    assert f"({encoding}, separated by ';')" in out
    assert out.splitlines()[1:] == SHARES


def test_latin1_is_told_from_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    # 0x81 is undefined in Windows-1252: only Latin-1 reads this file.
    path.write_bytes("pays\nAllemagne\nCôte d'Ivoire\n".encode("latin-1") + b"\x81\n")
    assert detect_encoding(path) == "latin-1"
    path.write_bytes("pays\nCôte d\N{RIGHT SINGLE QUOTATION MARK}Ivoire\n".encode("cp1252"))
    assert detect_encoding(path) == "cp1252"


def test_a_wrong_encoding_given_is_said_with_its_line(capsys, tmp_path: Path) -> None:
    status, _, err = run(capsys, "check", "--encoding", "utf-8", str(DIRTY))
    assert status == 2
    assert f"sne-gateway: error: {DIRTY}:8: not utf-8" in err
    assert "--encoding" in err


def test_fix_writes_the_corrected_csv_and_the_rows_it_left(capsys, tmp_path: Path) -> None:
    output = tmp_path / "clean.csv"
    status, out, _ = run(capsys, "fix", str(DIRTY), "-o", str(output))
    assert status == 1
    report = tmp_path / "clean.unfixed.csv"
    assert out.splitlines()[-1] == (
        f"7 values corrected (7 distinct) in {output}; 20 rows left as they were, listed in "
        f"{report}"
    )
    before = DIRTY.read_bytes().decode("cp1252").split("\r\n")
    after = output.read_bytes().decode("cp1252").split("\r\n")  # same encoding, line ends
    assert len(after) == len(before)
    changed = {b: a for b, a in zip(before, after, strict=True) if a != b}
    assert changed == {
        "14;TESTARD 14;Republique dominicainne;Ville 14": "14;TESTARD 14;République dominicaine;Ville 14",
        "15;TESTARD 15;Bosnie-Herzegovinne;Ville 15": "15;TESTARD 15;Bosnie-Herzégovine;Ville 15",
        "16;TESTARD 16;Republique tchequee;Ville 16": "16;TESTARD 16;République tchèque;Ville 16",
        "17;TESTARD 17;Emirats arabes uni;Ville 17": "17;TESTARD 17;Émirats arabes unis;Ville 17",
        "19;TESTARD 19;DE;Ville 19": "19;TESTARD 19;Allemagne;Ville 19",
        "20;TESTARD 20;BEL;Ville 20": "20;TESTARD 20;Belgique;Ville 20",
        "21;TESTARD 21;99131;Ville 21": "21;TESTARD 21;Belgique;Ville 21",
    }  # fmt: skip
    left = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert left[0] == ["line", "pays", "status", "reason"]
    assert len(left) == 1 + 20
    assert left[3][:3] == ["25", "Martinique", "france-or-overseas"]
    assert ["31", "place vauban", "unfixable", "no COG name 95 % similar"] in left
    # The corrected file now holds no fixable value.
    status, out, _ = run(capsys, "check", "-q", str(output))
    assert out.splitlines()[1:3] == [
        "  valid                     22   52.4 %",
        "  fixable                    0    0.0 %",
    ]


def test_fix_leaves_a_name_the_file_s_encoding_cannot_hold(capsys, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    # CI is Côte d'Ivoire's code; its COG name has a typographic apostrophe.
    path.write_bytes("pays\nCI\nDE\n".encode("latin-1") + b"\x81\n")
    status, _, _ = run(capsys, "fix", str(path), "-o", str(tmp_path / "out.csv"))
    assert status == 1
    report = (tmp_path / "out.unfixed.csv").read_text(encoding="utf-8-sig")
    assert (
        "2,CI,fixable,Côte d\N{RIGHT SINGLE QUOTATION MARK}Ivoire cannot be written in latin-1"
        in report
    )
    assert (tmp_path / "out.csv").read_bytes().split(b"\n")[2] == b"Allemagne"


def test_fix_never_writes_over_its_input(capsys) -> None:
    status, _, err = run(capsys, "fix", str(DIRTY), "-o", str(DIRTY))
    assert status == 2
    assert "must be other files than the input" in err


def test_xml_documents_directories_and_exports(capsys, tmp_path: Path) -> None:
    names = sorted((FIXTURES / "invalid" / "demande").glob("rule.pays*.xml"))
    archive = tmp_path / "export.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in names:
            tar.add(name, f"CERFA/{name.name}")
    directory = tmp_path / "documents"
    directory.mkdir()
    (directory / "foreign.xml").write_bytes(
        (FIXTURES / "valid/13.33/demande/foreign-address.xml").read_bytes()
    )
    (directory / "broken.xml").write_bytes(b"<interfaceNuu><pays>Allemagne</pays>")
    status, out, _ = run(capsys, "check", str(directory), str(archive))
    assert status == 1
    lines = out.splitlines()
    assert lines[-6].startswith(f"unreadable: {directory / 'broken.xml'}: ")
    assert lines[-5] == "6 values (6 distinct) in 7 documents; 0 empty, not counted"
    assert lines[-4:] == [
        "  valid                      1   16.7 %",
        "  fixable                    2   33.3 %",
        "  france-or-overseas         2   33.3 %",
        "  unfixable                  1   16.7 %",
    ]
    assert "(line 28)" not in out  # XML values say their document and line
    assert f"({archive}!CERFA/rule.pays-code--iso2.xml:28)" in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--column", "country"],
            "no column 'country' in the header (read as cp1252, separated by ';'): 'id', 'nom', 'pays', 'commune'",
        ),
        (["--column", "  "], "--column is empty"),
        (["--column", "9"], "no column '9'"),
        (["--encoding", "klingon"], "unknown encoding 'klingon'"),
        (["--delimiter", "::"], "--delimiter must be one character"),
    ],
)
def test_bad_options_are_clear_errors(capsys, arguments: list[str], message: str) -> None:
    status, out, err = run(capsys, "check", *arguments, str(DIRTY))
    assert status == 2
    assert out == ""
    assert message in err


def test_an_empty_column_or_file_is_a_clear_error(capsys, tmp_path: Path) -> None:
    empty_column = tmp_path / "empty-column.csv"
    empty_column.write_text("id,pays\n1,\n2,  \n3\n", encoding="utf-8")
    status, _, err = run(capsys, "check", str(empty_column))
    assert status == 2
    assert "the column 'pays' holds no value (3 rows, all empty)" in err
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "empty file" in run(capsys, "check", str(empty))[2]
    assert "no such file" in run(capsys, "check", str(tmp_path / "absent.csv"))[2]
    assert "give one CSV file" in run(capsys, "check", str(DIRTY), str(empty))[2]


def test_a_broken_referential_is_a_clear_error(capsys, tmp_path: Path) -> None:
    broken = tmp_path / "cog.csv"
    broken.write_text("nom\nAllemagne\n", encoding="utf-8")
    status, _, err = run(capsys, "check", "--referential", str(broken), str(DIRTY))
    assert status == 2
    assert err.startswith(f"sne-gateway: error: {broken}:1: not a COG country export")


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=400), column=st.sampled_from(["pays", "1", "2"]))
def test_any_bytes_are_read_or_refused_clearly(tmp_path_factory, data: bytes, column: str) -> None:
    path = tmp_path_factory.mktemp("csv") / "input.csv"
    path.write_bytes(data)
    encoding = detect_encoding(path)
    data.decode(encoding)  # the detected encoding reads the whole file
    try:
        table = open_table(path, column)
        values = list(table.values())
    except CsvProblem as problem:
        assert str(problem)
        return
    assert all(isinstance(value, str) and line >= 2 for value, line in values)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.lists(
            st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12),
            min_size=2,
            max_size=2,
        ),
        min_size=1,
        max_size=20,
    ),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_values_read_back_as_written(
    tmp_path_factory, rows: list[list[str]], encoding: str
) -> None:
    """Whatever the values (quotes, delimiters, line breaks inside), a CSV written in a common
    encoding is read back value for value, its encoding detected."""
    try:
        for row in rows:
            "".join(row).encode(encoding)
    except UnicodeEncodeError:
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["id", "pays"])
    writer.writerows(rows)
    path = tmp_path_factory.mktemp("csv") / "export.csv"
    written = buffer.getvalue().encode(encoding)
    path.write_bytes(written)
    table = open_table(path, "pays")
    if written.decode(table.encoding) != buffer.getvalue():
        # Windows-1252 text whose accented letters form UTF-8 sequences ("Ã©") reads as
        # UTF-8: the ambiguity --encoding settles.
        assert encoding == "cp1252" and table.encoding.startswith("utf-8")
        return
    assert [value for value, _ in table.values()] == [row[1] for row in rows]


def test_a_large_input_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_text(
        "id,pays\n" + "".join(f"{n},Allemagne\n" for n in range(400_000)), encoding="utf-8"
    )
    command = [sys.executable, "-m", "gateway.cli.main", "pays", "check", "-q", str(big)]
    environment = {key: value for key, value in os.environ.items() if key != "TTY_COMPATIBLE"}
    # rich takes TTY_COMPATIBLE=1 for a terminal: the bar is drawn on stderr, then cleared.
    on_terminal = subprocess.run(
        command,
        env={**environment, "TTY_COMPATIBLE": "1", "COLUMNS": "240"},
        capture_output=True,
        text=True,
    )
    assert on_terminal.returncode == 0
    assert (
        f"reading {big}" in on_terminal.stderr
        and "\N{BOX DRAWINGS HEAVY HORIZONTAL}" in on_terminal.stderr
    )
    piped = subprocess.run(command, env=environment, capture_output=True, text=True)
    assert piped.stderr == ""
    assert piped.stdout.splitlines()[1] == "  valid                400,000  100.0 %"

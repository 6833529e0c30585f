"""`validate`'s default jobs (worker processes that read their own files and inherit the
compiled catalog) report exactly what one process reports: the same bytes in every format, the
same exit status and error, for a directory and for an export, with an input that cannot be
read in the middle and a broken archive."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from gateway.cli import validate as command
from gateway.cli.main import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
#: Valid and invalid documents of every kind the fixtures hold (XSD faults, rules, malformed,
#: too large, other schemas), so that reports of every shape cross the process boundary.
SAMPLES = sorted(
    [
        *(FIXTURES / "valid").rglob("*.xml"),
        *(FIXTURES / "invalid").rglob("*.xml"),
    ]
)
FORMATS = ("text", "json", "junit")


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(command.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)


def _directory(root: Path, count: int) -> Path:
    """`count` documents cycling through the samples, in a tree of sub-directories."""
    root.mkdir()
    for index in range(count):
        sample = SAMPLES[index % len(SAMPLES)]
        folder = root / f"part-{index % 3}" if index % 4 else root
        folder.mkdir(exist_ok=True)
        (folder / f"{index:04d}-{sample.name}").write_bytes(sample.read_bytes())
    return root


def _export(path: Path, count: int) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for index in range(count):
            sample = SAMPLES[index % len(SAMPLES)]
            data = sample.read_bytes()
            member = tarfile.TarInfo(f"CERFA/{index:04d}-{sample.name}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return path


def _both(capsys: pytest.CaptureFixture[str], *arguments: str) -> None:
    """The command with its default jobs and with `--jobs 1`: byte for byte the same."""
    outcomes = []
    for jobs in ((), ("--jobs", "1")):
        status = main(["validate", *arguments, *jobs])
        captured = capsys.readouterr()
        outcomes.append((status, captured.out, captured.err))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1], "the command wrote no report"


@pytest.mark.parametrize("output", FORMATS)
def test_a_directory(capsys, tmp_path: Path, two_cores: None, output: str) -> None:
    directory = _directory(tmp_path / "documents", command.AUTO_DOCUMENTS + 20)
    assert command.default_jobs([str(directory)]) == 2
    _both(capsys, "--format", output, str(directory))


@pytest.mark.parametrize("output", FORMATS)
def test_an_export(capsys, monkeypatch, tmp_path: Path, two_cores: None, output: str) -> None:
    export = _export(tmp_path / "export.tgz", 300)
    monkeypatch.setattr(command, "AUTO_ARCHIVE_BYTES", export.stat().st_size)
    assert command.default_jobs([str(export)]) == 2
    _both(capsys, "--format", output, "--schema", "demande", str(export))


@pytest.mark.parametrize("output", FORMATS)
def test_a_file_that_cannot_be_read_in_the_middle_of_a_directory(
    capsys, tmp_path: Path, two_cores: None, output: str
) -> None:
    """Read by a worker: the documents before it are reported, none after, and the error is
    the one one process gives (reading /proc/self/mem at its start fails, even for root)."""
    directory = _directory(tmp_path / "documents", command.AUTO_DOCUMENTS + 20)
    (directory / "part-1" / "0300-unreadable.xml").symlink_to("/proc/self/mem")
    status = main(["validate", "--format", "json", "--jobs", "2", str(directory)])
    assert status == 2
    assert "0300-unreadable.xml: Input/output error" in capsys.readouterr().err
    _both(capsys, "--format", output, str(directory))


@pytest.mark.parametrize("output", FORMATS)
def test_a_path_that_cannot_be_read_between_others(
    capsys, tmp_path: Path, two_cores: None, output: str
) -> None:
    first = _directory(tmp_path / "first", command.AUTO_DOCUMENTS)
    second = _directory(tmp_path / "second", 10)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    _both(capsys, "--format", output, str(first), str(fifo), str(second))


@pytest.mark.parametrize("output", FORMATS)
def test_a_broken_archive_between_others(
    capsys, tmp_path: Path, two_cores: None, output: str
) -> None:
    """The members read before the break are reported, then the archive's problem, then the
    paths after it; the status says the archive could not be read."""
    first = _directory(tmp_path / "first", command.AUTO_DOCUMENTS)
    export = _export(tmp_path / "export.tgz", 50)
    truncated = FIXTURES / "archives" / "export-truncated.tgz"
    status = main(["validate", "--format", "json", str(first), str(truncated), str(export)])
    assert status == 2
    assert "truncated" in capsys.readouterr().err
    _both(capsys, "--format", output, str(first), str(truncated), str(export))

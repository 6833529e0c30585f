"""Engine throughput against `xmllint --noout --schema` on the same files, in the same run.

    uv run python bench/validate.py [--documents 5000] [--archive-mb 50]

Two workloads, both on one core (the process and xmllint are pinned to CPU 0):
1. the 15 KB application of fixtures/valid/13.33/demande/complete-household.xml, written as
   N files;
2. an XML TGZ export holding `--archive-mb` MB of XML (members with varied names and free
   texts); xmllint validates the extracted members, the engine reads the archive itself
   (gunzip and tar included, in process), and `sne-gateway validate` runs on it in a child
   process whose duration (start-up included) and peak memory are reported.
It prints documents/s, MB/s and the ratio engine / xmllint (goal: >= 0.9), and the peak RSS of
the archive run (goal: < 150 MB). Requires xmllint (Debian: libxml2-utils).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.catalog import load_catalog  # noqa: E402
from gateway.extract.archive import iter_archive  # noqa: E402
from gateway.limits import Limits  # noqa: E402
from gateway.validate import validate, validate_document  # noqa: E402

APPLICATION = ROOT / "fixtures/valid/13.33/demande/complete-household.xml"
SCHEMA_ENTRY = ROOT / "xsd/13.34/demande/NUU_Demande.xsd"
NAME = re.compile(rb"(<(?:nom|prenom|nomPatronymique|nomHebergeant|profession)>)([A-Za-z]+)<")
FREE_TEXT = re.compile(rb"(<(?:precision|precisionMotif)>)([^<]+)<")


def pin_to_one_core() -> list[str]:
    os.sched_setaffinity(0, {0})
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def varied(document: bytes, rng: random.Random) -> bytes:
    """The same application with other (random, same-length) names and free texts, still
    valid, and about as compressible as real exports (gzip ratio around 10)."""
    document = NAME.sub(
        lambda m: m[1] + bytes(rng.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in m[2]) + b"<",
        document,
    )
    return FREE_TEXT.sub(
        lambda m: m[1] + bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz   ") for _ in m[2]) + b"<",
        document,
    )


def xmllint(prefix: list[str], files: list[Path]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(
        [*prefix, "xmllint", "--noout", "--schema", str(SCHEMA_ENTRY), *map(str, files)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - started
    failed = completed.stderr.count(b" fails to validate")
    if completed.returncode != 0 or failed:
        raise SystemExit(f"xmllint found {failed} invalid file(s): the benchmark needs valid ones")
    return elapsed


def engine(files: list[Path]) -> float:
    schema = load_catalog(ROOT / "xsd").schema("demande", "13.34")
    started = time.perf_counter()
    for file in files:
        report = validate(file.read_bytes(), schema, source=str(file))
        if not report.valid:
            raise SystemExit(f"the engine found {file} invalid: {report.violations[0]}")
    return time.perf_counter() - started


def line(name: str, documents: int, megabytes: float, seconds: float) -> str:
    return (
        f"  {name:<26} {documents / seconds:>9,.0f} documents/s {megabytes / seconds:>8.1f} MB/s"
        f"  ({seconds:.2f} s)"
    )


def compare(label: str, files: list[Path], prefix: list[str]) -> float:
    megabytes = sum(file.stat().st_size for file in files) / 1e6
    engine(files[:50])  # warm the page cache and the catalog code paths
    reference = xmllint(prefix, files)
    ours = engine(files)
    ratio = reference / ours
    print(f"{label}: {len(files)} documents, {megabytes:.1f} MB")
    print(line("xmllint --schema", len(files), megabytes, reference))
    print(line("sne-gateway engine", len(files), megabytes, ours))
    print(f"  ratio engine / xmllint: {ratio:.2f}x (goal >= 0.9x)")
    return ratio


def build_archive(directory: Path, megabytes: int, rng: random.Random) -> tuple[Path, list[Path]]:
    template = APPLICATION.read_bytes()
    archive = directory / "export.tgz"
    members = directory / "members"
    members.mkdir()
    files = []
    written = 0
    with tarfile.open(archive, "w:gz") as tar:
        while written < megabytes * 1_000_000:
            data = varied(template, rng)
            name = f"CERFA/{len(files) + 1:07d}.xml"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            path = members / Path(name).name
            path.write_bytes(data)
            files.append(path)
            written += len(data)
    return archive, files


def engine_on_archive(archive: Path) -> float:
    schema_set = load_catalog(ROOT / "xsd").version("13.34")
    started = time.perf_counter()
    with archive.open("rb") as stream:
        for document in iter_archive(stream, archive.name, Limits(), "demande"):
            if not validate_document(document, schema_set).valid:
                raise SystemExit(f"the engine found {document.source} invalid")
    return time.perf_counter() - started


def archive_run(prefix: list[str], archive: Path, files: list[Path]) -> None:
    megabytes = sum(file.stat().st_size for file in files) / 1e6
    reference = xmllint(prefix, files)
    in_process = engine_on_archive(archive)
    started = time.perf_counter()
    completed = subprocess.run(
        [
            *prefix,
            sys.executable,
            "-m",
            "gateway.cli.main",
            "validate",
            "--schema",
            "demande",
            "--quiet",
            str(archive),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        check=False,
    )
    ours = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if completed.returncode != 0:
        raise SystemExit(f"sne-gateway validate exited {completed.returncode} on the archive")
    print(
        f"XML TGZ export: {archive.stat().st_size / 1e6:.1f} MB compressed, {len(files)} members,"
        f" {megabytes:.1f} MB of XML"
    )
    print(line("xmllint (extracted files)", len(files), megabytes, reference))
    print(line("engine on the .tgz", len(files), megabytes, in_process))
    print(line("sne-gateway validate .tgz", len(files), megabytes, ours))
    print(
        f"  ratio engine / xmllint: {reference / in_process:.2f}x (goal >= 0.9x; the engine also"
        f" gunzips and reads tar); the command, start-up included: {reference / ours:.2f}x"
    )
    print(f"  peak RSS of sne-gateway validate: {peak:.0f} MB (goal < 150 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--archive-mb", type=int, default=50)
    arguments = parser.parse_args()
    if not shutil.which("xmllint"):
        raise SystemExit("xmllint is required (Debian: apt-get install libxml2-utils)")
    prefix = pin_to_one_core()
    rng = random.Random(2025)
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        application = APPLICATION.read_bytes()
        files = []
        for index in range(arguments.documents):
            path = directory / f"application-{index:05d}.xml"
            path.write_bytes(application)
            files.append(path)
        compare(f"15 KB application x {arguments.documents}", files, prefix)
        archive, members = build_archive(directory, arguments.archive_mb, rng)
        archive_run(prefix, archive, members)


if __name__ == "__main__":
    main()

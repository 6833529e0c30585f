"""`sne-gateway validate` against the xmllint pipeline a user would otherwise run, and the
engine against `xmllint --noout --schema` on one core, on the same files, in the same run.

    uv run python bench/validate.py [--documents 5000] [--archive-mb 50] [--rounds 3] [--rules-only]

Requires xmllint (Debian: `apt-get install -y libxml2-utils`); without it the benchmark says
so and stops (exit status 0).

First, on every core the process may use (goal: >= 1.5x the pipeline's throughput on 2 cores),
start-up included, the median of `--rounds` rounds taken in turns:
- a directory of `--documents` files: `sne-gateway validate --schema demande DIR` (its default
  `--jobs`) against `xmllint --noout --schema NUU_Demande.xsd DIR/*.xml`;
- an XML TGZ export (`--archive-mb` MB of XML, 3,410 members at 50): `sne-gateway validate
  --schema demande export.tgz` against `tar -xzf export.tgz` then xmllint on the members.
The commands run with Python's bytecode cache, as installed (PYTHONDONTWRITEBYTECODE unset):
without it, every start compiles the modules again (0.3 to 0.6 s).

Then two workloads on one core (the process and xmllint are pinned to CPU 0):
1. the 15 KB application of fixtures/valid/13.33/demande/complete-household.xml, written as
   N files;
2. an XML TGZ export holding `--archive-mb` MB of XML (members with varied names and free
   texts); xmllint validates the extracted members, the engine reads the archive itself
   (gunzip and tar included, in process), and `sne-gateway validate` runs on it in a child
   process whose duration (start-up included) and peak memory are reported.
It prints documents/s, MB/s and the ratio engine / xmllint (goal: >= 0.9), and the peak RSS of
the archive run (goal: < 150 MB). Requires xmllint (Debian: libxml2-utils).
3. the rule stage: the engine's cost per 15 KB application with and without the business rules
   (`gateway.rules`), on the same application given a foreign address (a `pays`) and page
   metadata for one of its pieces (a `listeContenuPiece`), so that both rules have work to do,
   and as it is (the rules only walk it); CPU times of alternating rounds, medians compared
   (goal: the rules add under 5 %).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.catalog import load_catalog  # noqa: E402
from gateway.extract.archive import iter_archive  # noqa: E402
from gateway.limits import Limits  # noqa: E402
from gateway.rules import NO_RULES, shipped_rules  # noqa: E402
from gateway.validate import validate, validate_document  # noqa: E402

APPLICATION = ROOT / "fixtures/valid/13.33/demande/complete-household.xml"
SCHEMA_ENTRY = ROOT / "xsd/13.34/demande/NUU_Demande.xsd"
NAME = re.compile(rb"(<(?:nom|prenom|nomPatronymique|nomHebergeant|profession)>)([A-Za-z]+)<")
FREE_TEXT = re.compile(rb"(<(?:precision|precisionMotif)>)([^<]+)<")


def median_of(rounds: int, *runs: Callable[[], float]) -> list[float]:
    """Each run's median over `rounds`, the runs taken in turns."""
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for index, run in enumerate(runs):
            times[index].append(run())
    return [statistics.median(measured) for measured in times]


def sne_gateway(*arguments: str) -> float:
    """Seconds of `sne-gateway validate --quiet ARGUMENTS` in a child process, start-up
    included, with the bytecode cache a normal installation has."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "validate", "--quiet", *arguments],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"sne-gateway validate exited {completed.returncode}")
    return time.perf_counter() - started


def xmllint_pipeline(archive: Path, scratch: Path, parts: list[tuple[float, float]]) -> float:
    """Seconds of `tar -xzf` then `xmllint --schema` on the extracted members (each part
    appended to `parts`: extracting to disk depends much on the file system)."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    started = time.perf_counter()
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(scratch)], check=True)
    members = sorted(scratch.rglob("*.xml"))
    extracting = time.perf_counter() - started
    validating = xmllint([], members)
    parts.append((extracting, validating))
    return extracting + validating


def against_the_pipeline(rounds: int, directory: Path, archive: Path, megabytes: float) -> None:
    files = sorted(directory.glob("*.xml"))
    cores = len(os.sched_getaffinity(0))
    sne_gateway("--schema", "demande", str(files[0]))  # the bytecode cache and page cache
    pipeline, ours = median_of(
        rounds,
        lambda: xmllint([], files),
        lambda: sne_gateway("--schema", "demande", str(directory)),
    )
    size = sum(file.stat().st_size for file in files) / 1e6
    print(
        f"A directory of {len(files)} documents ({size:.1f} MB), on {cores} cores, start-up included:"
    )
    print(line("xmllint --schema *.xml", len(files), size, pipeline))
    print(line("sne-gateway validate DIR", len(files), size, ours))
    print(f"  ratio sne-gateway / pipeline: {pipeline / ours:.2f}x (goal >= 1.5x on 2 cores)")
    scratch = archive.parent / "extracted"
    parts: list[tuple[float, float]] = []
    pipeline, ours = median_of(
        rounds,
        lambda: xmllint_pipeline(archive, scratch, parts),
        lambda: sne_gateway("--schema", "demande", str(archive)),
    )
    count = sum(1 for _ in scratch.rglob("*.xml"))
    extracting = statistics.median(part[0] for part in parts)
    validating = statistics.median(part[1] for part in parts)
    print(f"An XML TGZ export of {count} members ({megabytes:.1f} MB of XML), on {cores} cores:")
    print(line("tar -xzf, then xmllint", count, megabytes, pipeline))
    print(f"    (medians: tar -xzf {extracting:.2f} s, xmllint {validating:.2f} s)")
    print(line("sne-gateway validate .tgz", count, megabytes, ours))
    print(f"  ratio sne-gateway / pipeline: {pipeline / ours:.2f}x (goal >= 1.5x on 2 cores)")


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


RULE_ROUNDS = 21
FRENCH_ADDRESS = re.compile(rb"<codePostal>38100</codePostal>\s*<commune code=\"38185\"/>")
PIECE_PAGES = b"<nombrePages>4</nombrePages>\n          <taille>1048211</taille>\n"


def with_rule_work(application: bytes) -> bytes:
    """The application with a foreign postal address and page metadata for its tax notices."""
    foreign = FRENCH_ADDRESS.sub(
        b"<codePostalEtranger>10115</codePostalEtranger><communeEtranger>Berlin"
        b"</communeEtranger><pays>Allemagne</pays>",
        application.replace(b"<etranger>false</etranger>", b"<etranger>true</etranger>", 1),
        count=1,
    )
    contents = b"".join(
        b"<contenuPiece><pageDebut>%d</pageDebut><pageFin>%d</pageFin>"
        b'<typeDocument code="AVIMP"/><annee>%d</annee></contenuPiece>' % (first, first + 1, year)
        for first, year in ((1, 2022), (3, 2023))
    )
    assert PIECE_PAGES in foreign, "the application's tax notice piece changed"
    return foreign.replace(
        PIECE_PAGES, PIECE_PAGES + b"<listeContenuPiece>" + contents + b"</listeContenuPiece>", 1
    )


def _per_application(data: bytes, documents: int) -> tuple[float, float]:
    """The engine's median CPU time per application without and with the rules, in short
    alternating rounds: the process's CPU time rather than the clock's, and many rounds, as on a
    shared machine the clock counts the time other processes take the core."""
    schema = load_catalog(ROOT / "xsd").schema("demande", "13.34")
    rules = shipped_rules()
    for name, chosen in (("with", rules), ("without", NO_RULES)):
        report = validate(data, schema, rules=chosen)
        if not report.valid:
            raise SystemExit(f"the application is invalid {name} the rules: {report.violations}")
    timings: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(RULE_ROUNDS):
        for name, chosen in (("without", NO_RULES), ("with", rules)):
            started = time.process_time()
            for _ in range(documents):
                validate(data, schema, rules=chosen)
            timings[name].append((time.process_time() - started) / documents)
    without, with_rules = (sorted(timings[name])[RULE_ROUNDS // 2] for name in ("without", "with"))
    return without, with_rules


def rule_stage(documents: int) -> None:
    """The engine on one core, with and without the rule stage."""
    application = APPLICATION.read_bytes()
    workloads = {
        "a pays and two page ranges": with_rule_work(application),
        "neither (the rules only walk it)": application,
    }
    print(f"rule stage: 15 KB application x {documents}, median of {RULE_ROUNDS} rounds")
    for label, data in workloads.items():
        without, with_rules = _per_application(data, documents)
        print(
            f"  {label:<34} without {without * 1e6:6.1f} us, with {with_rules * 1e6:6.1f} us: "
            f"{100 * (with_rules / without - 1):+.1f} % (goal: under 5 %)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--archive-mb", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--rules-only", action="store_true", help="only the rule stage (workload 3)"
    )
    arguments = parser.parse_args()
    if arguments.rules_only:
        pin_to_one_core()
        rule_stage(arguments.documents // 5)
        return
    if not shutil.which("xmllint"):
        print("skipped: xmllint is not installed (Debian: apt-get install -y libxml2-utils)")
        return
    rng = random.Random(2025)
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        applications = directory / "applications"
        applications.mkdir()
        application = APPLICATION.read_bytes()
        files = []
        for index in range(arguments.documents):
            path = applications / f"application-{index:05d}.xml"
            path.write_bytes(application)
            files.append(path)
        archive, members = build_archive(directory, arguments.archive_mb, rng)
        megabytes = sum(member.stat().st_size for member in members) / 1e6
        # On every core first: pinning this process to one core would pin its children too.
        against_the_pipeline(arguments.rounds, applications, archive, megabytes)
        prefix = pin_to_one_core()
        compare(f"15 KB application x {arguments.documents}", files, prefix)
        archive_run(prefix, archive, members)
    rule_stage(arguments.documents // 5)


if __name__ == "__main__":
    main()

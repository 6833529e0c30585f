"""`sne-gateway validate` against the xmllint pipeline a user would otherwise run, and the
engine against `xmllint --noout --schema` on one core, on the same files, in the same run.

    uv run python bench/validate.py [--documents 5000] [--archive-mb 50] [--rounds 3]
                                    [--every-core-only | --rules-only]

Requires xmllint (Debian: `apt-get install -y libxml2-utils`); without it the benchmark says
so and stops (exit status 0).

First, on every core the process may use (goal: >= 1.5x the pipeline's throughput on 2 cores),
start-up included, the median of `--rounds` rounds taken in turns:
- a directory of `--documents` files: `sne-gateway validate --schema demande DIR` (its default
  `--jobs`) against `xmllint --noout --schema NUU_Demande.xsd DIR/*.xml`;
- an XML TGZ export (`--archive-mb` MB of XML, 3,410 members at 50): `sne-gateway validate
  --schema demande export.tgz` against `tar -xzf export.tgz` then xmllint on the members.
The commands run with Python's bytecode cache, as installed (PYTHONDONTWRITEBYTECODE unset):
without it, every start compiles the modules again (0.3 to 0.6 s). From the same rounds, each
command's CPU time (its children's included), and sne-gateway's main process's apart from its
workers' (per document), with its start-up on one document: on a shared machine the clock
counts the time other processes take the cores, the CPU time much less. `--every-core-only`
stops there.

Then two workloads on one core (the process and xmllint are pinned to CPU 0):
1. the 15 KB application of fixtures/valid/13.33/demande/complete-household.xml, written as
   N files;
2. an XML TGZ export holding `--archive-mb` MB of XML (members with varied names and free
   texts); xmllint validates the extracted members, the engine reads the archive itself
   (gunzip and tar included, in process), and `sne-gateway validate` runs on it in a child
   process whose duration (start-up included) and peak memory are reported.
It prints documents/s, MB/s and the ratio engine / xmllint (goal: >= 0.9), the engine's CPU
time per document by stage, and the peak RSS of the archive run (goal: < 150 MB).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.catalog import load_catalog  # noqa: E402
from gateway.extract.archive import iter_archive  # noqa: E402
from gateway.inputs import FileToRead  # noqa: E402
from gateway.limits import Limits  # noqa: E402
from gateway.parse import parse_xml  # noqa: E402
from gateway.rules import NO_RULES, shipped_rules  # noqa: E402
from gateway.validate import validate, validate_document  # noqa: E402

APPLICATION = ROOT / "fixtures/valid/13.33/demande/complete-household.xml"
SCHEMA_ENTRY = ROOT / "xsd/13.34/demande/NUU_Demande.xsd"
NAME = re.compile(rb"(<(?:nom|prenom|nomPatronymique|nomHebergeant|profession)>)([A-Za-z]+)<")
FREE_TEXT = re.compile(rb"(<(?:precision|precisionMotif)>)([^<]+)<")


@dataclass(frozen=True)
class Run:
    """One command's wall-clock seconds and CPU seconds (its own and its children's); for
    sne-gateway, also its main process's alone (`parent`): the rest is its workers'."""

    wall: float
    cpu: float
    parent: float = 0.0


def median_of(rounds: int, *runs: Callable[[], Run]) -> list[Run]:
    """Each run's medians (wall, CPU, parent CPU apart) over `rounds`, the runs taken in turns."""
    measured: list[list[Run]] = [[] for _ in runs]
    for _ in range(rounds):
        for index, run in enumerate(runs):
            measured[index].append(run())
    return [
        Run(
            *(
                statistics.median(getattr(one, name) for one in runs_)
                for name in ("wall", "cpu", "parent")
            )
        )
        for runs_ in measured
    ]


#: `sne-gateway` as its entry point runs it, saying at the end its main process's CPU time.
MEASURED_MAIN = """import resource, sys
from gateway.cli.main import main
status = main(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_SELF)
print("main process CPU:", usage.ru_utime + usage.ru_stime, file=sys.stderr)
raise SystemExit(status)
"""


def timed(command: list[str], **options: Any) -> tuple[Run, bytes]:
    """`command`'s wall-clock and CPU seconds (its children's included, as `wait4` counts
    them), and what it wrote on stderr; stops the benchmark if it fails."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **options
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{command[0]} exited {process.returncode}: {errors[-300:]!r}")
    return Run(wall, usage.ru_utime + usage.ru_stime), errors


def sne_gateway(*arguments: str) -> Run:
    """`sne-gateway validate --quiet ARGUMENTS` in a child process, start-up included, with
    the bytecode cache a normal installation has."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    run, errors = timed(
        [sys.executable, "-c", MEASURED_MAIN, "validate", "--quiet", *arguments],
        cwd=ROOT,
        env=environment,
    )
    parent = float(errors.rsplit(b"main process CPU:", 1)[1])
    return Run(run.wall, run.cpu, parent)


def xmllint_pipeline(archive: Path, scratch: Path, parts: list[tuple[Run, Run]]) -> Run:
    """`tar -xzf` then `xmllint --schema` on the extracted members (each part appended to
    `parts`: extracting to disk depends much on the file system)."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    extracting, _ = timed(["tar", "-xzf", str(archive), "-C", str(scratch)])
    validating = xmllint([], sorted(scratch.rglob("*.xml")))
    parts.append((extracting, validating))
    return Run(extracting.wall + validating.wall, extracting.cpu + validating.cpu)


def cpu_line(name: str, run: Run, documents: int) -> str:
    """Where the CPU time of a run went; for sne-gateway, its main process apart."""
    if not run.parent:
        return f"  {name:<26} CPU {run.cpu:.2f} s"
    workers = run.cpu - run.parent
    return (
        f"  {name:<26} CPU {run.cpu:.2f} s: main process {run.parent:.2f} s, workers "
        f"{workers:.2f} s ({workers / documents * 1e3:.3f} ms a document)"
    )


def against_the_pipeline(rounds: int, directory: Path, archive: Path, megabytes: float) -> None:
    files = sorted(directory.glob("*.xml"))
    cores = len(os.sched_getaffinity(0))
    sne_gateway("--schema", "demande", str(files[0]))  # the bytecode cache and page cache
    print(f"Load average before: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    one, pipeline, ours = median_of(
        rounds,
        lambda: sne_gateway("--schema", "demande", str(files[0])),
        lambda: xmllint([], files),
        lambda: sne_gateway("--schema", "demande", str(directory)),
    )
    size = sum(file.stat().st_size for file in files) / 1e6
    print(
        f"A directory of {len(files)} documents ({size:.1f} MB), on {cores} cores, start-up included:"
    )
    print(line("xmllint --schema *.xml", len(files), size, pipeline.wall))
    print(line("sne-gateway validate DIR", len(files), size, ours.wall))
    print(
        f"  ratio sne-gateway / pipeline: {pipeline.wall / ours.wall:.2f}x (goal >= 1.5x on 2 cores)"
    )
    print(f"  sne-gateway's start-up (one document): {one.wall:.2f} s, CPU {one.cpu:.2f} s")
    print(cpu_line("xmllint", pipeline, len(files)))
    print(cpu_line("sne-gateway", ours, len(files)))
    scratch = archive.parent / "extracted"
    parts: list[tuple[Run, Run]] = []
    pipeline, ours = median_of(
        rounds,
        lambda: xmllint_pipeline(archive, scratch, parts),
        lambda: sne_gateway("--schema", "demande", str(archive)),
    )
    count = sum(1 for _ in scratch.rglob("*.xml"))
    extracting = statistics.median(part[0].wall for part in parts)
    validating = statistics.median(part[1].wall for part in parts)
    print(f"An XML TGZ export of {count} members ({megabytes:.1f} MB of XML), on {cores} cores:")
    print(line("tar -xzf, then xmllint", count, megabytes, pipeline.wall))
    print(f"    (medians: tar -xzf {extracting:.2f} s, xmllint {validating:.2f} s)")
    print(line("sne-gateway validate .tgz", count, megabytes, ours.wall))
    print(
        f"  ratio sne-gateway / pipeline: {pipeline.wall / ours.wall:.2f}x (goal >= 1.5x on 2 cores)"
    )
    tar_cpu = statistics.median(part[0].cpu for part in parts)
    print(cpu_line(f"tar -xzf ({tar_cpu:.2f} s), xmllint", pipeline, count))
    print(cpu_line("sne-gateway", ours, count))
    print(f"Load average after: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")


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


def xmllint(prefix: list[str], files: list[Path]) -> Run:
    run, errors = timed(
        [*prefix, "xmllint", "--noout", "--schema", str(SCHEMA_ENTRY), *map(str, files)]
    )
    if b" fails to validate" in errors:
        raise SystemExit("xmllint found invalid files: the benchmark needs valid ones")
    return run


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
    reference = xmllint(prefix, files).wall
    ours = engine(files)
    ratio = reference / ours
    print(f"{label}: {len(files)} documents, {megabytes:.1f} MB")
    print(line("xmllint --schema", len(files), megabytes, reference))
    print(line("sne-gateway engine", len(files), megabytes, ours))
    print(f"  ratio engine / xmllint: {ratio:.2f}x (goal >= 0.9x)")
    engine_stages(files)
    return ratio


def engine_stages(files: list[Path]) -> None:
    """The CPU time of each stage of validating a file, per document, as a worker does it."""
    schema_set = load_catalog(ROOT / "xsd").version("13.34")
    schema = schema_set.schema("demande")
    limits = Limits()
    stages = ("read", "parse", "XSD", "rules", "freeing the tree")
    spent = dict.fromkeys(stages, 0.0)
    clock = time.thread_time
    for file in files:
        started = clock()
        document = FileToRead(str(file), "demande").read(limits)
        read = clock()
        root = parse_xml(document.data, limits)
        parsed = clock()
        errors = schema.errors(root)
        validated = clock()
        schema_set.rules.check(root)
        checked = clock()
        del root
        freed = clock()
        times = (read - started, parsed - read, validated - parsed, checked - validated)
        for stage, seconds in zip(stages, (*times, freed - checked), strict=True):
            spent[stage] += seconds
        assert not errors
    print(
        "  the engine's CPU time a document: "
        + ", ".join(
            f"{stage} {seconds / len(files) * 1e6:.0f} us" for stage, seconds in spent.items()
        )
    )


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
    reference = xmllint(prefix, files).wall
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
    parser.add_argument(
        "--every-core-only",
        action="store_true",
        help="only the comparison with the xmllint pipeline on every core",
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
        if arguments.every_core_only:
            return
        prefix = pin_to_one_core()
        compare(f"15 KB application x {arguments.documents}", files, prefix)
        archive_run(prefix, archive, members)
    rule_stage(arguments.documents // 5)


if __name__ == "__main__":
    main()

"""`sne-gateway pays check` on a million country values (goal: under 30 s).

    uv run python bench/pays.py [--values 1000000] [--distinct 50000]

Writes a Windows-1252, semicolon-separated CSV export of `--values` rows whose `pays` column
is drawn from `--distinct` dirty values, as an editor's data holds them: COG names in other
cases, without accents, with typos (one letter changed, dropped or doubled), ISO codes, France
and overseas names, street names typed into the country field (every row holds a value). Then runs the command as a user does (a child process: start-up, encoding
detection, reading, judging, report) and prints its duration, and the share each status got.
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.rules.referential import SHIPPED_COG  # noqa: E402

OVERSEAS = ["Martinique", "Guadeloupe", "La Réunion", "Guyane", "Mayotte", "France", "FR"]
STREETS = ["place", "rue", "avenue", "venue", "chemin", "impasse", "allée"]
WORDS = [
    "vauban",
    "de l'église",
    "mollière",
    "du marché",
    "victor hugo",
    "des lilas",
    "jean jaurès",
]


def _bare(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _typo(name: str, rng: random.Random) -> str:
    position = rng.randrange(len(name))
    kind = rng.randrange(3)
    if kind == 0:
        return name[:position] + rng.choice("abcdefghijklmnopqrstuvwxyz") + name[position + 1 :]
    if kind == 1:
        return name[:position] + name[position + 1 :]
    return name[:position] + name[position] + name[position:]


def dirty_values(distinct: int, rng: random.Random) -> list[str]:
    with SHIPPED_COG.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    names = [row["name"] for row in rows] + [row["official_name"] for row in rows]
    codes = [row["iso2_code"] for row in rows if row["iso2_code"]]
    codes += [row["iso3_code"] for row in rows if row["iso3_code"]]
    values: set[str] = set()
    while len(values) < distinct:
        draw = rng.random()
        name = rng.choice(names)
        if draw < 0.35:
            value = rng.choice([name, name.upper(), name.lower(), _bare(name), _bare(name).upper()])
        elif draw < 0.65:
            value = _typo(rng.choice([name, _bare(name).lower()]), rng)
        elif draw < 0.75:
            value = rng.choice(codes)
        elif draw < 0.85:
            value = rng.choice(OVERSEAS) + rng.choice(["", " ", "."])
        else:
            value = f"{rng.choice(STREETS)} {rng.choice(WORDS)} {rng.randrange(1, 400)}"
        values.add(value.encode("cp1252", "replace").decode("cp1252"))
    return sorted(values)


def write_export(path: Path, count: int, values: list[str], rng: random.Random) -> None:
    # Skewed as real data is: a few values come back very often.
    weights = [1 / (rank + 1) for rank in range(len(values))]
    rng.shuffle(values)
    drawn = rng.choices(values, weights, k=count)
    with path.open("w", encoding="cp1252", errors="replace", newline="") as stream:
        writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
        writer.writerow(["id", "nom", "pays", "commune"])
        for number, value in enumerate(drawn, 1):
            writer.writerow([number, f"NOM {number}", value, "Ville"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--values", type=int, default=1_000_000)
    parser.add_argument("--distinct", type=int, default=50_000)
    arguments = parser.parse_args()
    rng = random.Random(2025)
    with tempfile.TemporaryDirectory() as temporary:
        export = Path(temporary) / "export.csv"
        started = time.perf_counter()
        write_export(export, arguments.values, dirty_values(arguments.distinct, rng), rng)
        print(
            f"export: {arguments.values:,} rows, {export.stat().st_size / 1e6:.1f} MB "
            f"(written in {time.perf_counter() - started:.1f} s)"
        )
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "gateway.cli.main", "pays", "check", "-q", str(export)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"pays check failed ({done.returncode}): {done.stderr}")
    print(done.stdout.rstrip())
    print(
        f"sne-gateway pays check: {seconds:.1f} s for {arguments.values:,} values "
        f"({arguments.values / seconds:,.0f} values/s; goal: under 30 s)"
    )


if __name__ == "__main__":
    main()

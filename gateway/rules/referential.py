"""Reading the country referential: a COG country export, checked line by line.

Two layouts are read, told apart by their header: INSEE's own (`v_pays_territoire_YYYY.csv`:
`COG`, `ACTUAL`, `CRPAY`, `ANI`, `LIBCOG`, `LIBENR`, `CODEISO2`, `CODEISO3`, `CODENUM3`) and the
shipped copy's English names (`code`, `actual_id`, `name`, `official_name`, `iso2_code`, ...),
comma- or semicolon-separated, UTF-8 (a byte-order mark allowed). A file that is not such an
export is refused with its name, the line and what is wrong there: the referential in service
then stays (`gateway.reload`).

Former countries (ACTUAL 2) are not accepted; France (99100) is refused whatever the file
says, with its overseas departments and collectivities (`data/france-outre-mer.csv`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from gateway.rules.countries import Country, CountryReferential

DATA = Path(__file__).resolve().parent / "data"
#: The COG country list shipped with the project (INSEE, COG 2025, Licence Ouverte 2.0).
SHIPPED_COG = DATA / "cog-pays-2025.csv"
FRANCE_AND_OVERSEAS = DATA / "france-outre-mer.csv"
FRANCE_CODE = "99100"
#: INSEE's file is about 25 KB and 280 lines: far larger is another file.
MAX_BYTES = 2 * 1024 * 1024
#: Each layout's column for: code, actual, name, official name, ISO alpha-2, alpha-3, numeric.
LAYOUTS = {
    "INSEE": ("COG", "ACTUAL", "LIBCOG", "LIBENR", "CODEISO2", "CODEISO3", "CODENUM3"),
    "english": (
        "code",
        "actual_id",
        "name",
        "official_name",
        "iso2_code",
        "iso3_code",
        "num3_code",
    ),
}
_KEYS = ("code", "actual", "name", "official_name", "iso2", "iso3", "num3")
_CHECKS = (
    ("code", re.compile(r"99\d{3}"), "a COG country code (99 and three digits)"),
    ("iso2", re.compile(r"([A-Z]{2})?"), "an ISO 3166 alpha-2 code (two capitals) or empty"),
    ("iso3", re.compile(r"([A-Z]{3})?"), "an ISO 3166 alpha-3 code (three capitals) or empty"),
    ("num3", re.compile(r"(\d{3})?"), "an ISO 3166 numeric code (three digits) or empty"),
    ("actual", re.compile(r"[1-4]"), "an ACTUAL code from 1 to 4"),
)
_FORMER = "2"


class ReferentialError(Exception):
    """A referential file that cannot be used: which file, which line and why."""

    def __init__(self, reason: str, file: Path, line: int | None = None) -> None:
        self.reason, self.file, self.line = reason, file, line
        where = f"{file}:{line}" if line else str(file)
        super().__init__(f"{where}: {reason}")


def _text(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except OSError as error:
        raise ReferentialError(f"cannot read the file: {error.strerror or error}", path) from None
    if len(data) > MAX_BYTES:
        raise ReferentialError(
            f"over {MAX_BYTES:,} bytes: not a COG country export (INSEE's is about 25 KB)", path
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReferentialError(
            "not UTF-8, as INSEE publishes the COG (was it saved in another encoding?)",
            path,
            data[: error.start].count(b"\n") + 1,
        ) from None


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str], dict[str, str]]]:
    """Each data row of the file with its line, as {key: value}, and {key: its column}."""
    text = _text(path)
    first = text.partition("\n")[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [column.strip() for column in next(reader, [])]
        for layout in LAYOUTS.values():
            if set(layout) <= set(header):
                positions = [header.index(column) for column in layout]
                break
        else:
            shown = ", ".join(header[:12]) or "nothing"
            raise ReferentialError(
                "not a COG country export: the header has neither INSEE's columns ("
                + ", ".join(LAYOUTS["INSEE"])
                + ") nor the shipped copy's ("
                + ", ".join(LAYOUTS["english"])
                + f"); found: {shown}",
                path,
                1,
            )
        columns = {key: header[position] for key, position in zip(_KEYS, positions, strict=True)}
        for row in reader:
            if not any(field.strip() for field in row):
                continue
            if len(row) != len(header):
                raise ReferentialError(
                    f"{len(row)} fields where the header has {len(header)}", path, reader.line_num
                )
            values = {
                key: row[position].strip() for key, position in zip(_KEYS, positions, strict=True)
            }
            yield reader.line_num, values, columns
    except csv.Error as error:
        raise ReferentialError(f"not readable as CSV: {error}", path, reader.line_num) from None


def read_cog(path: Path) -> list[Country]:
    """The countries and territories of a COG export, France and former countries left out.
    Raise `ReferentialError` naming the line of the first problem."""
    countries = []
    for line, row, columns in _rows(path):
        for key, pattern, expected in _CHECKS:
            if not pattern.fullmatch(row[key]):
                raise ReferentialError(
                    f"{columns[key]} is {row[key]!r}, not {expected}", path, line
                )
        if not row["name"]:
            raise ReferentialError(f"the country has no name ({columns['name']})", path, line)
        if row["actual"] == _FORMER or row["code"] == FRANCE_CODE:
            continue
        codes = tuple(c for c in (row["iso2"], row["iso3"], row["num3"], row["code"]) if c)
        countries.append(
            Country(
                row["name"],
                official_name=row["official_name"],
                codes=codes,
                current=row["actual"] == "1",
            )
        )
    if not countries:
        raise ReferentialError("not a COG country export: it lists no current country", path)
    return countries


def read_france_and_overseas(path: Path = FRANCE_AND_OVERSEAS) -> list[Country]:
    """France and its overseas departments and collectivities (the project's own file)."""
    with path.open(encoding="utf-8", newline="") as stream:
        return [
            Country(
                row["name"],
                kind="france" if row["kind"] == "france" else "overseas",
                other_names=tuple(name for name in row["other_names"].split("|") if name),
                codes=(row["iso2_code"], row["iso3_code"], row["code"]),
            )
            for row in csv.DictReader(stream)
        ]


def load_referential(path: Path | None = None) -> CountryReferential:
    """The referential of the COG export at `path` (the shipped one when None), France and
    its overseas parts refused. Raise `ReferentialError`."""
    cog = path or SHIPPED_COG
    return CountryReferential([*read_france_and_overseas(), *read_cog(cog)], cog)

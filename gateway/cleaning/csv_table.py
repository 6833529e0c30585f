"""An editor's CSV export, read for one column and written back with that column corrected.

Editors' exports come from spreadsheets and old systems: UTF-8 (with or without a byte-order
mark), UTF-16 with a mark (Excel's "Unicode text"), or Windows-1252 and Latin-1 (Excel's and
many SIs' default in France). The encoding is detected unless given: UTF-16 or UTF-8 when the
whole file decodes so, else Windows-1252, or Latin-1 where the file holds one of the five bytes
Windows-1252 leaves undefined. The delimiter is the one the header uses most among `,` `;`
tab and `|`. The first line is the header; the column is named (case-insensitively) or given
by its number, from 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CHUNK = 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
#: Bytes Windows-1252 does not define: a file holding one is Latin-1.
_CP1252_UNDEFINED = re.compile(b"[\x81\x8d\x8f\x90\x9d]")
#: How often (in rows) the reader reports its progress.
PROGRESS_ROWS = 16384


class CsvProblem(Exception):
    """A CSV input that cannot be read as asked: what, where and how to fix it."""


def _undecodable_line(path: Path, encoding: str) -> int | None:
    """The line of the first bytes of `path` that `encoding` cannot read; None if it reads
    them all."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 1
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return lines + chunk[: error.start].count(b"\n")
            lines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return lines
    return None


def detect_encoding(path: Path) -> str:
    """The encoding `path` is written in (see the module's docstring): one that reads it all."""
    with path.open("rb") as stream:
        start = stream.read(4)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if _undecodable_line(path, "utf-16") is None:
            return "utf-16"
    elif _undecodable_line(path, "utf-8") is None:
        return "utf-8-sig" if start.startswith(codecs.BOM_UTF8) else "utf-8"
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            if _CP1252_UNDEFINED.search(chunk):
                return "latin-1"
    return "cp1252"


def _delimiter(header: str) -> str:
    counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


@dataclass(frozen=True, slots=True)
class CsvTable:
    """A CSV file and how to read it: its encoding, delimiter, header and the column."""

    path: Path
    encoding: str
    delimiter: str
    header: tuple[str, ...]
    column: int
    #: The line ending of the header, kept when the file is written back.
    newline: str

    @property
    def column_name(self) -> str:
        return self.header[self.column] or f"column {self.column + 1}"

    def rows(
        self, progress: Callable[[int], None] | None = None
    ) -> Iterator[tuple[int, list[str]]]:
        """Each data row with the line it starts on. `progress` gets the bytes read so far,
        now and then. Raise `CsvProblem` at a line the CSV reader or the decoder refuses."""
        with (
            self.path.open("rb") as raw,
            io.TextIOWrapper(raw, encoding=self.encoding, newline="") as stream,
        ):
            reader = csv.reader(stream, delimiter=self.delimiter)
            line = 1
            try:
                next(reader, None)
                line = reader.line_num + 1
                for count, row in enumerate(reader, 1):
                    yield line, row
                    line = reader.line_num + 1
                    if progress is not None and count % PROGRESS_ROWS == 0:
                        progress(raw.tell())
            except csv.Error as error:
                raise CsvProblem(f"{self.path}:{line}: not readable as CSV: {error}") from None
            except UnicodeDecodeError:
                bad = _undecodable_line(self.path, self.encoding) or line
                raise CsvProblem(
                    f"{self.path}:{bad}: not {self.encoding}; give the file's encoding with "
                    "--encoding (e.g. utf-8, cp1252, latin-1)"
                ) from None

    def values(self, progress: Callable[[int], None] | None = None) -> Iterator[tuple[str, int]]:
        """The column's value on each row (empty where a row is too short to have it), with
        the row's line."""
        column = self.column
        for line, row in self.rows(progress):
            yield (row[column] if column < len(row) else ""), line


def open_table(
    path: Path, column: str, encoding: str | None = None, delimiter: str | None = None
) -> CsvTable:
    """The table at `path`, its `column` found in the header. Raise `CsvProblem`."""
    if not column.strip():
        raise CsvProblem("--column is empty: give the name of the column (or its number)")
    try:
        chosen = encoding or detect_encoding(path)
        codecs.lookup(chosen)
    except LookupError:
        raise CsvProblem(f"unknown encoding {encoding!r} (e.g. utf-8, cp1252, latin-1)") from None
    except OSError as error:
        raise CsvProblem(f"{path}: {error.strerror or error}") from None
    try:
        with path.open(encoding=chosen, newline="") as stream:
            first = stream.readline()
    except UnicodeDecodeError:
        bad = _undecodable_line(path, chosen) or 1
        raise CsvProblem(
            f"{path}:{bad}: not {chosen}; give the file's encoding with --encoding"
        ) from None
    if not first.strip():
        raise CsvProblem(f"{path}: empty file, or an empty first line where the header goes")
    newline = "\r\n" if first.endswith("\r\n") else "\n"
    separator = delimiter or _delimiter(first)
    if len(separator) != 1:
        raise CsvProblem(f"--delimiter must be one character, not {separator!r}")
    header = tuple(next(csv.reader([first], delimiter=separator)))
    names = [name.strip().lower() for name in header]
    if column.strip().lower() in names:
        index = names.index(column.strip().lower())
    elif column.isdigit() and 1 <= int(column) <= len(header):
        index = int(column) - 1
    else:
        shown = ", ".join(repr(name) for name in header[:20])
        raise CsvProblem(
            f"{path}: no column {column!r} in the header (read as {chosen}, separated by "
            f"{separator!r}): {shown}; give --column a name from it, or a number from 1 to "
            f"{len(header)}"
        )
    return CsvTable(path, chosen, separator, header, index, newline)


def write_table(
    table: CsvTable,
    output: IO[str],
    corrected: Callable[[int, str], str | None],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write `table` to `output` with the value of its column on each row replaced by
    `corrected(line, value)` where that is not None; every other field as read."""
    writer = csv.writer(output, delimiter=table.delimiter, lineterminator=table.newline)
    writer.writerow(table.header)
    column = table.column
    for line, row in table.rows(progress):
        if column < len(row) and (replacement := corrected(line, row[column])) is not None:
            row[column] = replacement
        writer.writerow(row)

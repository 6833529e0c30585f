"""Documents named on a command line: files, directories, TGZ archives and standard input.

`iter_sources` lists them without reading files (a `FileToRead` each), so that whoever
validates a file reads it: a worker process reads its own rather than receiving its bytes.
`iter_inputs` yields them read.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from gateway.extract.archive import XML_SUFFIX, ArchiveError, iter_archive
from gateway.extract.document import Document, SchemaChoice
from gateway.filenames import printable
from gateway.limits import Limits
from gateway.parse import too_large

STDIN = "-"
ARCHIVE_SUFFIXES = (".tgz", ".tar.gz")
#: What `Path.is_file` takes for "not a file" rather than an error (a broken or looping link).
_NOT_A_FILE = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


class InputError(Exception):
    """A path that cannot be read: missing, unreadable, or of an unknown kind."""


@dataclass(frozen=True, slots=True)
class FileToRead:
    """A file to validate, not read yet: `path` as it is shown (`Path`'s spelling)."""

    path: str
    schema: SchemaChoice = None

    def read(self, limits: Limits) -> Document:
        """The file's document (`limits.size` above `limits.max_bytes`, without reading it);
        raises `InputError` when it cannot be read."""
        source = printable(self.path)
        try:
            size = os.stat(self.path).st_size
            if size > limits.max_bytes:
                return Document(source, schema=self.schema, problem=too_large(limits))
            # os.read rather than a file object (half the time for a 15 KB file), as much as
            # the file holds rather than the limit (asking for the limit allocates it).
            descriptor = os.open(self.path, os.O_RDONLY)
            try:
                data = _read(descriptor, size + 1)
                if len(data) > size:  # it grew since: read on, as far as the limit
                    data += _read(descriptor, limits.max_bytes + 1 - len(data))
            finally:
                os.close(descriptor)
        except OSError as error:
            raise InputError(f"{source}: {error.strerror or error}") from None
        if len(data) > limits.max_bytes:
            return Document(source, schema=self.schema, problem=too_large(limits))
        return Document(source, data, self.schema)

    def __reduce__(self) -> tuple[type[FileToRead], tuple[str, SchemaChoice]]:
        # Sent to worker processes by the thousand: a plain call pickles in a third of the
        # time a frozen dataclass's field-by-field state takes.
        return FileToRead, (self.path, self.schema)


def _read(descriptor: int, count: int) -> bytes:
    """Up to `count` bytes, fewer only at the end of the file."""
    chunks = []
    while count > 0:
        chunk = os.read(descriptor, count)
        if not chunk:
            break
        chunks.append(chunk)
        count -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def check_inputs(paths: Sequence[str]) -> None:
    """Fail before any work when a path does not exist."""
    for path in paths:
        if path != STDIN and not Path(path).exists():
            raise InputError(f"{printable(path)}: no such file or directory")


def _read_bounded(stream: IO[bytes], source: str, limits: Limits, schema: str | None) -> Document:
    data = stream.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        return Document(source, schema=schema, problem=too_large(limits))
    return Document(source, data, schema)


def _is_xml_name(name: str) -> bool:
    # `Path.suffix`'s reading: from the last dot, unless it is the first character or the last.
    dot = name.rfind(".")
    return 0 < dot < len(name) - 1 and name[dot:].lower() == XML_SUFFIX


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError as error:
        if error.errno in _NOT_A_FILE:
            return False
        raise


def xml_files(directory: Path) -> Iterator[str]:
    """The `*.xml` files under `directory` (any case of the suffix), recursively, as
    `directory.rglob` spells and finds them (links to directories are not followed, an
    unreadable directory is passed over) and in the order their paths sort, part by part.
    Each directory is listed once, with `os.scandir` (a fifth of the time `rglob` takes)."""
    top = str(directory)
    yield from _walk(top, "" if top == "." else top if top.endswith("/") else top + "/")


def _walk(directory: str, prefix: str) -> Iterator[str]:
    try:
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except PermissionError:
        return
    # Sorting each directory's names and going down in that order is sorting the paths part
    # by part: a directory's files all come at its name's place.
    for entry in entries:
        path = prefix + entry.name
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path, path + "/")
        elif _is_xml_name(entry.name) and _is_file(entry):
            yield path


def iter_sources(
    paths: Sequence[str],
    limits: Limits,
    schema: str | None = None,
    stdin: IO[bytes] | None = None,
) -> Iterator[Document | FileToRead]:
    """Yield every document under `paths`, in order: a directory's `*.xml` files recursively
    (see `xml_files`) and the files named, unread (`FileToRead`); each `.xml` member of a
    `.tgz`/`.tar.gz` archive (streamed), `-` for stdin. A broken archive yields, after the
    members read before the break, a document named after the archive whose problem is
    `archive.corrupt` or `archive.truncated`; the paths after it are still read. Raises
    `InputError` for a path that cannot be read."""
    for name in paths:
        if name == STDIN:
            yield _read_bounded(stdin or sys.stdin.buffer, "<stdin>", limits, schema)
            continue
        path = Path(name)
        if path.is_dir():
            try:
                for file in xml_files(path):
                    yield FileToRead(file, schema)
            except OSError as error:
                raise InputError(f"{printable(path)}: {error.strerror or error}") from None
        elif is_archive(path):
            try:
                with path.open("rb") as stream:
                    yield from iter_archive(stream, printable(path), limits, schema)
            except ArchiveError as error:
                yield Document(printable(path), schema=schema, problem=error.violation)
            except OSError as error:
                raise InputError(f"{printable(path)}: {error.strerror or error}") from None
        elif path.is_file():
            yield FileToRead(str(path), schema)
        elif path.exists():
            raise InputError(
                f"{printable(path)}: not a file or a directory (a device or a pipe?); "
                "to validate what a command writes, pipe it in and give - as the path"
            )
        else:
            raise InputError(f"{printable(path)}: no such file or directory")


def iter_inputs(
    paths: Sequence[str],
    limits: Limits,
    schema: str | None = None,
    stdin: IO[bytes] | None = None,
) -> Iterator[Document]:
    """The documents of `iter_sources`, files read."""
    for source in iter_sources(paths, limits, schema, stdin):
        yield source.read(limits) if isinstance(source, FileToRead) else source

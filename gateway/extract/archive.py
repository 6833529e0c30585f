"""XML TGZ archives (SNE exports): each `.xml` member is a document, read one at a time.

The archive is read as a stream (`tarfile` mode `r|`), so a multi-GB export needs memory for
one member only, and members above the size limit are skipped without being held in memory.
gzip is decompressed by `gzip.GzipFile`, which (unlike tarfile's own stream mode) checks the
gzip trailer, so a truncated download is reported instead of looking like a shorter archive.
"""

from __future__ import annotations

import gzip
import tarfile
import zlib
from collections.abc import Iterator
from typing import IO

from gateway.extract.document import Document
from gateway.limits import Limits
from gateway.parse import too_large
from gateway.violation import Violation, ViolationError

XML_SUFFIX = ".xml"


class ArchiveError(ViolationError):
    """The archive cannot be read (any further): `violation` says why and where."""


def iter_archive(
    stream: IO[bytes], name: str, limits: Limits, schema: str | None = None
) -> Iterator[Document]:
    """Yield a `Document` per `.xml` member of the gzip-compressed tar `stream`.

    Raises `ArchiveError` with code `archive.corrupt` when `stream` is not a tar archive, and
    `archive.truncated` when it ends or breaks in the middle, after the members read so far.
    """
    last = None
    try:
        with (
            gzip.GzipFile(fileobj=stream, mode="rb") as unzipped,
            tarfile.open(fileobj=unzipped, mode="r|") as archive,
        ):
            for member in archive:
                # tarfile remembers every member it has read, even in stream mode: forget them,
                # or memory grows with the size of the export.
                archive.members.clear()
                last = member.name
                if not member.isfile() or not member.name.lower().endswith(XML_SUFFIX):
                    continue
                # Member names come from the archive: no control character reaches a terminal
                # or a report.
                printable = "".join(
                    c if c.isprintable() else f"\\x{ord(c):02x}" for c in member.name
                )
                source = f"{name}!{printable}"
                if member.size > limits.max_bytes:
                    yield Document(source, schema=schema, problem=too_large(limits))
                    continue
                content = archive.extractfile(member)
                data = content.read() if content is not None else b""
                if len(data) < member.size:
                    raise EOFError
                yield Document(source, data, schema)
            while unzipped.read(1 << 16):
                pass
    except (tarfile.ReadError, gzip.BadGzipFile) as error:
        if last is None:
            raise ArchiveError(
                Violation(
                    "archive.corrupt",
                    f"{name} is not a readable tar archive ({error}).",
                )
            ) from None
        raise ArchiveError(_truncated(name, last)) from None
    except (EOFError, zlib.error, OSError, tarfile.TarError):
        raise ArchiveError(_truncated(name, last)) from None


def _truncated(name: str, last: str | None) -> Violation:
    after = f" after member {last}" if last else ""
    return Violation(
        "archive.truncated",
        f"{name} is truncated or corrupt{after}; the members up to that point were read.",
    )

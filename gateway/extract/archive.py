"""XML TGZ archives (SNE exports): each `.xml` member is a document, read one at a time.

The archive is read as a stream (`tarfile` mode `r|`), so a multi-GB export needs memory for
one member only, and members above the size limit are skipped without being held in memory.
gzip is decompressed by `gzip.GzipFile`, which (unlike tarfile's own stream mode) checks the
gzip trailer, so a truncated download is reported instead of looking like a shorter archive.

Two of tarfile's habits are kept in check, as a 1 KB archive could otherwise hold the reader
for hours or take gigabytes: members not read are read past in chunks (tarfile's stream
"seek" reads block after block up to the size a header claims, even past the end of the
data), and extended headers (GNU long names, PAX) are refused above `MAX_EXTENDED_HEADER`
(tarfile reads them whole into memory).
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
#: Far above any real long name or PAX record (a few hundred bytes).
MAX_EXTENDED_HEADER = 1024 * 1024
_EXTENDED_HEADER_TYPES = frozenset(
    {
        tarfile.GNUTYPE_LONGNAME,
        tarfile.GNUTYPE_LONGLINK,
        tarfile.XHDTYPE,
        tarfile.XGLTYPE,
        tarfile.SOLARIS_XHDTYPE,
    }
)
_SKIP_CHUNK = 1 << 16


class ArchiveError(ViolationError):
    """The archive cannot be read (any further): `violation` says why and where."""


class _ExtendedHeaderTooLarge(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


class _BoundedTarInfo(tarfile.TarInfo):
    def _proc_member(self, tarfile: tarfile.TarFile) -> tarfile.TarInfo:  # type: ignore[override]
        if self.type in _EXTENDED_HEADER_TYPES and self.size > MAX_EXTENDED_HEADER:
            raise _ExtendedHeaderTooLarge(self.size)
        return super()._proc_member(tarfile)  # type: ignore[misc]


def _read_past(archive: tarfile.TarFile) -> None:
    """Read, in chunks, up to the header after the member just returned: the bytes the archive
    stores for it, checking they are there (a sparse member's holes are not generated)."""
    left = archive.offset - archive.fileobj.tell()  # type: ignore[union-attr]
    while left > 0:
        chunk = archive.fileobj.read(min(left, _SKIP_CHUNK))  # type: ignore[union-attr]
        if not chunk:
            raise EOFError
        left -= len(chunk)


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
            tarfile.open(fileobj=unzipped, mode="r|", tarinfo=_BoundedTarInfo) as archive,
        ):
            for member in archive:
                # tarfile remembers every member it has read, even in stream mode: forget them,
                # or memory grows with the size of the export.
                archive.members.clear()
                last = member.name
                if not member.isfile() or not member.name.lower().endswith(XML_SUFFIX):
                    _read_past(archive)
                    continue
                # Member names come from the archive: no control character reaches a terminal
                # or a report.
                printable = "".join(
                    c if c.isprintable() else f"\\x{ord(c):02x}" for c in member.name
                )
                source = f"{name}!{printable}"
                if member.size > limits.max_bytes:
                    _read_past(archive)
                    yield Document(source, schema=schema, problem=too_large(limits))
                    continue
                content = archive.extractfile(member)
                data = content.read() if content is not None else b""
                if len(data) < member.size:
                    raise EOFError
                yield Document(source, data, schema)
            while unzipped.read(1 << 16):
                pass
    except _ExtendedHeaderTooLarge as refused:
        after = f" after member {last}" if last else ""
        raise ArchiveError(
            Violation(
                "archive.corrupt",
                f"{name}: an extended header (a GNU long name or PAX record){after} claims "
                f"{refused.size:,} bytes, over the {MAX_EXTENDED_HEADER:,} any real archive "
                "needs; the archive is refused without reading it.",
            )
        ) from None
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

"""XML TGZ archives (SNE exports): each `.xml` member is a document, read one at a time.

The archive is read as a stream (`tarfile` mode `r|`), so a multi-GB export needs memory for
one member only, and members above the size limit are skipped without being held in memory.
gzip is decompressed by `gzip.GzipFile`, which (unlike tarfile's own stream mode) checks the
gzip trailer, so a truncated download is reported instead of looking like a shorter archive.

Two of tarfile's habits are kept in check, as a 1 KB archive could otherwise hold the reader
for hours or take gigabytes: members not read are read past in chunks (tarfile's stream
"seek" reads block after block up to the size a header claims, even past the end of the
data), and extended headers (GNU long names, PAX) are refused above `MAX_EXTENDED_HEADER`
(tarfile reads them whole into memory), or when more than `MAX_EXTENDED_HEADERS_IN_A_ROW`
follow each other (tarfile reads each with a recursive call, holding all of them).

What GNU tar or Apache commons-compress would extract must not escape validation:

- a tar header that fails to parse (a bad checksum) is `archive.corrupt`: tarfile would end
  the archive there without a word, while GNU tar skips to the next header and extracts the
  members after it; so is a negative size (tarfile would end the archive or go back);
- a member of a type tarfile does not know (`Z`, ...) is validated as a regular file: its data
  is stored like one, and GNU tar extracts it as one;
- GNU sparse members (old `S` headers, PAX `GNU.sparse.*` records) are `archive.corrupt`, refused
  before tarfile reads their sparse maps (which it parses without bounds or checks): no SNE
  export holds one.
- a hard or symbolic link named `.xml` is `archive.link`, a problem of that member: extracted,
  it reads as its target (any member, `.xml` or not, or a file outside the archive), which is
  not validated under the link's name;
- a name ending in `/` (`q.xml/`) is read without it, as GNU tar extracts it;
- a member of any kind whose name would extract elsewhere than it reads (absolute, with a `..`
  segment, a trailing space or dot, a backslash...), or a link to a path outside the
  extraction directory, is `archive.unsafe-name`, a problem of that member
  (`gateway.extract.member_name`).

Any other error tarfile raises on a malformed header is `archive.corrupt` too: a hostile
archive ends in an `ArchiveError`, never in an uncaught exception.
"""

from __future__ import annotations

import gzip
import tarfile
import zlib
from collections.abc import Iterator
from typing import IO, Any

from gateway.extract.document import Document, SchemaChoice
from gateway.extract.extractor import StreamingExtractor
from gateway.extract.member_name import unsafe_link, unsafe_name
from gateway.limits import Limits
from gateway.parse import too_large
from gateway.violation import Violation, ViolationError

XML_SUFFIX = ".xml"
ARCHIVE_TYPES = frozenset(
    {
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-gtar",
        "application/x-compressed-tar",
        "application/tar+gzip",
    }
)
#: Far above any real long name or PAX record (a few hundred bytes), and above the global PAX
#: records of a whole archive.
MAX_EXTENDED_HEADER = 1024 * 1024
#: A real member has at most a PAX header, a long name and a long link name before it.
MAX_EXTENDED_HEADERS_IN_A_ROW = 8
#: Global PAX records apply to every member that follows (`git archive` writes one).
MAX_GLOBAL_RECORDS = 64
_EXTENDED_HEADER_TYPES = frozenset(
    {
        tarfile.GNUTYPE_LONGNAME,
        tarfile.GNUTYPE_LONGLINK,
        tarfile.XHDTYPE,
        tarfile.XGLTYPE,
        tarfile.SOLARIS_XHDTYPE,
    }
)
_SPARSE_RECORD = "GNU.sparse."
_SKIP_CHUNK = 1 << 16


class ArchiveError(ViolationError):
    """The archive cannot be read (any further): `violation` says why and where."""


class _Refused(Exception):
    """A header the archive is refused for (`archive.corrupt`); `message` says which."""

    def message(self, name: str, after: str) -> str:
        raise NotImplementedError


class _ExtendedHeaderTooLarge(_Refused):
    def __init__(self, size: int) -> None:
        self.size = size

    def message(self, name: str, after: str) -> str:
        return (
            f"{name}: an extended header (a GNU long name or PAX record){after} claims "
            f"{self.size:,} bytes, over the {MAX_EXTENDED_HEADER:,} any real archive needs; the "
            "archive is refused without reading it."
        )


class _TooManyExtendedHeaders(_Refused):
    def message(self, name: str, after: str) -> str:
        return (
            f"{name}: more than {MAX_EXTENDED_HEADERS_IN_A_ROW} extended headers (GNU long "
            f"names or PAX records) in a row{after}; the archive is refused."
        )


class _GlobalRecordsTooMany(_Refused):
    def __init__(self, count: int, size: int) -> None:
        self.count, self.size = count, size

    def message(self, name: str, after: str) -> str:
        return (
            f"{name}: global PAX records{after} add up to {self.count:,} records of "
            f"{self.size:,} bytes, over the {MAX_GLOBAL_RECORDS} records and "
            f"{MAX_EXTENDED_HEADER:,} bytes any real archive needs; the archive is refused."
        )


class _SparseMember(_Refused):
    def __init__(self, member: str) -> None:
        self.member = member

    def message(self, name: str, after: str) -> str:
        return (
            f"{name}: member {_printable(self.member)}{after} is a GNU sparse file, which no SNE "
            "export holds; the archive is refused without reading its sparse map."
        )


class _DamagedHeader(_Refused):
    def __init__(self, offset: int, reason: str) -> None:
        self.offset, self.reason = offset, reason

    def message(self, name: str, after: str) -> str:
        return (
            f"{name}: the tar header at byte {self.offset:,}{after} is damaged ({self.reason}); "
            "GNU tar would skip it and extract the members that follow, so the archive is "
            "refused."
        )


class _BoundedTarInfo(tarfile.TarInfo):
    """tarfile's header parsing, with the checks above. Every header goes through
    `fromtarfile` (extended headers call it again for the header they extend), then
    `_proc_member`."""

    @classmethod
    def fromtarfile(cls, archive: tarfile.TarFile) -> tarfile.TarInfo:  # type: ignore[override]
        start = archive.fileobj.tell()
        depth: int = getattr(archive, "_extended_depth", 0)
        if depth > MAX_EXTENDED_HEADERS_IN_A_ROW:
            raise _TooManyExtendedHeaders
        archive._extended_depth = depth + 1  # type: ignore[attr-defined]
        try:
            member = super().fromtarfile(archive)
        except tarfile.InvalidHeaderError as error:  # type: ignore[attr-defined]  # not in typeshed
            # At byte 0, not a tar archive at all: tarfile says so (`ReadError`).
            if start == 0:
                raise
            raise _DamagedHeader(start, str(error)) from None
        finally:
            archive._extended_depth = depth  # type: ignore[attr-defined]
        if member.size < 0:  # set by a PAX record
            raise _DamagedHeader(start, "negative size")
        return member

    def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        if self.size < 0:
            raise _DamagedHeader(self.offset, "negative size")
        if self.type in _EXTENDED_HEADER_TYPES and self.size > MAX_EXTENDED_HEADER:
            raise _ExtendedHeaderTooLarge(self.size)
        if self.type == tarfile.GNUTYPE_SPARSE:
            # Before `_proc_sparse`, which reads extension blocks of sparse map for as long as
            # they say another follows.
            raise _SparseMember(self.name)
        member = super()._proc_member(archive)  # type: ignore[misc]
        if self.type == tarfile.XGLTYPE:
            # Global records add up from header to header, and tarfile applies them all to
            # every member.
            records = archive.pax_headers
            size = sum(len(key) + len(value) for key, value in records.items())
            if len(records) > MAX_GLOBAL_RECORDS or size > MAX_EXTENDED_HEADER:
                raise _GlobalRecordsTooMany(len(records), size)
        return member

    # PAX sparse formats 0.0, 0.1 and 1.0: refused before their map is parsed (1.0 reads it
    # from the member's data, as many numbers as its first line says). What follows the member
    # varies between Python versions.
    def _proc_gnusparse_00(self, member: tarfile.TarInfo, *_: Any) -> None:
        raise _SparseMember(member.name)

    def _proc_gnusparse_01(
        self, member: tarfile.TarInfo, pax_headers: dict[str, str], *_: Any
    ) -> None:
        raise _SparseMember(_sparse_name(member, pax_headers))

    def _proc_gnusparse_10(
        self, member: tarfile.TarInfo, pax_headers: dict[str, str], *_: Any
    ) -> None:
        raise _SparseMember(_sparse_name(member, pax_headers))

    def _apply_pax_info(self, pax_headers: dict[str, str], encoding: str, errors: str) -> None:
        # Any other `GNU.sparse.*` record (`GNU.sparse.realsize` alone, in a global header...).
        if any(key.startswith(_SPARSE_RECORD) for key in pax_headers):
            raise _SparseMember(_sparse_name(self, pax_headers))
        super()._apply_pax_info(pax_headers, encoding, errors)  # type: ignore[misc]


def _sparse_name(member: tarfile.TarInfo, pax_headers: dict[str, str]) -> str:
    return pax_headers.get("GNU.sparse.name") or pax_headers.get("path") or member.name


def _printable(name: str) -> str:
    """Member names come from the archive: no control character reaches a terminal or a
    report."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in name)


def _stored_as_file(member: tarfile.TarInfo) -> bool:
    """A regular file, or a type tarfile does not know: GNU tar extracts those as regular
    files (commons-compress calls them files), and tarfile reads past their data as a file's."""
    return member.isfile() or member.type not in tarfile.SUPPORTED_TYPES


def _read_past(archive: tarfile.TarFile) -> None:
    """Read, in chunks, up to the header after the member just returned: the bytes the archive
    stores for it, checking they are there."""
    left = archive.offset - archive.fileobj.tell()
    while left > 0:
        chunk = archive.fileobj.read(min(left, _SKIP_CHUNK))
        if not chunk:
            raise EOFError
        left -= len(chunk)


def iter_archive(
    stream: IO[bytes], name: str, limits: Limits, schema: SchemaChoice = None
) -> Iterator[Document]:
    """Yield a `Document` per `.xml` member of the gzip-compressed tar `stream`.

    Raises `ArchiveError` with code `archive.corrupt` when `stream` is not a tar archive or
    has a header it refuses, and `archive.truncated` when it ends or breaks in the middle,
    after the members read so far.
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
                archive.members.clear()  # type: ignore[attr-defined]  # not in typeshed
                last = _printable(member.name)
                # GNU tar drops a trailing '/' from a file's or a link's name.
                named_xml = member.name.rstrip("/").lower().endswith(XML_SUFFIX)
                link = member.islnk() or member.issym()
                unsafe = unsafe_name(member.name) or (
                    unsafe_link(member.name, member.linkname, member.issym())
                    if link and not named_xml
                    else None
                )
                if unsafe:
                    _read_past(archive)
                    yield Document(
                        f"{name}!{last}",
                        schema=schema,
                        problem=Violation("archive.unsafe-name", unsafe),
                    )
                    continue
                if link:
                    _read_past(archive)
                    if named_xml:
                        yield Document(f"{name}!{last}", schema=schema, problem=_link(member))
                    continue
                if not _stored_as_file(member) or not named_xml:
                    _read_past(archive)
                    continue
                source = f"{name}!{last}"
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
    except _Refused as refused:
        after = f" after member {last}" if last else ""
        raise ArchiveError(Violation("archive.corrupt", refused.message(name, after))) from None
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
    except (ValueError, LookupError, TypeError, ArithmeticError, RecursionError) as error:
        # What tarfile itself raises on a header it cannot make sense of.
        after = f" after member {last}" if last else ""
        raise ArchiveError(
            Violation(
                "archive.corrupt",
                f"{name}: a tar header{after} cannot be read ({type(error).__name__}); the "
                "archive is refused.",
            )
        ) from None


def _link(member: tarfile.TarInfo) -> Violation:
    kind = "hard" if member.islnk() else "symbolic"
    return Violation(
        "archive.link",
        f"The member is a {kind} link to {_printable(member.linkname)!r}: extracted, it reads "
        "as that target's content, which is not validated as this member. An SNE export holds "
        "regular files only.",
    )


def _truncated(name: str, last: str | None) -> Violation:
    after = f" after member {last}" if last else ""
    return Violation(
        "archive.truncated",
        f"{name} is truncated or corrupt{after}; the members up to that point were read.",
    )


#: An export is validated member by member while it streams on to the client.
TGZ = StreamingExtractor(name="tgz", media_types=ARCHIVE_TYPES, documents=iter_archive)

"""Reading exports: member by member, with memory that does not grow with the member count;
hostile or malformed archives end in an `ArchiveError`, and nothing GNU tar would extract
escapes validation."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gzip
import io
import tarfile
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.extract.archive import TGZ, ArchiveError, iter_archive
from gateway.extract.document import Document
from gateway.extract.extractor import StreamingExtractor
from gateway.extract.member_name import unsafe_link, unsafe_name
from gateway.limits import Limits
from gateway.proxy import archive_stream
from gateway.proxy.archive_stream import ArchiveCheck
from gateway.violation import DocumentReport

ARCHIVES = Path(__file__).resolve().parent.parent / "fixtures" / "archives"

MEMBERS = 20_000


def test_memory_does_not_grow_with_the_number_of_members() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for index in range(MEMBERS):
            data = b"<a/>"
            info = tarfile.TarInfo(f"CERFA/{index:06d}.xml")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_archive(buffer, "export.tgz", Limits()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == MEMBERS
    # tarfile alone would keep every member's TarInfo (about 0.5 KB each, 10 MB here).
    assert peak < 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("fixture", "code", "message"),
    [
        (
            "claims-1tb-member.tgz",
            "archive.truncated",
            "x.tgz is truncated or corrupt after member CERFA/huge.xml; the members up to that "
            "point were read.",
        ),
        (
            "claims-600mb-long-name.tgz",
            "archive.corrupt",
            "x.tgz: an extended header (a GNU long name or PAX record) after member "
            "CERFA/demande-minimal.xml claims 629,145,600 bytes, over the 1,048,576 any real "
            "archive needs; the archive is refused without reading it.",
        ),
    ],
)
def test_headers_claiming_more_than_there_is_end_the_archive_at_once(
    fixture: str, code: str, message: str
) -> None:
    tracemalloc.start()
    read = []
    try:
        with pytest.raises(ArchiveError) as refused:
            for document in iter_archive(
                io.BytesIO((ARCHIVES / fixture).read_bytes()), "x.tgz", Limits()
            ):
                read.append(document.source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read == ["x.tgz!CERFA/demande-minimal.xml"]
    assert (refused.value.violation.code, refused.value.violation.message) == (code, message)
    assert peak < 2 * 1024 * 1024


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(tarfile.GNU_FORMAT)


def test_a_member_not_validated_is_read_past_by_what_the_archive_holds() -> None:
    """A README claiming 1 TB that is not there ends the archive at once."""
    claims = gzip.compress(_header("README.txt", 10**12))
    with pytest.raises(ArchiveError) as refused:
        list(iter_archive(io.BytesIO(claims), "x.tgz", Limits()))
    assert refused.value.violation.code == "archive.truncated"


def _member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type, info.mode = len(data), kind, 0o644
    return info.tobuf(tarfile.GNU_FORMAT) + data + b"\0" * (-len(data) % tarfile.BLOCKSIZE)


def _pax(records: dict[str, str], kind: bytes = tarfile.XHDTYPE) -> bytes:
    """A PAX extended header (`x`, or `g` for global records) and its records."""
    data = b""
    for key, value in records.items():
        body = f" {key}={value}\n".encode()
        length = len(body)
        while len(str(length)) + len(body) != length:  # the length counts its own digits
            length += 1
        data += str(length).encode() + body
    return _member("././@PaxHeader", data, kind)


def _old_sparse(name: str, extended: bool) -> bytes:
    """An old GNU sparse header (`S`) with one sparse entry, `isextended` as given."""
    info = tarfile.TarInfo(name)
    info.size, info.type = 512, tarfile.GNUTYPE_SPARSE
    block = bytearray(info.tobuf(tarfile.GNU_FORMAT))
    block[386:410] = b"%011o\0%011o\0" % (0, 512)
    block[482] = int(extended)
    block[483:495] = b"%011o\0" % 10**9
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


FIRST = _member("CERFA/a.xml", b"<a/>")
SECOND = _member("CERFA/b.xml", b"<b/>")
END = b"\0" * 2 * tarfile.BLOCKSIZE
SPARSE = (
    "x.tgz: member CERFA/s.xml after member CERFA/a.xml is a GNU sparse file, which no SNE "
    "export holds; the archive is refused without reading its sparse map."
)
#: An extension block of an old sparse header: 21 entries, and "another block follows".
_EXTENSION = (b"%011o\0%011o\0" % (1, 1)) * 21 + b"\1" + b"\0" * 7


def _read(tar: bytes) -> tuple[list[str], ArchiveError | None, int]:
    """What `iter_archive` yields of the gzip-compressed `tar`, the error it ends in, and its
    peak memory."""
    read = []
    tracemalloc.start()
    try:
        try:
            for document in iter_archive(io.BytesIO(gzip.compress(tar)), "x.tgz", Limits()):
                read.append(document.source)
        except ArchiveError as error:
            return read, error, tracemalloc.get_traced_memory()[1]
        return read, None, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "sparse",
    [
        # PAX 1.0: the map is the member's data, a count then numbers, one a line.
        _pax({"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "CERFA/s.xml"})
        + _member("CERFA/GNUSparseFile.0/s.xml", b"no digits, no newline"),
        _pax({"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "CERFA/s.xml"})
        + _member("CERFA/GNUSparseFile.0/s.xml", b"1000000000000000\n" + b"1\n" * 5000),
        # PAX 0.0 and 0.1, and a record tarfile applies alone.
        _pax({"GNU.sparse.size": "x"}) + _member("CERFA/s.xml"),
        _pax({"GNU.sparse.map": "a,b"}) + _member("CERFA/s.xml"),
        _pax({"GNU.sparse.realsize": "x"}) + _member("CERFA/s.xml"),
        # Old GNU `S` headers: an extension block announced at the end of the file, and a
        # chain of them (tarfile reads them all, for as long as each says another follows).
        _old_sparse("CERFA/s.xml", extended=True),
        _old_sparse("CERFA/s.xml", extended=True) + _EXTENSION * 4000,
    ],
    ids=[
        "pax-1.0-no-digits",
        "pax-1.0-1e15-entries",
        "pax-0.0-size-x",
        "pax-0.1-map-a-b",
        "realsize-x",
        "old-extended-at-end",
        "old-extension-chain",
    ],
)
def test_sparse_members_are_refused_without_reading_their_map(sparse: bytes) -> None:
    """tarfile parses sparse maps without checks or bounds (ValueError, IndexError, maps of
    10^15 entries): no SNE export holds a sparse file, so the archive is refused there."""
    read, error, peak = _read(FIRST + sparse + SECOND + END)
    assert read == ["x.tgz!CERFA/a.xml"]
    assert error is not None
    assert (error.violation.code, error.violation.message) == ("archive.corrupt", SPARSE)
    assert peak < 2 * 1024 * 1024


def test_a_sparse_member_in_global_records_is_refused() -> None:
    read, error, _ = _read(_pax({"GNU.sparse.realsize": "1"}, tarfile.XGLTYPE) + FIRST + END)
    assert read == []
    assert error is not None
    assert (error.violation.code, error.violation.message) == (
        "archive.corrupt",
        "x.tgz: member CERFA/a.xml is a GNU sparse file, which no SNE export holds; the archive "
        "is refused without reading its sparse map.",
    )


def _damaged(header: bytes) -> bytes:
    """`header` with its name changed after its checksum was computed."""
    return header[:6] + b"X" + header[7:]


@pytest.mark.parametrize(
    ("damaged", "reason"),
    [
        (b"X" * tarfile.BLOCKSIZE, "invalid header"),
        (_damaged(_member("CERFA/c.xml", b"<c/>")), "bad checksum"),
        (_header("README.txt", -tarfile.BLOCKSIZE), "negative size"),
        (_pax({"size": "-512"}) + _member("README.txt"), "negative size"),
    ],
    ids=["garbage", "bad-checksum", "negative-size", "negative-pax-size"],
)
def test_a_damaged_header_between_members_is_refused(damaged: bytes, reason: str) -> None:
    """tarfile ends the archive at a header it cannot parse, without a word (or goes back
    for a negative size); GNU tar skips to the next header and extracts the members after
    it, which must not escape validation."""
    read, error, _ = _read(FIRST + damaged + SECOND + END)
    assert read == ["x.tgz!CERFA/a.xml"]
    assert error is not None
    assert (error.violation.code, error.violation.message) == (
        "archive.corrupt",
        f"x.tgz: the tar header at byte 1,024 after member CERFA/a.xml is damaged ({reason}); "
        "GNU tar would skip it and extract the members that follow, so the archive is refused.",
    )


def test_a_negative_size_at_the_start_does_not_end_the_archive() -> None:
    """tarfile takes a first member whose size brings it back to byte 0 for the end."""
    read, error, _ = _read(_header("README.txt", -tarfile.BLOCKSIZE) + SECOND + END)
    assert read == []
    assert error is not None
    assert (error.violation.code, error.violation.message) == (
        "archive.corrupt",
        "x.tgz: the tar header at byte 0 is damaged (negative size); GNU tar would skip it and "
        "extract the members that follow, so the archive is refused.",
    )


def test_what_is_not_a_tar_header_at_the_start_is_not_a_tar_archive() -> None:
    read, error, _ = _read(b"X" * tarfile.BLOCKSIZE + SECOND + END)
    assert read == []
    assert error is not None
    assert (error.violation.code, error.violation.message) == (
        "archive.corrupt",
        "x.tgz is not a readable tar archive (invalid header).",
    )


def test_data_after_the_end_of_the_archive_is_ignored() -> None:
    """As GNU tar does: two zero blocks end the archive, whatever follows them."""
    read, error, _ = _read(FIRST + END + b"X" * tarfile.BLOCKSIZE + SECOND + END)
    assert (read, error) == (["x.tgz!CERFA/a.xml"], None)


def test_members_of_an_unknown_type_are_validated_as_regular_files() -> None:
    """GNU tar extracts a member of a type it does not know as a regular file (commons-compress
    calls it a file): its data is stored like one's."""
    tar = (
        FIRST
        + _member("CERFA/z.xml", b"<z/>", b"Z")
        + _member("notes.bin", b"x" * 600, b"Z")
        + SECOND
        + END
    )
    documents = list(iter_archive(io.BytesIO(gzip.compress(tar)), "x.tgz", Limits()))
    assert [(d.source, d.data) for d in documents] == [
        ("x.tgz!CERFA/a.xml", b"<a/>"),
        ("x.tgz!CERFA/z.xml", b"<z/>"),
        ("x.tgz!CERFA/b.xml", b"<b/>"),
    ]


def test_extended_headers_in_a_row_are_bounded() -> None:
    """tarfile reads each extended header with a recursive call holding it (up to 1 MiB):
    a row of them took memory, then ended in a RecursionError."""
    read, error, _ = _read(FIRST + _pax({"comment": "x" * 100_000}) * 8 + SECOND + END)
    assert (read, error) == (["x.tgz!CERFA/a.xml", "x.tgz!CERFA/b.xml"], None)
    read, error, peak = _read(FIRST + _pax({"comment": "x"}) * 1000 + SECOND + END)
    assert read == ["x.tgz!CERFA/a.xml"]
    assert error is not None
    assert (error.violation.code, error.violation.message) == (
        "archive.corrupt",
        "x.tgz: more than 8 extended headers (GNU long names or PAX records) in a row after "
        "member CERFA/a.xml; the archive is refused.",
    )
    assert peak < 2 * 1024 * 1024


def test_global_records_are_bounded() -> None:
    """tarfile keeps every global PAX record and applies them all to each member: a few KB of
    gzip could take gigabytes, and time per member."""
    tar = b"".join(
        _pax({f"k{index}": "x"}, tarfile.XGLTYPE) + _member(f"README{index}") for index in range(65)
    )
    read, error, _ = _read(FIRST + tar + SECOND + END)
    assert read == ["x.tgz!CERFA/a.xml"]
    assert error is not None
    assert (error.violation.code, error.violation.message) == (
        "archive.corrupt",
        "x.tgz: global PAX records after member README63 add up to 65 records of 250 bytes, "
        "over the 64 records and 1,048,576 bytes any real archive needs; the archive is "
        "refused.",
    )


def _check(tar: bytes, extractor: StreamingExtractor = TGZ) -> ArchiveCheck:
    """Stream the gzip-compressed `tar` through an `ArchiveCheck` of `extractor`, as the proxy
    does."""

    async def check_all() -> ArchiveCheck:
        # No schema is loaded: the tests below validate no member with one.
        check = ArchiveCheck(extractor, "x.tgz", None, "demande", Limits(), False)  # type: ignore[arg-type]
        data = gzip.compress(tar)
        for start in range(0, len(data), 4096):
            await check.feed(data[start : start + 4096])
        await check.finish()
        return check

    return asyncio.run(check_all())


def _verdict(check: ArchiveCheck) -> list[tuple[str, str, str]]:
    return [
        (report.source, violation.code, violation.message)
        for report in check.reports
        for violation in report.violations
    ]


def test_a_refused_archive_fails_through_the_proxy() -> None:
    """It used to end the reading thread with an uncaught exception: the proxy logged the
    archive `conformance: pass` and forwarded it whole."""
    check = _check(_pax({"GNU.sparse.map": "a,b"}) + _member("CERFA/s.xml") + END)
    assert check.invalid.is_set()
    assert _verdict(check) == [
        (
            "x.tgz",
            "archive.corrupt",
            "x.tgz: member CERFA/s.xml is a GNU sparse file, which no SNE export holds; the "
            "archive is refused without reading its sparse map.",
        )
    ]


def test_a_bug_reading_an_archive_fails_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> Iterator[Document]:
        yield Document("x.tgz!CERFA/a.xml", b"<a/>")
        raise RuntimeError("a bug")

    def valid(document: Document, *_: object, **__: object) -> DocumentReport:
        return DocumentReport(document.source, "demande@13.34")

    monkeypatch.setattr(archive_stream, "validate_document", valid)
    check = _check(FIRST + END, StreamingExtractor(name="tgz", documents=broken))
    assert check.documents == 1 and check.invalid.is_set()
    assert _verdict(check) == [
        (
            "x.tgz",
            "validation.failed",
            "Reading the archive failed inside the gateway (RuntimeError); see the gateway logs.",
        )
    ]


def test_a_bug_in_a_validating_thread_fails_the_archive_and_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outside the validation of a member (here, recording its report): the thread's batch went
    unvalidated. The threads used to end on it, and the reading thread to wait forever for
    them to take the next batch."""
    original = ArchiveCheck._record

    def valid(document: Document, *_: object, **__: object) -> DocumentReport:
        return DocumentReport(document.source, "demande@13.34")

    def broken(check: ArchiveCheck, report: DocumentReport) -> None:
        if report.valid:
            raise RuntimeError("a bug")
        original(check, report)

    monkeypatch.setattr(archive_stream, "validate_document", valid)
    monkeypatch.setattr(ArchiveCheck, "_record", broken)
    members = b"".join(_member(f"CERFA/{index:04d}.xml", b"<a/>") for index in range(200))
    check = _check(members + END)
    assert check.documents == 200 and check.invalid.is_set()
    assert set(_verdict(check)) == {
        (
            "x.tgz",
            "validation.failed",
            "Validating the archive failed inside the gateway (RuntimeError); see the gateway "
            "logs.",
        )
    }


def test_a_bug_validating_a_member_fails_the_archive(monkeypatch: pytest.MonkeyPatch) -> None:
    """The validating threads' exceptions stayed in futures no one read."""

    def broken(*_: object, **__: object) -> DocumentReport:
        raise RuntimeError("a bug")

    monkeypatch.setattr(archive_stream, "validate_document", broken)
    check = _check(FIRST + END)
    assert check.documents == 1 and check.invalid.is_set()
    assert _verdict(check) == [
        (
            "x.tgz!CERFA/a.xml",
            "validation.failed",
            "Validation failed inside the gateway (RuntimeError); see the gateway logs.",
        )
    ]


def test_a_link_named_xml_is_a_problem_of_that_member_not_a_skipped_one() -> None:
    """Extracted, a link reads as its target: here a member that is not XML."""
    documents = list(
        iter_archive(io.BytesIO((ARCHIVES / "links-named-xml.tgz").read_bytes()), "x.tgz", Limits())
    )
    assert [(d.source, d.problem.code if d.problem else None) for d in documents] == [
        ("x.tgz!CERFA/demande-minimal.xml", None),
        ("x.tgz!CERFA/demande-hard.xml", "archive.link"),
        ("x.tgz!CERFA/demande-symbolic.xml", "archive.link"),
    ]
    assert [d.problem.message for d in documents if d.problem] == [
        "The member is a hard link to 'data/payload.bin': extracted, it reads as that target's "
        "content, which is not validated as this member. An SNE export holds regular files only.",
        "The member is a symbolic link to '../data/payload.bin': extracted, it reads as that "
        "target's content, which is not validated as this member. An SNE export holds regular "
        "files only.",
    ]


def test_links_not_named_xml_are_read_past() -> None:
    archive = gzip.compress(
        _member("CERFA/notes.txt", b"x")
        + _member("CERFA/notes-link.txt", kind=tarfile.SYMTYPE)
        + b"\0" * (2 * tarfile.BLOCKSIZE)
    )
    assert list(iter_archive(io.BytesIO(archive), "x.tgz", Limits())) == []


@pytest.mark.parametrize("kind", [tarfile.REGTYPE, tarfile.SYMTYPE])
def test_a_trailing_slash_does_not_hide_an_xml_name(kind: bytes) -> None:
    """GNU tar extracts `q.xml/` as `q.xml`, a file or a link."""
    archive = gzip.compress(
        _member("CERFA/q.xml/", b"<not-a-demande/>" if kind == tarfile.REGTYPE else b"", kind)
        + b"\0" * (2 * tarfile.BLOCKSIZE)
    )
    [document] = iter_archive(io.BytesIO(archive), "x.tgz", Limits())
    assert document.source == "x.tgz!CERFA/q.xml/"
    if kind == tarfile.REGTYPE:
        assert document.data == b"<not-a-demande/>"
    else:
        assert document.problem is not None and document.problem.code == "archive.link"


ADVICE = " An SNE export holds relative names, one folder per entity."


def test_a_name_that_extracts_elsewhere_is_a_problem_of_that_member() -> None:
    """Valid applications all, but under names no SNE export has: each is refused; the
    members before and after them are read as usual."""
    documents = list(
        iter_archive(io.BytesIO((ARCHIVES / "unsafe-names.tgz").read_bytes()), "x.tgz", Limits())
    )
    outside = (
        "The member's name has a '..' segment: extracted, it is written outside the "
        "extraction directory." + ADVICE
    )
    assert [
        (d.source, d.problem.code if d.problem else None, d.problem.message if d.problem else None)
        for d in documents
    ] == [
        ("x.tgz!CERFA/demande-minimal.xml", None, None),
        ("x.tgz!../../../../tmp/x.xml", "archive.unsafe-name", outside),
        (
            "x.tgz!/etc/cron.d/x.xml",
            "archive.unsafe-name",
            "The member's name is absolute: GNU tar writes it under the extraction directory, "
            "other tools at that very path." + ADVICE,
        ),
        (
            "x.tgz!CERFA/evil.xml ",
            "archive.unsafe-name",
            "The member's name has a segment ending in a space or a dot, which Windows drops: "
            "extracted there, it is written under another name than the one validated." + ADVICE,
        ),
        (
            "x.tgz!CERFA\\..\\..\\x.xml",
            "archive.unsafe-name",
            "The member's name holds a backslash, a separator on Windows: extracted there, it "
            "is written under another path than the one validated." + ADVICE,
        ),
        (
            "x.tgz!CERFA/NUL.xml",
            "archive.unsafe-name",
            "The member's name is a device Windows reserves (CON, NUL, COM1...): extracted "
            "there, it is written to no file." + ADVICE,
        ),
        (
            "x.tgz!CERFA/x.xml:stream",
            "archive.unsafe-name",
            "The member's name holds a control character or one of < > : \" | ? *, which "
            "Windows does not allow in a name (':' opens an alternate data stream): extracted "
            "there, it is written elsewhere or not at all." + ADVICE,
        ),
        ("x.tgz!../run.sh", "archive.unsafe-name", outside),
        (
            "x.tgz!CERFA/etc",
            "archive.unsafe-name",
            "The member is a link to a path outside the extraction directory: members after "
            "it could be written through it." + ADVICE,
        ),
        ("x.tgz!CERFA/demande-after.xml", None, None),
    ]


@pytest.mark.parametrize(
    "name",
    [
        "CERFA/a.xml",
        "./CERFA/a.xml",
        "CERFA/",
        "CERFA/a.b.xml",
        "CERFA/NULL.xml",
        "CERFA/con-x.xml",
    ],
)
def test_ordinary_names_are_not_refused(name: str) -> None:
    assert unsafe_name(name) is None


@pytest.mark.parametrize(
    ("name", "target", "symbolic", "outside"),
    [
        ("CERFA/link", "../data/x.bin", True, False),
        ("CERFA/link", "../../x.bin", True, True),
        ("CERFA/link", "/etc", True, True),
        ("link", "CERFA/../../x", False, True),
        ("CERFA/link", "data/x.bin", False, False),
    ],
)
def test_links_outside_the_extraction_directory(
    name: str, target: str, symbolic: bool, outside: bool
) -> None:
    assert (unsafe_link(name, target, symbolic) is not None) is outside


def test_exports_waiting_on_their_validation_leave_the_default_executor_free(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An export whose validation falls behind its download waits in a thread: not in the
    event loop's default executor, which large bodies' validations and reloads also need (3
    exports held both of its threads here)."""
    release = threading.Event()

    def slow(document: Document, *_: object, **__: object) -> DocumentReport:
        release.wait(60)
        return DocumentReport(document.source, "demande@13.34")

    monkeypatch.setattr(archive_stream, "validate_document", slow)
    data = gzip.compress(
        b"".join(_member(f"CERFA/{index}.xml", b"<a/>") for index in range(400)) + END,
        compresslevel=0,
    )

    async def feed(check: ArchiveCheck) -> None:
        for start in range(0, len(data), 512):
            await check.feed(data[start : start + 512])
        await check.finish()

    async def scenario() -> str:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=2))
        checks = [ArchiveCheck(TGZ, f"{n}.tgz", None, None, Limits(), False) for n in range(3)]  # type: ignore[arg-type]
        feeding = [asyncio.create_task(feed(check)) for check in checks]
        try:
            async with asyncio.timeout(60):  # bounds a failure only
                while not all(check._chunks.full() for check in checks):
                    await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # each feed now waits for room in its export's queue
            return await asyncio.wait_for(loop.run_in_executor(None, lambda: "ran"), 30)
        finally:
            release.set()
            await asyncio.gather(*feeding)

    assert asyncio.run(scenario()) == "ran"

"""Reading exports: member by member, with memory that does not grow with the member count."""

from __future__ import annotations

import gzip
import io
import tarfile
import tracemalloc
from pathlib import Path

import pytest

from gateway.extract.archive import ArchiveError, iter_archive
from gateway.limits import Limits

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
    """A README claiming 1 TB that is not there ends the archive at once; a sparse member
    claiming a petabyte of holes is passed in no time (tarfile would generate them)."""
    claims = gzip.compress(_header("README.txt", 10**12))
    with pytest.raises(ArchiveError) as refused:
        list(iter_archive(io.BytesIO(claims), "x.tgz", Limits()))
    assert refused.value.violation.code == "archive.truncated"

    holes = tarfile.TarInfo("holes.bin")
    holes.pax_headers = {"GNU.sparse.map": "0,0", "GNU.sparse.size": str(10**15)}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(holes, io.BytesIO(b""))
        document = tarfile.TarInfo("CERFA/a.xml")
        document.size = 4
        tar.addfile(document, io.BytesIO(b"<a/>"))
    buffer.seek(0)
    assert [d.source for d in iter_archive(buffer, "x.tgz", Limits())] == ["x.tgz!CERFA/a.xml"]

"""Reading exports: member by member, with memory that does not grow with the member count."""

from __future__ import annotations

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

"""An XML TGZ written while it is sent: tar headers and members go through one gzip stream and
come out in chunks. Only the member being written and the compressor's window are in memory,
so an archive of any size (1 GB of applications) costs neither memory nor disk.
"""

from __future__ import annotations

import io
import tarfile
import zlib
from collections.abc import Iterable, Iterator, Sequence

CHUNK_BYTES = 64 * 1024
GZIP_WBITS = 16 + zlib.MAX_WBITS


class _GzipSink:
    """The file tarfile writes to: compresses into gzip, keeps the output until taken."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, GZIP_WBITS)
        self._pending: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        if compressed := self._compressor.compress(data):
            self._pending.append(compressed)
            self.size += len(compressed)
        return len(data)

    def finish(self) -> None:
        self._pending.append(self._compressor.flush())

    def take(self) -> bytes:
        taken = b"".join(self._pending)
        self._pending.clear()
        self.size = 0
        return taken


def _entry(name: str, mtime: int, size: int = 0, directory: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory else 0o644
    info.size = size
    return info


def tgz_chunks(
    folders: Sequence[str], members: Iterable[tuple[str, bytes]], mtime: int
) -> Iterator[bytes]:
    """The gzip-compressed tar of `members` (name, content), after an entry per folder, in
    chunks of about `CHUNK_BYTES`; members are produced as the chunks are consumed."""
    sink = _GzipSink()
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.USTAR_FORMAT) as tar:  # type: ignore[call-overload]
        for folder in folders:
            tar.addfile(_entry(folder, mtime, directory=True))
        for name, data in members:
            tar.addfile(_entry(name, mtime, len(data)), io.BytesIO(data))
            if sink.size >= CHUNK_BYTES:
                yield sink.take()
    sink.finish()
    yield sink.take()

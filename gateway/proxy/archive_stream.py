"""A TGZ export validated member by member while its bytes flow on to the client.

The proxy hands each chunk to `ArchiveCheck.feed` and forwards it; a worker thread reads the
same bytes through `gateway.extract.archive` and validates each member as soon as it is
complete. A small bounded queue sits between them, so memory stays flat whatever the size of
the archive, and a slow validation slows the stream rather than piling bytes up.
"""

from __future__ import annotations

import asyncio
import queue
import threading

from gateway.catalog import SchemaSet
from gateway.extract.archive import ArchiveError, iter_archive
from gateway.limits import Limits
from gateway.validate import validate_document
from gateway.violation import DocumentReport

QUEUE_CHUNKS = 32
_END = b""


class _QueueReader:
    """The read side of the queue, as the file object tarfile and gzip expect."""

    def __init__(self, chunks: queue.Queue[bytes]) -> None:
        self.chunks = chunks
        self.pending = memoryview(b"")
        self.ended = False

    def read(self, size: int = -1) -> bytes:
        parts: list[bytes] = []
        wanted = size if size >= 0 else 1 << 62
        while wanted > 0 and not self.ended:
            if not self.pending:
                chunk = self.chunks.get()
                if chunk is _END or not chunk:
                    self.ended = True
                    break
                self.pending = memoryview(chunk)
            taken = self.pending[:wanted]
            parts.append(bytes(taken))
            self.pending = self.pending[len(taken) :]
            wanted -= len(taken)
        return b"".join(parts)


class ArchiveCheck:
    """Validates an archive stream; `reports` grows as members complete, `invalid` is set at
    the first member that fails."""

    def __init__(
        self,
        name: str,
        schema_set: SchemaSet,
        schema: str | None,
        limits: Limits,
        show_values: bool,
    ) -> None:
        self.reports: list[DocumentReport] = []
        self.invalid = threading.Event()
        self._chunks: queue.Queue[bytes] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._thread = threading.Thread(
            target=self._validate,
            args=(name, schema_set, schema, limits, show_values),
            name=f"archive-check {name}",
            daemon=True,
        )
        self._thread.start()

    def _validate(
        self,
        name: str,
        schema_set: SchemaSet,
        schema: str | None,
        limits: Limits,
        show_values: bool,
    ) -> None:
        reader = _QueueReader(self._chunks)
        try:
            for document in iter_archive(reader, name, limits, schema):  # type: ignore[arg-type]
                report = validate_document(
                    document, schema_set, limits=limits, show_values=show_values
                )
                self.reports.append(report)
                if not report.valid:
                    self.invalid.set()
        except ArchiveError as error:
            self.reports.append(DocumentReport(name, None, (error.violation,)))
            self.invalid.set()
        finally:
            # Drain what the proxy still sends, so it never blocks on a full queue.
            while not reader.ended:
                reader.ended = self._chunks.get() is _END

    async def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        try:
            self._chunks.put_nowait(chunk)
        except queue.Full:
            await asyncio.to_thread(self._chunks.put, chunk)

    async def finish(self) -> list[DocumentReport]:
        """Signal the end of the stream (complete or not) and wait for the last member."""
        try:
            self._chunks.put_nowait(_END)
        except queue.Full:
            await asyncio.to_thread(self._chunks.put, _END)
        await asyncio.to_thread(self._thread.join)
        return self.reports

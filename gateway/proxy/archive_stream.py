"""A TGZ export validated member by member while its bytes flow on to the client.

The proxy hands each chunk to `ArchiveCheck.feed` and forwards it; a worker thread reads the
same bytes through `gateway.extract.archive` and validates each member as soon as it is
complete. A small bounded queue sits between them, so memory stays flat whatever the size of
the archive, and a slow validation slows the stream rather than piling bytes up.

A bug in reading or validating never passes an archive: it becomes a `validation.failed`
report (logged with its traceback), as for any other body.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

import structlog

from gateway.catalog import SchemaSet
from gateway.extract.archive import ArchiveError, iter_archive
from gateway.extract.document import Document, SchemaChoice
from gateway.limits import MAX_FAILED_DOCUMENTS, Limits
from gateway.validate import validate_document
from gateway.violation import DocumentReport, Violation

QUEUE_CHUNKS = 32
#: Threads validating the members of one archive, and members read ahead of them.
VALIDATORS = 2
MEMBERS_IN_FLIGHT = 8
_END = b""
_logger = structlog.get_logger()


def _failed(source: str, doing: str, error: Exception) -> DocumentReport:
    return DocumentReport(
        source,
        None,
        (
            Violation(
                "validation.failed",
                f"{doing} failed inside the gateway ({type(error).__name__}); see the gateway "
                "logs.",
            ),
        ),
    )


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
    """Validates an archive stream. Only what a verdict needs is kept, so memory does not grow
    with the number of members: counts, the schemas seen, and the first `MAX_FAILED_DOCUMENTS` invalid
    members' reports (the others are counted). `invalid` is set at the first failure."""

    def __init__(
        self,
        name: str,
        schema_set: SchemaSet,
        schema: SchemaChoice,
        limits: Limits,
        show_values: bool,
    ) -> None:
        self.name = name
        self.documents = 0
        self.schemas: dict[str, None] = {}
        self.failures: list[DocumentReport] = []
        self.failures_omitted = 0
        self.invalid = threading.Event()
        self._lock = threading.Lock()
        self._chunks: queue.Queue[bytes] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._thread = threading.Thread(
            target=self._validate,
            args=(schema_set, schema, limits, show_values),
            name=f"archive-check {name}",
            daemon=True,
        )
        self._thread.start()

    def _record(self, report: DocumentReport) -> None:
        with self._lock:
            if report.schema:
                self.schemas.setdefault(report.schema)
            if report.valid:
                return
            self.invalid.set()
            if len(self.failures) < MAX_FAILED_DOCUMENTS:
                self.failures.append(report)
            else:
                self.failures_omitted += 1

    def _validate(
        self, schema_set: SchemaSet, schema: SchemaChoice, limits: Limits, show_values: bool
    ) -> None:
        """Read the members in this thread; validate them in `VALIDATORS` threads (libxml2
        releases the GIL, so they run on other cores), at most `MEMBERS_IN_FLIGHT` at once."""
        reader = _QueueReader(self._chunks)
        in_flight = threading.BoundedSemaphore(MEMBERS_IN_FLIGHT)

        def validate(document: Document) -> None:
            try:
                report = validate_document(
                    document, schema_set, limits=limits, show_values=show_values
                )
            except Exception as error:  # the pool would keep it in a future no one reads
                _logger.exception("validation.error", archive=self.name, member=document.source)
                report = _failed(document.source, "Validation", error)
            try:
                self._record(report)
            finally:
                in_flight.release()

        with ThreadPoolExecutor(
            VALIDATORS, thread_name_prefix=f"archive-check {self.name}"
        ) as pool:
            try:
                for document in iter_archive(reader, self.name, limits, schema):  # type: ignore[arg-type]
                    self.documents += 1
                    in_flight.acquire()
                    pool.submit(validate, document)
            except ArchiveError as error:
                self._record(DocumentReport(self.name, None, (error.violation,)))
            except Exception as error:  # this thread's end would otherwise pass the archive
                _logger.exception("validation.error", archive=self.name)
                self._record(_failed(self.name, "Reading the archive", error))
            finally:
                # Drain what the proxy still sends, so it never blocks on a full queue.
                while not reader.ended:
                    reader.ended = self._chunks.get() is _END

    @property
    def reports(self) -> list[DocumentReport]:
        """The reports a decision is made on: the failures, or, when every member is valid,
        one valid report per schema seen, standing for the members it judged."""
        if self.failures or not self.documents:
            return self.failures
        return [DocumentReport(self.name, schema) for schema in self.schemas]

    async def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        try:
            self._chunks.put_nowait(chunk)
        except queue.Full:
            await asyncio.to_thread(self._chunks.put, chunk)

    async def finish(self) -> None:
        """Signal the end of the stream (complete or not) and wait for the last member."""
        try:
            self._chunks.put_nowait(_END)
        except queue.Full:
            await asyncio.to_thread(self._chunks.put, _END)
        await asyncio.to_thread(self._thread.join)

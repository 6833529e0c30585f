"""A TGZ export validated member by member while its bytes flow on to the client.

The proxy hands each chunk to `ArchiveCheck.feed` and forwards it (`pass_archive_on`); a worker thread reads the
same bytes through `gateway.extract.archive` and hands the members, in batches, to threads
that validate them. Small bounded queues sit between them, so memory stays flat whatever the
size of the archive, and a slow validation slows the stream rather than piling bytes up.

A bug in reading or validating never passes an archive: it becomes a `validation.failed`
report (logged with its traceback), as for any other body.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Callable, Container, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog

from gateway.catalog import SchemaSet
from gateway.extract.archive import ArchiveError
from gateway.extract.document import Document, SchemaChoice
from gateway.extract.extractor import StreamingExtractor
from gateway.limits import MAX_FAILED_DOCUMENTS, Limits
from gateway.proxy.response_writer import ResponseWriter
from gateway.validate import validate_document
from gateway.violation import DocumentReport, Violation

QUEUE_CHUNKS = 32
#: Threads validating the members of one archive (libxml2 releases the GIL, so they run on
#: other cores than the one reading the archive).
VALIDATORS = 2
#: Members are handed to those threads in batches of this many, or of this many bytes (plus
#: the member that crossed it), with one batch waiting at most: a hand-over per member (a thread
#: woken, a lock passed) cost more than the threads gained (`docs/benchmarks.md`). A batch also
#: goes when the reading thread has read all the bytes received so far. At most
#: `VALIDATORS` + 2 batches are in memory: one per thread, the one waiting, the one being read.
MEMBERS_PER_BATCH = 32
BATCH_BYTES = 1024 * 1024
#: Threads in which exports wait for room in their queue, or for their last member: their own,
#: and bounded. In the event loop's default executor (6 threads on a 2-core host), a few exports
#: whose validation falls behind their download would hold every thread, which large bodies'
#: validations and XSD reloads also need. Past the bound, an export waits its turn (its
#: validation is behind anyway); a thread is freed as soon as one export's validation catches up.
EXPORT_WAITERS = 16
_WAITERS = ThreadPoolExecutor(max_workers=EXPORT_WAITERS, thread_name_prefix="archive-wait")
_END = b""
_NO_MORE: list[Document] = []
_logger = structlog.get_logger()


def _failed(source: str, doing: str, error: BaseException) -> DocumentReport:
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
    """The read side of the queue, as the file object tarfile and gzip expect.
    `before_waiting` is called when a read finds no bytes left to read."""

    def __init__(self, chunks: queue.Queue[bytes], before_waiting: Callable[[], None]) -> None:
        self.chunks = chunks
        self.before_waiting = before_waiting
        self.pending = memoryview(b"")
        self.ended = False

    def read(self, size: int = -1) -> bytes:
        parts: list[bytes] = []
        wanted = size if size >= 0 else 1 << 62
        while wanted > 0 and not self.ended:
            if not self.pending:
                if self.chunks.empty():
                    self.before_waiting()
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
    members' reports (the others are counted). `invalid` is set at the first failure the policy
    may block: one with a violation whose code is not among the `logged` ones (a business rule
    configured to be logged only must not cut a download that the verdict then lets pass)."""

    def __init__(
        self,
        extractor: StreamingExtractor,
        name: str,
        schema_set: SchemaSet,
        schema: SchemaChoice,
        limits: Limits,
        show_values: bool,
        logged: Container[str] = frozenset(),
        also: Sequence[Callable[[Document, DocumentReport], None]] = (),
    ) -> None:
        self.extractor = extractor
        self.name = name
        self.logged = logged
        #: Told of each member and its report, on the validating threads (the exchange's taps).
        self.also = also
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
            if any(violation.code not in self.logged for violation in report.violations):
                self.invalid.set()
            if len(self.failures) < MAX_FAILED_DOCUMENTS:
                self.failures.append(report)
            else:
                self.failures_omitted += 1

    def _validate(
        self, schema_set: SchemaSet, schema: SchemaChoice, limits: Limits, show_values: bool
    ) -> None:
        """Read the members in this thread; validate them, a batch at a time, in `VALIDATORS`
        threads."""
        batches: queue.Queue[list[Document]] = queue.Queue(maxsize=1)
        batch: list[Document] = []
        batch_bytes = 0

        def hand_over() -> None:
            nonlocal batch, batch_bytes
            if batch:
                batches.put(batch)
                batch, batch_bytes = [], 0

        # Before waiting for the next bytes, the members read are handed over: none waits for
        # them, so an invalid one is found (and a blocked archive cut) as soon as it came.
        reader = _QueueReader(self._chunks, before_waiting=hand_over)

        def validate_batches() -> None:
            failed = False
            while (taken := batches.get()) is not _NO_MORE:
                if failed:
                    continue  # taken all the same, or the reading thread would wait forever
                try:
                    for document in taken:
                        try:
                            report = validate_document(
                                document, schema_set, limits=limits, show_values=show_values
                            )
                        except Exception as error:  # one member's, not the archive's
                            _logger.exception(
                                "validation.error", archive=self.name, member=document.source
                            )
                            report = _failed(document.source, "Validation", error)
                        self._record(report)
                        for told in self.also:
                            told(document, report)
                except BaseException as error:
                    # Members of this batch went unvalidated: the archive cannot pass.
                    failed = True
                    _logger.exception("validation.error", archive=self.name)
                    self._record(_failed(self.name, "Validating the archive", error))

        validators = [
            threading.Thread(
                target=validate_batches,
                name=f"archive-check {self.name} validator {number}",
                daemon=True,
            )
            for number in range(1, VALIDATORS + 1)
        ]
        for validator in validators:
            validator.start()
        try:
            for document in self.extractor.documents(reader, self.name, limits, schema):  # type: ignore[arg-type]
                self.documents += 1
                batch.append(document)
                batch_bytes += len(document.data)
                if len(batch) == MEMBERS_PER_BATCH or batch_bytes >= BATCH_BYTES:
                    hand_over()
        except ArchiveError as error:
            self._record(DocumentReport(self.name, None, (error.violation,)))
        except Exception as error:  # this thread's end would otherwise pass the archive
            _logger.exception("validation.error", archive=self.name)
            self._record(_failed(self.name, "Reading the archive", error))
        finally:
            hand_over()
            for _ in validators:
                batches.put(_NO_MORE)
            # Drain what the proxy still sends, so it never blocks on a full queue.
            while not reader.ended:
                reader.ended = self._chunks.get() is _END
            for validator in validators:
                validator.join()

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
            await _waiting(self._chunks.put, chunk)

    async def finish(self) -> None:
        """Signal the end of the stream (complete or not) and wait for the last member."""
        try:
            self._chunks.put_nowait(_END)
        except queue.Full:
            await _waiting(self._chunks.put, _END)
        await _waiting(self._thread.join)


async def _waiting(wait: Callable[..., None], *arguments: Any) -> None:
    """`wait(*arguments)` in one of the exports' own threads."""
    await asyncio.get_running_loop().run_in_executor(_WAITERS, wait, *arguments)


async def pass_archive_on(
    check: ArchiveCheck, chunks: AsyncIterator[bytes], writer: ResponseWriter, blocking: bool
) -> bytes:
    """Pass `chunks` on to the client while `check` reads them, the last one held back (it is
    returned, for the caller to send once the verdict allows it); when `blocking`, stop at the
    first invalid member. `check` is finished however it ends: an error of the upstream's or
    the client's going away is raised once its thread is done."""
    held = b""
    try:
        async for chunk in chunks:
            await check.feed(chunk)
            if blocking and check.invalid.is_set():
                break
            if held:
                await writer.chunk(held)
            held = chunk
    finally:
        # Cut short (the client went away, or the upstream broke off): the archive gets no
        # verdict, its threads are only let finish.
        await check.finish()
    return held

"""Validating a stream of documents, in worker processes when asked, keeping input order.

The workers are forked once the catalog is compiled: they inherit its compiled schemas and the
rules' referential rather than compiling them again (libxml2 schemas cannot be pickled). A
file is read by the worker that validates it, the parent handing out paths, not bytes; archive
members and stdin, which only the parent can read (an archive is one stream), go with their
bytes. Work goes out in batches, at most a few per worker in flight, so an archive of any size
is validated with bounded memory; a valid document's report comes back as its source and
schema only.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType

from gateway.catalog import SchemaSet
from gateway.extract.document import Document, SchemaChoice
from gateway.inputs import FileToRead, InputError
from gateway.limits import Limits
from gateway.validate import validate_document
from gateway.violation import DocumentReport, Violation

#: Documents a batch holds at most: enough to make the round trip to a worker (about 0.3 ms)
#: small beside validating them (about 0.3 ms each), few enough that the last batches share
#: out evenly between the workers.
BATCH_DOCUMENTS = 64
#: Bytes of archive members a batch holds at most (large members go fewer to a batch).
BATCH_BYTES = 1 << 20
BATCHES_IN_FLIGHT_PER_WORKER = 4

Item = Document | FileToRead
#: A document read by the parent, as it is sent to a worker: its source, bytes, schema and
#: problem (a tenth of the time a frozen dataclass takes to pickle and unpickle).
_Read = tuple[str, bytes, SchemaChoice, Violation | None]
#: A report as a worker sends it: a valid document's is its source and schema.
_Sent = DocumentReport | tuple[str, str | None] | InputError

_worker: tuple[SchemaSet, Limits, bool] | None = None


def _start_worker(schema_set: SchemaSet, limits: Limits, show_values: bool) -> None:
    # Forked: the arguments are the parent's objects, not copies rebuilt from a pickle.
    global _worker
    _worker = (schema_set, limits, show_values)


def _validate_one(
    item: Item, schema_set: SchemaSet, limits: Limits, show_values: bool
) -> DocumentReport:
    document = item.read(limits) if isinstance(item, FileToRead) else item
    return validate_document(document, schema_set, limits=limits, show_values=show_values)


def _packed(item: Item) -> Item | _Read:
    if isinstance(item, Document) and item.element is None and not item.xop_content:
        return item.source, item.data, item.schema, item.problem
    return item


def _unpacked(item: Item | _Read) -> Item:
    return Document(*item) if isinstance(item, tuple) else item


def _validate_batch(items: list[Item | _Read]) -> list[_Sent]:
    """The batch's reports; a file that cannot be read ends it with its `InputError` (the
    parent reports nothing after it)."""
    assert _worker is not None, "worker not initialised"
    sent: list[_Sent] = []
    for item in items:
        try:
            report = _validate_one(_unpacked(item), *_worker)
        except InputError as error:
            sent.append(error)
            break
        if report.violations or report.omitted or report.candidates or report.note is not None:
            sent.append(report)
        else:
            sent.append((report.source, report.schema))
    return sent


def _received(sent: list[_Sent]) -> Iterator[DocumentReport]:
    for report in sent:
        if isinstance(report, InputError):
            raise report
        yield DocumentReport(*report) if isinstance(report, tuple) else report


class Validation:
    """Reports for documents, in input order, validated in `jobs` worker processes (one: in
    this process). Enter it before starting any thread: the workers are forked on entering, and
    a fork copies the locks other threads hold but not the threads that would release them."""

    def __init__(
        self, schema_set: SchemaSet, *, limits: Limits, show_values: bool = False, jobs: int = 1
    ) -> None:
        self.schema_set = schema_set
        self.limits = limits
        self.show_values = show_values
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Validation:
        if self.jobs > 1:
            # What the workers inherit (the catalog, the modules) is left out of their garbage
            # collections, which would otherwise walk it and copy every page it touches.
            gc.freeze()
            pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_start_worker,
                initargs=(self.schema_set, self.limits, self.show_values),
            )
            try:
                # The first task forks every worker (before the pool starts its own threads).
                pool.submit(os.getpid)
            except BaseException:
                pool.shutdown()
                gc.unfreeze()
                raise
            self._pool = pool
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            # After an input error, the batches sent beyond it are not wanted.
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
            gc.unfreeze()

    def reports(self, items: Iterable[Item]) -> Iterator[DocumentReport]:
        """A report per item. An input that breaks mid-way (a path that cannot be read) raises
        its error after the reports of the documents before it."""
        if self._pool is None:
            for item in items:
                yield _validate_one(item, self.schema_set, self.limits, self.show_values)
            return
        pool = self._pool
        pending: deque[Future[list[_Sent]]] = deque()
        broken_input: Exception | None = None
        batch: list[Item | _Read] = []
        size = 0
        try:
            for item in items:
                batch.append(_packed(item))
                if isinstance(item, Document):
                    size += len(item.data)
                if len(batch) == BATCH_DOCUMENTS or size >= BATCH_BYTES:
                    pending.append(pool.submit(_validate_batch, batch))
                    batch, size = [], 0
                    if len(pending) >= self.jobs * BATCHES_IN_FLIGHT_PER_WORKER:
                        yield from _received(pending.popleft().result())
        except Exception as error:
            # The documents listed before the break are still reported.
            broken_input = error
        if batch:
            pending.append(pool.submit(_validate_batch, batch))
        while pending:
            yield from _received(pending.popleft().result())
        if broken_input is not None:
            raise broken_input

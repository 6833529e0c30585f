"""Validating a stream of documents, in worker processes when asked, keeping input order.

Each worker compiles the catalog once (libxml2 schemas cannot cross process boundaries), then
receives documents in small batches; at most a few batches per worker are in flight, so an
archive of any size is validated with bounded memory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from gateway.catalog import SchemaSet, load_catalog
from gateway.extract.document import Document
from gateway.limits import Limits
from gateway.rules import RuleSet
from gateway.validate import validate_document
from gateway.violation import DocumentReport

BATCH_SIZE = 32
BATCHES_IN_FLIGHT_PER_WORKER = 4

_worker: tuple[SchemaSet, Limits, bool] | None = None


def _start_worker(
    xsd: Path, version: str, rules: RuleSet, limits: Limits, show_values: bool
) -> None:
    global _worker
    _worker = (replace(load_catalog(xsd).version(version), rules=rules), limits, show_values)


def _validate_batch(documents: list[Document]) -> list[DocumentReport]:
    assert _worker is not None, "worker not initialised"
    schema_set, limits, show_values = _worker
    return [
        validate_document(document, schema_set, limits=limits, show_values=show_values)
        for document in documents
    ]


def validate_all(
    documents: Iterable[Document],
    schema_set: SchemaSet,
    *,
    xsd: Path,
    limits: Limits,
    show_values: bool = False,
    jobs: int = 1,
) -> Iterator[DocumentReport]:
    """Yield a report per document, in input order. With `jobs` > 1, workers load the catalog
    from `xsd` themselves and validate against its version `schema_set.version`, with the
    rules of `schema_set` (sent to them with their referential)."""
    if jobs <= 1:
        for document in documents:
            yield validate_document(document, schema_set, limits=limits, show_values=show_values)
        return
    with ProcessPoolExecutor(
        max_workers=jobs,
        initializer=_start_worker,
        initargs=(xsd, schema_set.version, schema_set.rules, limits, show_values),
    ) as pool:
        pending: deque[Future[list[DocumentReport]]] = deque()
        broken_input: Exception | None = None
        batch: list[Document] = []
        try:
            for document in documents:
                batch.append(document)
                if len(batch) == BATCH_SIZE:
                    pending.append(pool.submit(_validate_batch, batch))
                    batch = []
                    if len(pending) >= jobs * BATCHES_IN_FLIGHT_PER_WORKER:
                        yield from pending.popleft().result()
        except Exception as error:
            # An input that breaks mid-way (a truncated archive, a path that cannot be read)
            # still gets the documents read before it reported, those of the batch it broke.
            broken_input = error
        if batch:
            pending.append(pool.submit(_validate_batch, batch))
        while pending:
            yield from pending.popleft().result()
        if broken_input is not None:
            raise broken_input

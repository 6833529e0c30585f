"""The worker's thread that judges documents by the next XSD set, off the client's path.

It takes the queue's work in turn (`gateway.shadow.work`), reads each body again with the
same extractor, validates its documents against the next set in service, and records every
document judged otherwise than today: a log event (`shadow.differs`), a count by route,
direction, code and verdict (`sne_gateway_shadow_differences_total`), and a record for the
violations store, each with the `sne-gateway diff` changes that explain it. Work dropped for
want of room is counted (`sne_gateway_shadow_documents_total{result="dropped"}`) and said
once per episode (`shadow.dropped`, then `shadow.drops-ended` with how many).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from gateway.catalog import SchemaSet
from gateway.extract.document import Document
from gateway.extract.message import extract_documents
from gateway.limits import Limits
from gateway.record import ViolationRecord
from gateway.reload import SchemaHolder
from gateway.rules import NO_RULES
from gateway.shadow.comparison import Comparison, Difference, compare
from gateway.shadow.explanation import DiffCache
from gateway.shadow.record import NEXT_FAILS, NEXT_PASSES, NextSetDifference
from gateway.shadow.work import Origin, ShadowQueue, ShadowWork
from gateway.violation import DocumentReport

#: How long the thread waits for work before looking at its drops again.
POLL_SECONDS = 0.5
#: How long a stopping worker gives the thread to finish the work at hand.
STOP_SECONDS = 5.0


class ShadowMetrics:
    """The shadow's series, on the worker's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.documents = Counter(
            "sne_gateway_shadow_documents",
            "Documents handed to the next XSD set, by result: compared (judged by both sets) "
            "or dropped (the shadow's queue was full).",
            ["result"],
            registry=registry,
        )
        self.differences = Counter(
            "sne_gateway_shadow_differences",
            "Documents the next XSD set judges otherwise than the set in service, by route, "
            "direction, the code of each violation of the set that rejects them, and the "
            "next set's verdict (fail: valid today, rejected next; pass: rejected today, "
            "valid next).",
            ["route", "direction", "code", "next"],
            registry=registry,
        )


class NextSetJudge:
    """Judges documents by the next set in service, without the business rules (a copy of
    the set without them, made once per load). Used by the shadow's thread, and by exchanges
    that asked for `X-Conformance-Next` on theirs."""

    def __init__(self, holder: SchemaHolder, limits: Limits) -> None:
        self.holder = holder
        self.limits = limits
        self._lock = threading.Lock()
        self._sets: tuple[SchemaSet, SchemaSet] | None = None

    def sets(self) -> tuple[SchemaSet, SchemaSet]:
        """The next set as loaded (what its diff is keyed by), and its copy without rules."""
        loaded = self.holder.current.schema_set
        with self._lock:
            if self._sets is None or self._sets[0] is not loaded:
                self._sets = (loaded, replace(loaded, rules=NO_RULES))
            return self._sets

    def documents_of(self, work: ShadowWork) -> tuple[Document, ...]:
        """The documents of `work`: its members, or those its body holds, read again."""
        body = work.body
        if body is None:
            return work.documents
        return extract_documents(
            body.data,
            body.content_type,
            body.rule,
            self.limits,
            body.extractor,
            body.soap_action_header,
            False,
            faults_pass=body.direction == "response" or body.rule.wrapper is None,
        ).documents

    def compare(
        self, documents: Sequence[Document], reports: Sequence[DocumentReport]
    ) -> tuple[SchemaSet, Comparison]:
        """The next set as loaded, and how it judges `documents` against their `reports`."""
        loaded, without_rules = self.sets()
        return loaded, compare(documents, reports, without_rules, self.limits)


class ShadowWorker:
    def __init__(
        self,
        queue: ShadowQueue,
        judge: NextSetJudge,
        logger: Any,
        metrics: ShadowMetrics,
        keep: Callable[[NextSetDifference], None] | None,
    ) -> None:
        self.queue = queue
        self.judge = judge
        self.logger = logger
        self.metrics = metrics
        #: The violations store's queue, when the store is on.
        self.keep = keep
        self.diffs = DiffCache(logger)
        self._dropped_counted = 0
        self._drop_episode = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sne-gateway-shadow", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.queue.wake()
        self._thread.join(STOP_SECONDS)
        if left := self.queue.clear():
            self.logger.info(
                "shadow.abandoned",
                documents=left,
                reason="the gateway stopped before the next XSD set judged them",
            )

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._count_drops()
            work = self.queue.take(POLL_SECONDS)
            if work is None:
                continue
            try:
                self.handle(work)
            except Exception:
                # A bug must not end the thread: the work at hand is given up, and said.
                self.logger.exception(
                    "shadow.failed",
                    request_id=work.origin.request_id,
                    direction=work.origin.direction,
                )

    def handle(self, work: ShadowWork) -> None:
        if work.next_set is not None:
            self.record(work.origin, work.current, work.next_set, work.differences)
            return
        documents = self.judge.documents_of(work)
        if len(documents) != len(work.reports):
            # Read again, the body gave other documents (it cannot, the extractors being
            # deterministic): nothing to pair the reports with.
            raise RuntimeError(
                f"the body held {len(work.reports)} documents, {len(documents)} read again"
            )
        next_set, comparison = self.judge.compare(documents, work.reports)
        self.metrics.documents.labels("compared").inc(comparison.documents)
        if comparison.differences:
            self.record(work.origin, work.current, next_set, comparison.differences)

    def record(
        self,
        origin: Origin,
        current: SchemaSet,
        next_set: SchemaSet,
        differences: Sequence[Difference],
    ) -> None:
        """Log, count and keep each difference, with what explains it."""
        diff = self.diffs.between(current, next_set)
        for difference in differences:
            failing = difference.failing
            next_verdict = NEXT_PASSES if difference.next_valid else NEXT_FAILS
            violations = tuple(
                ViolationRecord(v.code, failing.schema, v.path, v.line, v.column)
                for v in failing.violations
                if not v.code.startswith("rule.")
            )
            explained = diff.explain(difference)
            found = NextSetDifference(
                at_ms=origin.at_ms,
                env=origin.env,
                request_id=origin.request_id,
                route=origin.route,
                direction=origin.direction,
                client=origin.client,
                current_schema=difference.current.schema,
                next_schema=difference.next.schema,
                next=next_verdict,
                violations=violations,
                explained_by=explained,
            )
            log = self.logger.warning if next_verdict == NEXT_FAILS else self.logger.info
            log(
                "shadow.differs",
                request_id=origin.request_id,
                route=origin.route,
                direction=origin.direction,
                schema=difference.current.schema,
                next_schema=difference.next.schema,
                next=next_verdict,
                violations=[
                    {"code": v.code, "path": v.path, "line": v.line, "column": v.column}
                    for v in violations
                ],
                explained_by=[
                    {"id": change.id, "kind": change.kind, "path": change.path}
                    for change in explained
                ],
            )
            for code in dict.fromkeys(v.code for v in violations):
                self.metrics.differences.labels(
                    origin.route or "", origin.direction, code, next_verdict
                ).inc()
            if self.keep is not None:
                self.keep(found)

    def _count_drops(self) -> None:
        dropped = self.queue.dropped
        new = dropped - self._dropped_counted
        if new:
            self._dropped_counted = dropped
            self.metrics.documents.labels("dropped").inc(new)
            if not self._drop_episode:
                self.logger.warning(
                    "shadow.dropped",
                    reason=f"{self.queue.max_bytes // (1024 * 1024)} MiB of documents were "
                    "waiting for the next XSD set (shadow_queue_mb), which is slower than "
                    "the traffic",
                    consequence="documents are dropped, unjudged by the next set, until it "
                    "catches up; traffic is not affected",
                )
            self._drop_episode += new
        elif self._drop_episode:
            self.logger.info("shadow.drops-ended", dropped=self._drop_episode)
            self._drop_episode = 0

"""The next XSD set as an observer of exchanges: each body the gateway checks (in either
direction, whatever its carrier) and each export member is handed to the shadow's queue as it
is checked, to be judged by the next set off the client's path.

`X-Conformance-Next` (`conformance_next`): the next set's verdict cannot be known without
waiting for it, so it is never guessed from whatever the thread happens to have finished.
With `conformance_next = "asked"`, an exchange whose request carries an `X-Conformance-Next`
header is judged by the next set on its own path, as it is by the set in service (the client
that asks pays one more validation; the others nothing); with `"always"`, every exchange is.
Its differences are still explained and recorded by the thread.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gateway.exchange_tap import CheckedBody, ExchangeStart
from gateway.extract.document import Document
from gateway.record import ExchangeRecord
from gateway.shadow.work import Origin, ShadowQueue, ShadowWork
from gateway.shadow.worker import NextSetJudge, ShadowMetrics
from gateway.violation import DocumentReport

HEADER = b"x-conformance-next"


class NextSet:
    """Makes a tap for each exchange (`gateway.exchange_tap.TapFactory`)."""

    def __init__(
        self,
        queue: ShadowQueue,
        judge: NextSetJudge,
        metrics: ShadowMetrics,
        logger: Any,
        conformance_next: str,
    ) -> None:
        self.queue = queue
        self.judge = judge
        self.metrics = metrics
        self.logger = logger
        self.conformance_next = conformance_next

    def tap(self, start: ExchangeStart) -> NextSetTap:
        inline = self.conformance_next == "always" or (
            self.conformance_next == "asked" and start.asks_next
        )
        return NextSetTap(self, start, inline)


class NextSetTap:
    """One exchange's documents, on their way to the next set."""

    def __init__(self, shadow: NextSet, start: ExchangeStart, inline: bool) -> None:
        self.shadow = shadow
        self.start = start
        self.inline = inline
        #: The next set's verdict of each direction judged on the exchange's path.
        self.conformance: dict[str, str] = {}

    def _origin(self, direction: str) -> Origin:
        start = self.start
        return Origin(
            start.at_ms, start.env, start.request_id, start.route, direction, start.client
        )

    def body_checked(self, body: CheckedBody) -> None:
        try:
            if self.inline:
                self._judge_now(body)
                return
            self.shadow.queue.offer(
                ShadowWork(
                    self._origin(body.direction),
                    self.start.schema_set,
                    tuple(body.reports),
                    body=replace(body, documents=()),
                )
            )
        except Exception:  # the exchange goes on whatever happens to the next set's copy
            self.shadow.logger.exception(
                "shadow.failed", request_id=self.start.request_id, direction=body.direction
            )

    def _judge_now(self, body: CheckedBody) -> None:
        next_set, comparison = self.shadow.judge.compare(body.documents, body.reports)
        self.conformance[body.direction] = comparison.conformance
        self.shadow.metrics.documents.labels("compared").inc(comparison.documents)
        if comparison.differences:
            self.shadow.queue.offer(
                ShadowWork(
                    self._origin(body.direction),
                    self.start.schema_set,
                    tuple(difference.current for difference in comparison.differences),
                    differences=tuple(comparison.differences),
                    next_set=next_set,
                )
            )

    def member_checked(self, document: Document, report: DocumentReport) -> None:
        try:
            self.shadow.queue.offer(
                ShadowWork(
                    self._origin("response"),
                    self.start.schema_set,
                    (report,),
                    documents=(document,),
                )
            )
        except Exception:
            self.shadow.logger.exception(
                "shadow.failed", request_id=self.start.request_id, direction="response"
            )

    def headers(self, streaming: bool) -> list[tuple[bytes, bytes]]:
        if not self.inline:
            return []
        if streaming:
            return [(HEADER, b"streaming")]
        verdicts = set(self.conformance.values())
        overall = "fail" if "fail" in verdicts else "pass" if "pass" in verdicts else "skipped"
        return [(HEADER, overall.encode())]

    def ended(self, record: ExchangeRecord) -> None:
        """Nothing left to do: the documents went as they were checked."""

"""The next XSD set as an observer of exchanges: each body the gateway checks (in either
direction, whatever its carrier) and each export member is handed to the shadow's queue as it
is checked, to be judged by the next set off the client's path (`gateway.shadow.process`).

`X-Conformance-Next` (`conformance_next`): the next set's verdict cannot be known without
waiting for it, so it is never guessed from whatever the next set's process happens to have
finished. With `conformance_next = "asked"`, an exchange whose request carries an
`X-Conformance-Next` header is judged by the next set on its own path, in the worker, as it
is by the set in service (the client that asks pays one more validation; the others
nothing); with `"always"`, every exchange is. Its documents still go to the process, which
records what it judges otherwise.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gateway.exchange_tap import CheckedBody, ExchangeStart
from gateway.extract.document import Document
from gateway.limits import Limits
from gateway.record import ExchangeRecord
from gateway.shadow.judge import WithoutRules, compared
from gateway.shadow.work import Origin, ShadowQueue, ShadowWork
from gateway.violation import DocumentReport

HEADER = b"x-conformance-next"


class NextSet:
    """Makes a tap for each exchange (`gateway.exchange_tap.TapFactory`). `inline` is the
    next set in the worker, for the exchanges judged on their path (None: none is)."""

    def __init__(
        self,
        queue: ShadowQueue,
        inline: WithoutRules | None,
        limits: Limits,
        logger: Any,
        conformance_next: str,
    ) -> None:
        self.queue = queue
        self.inline = inline
        self.limits = limits
        self.logger = logger
        self.conformance_next = conformance_next

    def tap(self, start: ExchangeStart) -> NextSetTap:
        asked = self.conformance_next == "always" or (
            self.conformance_next == "asked" and start.asks_next
        )
        return NextSetTap(self, start, asked and self.inline is not None)


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
            if self.inline and self.shadow.inline is not None:
                _, comparison = compared(
                    body.documents, body.reports, self.shadow.inline, self.shadow.limits
                )
                self.conformance[body.direction] = comparison.conformance
            self.shadow.queue.offer(
                ShadowWork(
                    self._origin(body.direction),
                    tuple(body.reports),
                    body=replace(body, documents=(), reports=()),
                )
            )
        except Exception:  # the exchange goes on whatever happens to the next set's copy
            self.shadow.logger.exception(
                "shadow.failed", request_id=self.start.request_id, direction=body.direction
            )

    def member_checked(self, document: Document, report: DocumentReport) -> None:
        try:
            self.shadow.queue.offer(
                ShadowWork(self._origin("response"), (report,), documents=(document,))
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

"""The taps of one exchange (`gateway.exchange_tap`): made at its start by the worker's tap
factories (the next XSD set, the GDM advisor), told of each body and export member the engine
checks, asked for headers to add to the answer, and handed the exchange's record at its end.

The observers of finished exchanges (`gateway.record`) need the record alone; a tap follows an
exchange from its start, for the observers that need its bodies too. Neither touches
`Exchange`'s states: the exchange holds its `ExchangeTaps`, which the checks tell.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.catalog import SchemaSet
from gateway.exchange_tap import CheckedBody, ExchangeStart, ExchangeTap
from gateway.extract.document import Document
from gateway.proxy.headers import RawHeaders
from gateway.proxy.request import RequestHead
from gateway.proxy.worker import Worker
from gateway.record import ExchangeRecord
from gateway.routing.route import Route
from gateway.violation import DocumentReport

#: The request header that asks for `X-Conformance-Next` (`conformance_next = "asked"`).
ASKS_NEXT = b"x-conformance-next"


class ExchangeTaps:
    """The taps one exchange is followed by (often none)."""

    __slots__ = ("taps",)

    def __init__(self, taps: Iterable[ExchangeTap] = ()) -> None:
        self.taps = tuple(taps)

    @classmethod
    def for_exchange(
        cls, worker: Worker, head: RequestHead, route: Route | None, schema_set: SchemaSet
    ) -> ExchangeTaps:
        """The taps the worker's factories make for the exchange `head` starts."""
        if not worker.taps:
            return NO_TAPS
        start = ExchangeStart(
            request_id=head.request_id,
            env=worker.settings.env,
            method=head.method,
            routed_path=head.routed_path,
            query=head.query,
            route=route.name if route else None,
            client=head.client(worker.settings.client_header),
            at_ms=int(head.arrived_at * 1000),
            asks_next=head.header(ASKS_NEXT) is not None,
            schema_set=schema_set,
        )
        return cls(tap for factory in worker.taps if (tap := factory.tap(start)) is not None)

    def __bool__(self) -> bool:
        return bool(self.taps)

    def body_checked(self, body: CheckedBody) -> None:
        for tap in self.taps:
            tap.body_checked(body)

    def member_checked(self, document: Document, report: DocumentReport) -> None:
        for tap in self.taps:
            tap.member_checked(document, report)

    def headers(self, streaming: bool = False) -> RawHeaders:
        """What the taps add to the answer's headers (`streaming`: an export's)."""
        return [header for tap in self.taps for header in tap.headers(streaming)]

    def ended(self, record: ExchangeRecord) -> None:
        for tap in self.taps:
            tap.ended(record)


#: An exchange that no tap follows.
NO_TAPS = ExchangeTaps()

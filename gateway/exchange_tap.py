"""What follows an exchange from its start, for the observers that need more than its record at
the end: validation against the next XSD set (`gateway.shadow`) needs the bodies checked, the
GDM advisories (`gateway.advice`) the query and the answer of a movements call.

An observer is a `TapFactory`: at each exchange's start, it is shown the exchange
(`ExchangeStart`) and returns a tap for it, or None when the exchange is none of its business.
The proxy then tells each tap of every body it checks (`body_checked`, on the thread that
validated it), of every export member (`member_checked`, on an archive's validating threads),
asks it for headers to add to the answer, and hands it the exchange's record at the end
(`ended`, on the event loop). A tap never waits: it keeps references, or hands work to a
thread of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.catalog import SchemaSet
from gateway.extract.document import Document
from gateway.record import ExchangeRecord
from gateway.routing.route import DirectionRule
from gateway.violation import DocumentReport


@dataclass(frozen=True, slots=True)
class ExchangeStart:
    """What is known of an exchange before its body: enough for an observer to decide."""

    request_id: str
    env: str
    method: str
    #: The canonical path routes match (`gateway.proxy.request.RequestHead`), and the raw query
    #: string.
    routed_path: str
    query: bytes
    route: str | None
    #: Who sent it (`gateway.record.ExchangeRecord.client`).
    client: str | None
    #: When it arrived, in milliseconds since the Unix epoch.
    at_ms: int
    #: Whether the request carries `X-Conformance-Next` (asking for that header).
    asks_next: bool
    #: The XSD set in service that judges it.
    schema_set: SchemaSet


@dataclass(frozen=True, slots=True)
class CheckedBody:
    """One buffered body as the engine checked it: its bytes without their Content-Encoding,
    what the extractor needs to read it again, the documents found and their reports (all of
    them, in the order of `documents`)."""

    direction: str
    extractor: str
    data: bytes
    content_type: str
    rule: DirectionRule
    soap_action_header: str | None
    documents: Sequence[Document]
    reports: Sequence[DocumentReport]


class ExchangeTap(Protocol):
    def body_checked(self, body: CheckedBody) -> None:
        """A body was checked (on the event loop, or on the thread that validated it)."""

    def member_checked(self, document: Document, report: DocumentReport) -> None:
        """An export member was validated (on one of the archive's threads)."""

    def headers(self, streaming: bool) -> list[tuple[bytes, bytes]]:
        """Headers for the answer about to start; `streaming` for an export, whose members
        are checked after its headers."""

    def ended(self, record: ExchangeRecord) -> None:
        """The exchange is over (on the event loop)."""


class TapFactory(Protocol):
    def tap(self, start: ExchangeStart) -> ExchangeTap | None: ...

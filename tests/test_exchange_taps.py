"""The taps that follow an exchange from its start (`gateway.exchange_tap`), in process: the
application driven without a socket (`tests/asgi.py`), a tap factory registered in
`create_app` beside the next XSD set and the GDM advisor. Each exchange is shown to the
factory before its body; the tap is told of each body checked (bytes, extractor, documents and
reports), adds its headers to the gateway's answer, and gets the exchange's record at the end;
an exchange the factory declines is followed by nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from gateway.exchange_tap import CheckedBody, ExchangeStart, ExchangeTap
from gateway.extract.document import Document
from gateway.proxy.app import create_app
from gateway.record import ExchangeRecord
from gateway.reload import SchemaHolder
from gateway.violation import DocumentReport
from tests.asgi import request, running
from tests.servers import gateway_settings

ROOT = Path(__file__).resolve().parent.parent
DRM = b"/v1.0/drm/ressources"
INVALID = (
    ROOT / "fixtures/invalid/drm-ressources/xsd.pattern--numunique-lowercase-key.xml"
).read_bytes()
#: No upstream listens there: what these tests send is blocked before it is forwarded.
NOWHERE = "http://127.0.0.1:9"
HEADERS = [
    (b"host", b"gateway.test"),
    (b"x-request-id", b"client-42"),
    (b"content-type", b"application/xml"),
    (b"x-conformance-next", b"please"),
]


class Followed:
    """A tap that keeps what it is told."""

    def __init__(self, start: ExchangeStart) -> None:
        self.start = start
        self.bodies: list[CheckedBody] = []
        self.members: list[tuple[Document, DocumentReport]] = []
        self.asked: list[bool] = []
        self.records: list[ExchangeRecord] = []

    def body_checked(self, body: CheckedBody) -> None:
        self.bodies.append(body)

    def member_checked(self, document: Document, report: DocumentReport) -> None:
        self.members.append((document, report))

    def headers(self, streaming: bool) -> list[tuple[bytes, bytes]]:
        self.asked.append(streaming)
        return [(b"x-followed", b"yes")]

    def ended(self, record: ExchangeRecord) -> None:
        self.records.append(record)


class Following:
    """Follows the exchanges on `path`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.taps: list[Followed] = []

    def tap(self, start: ExchangeStart) -> ExchangeTap | None:
        if start.routed_path != self.path:
            return None
        self.taps.append(tap := Followed(start))
        return tap


@pytest.fixture(scope="module")
def holder() -> SchemaHolder:
    return SchemaHolder(gateway_settings(NOWHERE))


def run(holder: SchemaHolder, factory: Following, *requests: tuple[Any, ...]) -> list[Any]:
    app = create_app(gateway_settings(NOWHERE, env="recette"), holder, taps=[factory])

    async def all_of_them() -> list[Any]:
        async with running(app):
            return [await request(app, *arguments) for arguments in requests]

    return asyncio.run(all_of_them())


def test_a_tap_follows_a_blocked_request_from_its_start_to_its_record(
    holder, logging_restored
) -> None:
    factory = Following(DRM.decode())
    [sent] = run(holder, factory, ("POST", DRM, HEADERS, INVALID))
    assert sent.status == 422
    assert sent.headers[b"x-followed"] == b"yes" and sent.headers[b"x-conformance"] == b"fail"
    [tap] = factory.taps
    start = tap.start
    assert (start.request_id, start.method, start.route, start.env) == (
        "client-42",
        "POST",
        "drm-ressources",
        "recette",
    )
    assert start.asks_next and start.client == "192.0.2.7"
    assert start.schema_set is holder.current.schema_set
    [body] = tap.bodies
    assert (body.direction, body.extractor, body.data, body.content_type) == (
        "request",
        "xml",
        INVALID,
        "application/xml",
    )
    [report] = body.reports
    assert len(body.documents) == 1 and not report.valid
    assert tap.members == [] and tap.asked == [False]
    [record] = tap.records
    assert (record.request_id, record.status, record.conformance) == ("client-42", 422, "fail")


def test_an_exchange_the_factory_declines_is_followed_by_nothing(holder, logging_restored) -> None:
    factory = Following("/elsewhere")
    [sent] = run(holder, factory, ("POST", DRM, HEADERS, INVALID))
    assert sent.status == 422 and b"x-followed" not in sent.headers
    assert factory.taps == []

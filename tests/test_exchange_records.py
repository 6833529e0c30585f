"""One record per exchange, in process: the gateway's application driven without a socket
(`tests/asgi.py`) for what needs no upstream (every kind of refusal, a request blocked before
it is forwarded), an observer registered beside the log and the metrics receiving each
exchange's `ExchangeRecord`, and the log and metrics observers fed records directly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.proxy.app import create_app
from gateway.record import DirectionRecord, ExchangeRecord, ViolationRecord
from gateway.reload import SchemaHolder
from gateway.report.log import ExchangeLog
from gateway.report.metrics import Metrics
from gateway.violation import DocumentReport, Violation
from tests.asgi import request, running
from tests.servers import gateway_settings

ROOT = Path(__file__).resolve().parent.parent
DRM = b"/v1.0/drm/ressources"
INVALID = (
    ROOT / "fixtures/invalid/drm-ressources/xsd.pattern--numunique-lowercase-key.xml"
).read_bytes()
#: No upstream listens there: what these tests send is never forwarded.
NOWHERE = "http://127.0.0.1:9"


class Kept:
    """An observer that keeps every record."""

    def __init__(self) -> None:
        self.records: list[ExchangeRecord] = []

    def exchange_ended(self, record: ExchangeRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def holder() -> SchemaHolder:
    return SchemaHolder(gateway_settings(NOWHERE))


@pytest.fixture
def exchanges(holder, logging_restored) -> Iterator[Any]:
    """Run requests through a gateway with a keeping observer: (the records, a runner)."""
    kept = Kept()

    def run(*requests: tuple[Any, ...], **settings: Any) -> list[Any]:
        app = create_app(gateway_settings(NOWHERE, **settings), holder, observers=[kept])

        async def all_of_them() -> list[Any]:
            async with running(app):
                return [await request(app, *arguments) for arguments in requests]

        return asyncio.run(all_of_them())

    yield kept.records, run


CLIENT = [(b"host", b"gateway.test"), (b"x-request-id", b"client-42")]


@pytest.mark.parametrize(
    ("method", "target", "status", "reason"),
    [
        ("TRACE", b"/x", 405, "The method TRACE is refused"),
        ("GET", b"/_gateway/nothing", 404, "The path is under /_gateway/"),
        ("GET", b"/%5Fgateway/metrics", 404, "The path is under /_gateway/"),
        ("POST", b"/_gateway/health", 405, "The request is refused: Method Not Allowed."),
    ],
)
def test_every_refusal_is_answered_and_recorded_alike(
    exchanges, method: str, target: bytes, status: int, reason: str
) -> None:
    records, run = exchanges
    [sent] = run((method, target, CLIENT))
    assert sent.status == status
    assert sent.headers[b"x-request-id"] == b"client-42"
    assert sent.headers[b"content-type"] == b"application/xml; charset=utf-8"
    assert b"GTW02" in sent.body and reason.encode() in sent.body
    [record] = records
    assert (record.outcome, record.status, record.request_id, record.method) == (
        "refused",
        status,
        "client-42",
        method,
    )
    assert record.reason is not None and record.reason.startswith(reason)
    assert (record.route, record.conformance, record.directions) == (None, "skipped", ())
    assert record.client == "192.0.2.7"


def test_litestar_s_refusal_keeps_its_allow_header(exchanges) -> None:
    _, run = exchanges
    [sent] = run(("POST", b"/_gateway/health", CLIENT))
    assert sent.headers[b"allow"] == b"GET, OPTIONS"


def test_an_endpoint_asked_without_the_admin_token_is_a_refusal_too(exchanges) -> None:
    records, run = exchanges
    refused, allowed = run(
        ("GET", b"/_gateway/metrics", CLIENT),
        ("GET", b"/_gateway/metrics", [*CLIENT, (b"authorization", b"Bearer s3cret")]),
        admin_token="s3cret",
    )
    assert (refused.status, refused.headers[b"www-authenticate"]) == (401, b"Bearer")
    assert b"s3cret" not in refused.body and b"admin token" in refused.body
    assert allowed.status == 200
    # The 401 is counted before the scrape.
    assert b'conformance="skipped",outcome="refused",route=""} 1.0' in allowed.body
    assert [record.status for record in records] == [401]


def test_a_blocked_request_is_recorded_with_its_violations(exchanges) -> None:
    records, run = exchanges
    headers = [*CLIENT, (b"content-type", b"application/xml")]
    [sent] = run(("POST", DRM, headers, INVALID), env="recette")
    assert sent.status == 422 and sent.headers[b"x-conformance"] == b"fail"
    [record] = records
    assert (record.route, record.conformance, record.outcome, record.status) == (
        "drm-ressources",
        "fail",
        None,
        422,
    )
    [direction] = record.directions
    assert (direction.direction, direction.conformance, direction.action) == (
        "request",
        "fail",
        "blocked",
    )
    [violation] = direction.violations
    assert violation.code == "xsd.pattern" and violation.schema == direction.schemas[0]
    assert violation.path is not None and violation.line is not None
    assert record.upstream_ms == 0 and record.duration_ms > 0


class Logger:
    """A logger that keeps its events."""

    def __init__(self, level: int = 20) -> None:
        self.level = level
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def is_enabled_for(self, level: int) -> bool:
        return level >= self.level

    def __getattr__(self, level: str) -> Any:
        return lambda event, **fields: self.events.append((level, event, fields))


REPORT = DocumentReport(
    "body",
    "drm-ressources@13.34",
    (Violation("xsd.pattern", "<numUnique> is not…", 3, 7, "/nuu:interfaceNuu/nuu:numUnique"),),
)
RECORD = ExchangeRecord(
    at_ms=1,
    env="recette",
    request_id="r1",
    method="POST",
    path="/v1.0/drm/ressources",
    route="drm-ressources",
    conformance="fail",
    status=422,
    upstream_ms=0.0,
    directions=(
        DirectionRecord("request", "fail", "blocked", (REPORT,), 1, validation_ms=1.23456),
    ),
)


def test_the_log_observer_says_each_direction_then_each_violation() -> None:
    logger = Logger()
    ExchangeLog(logger).exchange_ended(RECORD)
    [(level, event, fields), (violation_level, violation, where)] = logger.events
    assert (level, event, violation_level, violation) == (
        "warning",
        "exchange",
        "warning",
        "violation",
    )
    assert fields["direction"] == "request" and fields["action"] == "blocked"
    assert fields["validation_ms"] == 1.235 and fields["schemas"] == ["drm-ressources@13.34"]
    assert (where["code"], where["line"], where["column"]) == ("xsd.pattern", 3, 7)


def test_the_log_observer_says_a_refusal_in_one_event() -> None:
    logger = Logger()
    refused = ExchangeRecord(
        1, "recette", "r2", "TRACE", None, "skipped", outcome="refused", path="/x", reason="No."
    )
    ExchangeLog(logger).exchange_ended(refused)
    assert logger.events == [
        ("warning", "exchange.refused", {"request_id": "r2", "method": "TRACE", "reason": "No."})
    ]


def test_the_records_violations_hold_no_message() -> None:
    [direction] = RECORD.directions
    assert direction.violations == (
        ViolationRecord(
            "xsd.pattern", "drm-ressources@13.34", "/nuu:interfaceNuu/nuu:numUnique", 3, 7
        ),
    )
    assert direction.violation_count == 1 and RECORD.violation_count == 1


def test_the_metrics_observer_counts_records() -> None:
    metrics = Metrics(lambda: ("13.34", False), Logger())
    metrics.exchange_ended(RECORD)
    refused = ExchangeRecord(1, "prod", "r2", "GET", "drm", "skipped", outcome="refused")
    metrics.exchange_ended(refused)
    text = metrics.exposition().decode()
    assert (
        'sne_gateway_exchanges_total{conformance="fail",outcome="completed",route="drm-ressources"} 1.0'
        in text
    )
    assert (
        'sne_gateway_exchanges_total{conformance="skipped",outcome="refused",route=""} 1.0' in text
    )
    assert (
        'sne_gateway_violations_total{code="xsd.pattern",direction="request",route="drm-ressources"} 1.0'
        in text
    )
    assert 'sne_gateway_validation_seconds_total{direction="request"} 0.00123456' in text

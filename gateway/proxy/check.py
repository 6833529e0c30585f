"""One direction of an exchange through the engine's stages: undo the body's Content-Encoding,
extract its documents, validate them (select included), decide. What comes out is a `Verdict`
(`gateway.proxy.verdict`); the exchange's taps (`gateway.proxy.taps`) are told of each body and
export member checked. Also which extractor reads a body, if any: the route's, else the
one its content type names (`gateway.extract.message`), with the proxy's own rules on top.

A body over `max_body_bytes`, one the worker had no room to buffer (`max_buffered_bytes`), or
one in an encoding the gateway cannot decode, is not validated: it gets a report saying so,
which `decide` treats as incomplete (fail-open in prod). A bug in the engine never takes the
exchange down: it becomes a `validation.failed` report.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from gateway.catalog import SchemaSet
from gateway.config import Settings
from gateway.decide import decide
from gateway.exchange_tap import CheckedBody
from gateway.extract.extractor import (
    BufferedExtractor,
    Extraction,
    Extractor,
    Message,
    StreamingExtractor,
)
from gateway.extract.message import extractor_for
from gateway.extract.xml_body import XML
from gateway.http_metadata import announced_soap_version, decoded_body
from gateway.limits import MAX_FAILED_DOCUMENTS
from gateway.proxy.archive_stream import ArchiveCheck
from gateway.proxy.body import BufferedBody
from gateway.proxy.buffer_budget import BufferClaim
from gateway.proxy.request import RequestHead
from gateway.proxy.taps import NO_TAPS, ExchangeTaps
from gateway.proxy.verdict import Verdict, gateway_reports
from gateway.proxy.worker import Worker
from gateway.routing.route import NO_RULE, Direction, DirectionRule, Policy, Route
from gateway.validate import validate_document
from gateway.violation import DocumentReport

#: Responses without a body to validate.
NO_BODY_STATUSES = frozenset({*range(100, 200), 204, 304})
#: Bodies above this size are validated in a worker thread rather than on the event loop, one
#: at a time.
THREAD_THRESHOLD = 256 * 1024


def _too_large(direction: Direction, limit: int) -> list[DocumentReport]:
    return gateway_reports(
        "body",
        "limits.size",
        f"The {direction} body is larger than {limit:,} bytes (max_body_bytes); "
        "it was not validated.",
    )


def _over_budget(direction: Direction, budget: int) -> list[DocumentReport]:
    return gateway_reports(
        "body",
        "limits.size",
        f"The {direction} body was not validated: the bodies this worker holds for validation "
        f"would have gone over {budget:,} bytes (max_buffered_bytes).",
    )


@dataclass(slots=True)
class Checks:
    """What checking either direction of one exchange needs: the configuration, the route, the
    XSD set in service when the exchange started, and who to tell when the engine fails."""

    settings: Settings
    route: Route | None
    schema_set: SchemaSet
    #: The request's SOAPAction header as sent: with the Content-Type, it says the SOAP version.
    soap_action_header: str | None
    logger: Any
    request_id: str
    #: Held while a body over `THREAD_THRESHOLD` is validated (one at a time per worker).
    large_validations: asyncio.Semaphore
    #: The exchange's share of the worker's budget for buffers (a decoded copy counts too).
    buffers: BufferClaim
    #: Told of each body and export member checked (`gateway.exchange_tap`).
    taps: ExchangeTaps = NO_TAPS

    @classmethod
    def for_exchange(
        cls,
        worker: Worker,
        head: RequestHead,
        route: Route | None,
        schema_set: SchemaSet,
        buffers: BufferClaim,
    ) -> Checks:
        return cls(
            worker.settings,
            route,
            schema_set,
            head.soap_action_header,
            worker.logger,
            head.request_id,
            worker.large_validations,
            buffers,
            ExchangeTaps.for_exchange(worker, head, route, schema_set),
        )

    def rule(self, direction: Direction) -> DirectionRule:
        return self.route.rule(direction) if self.route else NO_RULE

    def policy(self, direction: Direction) -> Policy:
        return self.settings.policy(direction, self.route)

    def extractor(
        self, direction: Direction, content_type: str, status: int | None = None
    ) -> Extractor | None:
        """The extractor for `direction`, or None when it is not validated. On a route that
        names its schemas, a request is read as XML whatever its Content-Type says (sent as
        text/plain, as an archive type, or untyped, it would otherwise reach the SNE
        unvalidated), and so is a successful answer of a type that is not XML (a CXF client
        parses it all the same); an error answer of another type (an HTML page) is not."""
        if self.policy(direction) == "off":
            return None
        rule = self.rule(direction)
        kind = extractor_for(content_type, rule)
        if rule.extract or not rule.schema_names:
            return kind
        if direction == "request" and (kind is None or kind.streaming):
            return XML
        if direction == "response" and kind is None and status is not None and 200 <= status < 300:
            return XML
        return kind

    def response_extractor(self, method: str, status: int, content_type: str) -> Extractor | None:
        """The extractor of an answer, or None when it is not validated (an answer to HEAD, or
        of a status without a body, has none). A streaming extractor the route forces reads a
        successful answer of its own media type, or of none; any other answer is read by its
        type (an error answer on an export route is an XML document, not an archive)."""
        if method == "HEAD" or status in NO_BODY_STATUSES:
            return None
        kind = self.extractor("response", content_type, status)
        if kind is not None and kind.streaming:
            by_type = extractor_for(content_type, NO_RULE)
            if not (200 <= status < 300 and by_type in (None, kind)):
                return by_type
        return kind

    def archive_check(self, kind: StreamingExtractor, path: str) -> ArchiveCheck:
        """The check of an archive answered on `path`, which streams."""
        settings = self.settings
        return ArchiveCheck(
            kind,
            f"{path.rsplit('/', 1)[-1] or 'export'}.tgz",
            self.schema_set,
            self.rule("response").schema,
            settings.limits,
            settings.capture_values,
            settings.rule_actions,
            [self.taps.member_checked] if self.taps else (),
        )

    def archive_verdict(self, check: ArchiveCheck, seconds: float) -> Verdict:
        """The verdict on an archive read to its end."""
        settings = self.settings
        decision = decide(
            check.reports,
            self.policy("response"),
            settings.env,
            settings.fail_closed,
            settings.rule_actions,
        )
        return Verdict(
            decision,
            check.reports,
            seconds,
            documents=check.documents,
            omitted=check.failures_omitted,
            archive=True,
        )

    async def check(
        self,
        direction: Direction,
        kind: BufferedExtractor,
        body: BufferedBody,
        content_type: str,
        encoding: str | None,
    ) -> Verdict | None:
        """Validate a buffered body; None when there is nothing to validate (no body)."""
        if body.ended and not body.data:
            return None
        started = time.perf_counter()
        extraction, reports = await self._reports(direction, kind, body, content_type, encoding)
        kept, failed = [], 0
        for report in reports:
            if not report.valid:
                failed += 1
                if failed > MAX_FAILED_DOCUMENTS:
                    continue
            kept.append(report)
        omitted = max(0, failed - MAX_FAILED_DOCUMENTS)
        decision = decide(
            kept,
            self.policy(direction),
            self.settings.env,
            self.settings.fail_closed,
            self.settings.rule_actions,
        )
        return Verdict(
            decision,
            kept,
            time.perf_counter() - started,
            extraction.soap_version,
            documents=len(reports) if omitted else None,
            omitted=omitted,
        )

    async def _reports(
        self,
        direction: Direction,
        kind: BufferedExtractor,
        body: BufferedBody,
        content_type: str,
        encoding: str | None,
    ) -> tuple[Extraction, list[DocumentReport]]:
        limit = self.settings.max_body_bytes
        if not body.within_limit:
            if body.over_budget:
                return self._unread(content_type), _over_budget(
                    direction, self.settings.max_buffered_bytes
                )
            return self._unread(content_type), _too_large(direction, limit)
        # Java's inflater, the SNE's, reads zlib's format only; an SI's HTTP client may read both.
        decoded = decoded_body(body.data, encoding, limit, raw_deflate=direction == "response")
        if decoded is None:
            return self._unread(content_type), gateway_reports(
                "body",
                "http.content-encoding",
                f"The {direction} body's Content-Encoding '{encoding}' cannot be decoded (the "
                "gateway decodes gzip and deflate); it was not validated.",
            )
        if len(decoded) > limit:
            return self._unread(content_type), _too_large(direction, limit)
        copied = len(decoded) if decoded is not body.data else 0
        if copied and not self.buffers.take(copied):
            return self._unread(content_type), _over_budget(
                direction, self.settings.max_buffered_bytes
            )
        try:
            if len(decoded) > THREAD_THRESHOLD:
                await self.large_validations.acquire()
                validating = asyncio.get_running_loop().run_in_executor(
                    None,
                    self._extract_and_validate,
                    decoded,
                    content_type,
                    direction,
                    kind,
                )
                # Released when the thread ends, not when this exchange stops waiting for it:
                # a client that leaves does not stop the thread, nor free its memory.
                validating.add_done_callback(lambda _: self.large_validations.release())
                self.buffers.hold_while(validating)
                result = await asyncio.shield(validating)
            else:
                result = self._extract_and_validate(decoded, content_type, direction, kind)
        except Exception as error:  # a bug must not take the exchange down: decide says how
            self.logger.exception(
                "validation.error", request_id=self.request_id, direction=direction
            )
            result = (
                self._unread(content_type),
                gateway_reports(
                    "body",
                    "validation.failed",
                    f"Validation failed inside the gateway ({type(error).__name__}); "
                    "see the gateway logs.",
                ),
            )
        # Not when cancelled: the thread may still hold the copy, until the exchange's release.
        self.buffers.give_back(copied)
        return result

    def _unread(self, content_type: str) -> Extraction:
        """No document extracted: a blocking answer still speaks the SOAP version the headers
        announce."""
        return Extraction((), announced_soap_version(content_type, self.soap_action_header))

    def _extract_and_validate(
        self, body: bytes, content_type: str, direction: Direction, kind: BufferedExtractor
    ) -> tuple[Extraction, list[DocumentReport]]:
        rule = self.rule(direction)
        message = Message(
            body,
            content_type,
            rule,
            self.settings.limits,
            self.soap_action_header,
            self.settings.capture_values,
            # A client sends no Fault: on a route with a wrapper, one in a request is checked.
            faults_pass=direction == "response" or rule.wrapper is None,
        )
        extraction = kind.extract(message)
        reports = [
            validate_document(
                document,
                self.schema_set,
                limits=self.settings.limits,
                show_values=self.settings.capture_values,
            )
            for document in extraction.documents
        ]
        if self.taps:
            self.taps.body_checked(
                CheckedBody(
                    direction,
                    kind.name,
                    body,
                    content_type,
                    rule,
                    self.soap_action_header,
                    extraction.documents,
                    reports,
                )
            )
        return extraction, reports

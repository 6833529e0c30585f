"""One direction of an exchange through the engine's stages: undo the body's Content-Encoding,
extract its documents, validate them (select included), decide. What comes out is a `Verdict`,
plain data the exchange answers, heads and logs with.

A body over `max_body_bytes`, one the worker had no room to buffer (`max_buffered_bytes`), or
one in an encoding the gateway cannot decode, is not validated: it gets a report saying so,
which `decide` treats as incomplete (fail-open in prod). A bug in the engine never takes the
exchange down: it becomes a `validation.failed` report.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.catalog import SchemaSet
from gateway.config import Direction, DirectionRule, Policy, Route, Settings
from gateway.decide import Decision, decide
from gateway.exchange_tap import CheckedBody, ExchangeTap
from gateway.extract.message import (
    Extraction,
    announced_soap_version,
    extract_documents,
    extractor_for,
)
from gateway.limits import MAX_FAILED_DOCUMENTS
from gateway.proxy.body import BufferedBody
from gateway.proxy.buffer_budget import BufferClaim
from gateway.validate import validate_document
from gateway.violation import DocumentReport, Violation

#: Extractors that need the whole body (archives stream instead).
BUFFERED_EXTRACTORS = frozenset({"xml", "soap", "mtom"})
#: Bodies above this size are validated in a worker thread rather than on the event loop, one
#: at a time.
THREAD_THRESHOLD = 256 * 1024
#: Members of a gzip body decoded (each one copies the rest of the body: a body of 20-byte
#: empty members would take minutes); a client sends one.
MAX_GZIP_MEMBERS = 4


@dataclass
class Verdict:
    """The outcome of one direction, for headers and logs."""

    decision: Decision
    reports: list[DocumentReport]
    seconds: float = 0.0
    soap_version: str | None = None
    #: For archives, which keep only their failures: how many members, and failures not kept.
    documents: int | None = None
    omitted: int = 0
    #: An export's, given once it has streamed: its check lasted as long as its download.
    archive: bool = False


def gateway_reports(source: str, code: str, message: str) -> list[DocumentReport]:
    """The report of what the gateway itself found, rather than a schema."""
    return [DocumentReport(source, None, (Violation(code, message),))]


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


def _decoded(body: bytes, encoding: str | None, limit: int, raw_deflate: bool) -> bytes | None:
    """The body without its Content-Encoding (gzip, deflate), bounded; None if undecodable.
    Every gzip member is decoded (a receiver reads them all), up to `MAX_GZIP_MEMBERS`, and a
    stream cut short or followed by anything but gzip's zero padding is undecodable: what is
    validated is what the receiver reads. `deflate` is zlib's format (RFC 9110, 8.4.1.2); with
    `raw_deflate`, a body that does not begin with a zlib header is read as deflate's raw
    stream, which browsers, curl and httpx read too. The header alone decides, as in browsers:
    trying the raw stream after a failed zlib one could validate another document than the one
    a receiver reads (a zlib stream, then bytes that make the whole a raw stream)."""
    if not encoding or encoding == "identity" or not body:
        return body
    encoding = encoding.lower()
    if encoding == "gzip":
        return _inflated(body, 16 + zlib.MAX_WBITS, MAX_GZIP_MEMBERS, limit)
    if encoding != "deflate":
        return None
    if raw_deflate and not _zlib_header(body):
        return _inflated(body, -zlib.MAX_WBITS, 1, limit)
    return _inflated(body, zlib.MAX_WBITS, 1, limit)


def _zlib_header(body: bytes) -> bool:
    """Whether `body` begins as zlib's format does (RFC 1950, 2.2): deflate with a window of at
    most 32 KiB, a check over both bytes, no preset dictionary."""
    return (
        len(body) >= 2
        and body[0] & 0x0F == 8
        and body[0] >> 4 <= 7
        and (body[0] << 8 | body[1]) % 31 == 0
        and not body[1] & 0x20
    )


def _inflated(body: bytes, wbits: int, members: int, limit: int) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    rest = body
    try:
        for _ in range(members):
            decompressor = zlib.decompressobj(wbits)
            parts.append(decompressor.decompress(rest, limit + 1 - size))
            size += len(parts[-1])
            if size > limit:
                break  # too large: the caller says so
            if not decompressor.eof:
                return None
            rest = decompressor.unused_data
            if not rest or (rest[0] == 0 and rest.count(0) == len(rest)):
                break
        else:
            return None
    except zlib.error:
        return None
    return b"".join(parts)


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
    #: Told of each body checked (`gateway.exchange_tap`).
    taps: Sequence[ExchangeTap] = ()

    def rule(self, direction: Direction) -> DirectionRule:
        return self.route.rule(direction) if self.route else DirectionRule()

    def policy(self, direction: Direction) -> Policy:
        return self.settings.policy(direction, self.route)

    def extractor(
        self, direction: Direction, content_type: str, status: int | None = None
    ) -> str | None:
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
        if direction == "request" and kind not in BUFFERED_EXTRACTORS:
            return "xml"
        if direction == "response" and kind is None and status is not None and 200 <= status < 300:
            return "xml"
        return kind

    async def check(
        self,
        direction: Direction,
        kind: str,
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
        kind: str,
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
        decoded = _decoded(body.data, encoding, limit, raw_deflate=direction == "response")
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
        self, body: bytes, content_type: str, direction: Direction, kind: str
    ) -> tuple[Extraction, list[DocumentReport]]:
        rule = self.rule(direction)
        extraction = extract_documents(
            body,
            content_type,
            rule,
            self.settings.limits,
            kind,
            self.soap_action_header,
            self.settings.capture_values,
            # A client sends no Fault: on a route with a wrapper, one in a request is checked.
            faults_pass=direction == "response" or rule.wrapper is None,
        )
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
            checked = CheckedBody(
                direction,
                kind,
                body,
                content_type,
                rule,
                self.soap_action_header,
                extraction.documents,
                reports,
            )
            for tap in self.taps:
                tap.body_checked(checked)
        return extraction, reports

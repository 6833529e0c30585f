"""One proxied exchange: refuse what no reverse proxy should forward, then for each direction
run the engine's stages (`check`: extract → validate → decide), forward or answer (`answer`:
the SNE-shaped refusals), and log the outcome (`gateway.report.log`).

Bodies the route validates are buffered up to `max_body_bytes`, and as long as the worker's
exchanges hold at most `max_buffered_bytes` in such buffers (its `BufferBudget`); past either,
they are a `limits.size` violation and stream on. Everything else streams through untouched.
TGZ exports stream to the client while a worker thread validates them member by member.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
from litestar.types import HTTPScope, Receive, Send

from gateway.catalog import SchemaSet
from gateway.config import Direction, DirectionRule, Policy, Route, Settings
from gateway.decide import decide
from gateway.exchange_tap import ExchangeStart, ExchangeTap, TapFactory
from gateway.extract.message import announced_soap_version, content_type_action, extractor_for
from gateway.proxy.answer import (
    XML_CONTENT_TYPE,
    Answer,
    blocked,
    conformance_headers,
    failed,
)
from gateway.proxy.archive_stream import ArchiveCheck
from gateway.proxy.body import (
    BufferedBody,
    ClientDisconnected,
    ClientTimeout,
    read_body,
    stream_body,
)
from gateway.proxy.buffer_budget import BufferBudget
from gateway.proxy.check import BUFFERED_EXTRACTORS, Checks, Verdict, gateway_reports
from gateway.proxy.exchange_record import client_identity, keep_record
from gateway.proxy.headers import RawHeaders, end_to_end, header, upstream_request_headers
from gateway.proxy.host import host_refusal
from gateway.proxy.methods import allowed_methods
from gateway.proxy.reserved import reserved
from gateway.proxy.target import PathRefused, canonical_target
from gateway.proxy.upstream import timeouts, upstream_url
from gateway.proxy.upstream_failure import (
    UpstreamFailure,
    answer_failure,
    caused_by,
    request_failure,
)
from gateway.record import RecordSink
from gateway.reload import SchemaHolder
from gateway.report.anomaly import anomaly_document
from gateway.report.log import log_reports
from gateway.report.metrics import Metrics

#: Bodies that are not validated are still read whole up to this size, to be forwarded with a
#: Content-Length (cheaper for both ends than chunked streaming); larger ones stream.
PASS_THROUGH_BUFFER = 1024 * 1024
#: Methods refused, and why.
REFUSED_METHODS = {
    "CONNECT": "this gateway only forwards to its configured upstream",
    "TRACE": "the upstream would echo the request, credentials included, back to the client",
}
#: A client's X-Request-ID is kept when it is this (it goes into headers and every log event).
CLIENT_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")
#: What uvicorn refuses to send in a header value (it would drop the connection unanswered).
INVALID_HEADER_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
#: Responses without a body to validate.
NO_BODY_STATUSES = frozenset({*range(100, 200), 204, 304})
#: The action logged for an exchange whose bodies were not validated, by its outcome (None: it
#: went through); any other outcome was answered by the gateway itself.
UNVALIDATED_ACTIONS = {None: "forwarded", "client-disconnected": "abandoned"}
#: The gateway's own headers: an upstream's copies are not passed on.
GATEWAY_HEADERS = (
    b"x-request-id",
    b"x-conformance",
    b"x-conformance-request",
    b"x-conformance-response",
    b"x-conformance-schema",
    b"x-conformance-next",
)


@dataclass
class Gateway:
    """What every exchange of a worker shares."""

    settings: Settings
    schemas: SchemaHolder
    transport: httpx.AsyncBaseTransport
    logger: Any
    #: The violations store's queue (None: `store = "off"`).
    store: RecordSink | None = None
    #: Observers following each exchange from its start (the next XSD set, GDM advice).
    taps: tuple[TapFactory, ...] = ()
    upstream_host: str = field(init=False)
    timeouts: dict[str, float | None] = field(init=False)
    #: Large bodies are validated one at a time: a tree takes about 70 times its document's
    #: size, and a handful of 32 MiB bodies at once would take gigabytes.
    large_validations: asyncio.Semaphore = field(init=False)
    #: Bodies buffered for validation, waiting for their turn or not, are bounded all together
    #: (`max_buffered_bytes`): else many clients sending large bodies at once would each have
    #: one held.
    buffer_budget: BufferBudget = field(init=False)
    metrics: Metrics = field(init=False)

    def __post_init__(self) -> None:
        self.upstream_host = httpx.URL(self.settings.upstream or "").netloc.decode("ascii")
        self.timeouts = timeouts(self.settings)
        self.large_validations = asyncio.Semaphore(1)
        self.buffer_budget = BufferBudget(self.settings.max_buffered_bytes)
        self.metrics = Metrics(self.schemas, self.logger)


def _soap_action(header_action: str | None, content_type: str) -> str | None:
    """The SOAP action as the SNE's CXF reads it: the Content-Type's for SOAP 1.2 (a SOAPAction
    header is then ignored), else the SOAPAction header, in double or single quotes."""
    if announced_soap_version(content_type, None) == "1.2":
        action = content_type_action(content_type)
    else:
        action = header_action
    return action.strip().strip("\"'") if action is not None else None


class Exchange:
    """The state of one client exchange while it goes through the pipeline."""

    def __init__(self, gateway: Gateway, scope: HTTPScope, receive: Receive, send: Send) -> None:
        self.started_at, self.started = time.time(), time.perf_counter()
        self.gateway = gateway
        self.settings = gateway.settings
        self.scope = scope
        self.receive = receive
        self.send = send
        self.method: str = scope["method"]
        self.headers: RawHeaders = list(scope["headers"])
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        try:
            target = canonical_target(raw_path.decode("latin-1"))
            self.path, self.routed_path, self.refusal = target.forwarded, target.routed, None
        except PathRefused as refused:
            self.path = self.routed_path = raw_path.decode("latin-1")
            self.refusal = f"The request path is refused: {refused}."
        client_id = header(self.headers, b"x-request-id")
        self.request_id = (
            client_id
            if client_id is not None and CLIENT_REQUEST_ID.fullmatch(client_id)
            else os.urandom(16).hex()
        )
        self.content_type = header(self.headers, b"content-type") or ""
        soap_action_header = header(self.headers, b"soapaction")
        self.soap_action = _soap_action(soap_action_header, self.content_type)
        # The set in service when the exchange starts is the one it finishes with, and so
        # are the routes fitted to it.
        in_service = gateway.schemas.current
        self.route: Route | None = in_service.route_for(
            self.method, self.routed_path, self.soap_action
        )
        #: The methods the routes of this path take, when this one is refused for its own.
        self.allow = (
            allowed_methods(
                self.settings,
                in_service.routes,
                self.method,
                self.routed_path,
                self.soap_action,
                self.headers,
            )
            if self.route is None
            else None
        )
        # The set in service when the exchange starts is the one it finishes with.
        self.schema_set: SchemaSet = in_service.schema_set
        #: What this exchange's buffers take from the worker's budget, given back at its end.
        self.buffers = gateway.buffer_budget.claim()
        self.taps = self._taps(gateway.taps) if gateway.taps else []
        self.checks = Checks(
            self.settings,
            self.route,
            self.schema_set,
            soap_action_header,
            gateway.logger,
            self.request_id,
            gateway.large_validations,
            self.buffers,
            self.taps,
        )
        self.verdicts: dict[Direction, Verdict] = {}
        self.upstream_seconds = 0.0
        self.status: int | None = None
        self.finished = False
        self.task: asyncio.Task[Any] | None = None
        self.outcome: str | None = None
        self.watcher: asyncio.Task[None] | None = None

    def _taps(self, factories: tuple[TapFactory, ...]) -> list[ExchangeTap]:
        start = ExchangeStart(
            request_id=self.request_id,
            env=self.settings.env,
            method=self.method,
            routed_path=self.routed_path,
            query=self.scope.get("query_string", b""),
            route=self.route.name if self.route else None,
            client=client_identity(self),
            at_ms=int(self.started_at * 1000),
            asks_next=header(self.headers, b"x-conformance-next") is not None,
            schema_set=self.schema_set,
        )
        return [tap for factory in factories if (tap := factory.tap(start)) is not None]

    def _conformance_headers(self, streaming: bool = False) -> RawHeaders:
        """The gateway's headers on a proxied answer, and those its taps add."""
        if streaming:
            headers = [
                (b"x-request-id", self.request_id.encode("latin-1")),
                (b"x-conformance", b"streaming"),
            ]
        else:
            headers = conformance_headers(self.request_id, self.verdicts)
        for tap in self.taps:
            headers += tap.headers(streaming)
        return headers

    # -- answers ---------------------------------------------------------------------------

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif not message.get("more_body", False):
            # From here on, a disconnect is the normal end of the exchange, not an abort.
            self.finished = True
        await self.send(message)  # type: ignore[arg-type]

    async def _answer(self, answer: Answer, headers: RawHeaders) -> None:
        await self._send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [
                    (b"content-type", answer.content_type),
                    (b"content-length", str(len(answer.body)).encode()),
                    *headers,
                ],
            }
        )
        await self._send({"type": "http.response.body", "body": answer.body})

    async def _block(self, direction: Direction, verdict: Verdict) -> None:
        await self._answer(
            blocked(direction, verdict, self.schema_set.version),
            self._conformance_headers(),
        )

    def _failure(self, code: str, status: int, reason: str) -> Answer:
        """The answer when the exchange cannot go through, in the request's SOAP version (the
        one its headers announce when it was not validated)."""
        request = self.verdicts.get("request")
        soap_version = (
            request.soap_version
            if request
            else announced_soap_version(self.content_type, self.checks.soap_action_header)
        )
        self.outcome = code
        return failed(status, code, reason, soap_version, self.schema_set.version)

    async def _fail_upstream(self, failure: UpstreamFailure) -> None:
        answer = self._failure(failure.code, failure.status, failure.reason)
        self.gateway.logger.error(
            failure.code,
            request_id=self.request_id,
            method=self.method,
            route=self._route_name,
            reason=failure.reason,
            cause=failure.cause,
        )
        await self._answer(answer, self._conformance_headers())

    async def _client_timed_out(self) -> None:
        """A 408 in the SNE's shape, unless an answer has started; the connection is closed
        (the rest of the body will not be read)."""
        reason = (
            f"The client sent nothing for {self.settings.client_timeout:g} s before the end of "
            "its request body (client_timeout); the request was not forwarded whole."
        )
        answer = self._failure("client.timeout", 408, reason)
        self.gateway.logger.warning(
            "client.timeout",
            request_id=self.request_id,
            method=self.method,
            route=self._route_name,
            reason=reason,
        )
        if self.status is None:
            await self._answer(
                answer,
                [*self._conformance_headers(), (b"connection", b"close")],
            )

    @property
    def _route_name(self) -> str | None:
        return self.route.name if self.route else None

    def _log(self) -> None:
        """One event per validated direction (one in all when neither was validated)."""
        if not self.gateway.logger.is_enabled_for(logging.INFO) and not any(
            verdict.omitted or not all(report.valid for report in verdict.reports)
            for verdict in self.verdicts.values()
        ):
            return  # only info events to emit, and the level is above: spare building them
        common: dict[str, Any] = {
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "route": self._route_name,
            "env": self.settings.env,
            "status": self.status,
            "upstream_ms": round(self.upstream_seconds * 1000, 3),
        }
        if self.outcome:
            common["outcome"] = self.outcome
        if not self.verdicts:
            log_reports(
                self.gateway.logger,
                [],
                direction=None,
                conformance="skipped",
                action=UNVALIDATED_ACTIONS.get(self.outcome, "answered"),
                **common,
            )
            return
        for direction, verdict in self.verdicts.items():
            log_reports(
                self.gateway.logger,
                verdict.reports,
                documents=verdict.documents,
                omitted=verdict.omitted,
                direction=direction,
                conformance=verdict.decision.conformance,
                action=verdict.decision.action,
                # Forwarded although it could not be judged (fail-open): say so.
                **({"incomplete": True} if verdict.decision.incomplete else {}),
                validation_ms=round(verdict.seconds * 1000, 3),
                **common,
            )

    # -- the exchange ------------------------------------------------------------------------

    def _refused(self) -> tuple[int, str] | None:
        """The status and reason the request is refused with, if it is."""
        # The raw request target, as the protocol (gateway.proxy.protocol) keeps it.
        target = cast("bytes | None", (self.scope.get("extensions") or {}).get("request_target"))
        if self.method in REFUSED_METHODS:
            return 405, f"The method {self.method} is refused: {REFUSED_METHODS[self.method]}."
        if target == b"*":
            return 400, (
                "The request target '*' (OPTIONS *) is refused: this gateway forwards paths only."
            )
        if target is not None and not target.startswith(b"/"):
            return 400, (
                "Absolute-form request targets are refused: this gateway is not an open proxy."
            )
        if refusal := host_refusal(self.headers, self.scope.get("http_version")):
            return 400, refusal
        names = [name for name, _ in self.headers]
        for name in (b"content-type", b"content-encoding"):
            if names.count(name) > 1:
                # Which one counts would be the upstream's choice, not the one validated.
                return 400, (
                    f"The request has {names.count(name)} {name.decode()} headers; send one."
                )
        if self.content_type.lower().count("action=") > 1:
            # CXF takes the first `action=` it finds, even inside another parameter's name.
            return 400, "The request's Content-Type names an action more than once; name one."
        if self.refusal is not None:
            return 400, self.refusal
        if self.allow is not None:
            return 405, (
                f"The method {self.method} is not one this path's routes take ({self.allow}), "
                "and its body would reach the SNE unvalidated."
            )
        return None

    async def run(self) -> None:
        if refused := self._refused():
            status, refusal = refused
            body = anomaly_document(
                gateway_reports("request", "gateway.refused", refusal), self.schema_set.version
            )
            await self._answer(
                Answer(status, body, XML_CONTENT_TYPE),
                [
                    (b"x-request-id", self.request_id.encode("latin-1")),
                    *([(b"allow", self.allow.encode())] if status == 405 and self.allow else []),
                ],
            )
            self.gateway.logger.warning(
                "exchange.refused", request_id=self.request_id, method=self.method, reason=refusal
            )
            self.gateway.metrics.refused()
            self.outcome = "refused"
            keep_record(self)
            return
        if reserved(self.routed_path):
            await self._answer(
                Answer(
                    404,
                    b"Not Found: /_gateway/ is reserved to the gateway.",
                    b"text/plain; charset=utf-8",
                ),
                [],
            )
            return
        try:
            await self._exchange()
        except ClientTimeout:
            await self._client_timed_out()
        except ClientDisconnected:
            self.outcome = "client-disconnected"
        except Exception:
            self.outcome = "error"
            # Litestar answers 500 (if no answer has begun) without a word in the log.
            self.gateway.logger.exception(
                "exchange.failed",
                request_id=self.request_id,
                method=self.method,
                route=self._route_name,
            )
            raise
        finally:
            self.buffers.release()
            self._log()
            self.gateway.metrics.record(self._route_name, self.outcome, self.verdicts)
            keep_record(self)

    async def _exchange(self) -> None:
        kind = self.checks.extractor("request", self.content_type)
        validated = kind in BUFFERED_EXTRACTORS
        limit = self.settings.max_body_bytes if validated else PASS_THROUGH_BUFFER
        body = await read_body(
            self.receive, limit, self.settings.client_timeout, self.buffers if validated else None
        )
        if validated:
            encoding = header(self.headers, b"content-encoding")
            verdict = await self.checks.check("request", kind, body, self.content_type, encoding)  # type: ignore[arg-type]
            if verdict is not None:
                self.verdicts["request"] = verdict
                if verdict.decision.block:
                    await self._block("request", verdict)
                    return
        self.task = asyncio.current_task()
        if body.ended:
            self._watch_disconnect()
            await self._forward(body.data)
        else:
            await self._forward(
                stream_body(
                    self.receive,
                    body.data,
                    self.settings.client_timeout,
                    on_end=self._watch_disconnect,
                )
            )

    def _watch_disconnect(self) -> None:
        """Once the request body is read, the only message left to receive is a disconnect:
        watch for it, and cancel the exchange (and its upstream call) when it comes early."""

        async def cancel_on_disconnect() -> None:
            message = await self.receive()
            if message["type"] == "http.disconnect" and not self.finished and self.task:
                self.task.cancel()

        self.watcher = asyncio.create_task(cancel_on_disconnect())

    async def _forward(self, content: bytes | AsyncIterator[bytes]) -> None:
        client = self.scope.get("client")
        headers = upstream_request_headers(
            self.headers,
            self.gateway.upstream_host,
            client[0] if client else None,
            self.scope.get("scheme", "http"),
            self.request_id,
        )
        if self.settings.upstream is None:  # serve always sets one (the simulator's, if need be)
            raise RuntimeError("no upstream is configured")
        query = self.scope.get("query_string", b"")
        url = self.settings.upstream + self.path + (f"?{query.decode('latin-1')}" if query else "")
        request = httpx.Request(
            self.method,
            upstream_url(url),
            headers=headers,
            # No body stays no body: an empty one would add a Content-Length the client never sent.
            content=content if content or header(self.headers, b"content-length") else None,
            extensions={"timeout": self.gateway.timeouts},
        )
        started = time.perf_counter()
        try:
            try:
                response = await self.gateway.transport.handle_async_request(request)
            except httpx.TransportError as error:
                if caused_by(error, ClientDisconnected):
                    # The request body's stream broke off on the client's side.
                    gone = ClientTimeout if caused_by(error, ClientTimeout) else ClientDisconnected
                    raise gone from error
                self.upstream_seconds = time.perf_counter() - started
                await self._fail_upstream(request_failure(error))
                return
            self.upstream_seconds = time.perf_counter() - started
            try:
                await self._respond(response)
            finally:
                await response.aclose()
        except asyncio.CancelledError:
            if self.finished:
                raise
            # Gone while the upstream was still to answer: how long it had been waited for.
            self.upstream_seconds = self.upstream_seconds or time.perf_counter() - started
            raise ClientDisconnected from None
        finally:
            if self.watcher is not None:
                self.watcher.cancel()

    async def _respond(self, response: httpx.Response) -> None:
        if problem := _botched(response):
            await self._fail_upstream(UpstreamFailure("upstream.invalid", 502, problem, problem))
            return
        content_type = response.headers.get("content-type", "")
        kind = self.checks.extractor("response", content_type, response.status_code)
        if self.method == "HEAD" or response.status_code in NO_BODY_STATUSES:
            kind = None
        elif kind == "tgz" and not (
            200 <= response.status_code < 300
            and extractor_for(content_type, DirectionRule()) in (None, "tgz")
        ):
            # An error answer on an export route is an XML document, not an archive.
            kind = extractor_for(content_type, DirectionRule())
        upstream_headers = end_to_end(response.headers.raw, also_drop=GATEWAY_HEADERS)
        if any(INVALID_HEADER_VALUE.search(value) for _, value in upstream_headers):
            problem = "The SNE platform's answer has a header value with a control character."
            await self._fail_upstream(UpstreamFailure("upstream.invalid", 502, problem, problem))
            return
        if kind == "tgz":
            await self._respond_archive(
                response,
                upstream_headers,
                self.checks.rule("response"),
                self.checks.policy("response"),
            )
            return
        if kind not in BUFFERED_EXTRACTORS:
            await self._stream(response.status_code, upstream_headers, response.aiter_raw())
            return
        stream = response.aiter_raw()
        chunks = []
        size = 0
        limit = self.settings.max_body_bytes
        ended = True
        over_budget = False
        try:
            async for chunk in stream:
                chunks.append(chunk)
                size += len(chunk)
                # A body over its own limit says so, rather than that the budget was short.
                if not self.buffers.take(len(chunk)) and size <= limit:
                    ended = False
                    over_budget = True
                    break
                if size > limit:
                    ended = False
                    break
        except httpx.TransportError as error:
            await self._fail_upstream(answer_failure(error))
            return
        body = BufferedBody(b"".join(chunks), ended, limit, over_budget)
        del chunks  # held once, as the budget counts it, not twice
        verdict = await self.checks.check(
            "response",
            kind,
            body,
            content_type,
            response.headers.get("content-encoding"),
        )
        if verdict is not None:
            self.verdicts["response"] = verdict
            if verdict.decision.block:
                await self._block("response", verdict)
                return
        if ended:
            headers = [(k, v) for k, v in upstream_headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body.data)).encode()))
            await self._send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": headers + self._conformance_headers(),
                }
            )
            await self._send({"type": "http.response.body", "body": body.data})
            return
        await self._stream(response.status_code, upstream_headers, stream, prefix=body.data)

    async def _stream(
        self, status: int, headers: RawHeaders, chunks: AsyncIterator[bytes], prefix: bytes = b""
    ) -> None:
        await self._send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": headers + self._conformance_headers(),
            }
        )
        if prefix:
            await self._send({"type": "http.response.body", "body": prefix, "more_body": True})
        try:
            async for chunk in chunks:
                await self._send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.TransportError as error:
            self._broke_off(error)
            return
        await self._send({"type": "http.response.body", "body": b""})

    def _broke_off(self, error: httpx.TransportError) -> None:
        """The upstream's answer broke off after its headers were passed on: the client learns
        it by the connection's end (returning without the body's end drops it)."""
        self.outcome = "upstream-broke-off"
        failure = answer_failure(error)
        self.gateway.logger.warning(
            "upstream.broke-off",
            request_id=self.request_id,
            method=self.method,
            route=self._route_name,
            reason=failure.reason,
            cause=failure.cause,
        )

    async def _respond_archive(
        self, response: httpx.Response, headers: RawHeaders, rule: DirectionRule, policy: Policy
    ) -> None:
        """Stream the archive on while validating it. The verdict comes after the headers, so
        they say `X-Conformance: streaming`. Under `block`, the stream is cut at the first
        invalid member, and the last chunk is held back until every member is validated, so
        the client never receives a complete, ingestible archive that was found invalid."""
        name = f"{self.path.rsplit('/', 1)[-1] or 'export'}.tgz"
        check = ArchiveCheck(
            name,
            self.schema_set,
            rule.schema,
            self.settings.limits,
            self.settings.capture_values,
            self.settings.rule_actions,
            [tap.member_checked for tap in self.taps],
        )
        started = time.perf_counter()
        await self._send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": headers + self._conformance_headers(streaming=True),
            }
        )
        blocking = policy == "block"
        held = b""
        try:
            async for chunk in response.aiter_raw():
                await check.feed(chunk)
                if blocking and check.invalid.is_set():
                    break
                if held:
                    await self._send(
                        {"type": "http.response.body", "body": held, "more_body": True}
                    )
                held = chunk
        except httpx.TransportError as error:
            await check.finish()
            self._broke_off(error)
            return
        except BaseException:
            # The client went away: the archive was not read to its end, so it gets no
            # verdict; the validating thread is only let finish.
            await check.finish()
            raise
        await check.finish()
        decision = decide(
            check.reports,
            policy,
            self.settings.env,
            self.settings.fail_closed,
            self.settings.rule_actions,
        )
        self.verdicts["response"] = Verdict(
            decision,
            check.reports,
            time.perf_counter() - started,
            documents=check.documents,
            omitted=check.failures_omitted,
            archive=True,
        )
        if decision.block:
            # Returning without the end of the body makes the server drop the connection: the
            # client sees a truncated download, not an archive it could ingest.
            self.outcome = "archive-cut"
            return
        await self._send({"type": "http.response.body", "body": held})


def _botched(response: httpx.Response) -> str | None:
    """Why the upstream's answer cannot be passed on as it is, if it cannot."""
    status = response.status_code
    if status == 101:
        return "The SNE platform switched protocols (HTTP 101), which the gateway never asks for."
    if not 100 <= status <= 599:
        return f"The SNE platform answered with the status {status}, which HTTP does not have."
    names = [name.lower() for name, _ in response.headers.raw]
    for name in (b"content-type", b"content-encoding"):
        if names.count(name) > 1:
            return (
                f"The SNE platform's answer has {names.count(name)} {name.decode()} headers: "
                "which one its client would follow is not known."
            )
    return None

"""One proxied exchange, as a sequence of states, each a method named after it:

    run (admission) ─ refused ───────────────────────────────► refuse (gateway.proxy.refusal)
    read_request ─ check ─ blocked ─────────────────────────► the gateway's answer
    forward ─ the upstream fails ───────────────────────────► fail_upstream
    respond ─┬─ a body to validate: read_response ─ check ─ blocked ─► the gateway's answer
             ├─ an export: stream_archive (cut when it blocks)
             └─ anything else, or a body too large to buffer: stream
    record: the exchange's record, for the worker's observers (`gateway.record`)

Each state delegates to its own module: admission (`admission`), bodies and their bounds
(`body`), the engine's stages for one direction (`check`, which tells the exchange's `taps`),
exports (`archive_stream`), the upstream (`upstream`), answers of the gateway's own (`answer`,
`refusal`), and the ASGI messages (`response_writer`). A client that goes away, or falls
silent in its body, ends the exchange from any state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar.types import HTTPScope, Receive, Send

from gateway.extract.extractor import BufferedExtractor, StreamingExtractor
from gateway.proxy.admission import refusal
from gateway.proxy.answer import Answer, blocked, conformance_headers, failed
from gateway.proxy.archive_stream import pass_archive_on
from gateway.proxy.body import (
    BufferedBody,
    ClientDisconnected,
    ClientTimeout,
    RequestBody,
    buffer_body,
)
from gateway.proxy.check import Checks
from gateway.proxy.exchange_record import exchange_record
from gateway.proxy.headers import RawHeaders
from gateway.proxy.refusal import refuse
from gateway.proxy.request import RequestHead
from gateway.proxy.response_writer import ResponseWriter
from gateway.proxy.upstream import UpstreamResponse
from gateway.proxy.upstream_failure import UpstreamFailure
from gateway.proxy.verdict import Verdict
from gateway.proxy.worker import Worker
from gateway.record import ExchangeRecord
from gateway.routing.route import Direction

#: Bodies that are not validated are still read whole up to this size, to be forwarded with a
#: Content-Length (cheaper for both ends than chunked streaming); larger ones stream.
PASS_THROUGH_BUFFER = 1024 * 1024


class Exchange:
    """The state of one client exchange while it goes through the pipeline."""

    def __init__(self, worker: Worker, scope: HTTPScope, receive: Receive, send: Send) -> None:
        self.worker = worker
        self.settings = settings = worker.settings
        self.head = head = RequestHead.from_scope(scope)
        self.writer = ResponseWriter(send)
        # The set in service when the exchange starts is the one it finishes with, and so
        # are the routes fitted to it.
        self.in_service = in_service = worker.schemas.current
        self.schema_set = in_service.schema_set
        self.route = in_service.route_for(head.method, head.routed_path, head.soap_action)
        self.route_name = self.route.name if self.route else None
        #: What this exchange's buffers take from the worker's budget, given back at its end.
        self.buffers = worker.buffer_budget.claim()
        self.checks = Checks.for_exchange(worker, head, self.route, self.schema_set, self.buffers)
        self.verdicts: dict[Direction, Verdict] = {}
        self.upstream_seconds = 0.0
        self.outcome: str | None = None
        self.request = RequestBody(receive, settings.client_timeout)

    def _event(self, level: str, event: str, **fields: Any) -> None:
        head = self.head
        getattr(self.worker.logger, level)(
            event, request_id=head.request_id, method=head.method, route=self.route_name, **fields
        )

    # -- states ------------------------------------------------------------------------------

    async def run(self) -> None:
        """admit, then the exchange's states until done, however it ends."""
        refused = refusal(self.head, self.route, self.in_service.routes, self.settings)
        if refused is not None:
            await refuse(self.worker, self.head, refused, self.writer)
            return
        try:
            await self.read_request()
        except ClientTimeout:
            await self.client_timed_out()
        except ClientDisconnected:
            self.outcome = "client-disconnected"
        except Exception:
            self.outcome = "error"
            # Litestar answers 500 (if no answer has begun) without a word in the log.
            self._event("exception", "exchange.failed")
            raise
        finally:
            self.buffers.release()
            self.worker.exchange_ended(self.record(), self.checks.taps)

    async def read_request(self) -> None:
        """Buffer the request body the route validates (else up to `PASS_THROUGH_BUFFER`),
        check it, and forward it, or block it."""
        head = self.head
        kind = self.checks.extractor("request", head.content_type)
        buffered = kind if isinstance(kind, BufferedExtractor) else None
        request = self.request
        body = await (
            buffer_body(request.chunks, PASS_THROUGH_BUFFER)
            if buffered is None
            else buffer_body(request.chunks, self.settings.max_body_bytes, self.buffers)
        )
        if buffered is not None and await self.check(
            "request", buffered, body, head.content_type, head.header(b"content-encoding")
        ):
            return
        task = asyncio.current_task()

        def gone() -> None:
            # Before the answer's end, a disconnect aborts the exchange and its upstream call.
            if not self.writer.finished and task is not None:
                task.cancel()

        if request.ended:
            request.watch_disconnect(gone)
            await self.forward(body.data)
        else:
            await self.forward(request.rest(body.data, lambda: request.watch_disconnect(gone)))

    async def check(
        self,
        direction: Direction,
        kind: BufferedExtractor,
        body: BufferedBody,
        content_type: str,
        encoding: str | None,
    ) -> bool:
        """Run the engine's stages on a buffered body; block it if the verdict says so
        (returns whether it did)."""
        verdict = await self.checks.check(direction, kind, body, content_type, encoding)
        if verdict is None:
            return False
        self.verdicts[direction] = verdict
        if verdict.decision.block:
            answer = blocked(direction, verdict, self.schema_set.version)
            await self.writer.whole(answer, self._conformance())
        return verdict.decision.block

    async def forward(self, content: bytes | AsyncIterator[bytes]) -> None:
        started = time.perf_counter()
        try:
            try:
                response = await self.worker.upstream.send(self.head, content)
            except UpstreamFailure as failure:
                self.upstream_seconds = time.perf_counter() - started
                await self.fail_upstream(failure)
                return
            self.upstream_seconds = time.perf_counter() - started
            try:
                await self.respond(response)
            finally:
                await response.aclose()
        except asyncio.CancelledError:
            if self.writer.finished:
                raise
            # Gone while the upstream was still to answer: how long it had been waited for.
            self.upstream_seconds = self.upstream_seconds or time.perf_counter() - started
            raise ClientDisconnected from None
        finally:
            self.request.stop_watching()

    async def respond(self, response: UpstreamResponse) -> None:
        """Choose how the answer goes on: validated whole, validated as it streams (an export),
        or streamed untouched."""
        kind = self.checks.response_extractor(
            self.head.method, response.status, response.content_type
        )
        if isinstance(kind, StreamingExtractor):
            await self.stream_archive(kind, response)
        elif isinstance(kind, BufferedExtractor):
            await self.read_response(kind, response)
        else:
            await self.stream(response, response.chunks())

    async def read_response(self, kind: BufferedExtractor, response: UpstreamResponse) -> None:
        chunks = response.chunks()
        try:
            body = await buffer_body(chunks, self.settings.max_body_bytes, self.buffers)
        except UpstreamFailure as failure:
            await self.fail_upstream(failure)
            return
        if await self.check(
            "response", kind, body, response.content_type, response.content_encoding
        ):
            return
        if body.ended:
            await self.writer.buffered(
                response.status, response.headers, body.data, self._conformance()
            )
        else:
            await self.stream(response, chunks, prefix=body.data)

    async def stream(
        self, response: UpstreamResponse, chunks: AsyncIterator[bytes], prefix: bytes = b""
    ) -> None:
        writer = self.writer
        await writer.start(response.status, response.headers + self._conformance())
        if prefix:
            await writer.chunk(prefix)
        try:
            async for chunk in chunks:
                await writer.chunk(chunk)
        except UpstreamFailure as failure:
            self.broke_off(failure)
            return
        await writer.end()

    async def stream_archive(self, kind: StreamingExtractor, response: UpstreamResponse) -> None:
        """Stream the archive on while validating it. The verdict comes after the headers, so
        they say `X-Conformance: streaming`. Under `block`, the stream is cut at the first
        invalid member, and the last chunk is held back until every member is validated, so
        the client never receives a complete, ingestible archive that was found invalid."""
        check = self.checks.archive_check(kind, self.head.path)
        started = time.perf_counter()
        await self.writer.start(response.status, response.headers + self._conformance(True))
        blocking = self.checks.policy("response") == "block"
        try:
            held = await pass_archive_on(check, response.chunks(), self.writer, blocking)
        except UpstreamFailure as failure:
            self.broke_off(failure)
            return
        self.verdicts["response"] = verdict = self.checks.archive_verdict(
            check, time.perf_counter() - started
        )
        if verdict.decision.block:
            self.outcome = "archive-cut"
            return  # cut: the body's end is never sent
        await self.writer.end(held)

    # -- answers of the gateway's own ---------------------------------------------------------

    def _conformance(self, streaming: bool = False) -> RawHeaders:
        """The gateway's headers on an answer (an export's: `streaming`), and its taps'."""
        own = conformance_headers(self.head.request_id, self.verdicts, streaming)
        return own + self.checks.taps.headers(streaming)

    def _failure(self, code: str, status: int, reason: str) -> Answer:
        """The answer when the exchange cannot go through, in the request's SOAP version (the
        one its headers announce when it was not validated)."""
        request = self.verdicts.get("request")
        soap_version = request.soap_version if request else self.head.announced_soap_version
        self.outcome = code
        return failed(status, code, reason, soap_version, self.schema_set.version)

    async def fail_upstream(self, failure: UpstreamFailure) -> None:
        answer = self._failure(failure.code, failure.status, failure.reason)
        self._event("error", failure.code, reason=failure.reason, cause=failure.cause)
        await self.writer.whole(answer, self._conformance())

    def broke_off(self, failure: UpstreamFailure) -> None:
        """The upstream's answer broke off after its headers were passed on: the client learns
        it by the connection's end (returning without the body's end drops it)."""
        self.outcome = "upstream-broke-off"
        self._event("warning", "upstream.broke-off", reason=failure.reason, cause=failure.cause)

    async def client_timed_out(self) -> None:
        """A 408 in the SNE's shape, unless an answer has started; the connection is closed
        (the rest of the body will not be read)."""
        reason = (
            f"The client sent nothing for {self.settings.client_timeout:g} s before the end of "
            "its request body (client_timeout); the request was not forwarded whole."
        )
        answer = self._failure("client.timeout", 408, reason)
        self._event("warning", "client.timeout", reason=reason)
        if self.writer.status is None:
            headers = [*self._conformance(), (b"connection", b"close")]
            await self.writer.whole(answer, headers)

    # -- done --------------------------------------------------------------------------------

    def record(self) -> ExchangeRecord:
        return exchange_record(
            self.head,
            self.settings,
            self.route_name,
            self.verdicts,
            self.outcome,
            self.writer.status,
            self.upstream_seconds,
        )

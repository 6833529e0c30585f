"""The GDM advisor: an observer of the exchanges on `gdm_path` (`gateway.exchange_tap`), and a
thread of the worker that judges each successful call against the client's earlier ones.

An exchange only hands over its query and its answer's bytes (already read: a GDM answer is
validated, so buffered) at its end; reading them, the store's round trip and the judgement
happen on the thread, in a bounded queue's turn. Each advisory is a log event named after it
(`gdm.gap` at warning, the others at info), a count (`sne_gateway_gdm_advisories_total`), and
a row of the store's `gdm_advisories` (with the store on). Calls the SNE refused (not 2xx)
asked for no window: they are not judged. Calls the queue had no room for are counted
(`sne_gateway_gdm_calls_total{result="dropped"}`).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from gateway.advice.gdm_call import GdmCall, read_answer, read_query
from gateway.advice.gdm_rules import Advisory, advise_arrival
from gateway.advice.history import CallHistory
from gateway.exchange_tap import CheckedBody, ExchangeStart
from gateway.extract.document import Document
from gateway.record import ExchangeRecord
from gateway.report.gdm_wording import WARNING, sentence
from gateway.violation import DocumentReport

#: Calls waiting for the thread at most (a client calls a few times an hour).
QUEUE_CALLS = 1000
STOP_SECONDS = 5.0
UNKNOWN_CLIENT = "(unknown)"


def iso(milliseconds: int | None) -> str | None:
    if milliseconds is None:
        return None
    try:
        return datetime.fromtimestamp(milliseconds / 1000, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        # A row from before times were bounded (`gdm_call.read_moment`): said as it is.
        return f"{milliseconds} ms"


@dataclass(frozen=True, slots=True)
class ObservedCall:
    """What an exchange hands over: its start, status and answer."""

    start: ExchangeStart
    answer: bytes | None


class GdmMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "sne_gateway_gdm_calls",
            "GDM movements calls (2xx) seen, by result: judged against the client's earlier "
            "calls; unread (no readable depuis); dropped (the advisor's queue was full); "
            "failed (the store could not be read or written).",
            ["result"],
            registry=registry,
        )
        self.advisories = Counter(
            "sne_gateway_gdm_advisories",
            "GDM usage advisories, by advisory (gdm.gap, gdm.no-overlap, gdm.per-commune, "
            "gdm.too-frequent, gdm.round-hour).",
            ["advisory"],
            registry=registry,
        )


class GdmAdvisor:
    """Taps the GDM calls (`gateway.exchange_tap.TapFactory`) and judges them."""

    def __init__(
        self, path: str, history: CallHistory, logger: Any, registry: CollectorRegistry
    ) -> None:
        self.path = path.rstrip("/").lower() or "/"
        self.history = history
        self.logger = logger
        self.metrics = GdmMetrics(registry)
        self._queue: queue.Queue[ObservedCall | None] = queue.Queue(QUEUE_CALLS)
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="sne-gateway-gdm", daemon=True)

    def tap(self, start: ExchangeStart) -> GdmTap | None:
        if start.method != "GET" or start.routed_path.lower() != self.path:
            return None
        return GdmTap(self, start)

    def offer(self, call: ObservedCall) -> None:
        try:
            self._queue.put_nowait(call)
        except queue.Full:
            self.metrics.calls.labels("dropped").inc()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Judge what is queued (for up to `STOP_SECONDS`), then close."""
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=STOP_SECONDS)
        self._thread.join(STOP_SECONDS)
        self.history.close()

    def _run(self) -> None:
        while (observed := self._queue.get()) is not None:
            try:
                self.judge(observed)
            except Exception:
                self.logger.exception("gdm.failed", request_id=observed.start.request_id)

    def judge(self, observed: ObservedCall) -> list[Advisory]:
        start = observed.start
        depuis, communes = read_query(start.query)
        if depuis is None:
            self.metrics.calls.labels("unread").inc()
            return []
        produced, movements = read_answer(observed.answer) if observed.answer else (None, None)
        call = GdmCall(
            client=start.client or UNKNOWN_CLIENT,
            at_ms=produced if produced is not None else start.at_ms,
            arrived_ms=start.at_ms,
            depuis_ms=depuis,
            communes=communes,
            movements=movements,
            request_id=start.request_id,
            env=start.env,
        )
        try:
            advisories = self.history.record(
                call, lambda around, advised: advise_arrival(call, around, advised)
            )
        except Exception as error:
            self.metrics.calls.labels("failed").inc()
            if not self._failing:
                self._failing = True
                self.logger.error(
                    "gdm.history-unavailable",
                    reason=f"{type(error).__name__}: {error}",
                    consequence="GDM calls are not judged until the store is back",
                )
            return []
        if self._failing:
            self._failing = False
            self.logger.info("gdm.history-recovered")
        self.metrics.calls.labels("judged").inc()
        for advisory in advisories:
            self._say(advisory)
        return advisories

    def _say(self, advisory: Advisory) -> None:
        call = advisory.call
        say = self.logger.warning if advisory.severity == WARNING else self.logger.info
        rule = advisory.rule
        depuis, previous = iso(call.depuis_ms), iso(advisory.previous_at_ms)
        say(
            advisory.kind,
            client=call.client,
            request_id=call.request_id,
            at=iso(call.at_ms),
            depuis=depuis,
            previous_at=previous,
            communes_asked=len(call.communes) or "all",
            **advisory.figures,
            found=sentence(advisory.kind, advisory.figures, str(depuis), str(previous)),
            rule=f"{rule.title} : {rule.sne}",
            advice=rule.english,
        )
        self.metrics.advisories.labels(advisory.kind).inc()


class GdmTap:
    """One GDM call: its answer kept when it is checked, handed over at the end."""

    def __init__(self, advisor: GdmAdvisor, start: ExchangeStart) -> None:
        self.advisor = advisor
        self.start = start
        self.answer: bytes | None = None

    def body_checked(self, body: CheckedBody) -> None:
        if body.direction == "response":
            self.answer = body.data

    def member_checked(self, document: Document, report: DocumentReport) -> None:
        """A GDM answer is no export."""

    def headers(self, streaming: bool) -> list[tuple[bytes, bytes]]:
        return []

    def ended(self, record: ExchangeRecord) -> None:
        if record.status is not None and 200 <= record.status < 300:
            self.advisor.offer(ObservedCall(self.start, self.answer))

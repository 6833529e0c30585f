"""The worker's side of the next XSD set's process (`gateway.shadow.child`): starting it,
handing it the queue's work, and taking in what it found.

Three threads of the worker, none on the event loop: one takes work from the queue and
writes it to the child (waiting, when the child is behind, while the queue takes new work up
to its bound, then drops it); one reads the child's findings and counts them
(`sne_gateway_shadow_documents_total`, `sne_gateway_shadow_differences_total`), hands each
difference to the violations store, and keeps the next set's state for `/_gateway/health`;
one counts the documents dropped, whatever the other two are waiting for, and says them once
per episode and cause (`shadow.dropped`, then `shadow.drops-ended`).

The child is started again, after 1 s, then 2, 4… up to 30 s, when it ends
(`shadow.process-ended`) or when it is stuck (`shadow.process-stuck`): it accepts no work for
`STUCK_SECONDS` and has not said it is alive for as long (a child judging a long document
still says so). Writes never wait longer than that, so a stopped or hung child never holds
the sending thread, nor the gateway's stop.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from gateway.config import Settings
from gateway.next_set_record import NextSetDifference
from gateway.shadow.child import COMPARED, DIFFERENCE, STATE, UNJUDGED
from gateway.shadow.work import ShadowQueue, ShadowWork

#: How often the sending thread takes the queue's work (and the counting thread counts
#: drops): a few times a second rather than at each document, whose wake-up would take the
#: interpreter's lock from the exchanges.
SEND_SECONDS = 0.1
RESTART_FIRST_SECONDS = 1.0
RESTART_MAX_SECONDS = 30.0
STOP_SECONDS = 5.0
#: A child that accepts no work and says nothing for this long is stuck: killed, started again.
STUCK_SECONDS = 5.0
#: At its stop, a child silent this long is killed rather than waited for.
SILENT_SECONDS = 3.0

#: Why documents were dropped, as `shadow.dropped` says it.
QUEUE_FULL, ENDED, STUCK, WITHOUT_SET, FAILED = (
    "queue-full",
    "process-ended",
    "process-stuck",
    "without-set",
    "failed",
)
DROP_REASONS = {
    QUEUE_FULL: "{mib} MiB of documents were waiting for the next XSD set (shadow_queue_mb), "
    "which is slower than the traffic",
    ENDED: "the next XSD set's process ended; it is started again",
    STUCK: "the next XSD set's process accepted nothing for "
    f"{STUCK_SECONDS:g} s; it is killed and started again",
    WITHOUT_SET: "the next XSD set's process has no set to judge by: its files did not "
    "compile when it started (shadow.set-unavailable)",
    FAILED: "handing them to the next XSD set's process failed (shadow.failed)",
}


class ChildStuck(Exception):
    """The child accepted nothing and said nothing for `STUCK_SECONDS`."""


class Stopping(Exception):
    """The gateway stops while a piece of work is being written."""


class ShadowMetrics:
    """The next set's series, on the worker's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.documents = Counter(
            "sne_gateway_shadow_documents",
            "Documents handed to the next XSD set, by result: compared (judged by both sets) "
            "or dropped (the shadow's queue was full, or its process ended, was stuck or had "
            "no set: see the shadow.dropped log events).",
            ["result"],
            registry=registry,
        )
        self.restarts = Counter(
            "sne_gateway_shadow_restarts",
            "The next XSD set's process started again, by reason: ended, or stuck (it "
            "accepted no work and said nothing for a few seconds; it is killed).",
            ["reason"],
            registry=registry,
        )
        self.differences = Counter(
            "sne_gateway_shadow_differences",
            "Documents the next XSD set judges otherwise than the set in service, by route, "
            "direction, the code of each violation of the set that rejects them, and the "
            "next set's verdict (fail: valid today, rejected next; pass: rejected today, "
            "valid next).",
            ["route", "direction", "code", "next"],
            registry=registry,
        )


class ShadowProcess:
    def __init__(
        self,
        settings: Settings,
        queue: ShadowQueue,
        metrics: ShadowMetrics,
        logger: Any,
        keep: Callable[[NextSetDifference], None] | None,
    ) -> None:
        self.settings = settings
        self.queue = queue
        self.metrics = metrics
        self.logger = logger
        #: The violations store's queue, when the store is on.
        self.keep = keep
        #: The next set's state as the child last said it (None before it has).
        self.state: dict[str, Any] | None = None
        #: The process: starting, running, without a set, restarting, stopped.
        self.status = "starting"
        self._child: subprocess.Popen[bytes] | None = None
        self._writing: int | None = None
        self._heard_at = time.monotonic()
        self._stopping = threading.Event()
        #: Documents dropped after they left the queue, by reason (`DROP_REASONS`).
        self._lost = dict.fromkeys(DROP_REASONS, 0)
        self._lost_lock = threading.Lock()
        self._counted = dict.fromkeys(DROP_REASONS, 0)
        self._episodes = dict.fromkeys(DROP_REASONS, 0)
        #: Documents taken from the queue but not sent on, the gateway stopping.
        self._abandoned = 0
        self._sender = threading.Thread(target=self._send, name="sne-gateway-shadow", daemon=True)
        self._counter = threading.Thread(
            target=self._count, name="sne-gateway-shadow-drops", daemon=True
        )

    @property
    def dropped(self) -> int:
        """Documents dropped since the start, for every reason."""
        return self.queue.dropped + sum(self._lost.values())

    def start(self) -> None:
        self._sender.start()
        self._counter.start()

    def stop(self) -> None:
        """Stop handing work over; the child ends when its input closes (killed when silent)."""
        self._stopping.set()
        # Writes watch `_stopping`: the sender is out of any within a slice of `SEND_SECONDS`.
        self._sender.join(STOP_SECONDS)
        if left := self.queue.clear() + self._abandoned:
            self.logger.info(
                "shadow.abandoned",
                documents=left,
                reason="the gateway stopped before the next XSD set judged them",
            )
        self._end_child()
        self._counter.join(STOP_SECONDS)
        self._count_drops()
        self.status = "stopped"

    def _lose(self, reason: str, documents: int) -> None:
        with self._lost_lock:
            self._lost[reason] += documents

    # -- the child ----------------------------------------------------------------------------

    def _start_child(self) -> None:
        self.status = "starting"
        child = subprocess.Popen(
            [sys.executable, "-m", "gateway.shadow.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert child.stdin is not None and child.stdout is not None
        writing = os.dup(child.stdin.fileno())
        reading = Connection(os.dup(child.stdout.fileno()), writable=False)
        child.stdin.close()
        child.stdout.close()
        os.set_blocking(writing, False)
        self._child, self._writing = child, writing
        self._heard_at = time.monotonic()
        threading.Thread(
            target=self._receive, args=(reading,), name="sne-gateway-shadow-findings", daemon=True
        ).start()
        self._write(writing, pickle.dumps(self.settings))

    def _end_child(self, kill: bool = False) -> None:
        """Close the child's input (it ends) and wait for it, or kill it: at once with
        `kill`, else once it is silent for `SILENT_SECONDS` or still there after
        `STOP_SECONDS`."""
        child, writing = self._child, self._writing
        self._child = self._writing = None
        if writing is not None:
            os.close(writing)
        if child is None:
            return
        deadline = time.monotonic() + STOP_SECONDS
        while child.poll() is None:
            now = time.monotonic()
            if kill or now > deadline or now - self._heard_at > SILENT_SECONDS:
                child.kill()
                child.wait()
                return
            time.sleep(SEND_SECONDS / 2)

    def _write(self, fd: int, data: bytes) -> None:
        """One frame, as `multiprocessing.connection` frames it (the child reads it so), never
        waiting while the child accepts nothing and says nothing for `STUCK_SECONDS`."""
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        progress = time.monotonic()
        for part in (struct.pack("!i", len(data)), data):
            view = memoryview(part)
            while view:
                if self._stopping.is_set():
                    raise Stopping
                if poller.poll(SEND_SECONDS * 1000):
                    try:
                        written = os.write(fd, view)
                    except BlockingIOError:
                        written = 0
                    if written:
                        view = view[written:]
                        progress = time.monotonic()
                        continue
                now = time.monotonic()
                if min(now - progress, now - self._heard_at) > STUCK_SECONDS:
                    raise ChildStuck

    # -- the threads --------------------------------------------------------------------------

    def _send(self) -> None:
        delay = RESTART_FIRST_SECONDS
        # Started at once, so that the sets compile before the traffic comes.
        delay = self._ensure_child(delay)
        while not self._stopping.wait(SEND_SECONDS):
            try:
                if self._child is not None and self._child.poll() is not None:
                    delay = self._restart(ENDED, "the process ended", delay)
                delay = self._ensure_child(delay)
            except Exception:
                self.logger.exception("shadow.failed")
            for work in self.queue.take_all():
                try:
                    delay = self._hand_over(work, delay)
                except Exception:
                    # Never the end of this thread: the work at hand is dropped, and said.
                    self._lose(FAILED, work.count)
                    self.logger.exception("shadow.failed", request_id=work.origin.request_id)
                finally:
                    self.queue.done(work)

    def _ensure_child(self, delay: float) -> float:
        """Start a child if none runs; the next restart's delay."""
        if self._child is not None or self._stopping.is_set():
            return delay
        try:
            self._start_child()
        except Stopping:
            pass
        except ChildStuck:
            return self._restart(STUCK, f"it accepted nothing for {STUCK_SECONDS:g} s", delay)
        except OSError as error:
            return self._restart(ENDED, f"{type(error).__name__}: {error}", delay)
        return delay

    def _hand_over(self, work: ShadowWork, delay: float) -> float:
        if self._stopping.is_set():
            self._abandoned += work.count  # said by `stop`
            return delay
        if self._writing is None:
            self._lose(ENDED, work.count)  # started again after its delay
            return delay
        try:
            self._write(self._writing, pickle.dumps(work))
            return RESTART_FIRST_SECONDS
        except Stopping:
            self._abandoned += work.count
            return delay
        except ChildStuck:
            self._lose(STUCK, work.count)
            return self._restart(STUCK, f"it accepted nothing for {STUCK_SECONDS:g} s", delay)
        except OSError as error:
            # The child ended: the work at hand is dropped.
            self._lose(ENDED, work.count)
            return self._restart(ENDED, f"{type(error).__name__}: {error}", delay)

    def _restart(self, reason: str, why: str, delay: float) -> float:
        """Say the child ended or is stuck, end it, wait `delay`; the next delay."""
        status = self._child.poll() if self._child is not None else None
        self.status = "restarting"
        self.logger.error(
            "shadow.process-stuck" if reason == STUCK else "shadow.process-ended",
            reason=why,
            status=status,
            consequence=f"the next XSD set's process is started again in {delay:g} s",
        )
        self.metrics.restarts.labels("stuck" if reason == STUCK else "ended").inc()
        self._end_child(kill=reason == STUCK)
        self._stopping.wait(delay)
        return min(delay * 2, RESTART_MAX_SECONDS)

    def _receive(self, reading: Connection) -> None:
        try:
            while True:
                kind, found = pickle.loads(reading.recv_bytes())
                self._heard_at = time.monotonic()
                self._take(kind, found)
        except (EOFError, OSError):
            pass  # the child ended: the sending thread says so
        finally:
            reading.close()

    def _take(self, kind: str, found: Any) -> None:
        if kind == COMPARED:
            self.metrics.documents.labels("compared").inc(found)
        elif kind == UNJUDGED:
            self._lose(WITHOUT_SET, found)
        elif kind == STATE:
            self.state = found
            self.status = "without a set" if found.get("without_set") else "running"
        elif kind == DIFFERENCE:
            for code in dict.fromkeys(v.code for v in found.violations):
                self.metrics.differences.labels(
                    found.route or "", found.direction, code, found.next
                ).inc()
            if self.keep is not None:
                self.keep(found)

    def _count(self) -> None:
        while not self._stopping.wait(SEND_SECONDS):
            self._count_drops()

    def _count_drops(self) -> None:
        with self._lost_lock:
            totals = {**self._lost, QUEUE_FULL: self.queue.dropped}
        for reason, total in totals.items():
            new = total - self._counted[reason]
            if new:
                self._counted[reason] = total
                self.metrics.documents.labels("dropped").inc(new)
                if not self._episodes[reason]:
                    self.logger.warning(
                        "shadow.dropped",
                        cause=reason,
                        reason=DROP_REASONS[reason].format(
                            mib=self.queue.max_bytes // (1024 * 1024)
                        ),
                        consequence="documents are dropped, unjudged by the next set; traffic "
                        "is not affected",
                    )
                self._episodes[reason] += new
            elif self._episodes[reason]:
                self.logger.info("shadow.drops-ended", cause=reason, dropped=self._episodes[reason])
                self._episodes[reason] = 0

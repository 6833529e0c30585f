"""The worker's side of the next XSD set's process (`gateway.shadow.child`): starting it,
handing it the queue's work, and taking in what it found.

Two threads of the worker, neither on the event loop: one takes work from the queue and
writes it to the child (waiting, when the child is behind, while the queue takes new work up
to its bound, then drops it); the other reads the child's findings and counts them
(`sne_gateway_shadow_documents_total`, `sne_gateway_shadow_differences_total`), hands each
difference to the violations store, and keeps the next set's state for `/_gateway/health`.
Drops are said once per episode (`shadow.dropped`, then `shadow.drops-ended`). A child that
ends is said (`shadow.process-ended`) and started again, after 1 s, then 2, 4… up to 30 s.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from gateway.config import Settings
from gateway.next_set_record import NextSetDifference
from gateway.shadow.child import COMPARED, DIFFERENCE, STATE
from gateway.shadow.work import ShadowQueue

#: How often the sending thread takes the queue's work (and counts its drops): a few times a
#: second rather than at each document, whose wake-up would take the interpreter's lock from
#: the exchanges.
SEND_SECONDS = 0.1
RESTART_FIRST_SECONDS = 1.0
RESTART_MAX_SECONDS = 30.0
STOP_SECONDS = 5.0


class ShadowMetrics:
    """The next set's series, on the worker's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.documents = Counter(
            "sne_gateway_shadow_documents",
            "Documents handed to the next XSD set, by result: compared (judged by both sets) "
            "or dropped (the shadow's queue was full).",
            ["result"],
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
        self._child: subprocess.Popen[bytes] | None = None
        self._writing: Connection | None = None
        self._stopping = threading.Event()
        self._dropped_counted = 0
        self._drop_episode = 0
        #: Documents taken from the queue but not sent on, the gateway stopping.
        self._abandoned = 0
        self._sender = threading.Thread(target=self._send, name="sne-gateway-shadow", daemon=True)

    def start(self) -> None:
        self._sender.start()

    def stop(self) -> None:
        """Stop handing work over; the child ends when its input closes."""
        self._stopping.set()
        self._sender.join(STOP_SECONDS)
        if left := self.queue.clear() + self._abandoned:
            self.logger.info(
                "shadow.abandoned",
                documents=left,
                reason="the gateway stopped before the next XSD set judged them",
            )
        self._end_child()

    # -- the child ----------------------------------------------------------------------------

    def _start_child(self) -> Connection:
        child = subprocess.Popen(
            [sys.executable, "-m", "gateway.shadow.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert child.stdin is not None and child.stdout is not None
        writing = Connection(os.dup(child.stdin.fileno()), readable=False)
        reading = Connection(os.dup(child.stdout.fileno()), writable=False)
        child.stdin.close()
        child.stdout.close()
        writing.send_bytes(pickle.dumps(self.settings))
        self._child, self._writing = child, writing
        threading.Thread(
            target=self._receive, args=(reading,), name="sne-gateway-shadow-findings", daemon=True
        ).start()
        return writing

    def _end_child(self) -> None:
        child, writing = self._child, self._writing
        self._child = self._writing = None
        if writing is not None:
            writing.close()  # the child's input ends: it stops
        if child is not None:
            try:
                child.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    # -- the threads --------------------------------------------------------------------------

    def _send(self) -> None:
        delay = RESTART_FIRST_SECONDS
        try:
            self._start_child()  # so that the sets compile before the traffic comes
        except OSError as error:
            self.logger.error("shadow.process-ended", reason=str(error), status=None)
        while not self._stopping.wait(SEND_SECONDS):
            self._count_drops()
            for work in self.queue.take_all():
                try:
                    if self._stopping.is_set():
                        self._abandoned += work.count  # said by `stop`
                        continue
                    writing = self._writing or self._start_child()
                    writing.send_bytes(pickle.dumps(work))
                    delay = RESTART_FIRST_SECONDS
                except (OSError, ValueError) as error:
                    # The child ended (or could not start): the work at hand is dropped.
                    self.queue.count_dropped(work.count)
                    status = self._child.poll() if self._child is not None else None
                    self.logger.error(
                        "shadow.process-ended",
                        reason=f"{type(error).__name__}: {error}",
                        status=status,
                        consequence=f"the next XSD set's process is started again in {delay:g} s",
                    )
                    self._end_child()
                    self._stopping.wait(delay)
                    delay = min(delay * 2, RESTART_MAX_SECONDS)
                finally:
                    self.queue.done(work)

    def _receive(self, reading: Connection) -> None:
        try:
            while True:
                kind, found = pickle.loads(reading.recv_bytes())
                self._take(kind, found)
        except (EOFError, OSError):
            pass  # the child ended: the sending thread says so when it next writes
        finally:
            reading.close()

    def _take(self, kind: str, found: Any) -> None:
        if kind == COMPARED:
            self.metrics.documents.labels("compared").inc(found)
        elif kind == STATE:
            self.state = found
        elif kind == DIFFERENCE:
            for code in dict.fromkeys(v.code for v in found.violations):
                self.metrics.differences.labels(
                    found.route or "", found.direction, code, found.next
                ).inc()
            if self.keep is not None:
                self.keep(found)

    def _count_drops(self) -> None:
        dropped = self.queue.dropped
        new = dropped - self._dropped_counted
        if new:
            self._dropped_counted = dropped
            self.metrics.documents.labels("dropped").inc(new)
            if not self._drop_episode:
                self.logger.warning(
                    "shadow.dropped",
                    reason=f"{self.queue.max_bytes // (1024 * 1024)} MiB of documents were "
                    "waiting for the next XSD set (shadow_queue_mb), which is slower than "
                    "the traffic",
                    consequence="documents are dropped, unjudged by the next set, until it "
                    "catches up; traffic is not affected",
                )
            self._drop_episode += new
        elif self._drop_episode:
            self.logger.info("shadow.drops-ended", dropped=self._drop_episode)
            self._drop_episode = 0

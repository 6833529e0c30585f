"""The process that judges documents by the next XSD set, beside each worker
(`python -m gateway.shadow.child`, started by `gateway.shadow.process`).

A process, not a thread of the worker: validating takes CPU the worker's event loop would
otherwise wait for (its interpreter lock), and a process can run at a lower priority (nice
10) without ever holding a lock the worker needs, so the clients' answers never wait for the
next set. It reads work from its standard input and writes what it found on its standard
output (`multiprocessing.connection` frames, pickled), and ends when its input closes (the
worker stopped, or died).

The first message is the worker's settings. The child then loads the set in service and the
next set (each hot-reloaded as the worker's are, when `reload` is on), and for each piece of
work reads the documents again, judges them by the next set (the worker's reports saying how
the set in service judged them), and answers how many it compared,
each document judged otherwise (with the `sne-gateway diff` changes that explain it, logged
as `shadow.differs`), and the next set's state whenever it changes.

A set that does not compile when the child starts (files broken since the worker loaded them,
a child started again after it ended) does not end it: a broken set leaves the last good one
in service, and the child has none. It says so (`shadow.set-unavailable`, and a state
`without_set` the worker shows in `/_gateway/health`), answers the work it is handed as
unjudged, and loads the sets again whenever their files change, until they compile.

A thread says the child is alive every `STATE_SECONDS`, even while it judges a long document:
the worker tells a child busy from a stuck one (stopped, or hung) by it.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
import threading
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

import structlog

from gateway.config import Settings
from gateway.next_set_record import NEXT_FAILS, NEXT_PASSES, NextSetDifference
from gateway.record import ViolationRecord
from gateway.reload import ReloadFailure, SchemaHolder
from gateway.report.log import configure_logging
from gateway.schema import CatalogError
from gateway.shadow.comparison import Difference
from gateway.shadow.explanation import DiffCache
from gateway.shadow.judge import WithoutRules, compared, documents_of
from gateway.shadow.schemas import next_schemas
from gateway.shadow.work import Origin, ShadowWork

#: How much lower than the worker's the child's CPU priority is.
NICENESS = 10
#: How often the child looks whether a set was reloaded, when no work comes.
STATE_SECONDS = 1.0
COMPARED, DIFFERENCE, STATE = "compared", "difference", "state"
#: Documents handed over that the child could not judge (it has no set); that it is alive.
UNJUDGED, ALIVE = "unjudged", "alive"


def holder_state(holder: SchemaHolder) -> dict[str, Any]:
    """A holder's state, as `/_gateway/health` shows the next set's."""
    current = holder.current
    return {
        "source": str(current.catalog.source),
        "version": current.schema_set.version,
        "loaded_at": current.loaded_at.isoformat(),
        "reloads": holder.reloads,
        "last_reload_error": holder.failure.to_dict() if holder.failure else None,
    }


class NextSetChild:
    """Judges work by both sets, and says what it found through `send`."""

    def __init__(
        self, settings: Settings, current: SchemaHolder, upcoming: SchemaHolder, logger: Any
    ) -> None:
        self.limits = settings.limits
        #: The set in service (the worker's own, loaded from the same files), for the diff.
        self.current = current
        self.upcoming = WithoutRules(upcoming)
        self.logger = logger
        self.diffs = DiffCache(logger)

    def handle(self, work: ShadowWork) -> list[tuple[str, Any]]:
        documents = work.documents or (documents_of(work.body, self.limits) if work.body else ())
        if len(documents) != len(work.reports):
            # The extractors are deterministic: a body read again holds the same documents.
            raise RuntimeError(
                f"the body held {len(work.reports)} documents, {len(documents)} read again"
            )
        next_set, comparison = compared(documents, work.reports, self.upcoming, self.limits)
        found: list[tuple[str, Any]] = [(COMPARED, comparison.documents)]
        if comparison.differences:
            diff = self.diffs.between(self.current.current.schema_set, next_set)
            for difference in comparison.differences:
                record = self._record(
                    work.origin, difference, diff.explain(difference, self.limits)
                )
                found.append((DIFFERENCE, record))
        return found

    def _record(self, origin: Origin, difference: Difference, explained: Any) -> NextSetDifference:
        failing = difference.failing
        verdict = NEXT_PASSES if difference.next_valid else NEXT_FAILS
        violations = tuple(
            ViolationRecord(v.code, failing.schema, v.path, v.line, v.column)
            for v in failing.violations
            if not v.code.startswith("rule.")
        )
        log = self.logger.warning if verdict == NEXT_FAILS else self.logger.info
        log(
            "shadow.differs",
            request_id=origin.request_id,
            route=origin.route,
            direction=origin.direction,
            schema=difference.current.schema,
            next_schema=difference.next.schema,
            next=verdict,
            violations=[
                {"code": v.code, "path": v.path, "line": v.line, "column": v.column}
                for v in violations
            ],
            explained_by=[
                {"id": change.id, "kind": change.kind, "path": change.path} for change in explained
            ],
        )
        return NextSetDifference(
            at_ms=origin.at_ms,
            env=origin.env,
            request_id=origin.request_id,
            route=origin.route,
            direction=origin.direction,
            client=origin.client,
            current_schema=difference.current.schema,
            next_schema=difference.next.schema,
            next=verdict,
            violations=violations,
            explained_by=tuple(explained),
        )


def _watch(settings: Settings, holders: tuple[SchemaHolder, ...]) -> None:
    """Both sets' hot reload, in an event loop of this thread."""

    async def watch_all() -> None:
        await asyncio.gather(*(holder.watch(settings.reload_debounce_ms) for holder in holders))

    asyncio.run(watch_all())


class Findings:
    """The child's side of the findings' stream: sent by the main thread and the heartbeat's,
    one message at a time."""

    def __init__(self, writing: Connection) -> None:
        self.writing = writing
        self._lock = threading.Lock()

    def send(self, kind: str, message: Any) -> None:
        data = pickle.dumps((kind, message))
        with self._lock:
            self.writing.send_bytes(data)

    def beat(self) -> None:
        """Say the child is alive every `STATE_SECONDS`, until the worker is gone."""
        try:
            while True:
                self.send(ALIVE, None)
                time.sleep(STATE_SECONDS)
        except (OSError, ValueError):
            pass  # the worker closed the stream: the child is ending


def _files(settings: Settings) -> list[tuple[str, int, int]]:
    """What the sets' files are now (names, sizes, times): a change is worth loading again."""
    found = []
    for root in (settings.xsd, settings.shadow_xsd, settings.referential):
        if root is None:
            continue
        paths = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in paths:
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return found


def load_sets(
    settings: Settings, reading: Connection, findings: Findings, logger: Any
) -> tuple[SchemaHolder, SchemaHolder] | None:
    """The set in service and the next set, once both compile; meanwhile, the work handed
    over is answered unjudged. None when the worker is gone first (or no next set is set)."""
    said: str | None = None
    while True:
        seen = _files(settings)
        try:
            current = SchemaHolder(settings)
            upcoming = next_schemas(settings)
            return None if upcoming is None else (current, upcoming)
        except CatalogError as error:
            failure = ReloadFailure(error, datetime.now(UTC))
            if str(error) != said:
                said = str(error)
                logger.error(
                    "shadow.set-unavailable",
                    file=error.file,
                    line=error.line,
                    reason=error.reason,
                    consequence="documents are not judged by the next XSD set until the files "
                    "compile (the next set's process loads them again when they change)",
                )
            findings.send(
                STATE,
                {
                    "source": str(settings.shadow_xsd),
                    "version": None,
                    "without_set": True,
                    "last_reload_error": failure.to_dict(),
                },
            )
        while _files(settings) == seen:
            if not reading.poll(STATE_SECONDS):
                continue
            try:
                work: ShadowWork = pickle.loads(reading.recv_bytes())
            except EOFError:
                return None
            findings.send(UNJUDGED, work.count)


def serve(reading: Connection, writing: Connection) -> None:
    """Take work from `reading` until it closes; say what was found on `writing`."""
    settings: Settings = pickle.loads(reading.recv_bytes())
    os.nice(NICENESS)
    configure_logging(settings.log_format, settings.log_level, settings.env)
    logger = structlog.get_logger("gateway.shadow")
    findings = Findings(writing)
    threading.Thread(target=findings.beat, daemon=True).start()
    sets = load_sets(settings, reading, findings, logger)
    if sets is None:
        return
    current, upcoming = sets
    if settings.reload:
        threading.Thread(target=_watch, args=(settings, (current, upcoming)), daemon=True).start()
    child = NextSetChild(settings, current, upcoming, logger)
    said: dict[str, Any] | None = None
    compared, counted_at = 0, time.monotonic()
    while True:
        state = holder_state(upcoming)
        if state != said:
            findings.send(STATE, state)
            said = state
        # Counts go once the input is drained, or every second while work keeps coming: not
        # at each piece, which would wake the worker's receiving thread as often.
        waiting = reading.poll(0)
        if compared and (not waiting or time.monotonic() - counted_at >= STATE_SECONDS):
            findings.send(COMPARED, compared)
            compared, counted_at = 0, time.monotonic()
        if not waiting and not reading.poll(STATE_SECONDS):
            continue
        try:
            work: ShadowWork = pickle.loads(reading.recv_bytes())
        except EOFError:
            return
        try:
            found = child.handle(work)
        except Exception:
            # A bug must not end the child: the work at hand is given up, and said.
            logger.exception(
                "shadow.failed", request_id=work.origin.request_id, direction=work.origin.direction
            )
            continue
        for kind, message in found:
            if kind == COMPARED:
                compared += message
            else:
                findings.send(kind, message)


def main() -> None:
    """Work arrives on standard input, findings leave on standard output."""
    reading = Connection(os.dup(sys.stdin.fileno()), writable=False)
    writing = Connection(os.dup(sys.stdout.fileno()), readable=False)
    # Nothing else may write to the findings' stream: what would go to standard output goes
    # to standard error.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(reading, writing)


if __name__ == "__main__":
    main()

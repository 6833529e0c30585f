"""One worker's validation against the next XSD set: its holder, its queue, its thread, and
the tap factory exchanges are shown to; started and stopped with the worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry

from gateway.config import Settings
from gateway.reload import SchemaHolder
from gateway.shadow.record import NextSetDifference
from gateway.shadow.tap import NextSet
from gateway.shadow.work import ShadowQueue
from gateway.shadow.worker import NextSetJudge, ShadowMetrics, ShadowWorker


class ShadowService:
    def __init__(
        self,
        settings: Settings,
        holder: SchemaHolder,
        registry: CollectorRegistry,
        logger: Any,
        keep: Callable[[NextSetDifference], None] | None,
    ) -> None:
        self.settings = settings
        self.holder = holder
        metrics = ShadowMetrics(registry)
        self.queue = ShadowQueue(settings.shadow_queue_mb * 1024 * 1024)
        judge = NextSetJudge(holder, settings.limits)
        self.worker = ShadowWorker(self.queue, judge, logger, metrics, keep)
        self.taps = NextSet(self.queue, judge, metrics, logger, settings.conformance_next)
        self._watch: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        """Start the thread and, with `reload`, the watch of the next set's files."""
        self.worker.start()
        if self.settings.reload:
            self._watch = asyncio.create_task(
                self.holder.watch(self.settings.reload_debounce_ms, self._stop)
            )

    async def stop(self) -> None:
        self._stop.set()
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await asyncio.to_thread(self.worker.stop)

    def state(self) -> dict[str, Any]:
        """The next set's state, for `/_gateway/health` and `/_gateway/schemas`."""
        current = self.holder.current
        return {
            "source": str(current.catalog.source),
            "version": current.schema_set.version,
            "loaded_at": current.loaded_at.isoformat(),
            "reloads": self.holder.reloads,
            "last_reload_error": (self.holder.failure.to_dict() if self.holder.failure else None),
            "queued_bytes": self.queue.held,
            "dropped_documents": self.queue.dropped,
            "conformance_next": self.settings.conformance_next,
        }

"""One worker's validation against the next XSD set: its queue, the process that judges
(`gateway.shadow.process`), the tap factory exchanges are shown to, and, when answers say the
next set's verdict (`conformance_next`), the next set compiled in the worker too."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry

from gateway.config import Settings
from gateway.next_set_record import NextSetDifference
from gateway.reload import SchemaHolder
from gateway.shadow.judge import WithoutRules
from gateway.shadow.process import ShadowMetrics, ShadowProcess
from gateway.shadow.tap import NextSet
from gateway.shadow.work import ShadowQueue


class ShadowService:
    def __init__(
        self,
        settings: Settings,
        holder: SchemaHolder | None,
        registry: CollectorRegistry,
        logger: Any,
        keep: Callable[[NextSetDifference], None] | None,
    ) -> None:
        """`holder`: the next set in this worker, for `X-Conformance-Next` (None without)."""
        self.settings = settings
        self.holder = holder
        self.queue = ShadowQueue(settings.shadow_queue_mb * 1024 * 1024)
        self.process = ShadowProcess(settings, self.queue, ShadowMetrics(registry), logger, keep)
        self.taps = NextSet(
            self.queue,
            WithoutRules(holder) if holder is not None else None,
            settings.limits,
            logger,
            settings.conformance_next,
        )
        self._watch: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        """Start the process and, with `reload`, the watch of the worker's next set."""
        self.process.start()
        if self.holder is not None and self.settings.reload:
            self._watch = asyncio.create_task(
                self.holder.watch(self.settings.reload_debounce_ms, self._stop)
            )

    async def stop(self) -> None:
        self._stop.set()
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await asyncio.to_thread(self.process.stop)

    def state(self) -> dict[str, Any]:
        """The next set's state (as its process last said it), for `/_gateway/health`, with
        its process's: `starting`, `running`, `without a set` (its files did not compile when
        it started), `restarting` (it ended, or was stuck)."""
        return {
            **(self.process.state or {"loading": True}),
            "process": self.process.status,
            "queued_bytes": self.queue.held,
            "dropped_documents": self.process.dropped,
            "conformance_next": self.settings.conformance_next,
        }

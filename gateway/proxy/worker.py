"""What every exchange of a worker process shares: the settings, the XSD set in service, the
upstream client, the bounds on validation's memory, the observers told of each finished
exchange (`gateway.record`), and those that follow an exchange from its start
(`gateway.exchange_tap`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.config import Settings
from gateway.exchange_tap import TapFactory
from gateway.proxy.buffer_budget import BufferBudget
from gateway.proxy.upstream import UpstreamClient
from gateway.record import ExchangeObserver, ExchangeRecord
from gateway.reload import SchemaHolder

if TYPE_CHECKING:
    # The taps are made by each exchange from the worker's factories: they import the worker.
    from gateway.proxy.taps import ExchangeTaps


@dataclass
class Worker:
    settings: Settings
    schemas: SchemaHolder
    upstream: UpstreamClient
    logger: Any
    #: Told of every finished exchange, in this order (the log, the metrics...).
    observers: Sequence[ExchangeObserver] = ()
    #: Shown each exchange at its start, each may follow it (the next XSD set, GDM advice).
    taps: Sequence[TapFactory] = ()
    #: Large bodies are validated one at a time: a tree takes many times its document's size
    #: (docs/deployment.md), and a handful of 32 MiB bodies at once would take gigabytes.
    large_validations: asyncio.Semaphore = field(init=False)
    #: Bodies buffered for validation, waiting for their turn or not, are bounded all together
    #: (`max_buffered_bytes`): else many clients sending large bodies at once would each have
    #: one held.
    buffer_budget: BufferBudget = field(init=False)

    def __post_init__(self) -> None:
        self.large_validations = asyncio.Semaphore(1)
        self.buffer_budget = BufferBudget(self.settings.max_buffered_bytes)

    def exchange_ended(self, record: ExchangeRecord, taps: ExchangeTaps | None = None) -> None:
        """Hand `record` to the exchange's taps (if any), then to the observers."""
        if taps is not None:
            taps.ended(record)
        for observer in self.observers:
            observer.exchange_ended(record)

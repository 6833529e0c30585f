"""What every exchange of a worker process shares: the settings, the XSD set in service, the
upstream client, the bounds on validation's memory, and the observers told of each finished
exchange (`gateway.record`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.config import Settings
from gateway.proxy.buffer_budget import BufferBudget
from gateway.proxy.upstream import UpstreamClient
from gateway.record import ExchangeObserver, ExchangeRecord
from gateway.reload import SchemaHolder


@dataclass
class Worker:
    settings: Settings
    schemas: SchemaHolder
    upstream: UpstreamClient
    logger: Any
    #: Told of every finished exchange, in this order (the log, the metrics...).
    observers: Sequence[ExchangeObserver] = ()
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

    def exchange_ended(self, record: ExchangeRecord) -> None:
        for observer in self.observers:
            observer.exchange_ended(record)

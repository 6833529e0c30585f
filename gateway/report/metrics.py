"""Prometheus metrics of the exchanges, served at `/_gateway/metrics`: how many exchanges
passed, failed or went unvalidated and how they ended, what each direction's check decided,
the violations by code, the time validation took, and the state of the XSD set.

Labels are the configuration's route names, directions, decisions and violation codes, never a
path or a value: how many series there are is bounded by the configuration and the codes.
With several workers, each hands its counts every second to files in a directory `serve` makes
for them (prometheus-client's multiprocess mode, chosen when the library is imported, from
`PROMETHEUS_MULTIPROC_DIR`), and the worker answering a scrape sums every worker's files.
"""

from __future__ import annotations

import asyncio
import collections
import os
from collections.abc import Callable, Iterator
from typing import Any

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, generate_latest, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from gateway.record import ExchangeRecord

#: Where the workers of one `serve` write their values (read by prometheus-client on import).
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
#: Prometheus's classic text format, which every Prometheus reads: prometheus-client's
#: `CONTENT_TYPE_PLAIN_0_0_4` without its `charset`, which the web framework adds.
CONTENT_TYPE = "text/plain; version=0.0.4"
#: How long a worker keeps its counts before writing them where scrapes read them.
FLUSH_SECONDS = 1.0
#: The label of an exchange no route matched.
NO_ROUTE = ""

# A `_created` series beside every counter says when each worker first counted it: noise
# for the operators this is for, and one more series per label set.
prometheus_client.disable_created_metrics()


def multiprocess_directory_problem() -> str | None:
    """What is wrong with an inherited `PROMETHEUS_MULTIPROC_DIR`, if anything: prometheus-client
    keeps its values there as soon as the variable exists, even empty, and a worker that cannot
    write there could count nothing."""
    directory = os.environ.get(MULTIPROCESS_VARIABLE)
    if directory is None:
        return None
    if not directory:
        return f"{MULTIPROCESS_VARIABLE} is set but empty: unset it, or name a directory."
    if not os.path.isdir(directory):
        return f"{MULTIPROCESS_VARIABLE}={directory} is not a directory: create it, or unset it."
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"{MULTIPROCESS_VARIABLE}={directory} is not writable by the gateway's user."
    return None


class _SchemaState(Collector):
    """The XSD set of the worker answering the scrape (every worker reloads the same files):
    `state` gives its version and whether a reload failed (the last good set in service)."""

    def __init__(self, state: Callable[[], tuple[str, bool]]) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        version = GaugeMetricFamily(
            "sne_gateway_xsd_version",
            "The version of the XSD set in service (1, with the version as a label).",
            labels=["version"],
        )
        label, degraded = self.state()
        version.add_metric([label], 1)
        yield version
        yield GaugeMetricFamily(
            "sne_gateway_xsd_degraded",
            "1 while a reload failed and the last good XSD set stays in service, else 0.",
            value=1 if degraded else 0,
        )


class _StoreState(Collector):
    """Whether the worker answering the scrape can write to the violations store (absent when
    the store is off)."""

    def __init__(self) -> None:
        self.failing: Callable[[], bool] | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.failing is None:
            return
        yield GaugeMetricFamily(
            "sne_gateway_store_failing",
            "1 while this worker cannot write to the violations store (its records wait in "
            "memory, then are dropped), else 0.",
            value=1 if self.failing() else 0,
        )


class Metrics:
    """One worker's metrics, on a registry of its own (not prometheus-client's global one).

    An exchange adds to counts kept in a dictionary, which `flush` hands to prometheus-client
    every `FLUSH_SECONDS` and before each scrape: with several workers, each count
    prometheus-client keeps is a write to a shared file, which costs an exchange several times
    more than a dictionary's count (docs/benchmarks.md)."""

    def __init__(self, schema_state: Callable[[], tuple[str, bool]], logger: Any) -> None:
        self.logger = logger
        #: Where every worker's values are, when prometheus-client was imported in its
        #: multiprocess mode (it decided then, from the environment of that moment).
        self.directory = (
            os.environ.get(MULTIPROCESS_VARIABLE)
            if values.ValueClass is not values.MutexValue
            else None
        )
        #: Whether the last flush failed (said once in the log, and once when it recovers).
        self.flush_failing = False
        self.registry = CollectorRegistry(auto_describe=True)
        self.exchanges = Counter(
            "sne_gateway_exchanges",
            "Exchanges, by route, overall conformance (as X-Conformance: pass, fail, or "
            "skipped when nothing was validated) and outcome (completed, refused, "
            "client-disconnected, error, or the gateway's code for how it ended otherwise).",
            ["route", "conformance", "outcome"],
            registry=self.registry,
        )
        self.checks = Counter(
            "sne_gateway_checks",
            "Directions whose body was checked, by route, direction, conformance and the "
            "action taken (forwarded, blocked, or skipped when it held nothing to validate).",
            ["route", "direction", "conformance", "action"],
            registry=self.registry,
        )
        self.violations = Counter(
            "sne_gateway_violations",
            "Violations listed in the reports, by route, direction and code.",
            ["route", "direction", "code"],
            registry=self.registry,
        )
        self.validations = Counter(
            "sne_gateway_validations",
            "Directions validated (exports excepted), by direction: the count of "
            "sne_gateway_validation_seconds_total.",
            ["direction"],
            registry=self.registry,
        )
        self.validation_seconds = Counter(
            "sne_gateway_validation_seconds",
            "Seconds spent extracting, validating and deciding, by direction (exports "
            "excepted: their check lasts as long as their download).",
            ["direction"],
            registry=self.registry,
        )
        self.store_records = Counter(
            "sne_gateway_store_records",
            "Exchange records handed to the violations store, by result: written; dropped "
            "(its queue was full, the store being down or too slow, or the gateway stopped "
            "while it was down); rejected (refused by the store).",
            ["result"],
            registry=self.registry,
        )
        self.schema_state = _SchemaState(schema_state)
        self.registry.register(self.schema_state)
        self.store_state = _StoreState()
        self.registry.register(self.store_state)
        self._pending: collections.Counter[tuple[Any, tuple[str, ...]]] = collections.Counter()

    def exchange_ended(self, record: ExchangeRecord) -> None:
        """Count one exchange and each direction it checked (a refused one: as refused,
        before any route)."""
        pending = self._pending
        if record.outcome == "refused":
            pending[self.exchanges, (NO_ROUTE, "skipped", "refused")] += 1
            return
        route = record.route or NO_ROUTE
        pending[self.exchanges, (route, record.conformance, record.outcome or "completed")] += 1
        for checked in record.directions:
            direction = checked.direction
            pending[self.checks, (route, direction, checked.conformance, checked.action)] += 1
            if checked.conformance != "skipped" and not checked.archive:
                pending[self.validations, (direction,)] += 1
                # A Counter adds seconds as well as counts; typeshed types its values as int.
                pending[self.validation_seconds, (direction,)] += checked.validation_ms / 1000  # type: ignore[assignment]
            for report in checked.reports:
                for violation in report.violations:
                    pending[self.violations, (route, direction, violation.code)] += 1

    def count_store(self, result: str, amount: int) -> None:
        """Count records the store's thread wrote, dropped or saw rejected (prometheus-client
        takes them from any thread; once per batch, not per exchange)."""
        self.store_records.labels(result).inc(amount)

    def flush(self) -> None:
        """Hand the counts kept since the last flush to prometheus-client. What it could not
        take (its directory removed, or full) is kept for the next flush, and said."""
        pending, self._pending = self._pending, collections.Counter()
        try:
            while pending:
                (metric, labels), amount = next(iter(pending.items()))
                metric.labels(*labels).inc(amount)
                del pending[metric, labels]
        except Exception as error:
            self._pending.update(pending)
            if not self.flush_failing:
                self.flush_failing = True
                self.logger.error(
                    "metrics.flush-failed",
                    directory=self.directory,
                    reason=f"{type(error).__name__}: {error}",
                    consequence="the counts are kept in this worker until a flush succeeds",
                )
            return
        if self.flush_failing:
            self.flush_failing = False
            self.logger.info("metrics.flush-recovered", directory=self.directory)

    async def flush_regularly(self) -> None:
        """Flush every `FLUSH_SECONDS`, until cancelled (then once more)."""
        try:
            while True:
                await asyncio.sleep(FLUSH_SECONDS)
                self.flush()
        finally:
            self.flush()

    def exposition(self) -> bytes:
        """Every worker's metrics (this one's alone without multiprocess mode; the others'
        as of their last flush), and the state of this worker's XSD set."""
        self.flush()
        if self.directory is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, self.directory)
        registry.register(self.schema_state)
        registry.register(self.store_state)
        return generate_latest(registry)

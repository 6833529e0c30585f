"""Prometheus metrics of the exchanges, served at `/_gateway/metrics`: how many exchanges
passed, failed or went unvalidated and how they ended, what each direction's check decided,
the violations by code, the time validation took, and the state of the XSD set.

Labels are the configuration's route names, directions, decisions and violation codes, never a
path or a value: how many series there are is bounded by the configuration and the codes.
With several workers, each writes its values to files in a directory `serve` makes for them
(prometheus-client's multiprocess mode, chosen when the library is imported, from
`PROMETHEUS_MULTIPROC_DIR`), and the worker answering a scrape sums every worker's files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from gateway.decide import overall_conformance

if TYPE_CHECKING:
    from gateway.proxy.check import Verdict
    from gateway.reload import SchemaHolder

#: Where the workers of one `serve` write their values (read by prometheus-client on import).
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
#: Prometheus's classic text format, which every Prometheus reads (the web framework adds
#: the `charset=utf-8`).
CONTENT_TYPE = "text/plain; version=0.0.4"
#: Validation takes about 0.2 ms for a 15 KB document and seconds for a 32 MiB one.
VALIDATION_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0
)  # fmt: skip
#: The label of an exchange no route matched.
NO_ROUTE = ""

# A `_created` series beside every counter says when each worker first counted it: noise
# for the operators this is for, and one more series per label set.
prometheus_client.disable_created_metrics()


class _SchemaState(Collector):
    """The XSD set of the worker answering the scrape (every worker reloads the same files)."""

    def __init__(self, holder: SchemaHolder) -> None:
        self.holder = holder

    def collect(self) -> Iterator[GaugeMetricFamily]:
        version = GaugeMetricFamily(
            "sne_gateway_xsd_version",
            "The version of the XSD set in service (1, with the version as a label).",
            labels=["version"],
        )
        version.add_metric([self.holder.current.schema_set.version], 1)
        yield version
        yield GaugeMetricFamily(
            "sne_gateway_xsd_degraded",
            "1 while a reload failed and the last good XSD set stays in service, else 0.",
            value=1 if self.holder.failure else 0,
        )


class Metrics:
    """One worker's metrics, on a registry of its own (not prometheus-client's global one)."""

    def __init__(self, holder: SchemaHolder) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.exchanges = Counter(
            "sne_gateway_exchanges",
            "Exchanges, by route, overall conformance (as X-Conformance: pass, fail, or "
            "skipped when nothing was validated) and outcome (completed, refused, "
            "client-disconnected, or the gateway's code for how it ended otherwise).",
            ["route", "conformance", "outcome"],
            registry=self.registry,
        )
        self.checks = Counter(
            "sne_gateway_checks",
            "Directions checked, by route, direction, conformance and the action taken "
            "(forwarded, blocked, or skipped when the policy is off or nothing was found to "
            "validate).",
            ["route", "direction", "conformance", "action"],
            registry=self.registry,
        )
        self.violations = Counter(
            "sne_gateway_violations",
            "Violations listed in the reports, by route, direction and code.",
            ["route", "direction", "code"],
            registry=self.registry,
        )
        self.validation_seconds = Histogram(
            "sne_gateway_validation_seconds",
            "Time spent extracting, validating and deciding, per checked direction.",
            ["direction"],
            buckets=VALIDATION_BUCKETS,
            registry=self.registry,
        )
        self.schema_state = _SchemaState(holder)
        self.registry.register(self.schema_state)
        self._labelled: dict[tuple[Any, tuple[str, ...]], Any] = {}

    def record(
        self, route: str | None, outcome: str | None, verdicts: Mapping[str, Verdict]
    ) -> None:
        """Count one exchange and each direction it checked."""
        route = route or NO_ROUTE
        overall = overall_conformance(verdict.decision for verdict in verdicts.values())
        self._series(self.exchanges, route, overall, outcome or "completed").inc()
        for direction, verdict in verdicts.items():
            decision = verdict.decision
            self._series(self.checks, route, direction, decision.conformance, decision.action).inc()
            if decision.conformance != "skipped":
                self._series(self.validation_seconds, direction).observe(verdict.seconds)
            for report in verdict.reports:
                for violation in report.violations:
                    self._series(self.violations, route, direction, violation.code).inc()

    def refused(self) -> None:
        """Count an exchange the gateway refused before routing it."""
        self._series(self.exchanges, NO_ROUTE, "skipped", "refused").inc()

    def _series(self, metric: Any, *labels: str) -> Any:
        # `labels()` checks and locks each time: a third of a microsecond to count, a
        # microsecond to find the series. There are as many as routes, directions and codes.
        key = (metric, labels)
        series = self._labelled.get(key)
        if series is None:
            series = self._labelled[key] = metric.labels(*labels)
        return series

    def exposition(self) -> bytes:
        """Every worker's metrics (this one's alone without multiprocess mode), and the state
        of this worker's XSD set."""
        directory = os.environ.get(MULTIPROCESS_VARIABLE)
        if not directory:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, directory)
        registry.register(self.schema_state)
        return generate_latest(registry)

"""What the store says of a campaign over a window: plain data, which `report` renders in
Markdown, HTML, JSON or JUnit and the dashboard as a page.

A violation's path is shown without its positions (`/…/nuu:numUnique`, not `nuu:numUnique[2]`):
the same rule broken at the second or the fifth occurrence is one finding.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gateway.next_set_record import ExplainingChange

#: How an exchange no route matched is shown.
NO_ROUTE_LABEL = "(no route)"
_POSITIONS = re.compile(r"\[\d+\]")


def without_positions(path: str | None) -> str | None:
    return _POSITIONS.sub("", path) if path else path


def route_label(route: str) -> str:
    return route or NO_ROUTE_LABEL


@dataclass(frozen=True, slots=True)
class Filters:
    """Which exchanges: those that arrived in [since, until), of this environment and route,
    with a check in this direction, with a violation of this code (each when given)."""

    since_ms: int
    until_ms: int
    env: str | None = None
    #: A route's name; "" for the exchanges no route matched.
    route: str | None = None
    direction: str | None = None
    code: str | None = None

    def scope(self) -> str:
        """What a report's previous one must have had in common with it (not the window)."""
        return json.dumps(
            {"env": self.env, "route": self.route, "direction": self.direction, "code": self.code},
            sort_keys=True,
        )

    def described(self) -> str:
        """The filters in words, for a title ("" when none)."""
        parts = []
        if self.env is not None:
            parts.append(f"env {self.env}")
        if self.route is not None:
            parts.append(f"route {route_label(self.route)}")
        if self.direction is not None:
            parts.append(f"direction {self.direction}")
        if self.code is not None:
            parts.append(f"code {self.code}")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Totals:
    exchanges: int = 0
    #: By the exchange's conformance (X-Conformance).
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    violations: int = 0


@dataclass(frozen=True, slots=True)
class Flow:
    """One route and direction: its checks. `direction` None: the route's exchanges of which
    no direction was checked (content not XML, policy off, refused, upstream failures...)."""

    route: str
    direction: str | None
    exchanges: int
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    blocked: int = 0
    violations: int = 0

    @property
    def pass_rate(self) -> float | None:
        judged = self.passed + self.failed
        return self.passed / judged if judged else None


@dataclass(frozen=True, slots=True)
class CodeCount:
    code: str
    violations: int
    exchanges: int
    first_ms: int
    last_ms: int


@dataclass(frozen=True, slots=True)
class Finding:
    """A code found on a route, in a direction: what "changed since the previous report" is
    made of."""

    route: str
    direction: str
    code: str

    def key(self) -> str:
        return f"{self.route}\t{self.direction}\t{self.code}"

    @classmethod
    def from_key(cls, key: str) -> Finding:
        route, direction, code = key.split("\t")
        return cls(route, direction, code)


@dataclass(frozen=True, slots=True)
class PathGroup:
    """A code at a path (positions left out): how often, when first and last, where, and the
    request ids of its latest exchanges."""

    code: str
    path: str | None
    violations: int
    first_ms: int
    last_ms: int
    routes: tuple[str, ...]
    directions: tuple[str, ...]
    request_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    exchanges: int
    passed: int
    failed: int
    violations: int


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed since the previous report of the same filters (`None` fields: there was
    none)."""

    previous_made_at_ms: int | None
    previous_since_ms: int | None = None
    previous_until_ms: int | None = None
    new: tuple[Finding, ...] = ()
    gone: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class NextSetFinding:
    """Documents of one route and direction that the next XSD set judges otherwise (`next`:
    fail, or pass), for one code at one path (positions left out) of the set that rejects
    them: how many, when first and last, the latest request ids, and the changes that explain
    them."""

    route: str
    direction: str
    next: str
    current_schema: str | None
    next_schema: str | None
    code: str
    path: str | None
    documents: int
    first_ms: int
    last_ms: int
    request_ids: tuple[str, ...]
    explained_by: tuple[ExplainingChange, ...]


@dataclass(frozen=True)
class NextSetForecast:
    """What the next XSD set would change in the window's traffic: the documents it judges
    otherwise (`failing` under it, `passing` under it only), the versions it had, and the
    findings."""

    failing: int
    passing: int
    next_versions: tuple[str, ...]
    findings: tuple[NextSetFinding, ...]


@dataclass(frozen=True, slots=True)
class AdvisoryGroup:
    """One advisory given to one client: how often, when first and last, and its latest
    occurrence (the call's time, its `depuis`, the previous call's time, the figures)."""

    client: str
    kind: str
    severity: str
    count: int
    first_ms: int
    last_ms: int
    latest_request_id: str
    latest_depuis_ms: int | None
    latest_previous_at_ms: int | None
    latest_figures: dict[str, Any]


@dataclass(frozen=True, slots=True)
class GdmClient:
    client: str
    calls: int
    first_ms: int
    last_ms: int


@dataclass(frozen=True)
class GdmUsage:
    """The GDM calls of each client in the window, and the advisories they gave."""

    clients: tuple[GdmClient, ...]
    groups: tuple[AdvisoryGroup, ...]


@dataclass(frozen=True)
class Summary:
    filters: Filters
    made_at_ms: int
    totals: Totals
    flows: tuple[Flow, ...]
    codes: tuple[CodeCount, ...]
    groups: tuple[PathGroup, ...]
    findings: tuple[tuple[Finding, int], ...]
    days: tuple[Day, ...]
    #: How exchanges ended other than normally (`outcome` → count).
    outcomes: dict[str, int] = field(default_factory=dict)
    changes: Changes | None = None
    #: None: not asked for, or a store from before these tables.
    next_set: NextSetForecast | None = None
    gdm: GdmUsage | None = None

    @property
    def empty(self) -> bool:
        return self.totals.exchanges == 0

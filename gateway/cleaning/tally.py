"""Country values counted, each distinct one judged once by the referential.

A million values of an export hold a few thousand distinct ones: they are counted first, then
each is judged (look-ups, and the fuzzy match where those fail). Empty values (a French
address has no country) are counted apart and left out of the shares.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.rules.countries import STATUSES, CountryReferential, CountryVerdict, Status


@dataclass(frozen=True, slots=True)
class JudgedValue:
    """One distinct value: how often it came, where first (a CSV line, or a document and
    line), and its verdict."""

    value: str
    count: int
    first_seen: int | str
    verdict: CountryVerdict


@dataclass
class Tally:
    """Values as they come (`add`), then judged (`judge`)."""

    counts: Counter[str] = field(default_factory=Counter)
    first_seen: dict[str, int | str] = field(default_factory=dict)
    empty: int = 0

    def add_all(self, values: Iterable[tuple[str, int | str]]) -> None:
        """Count `(value, where)` pairs; `where` is kept for a value's first occurrence."""
        counts, first_seen = self.counts, self.first_seen
        for value, where in values:
            if not value.strip():
                self.empty += 1
                continue
            counts[value] += 1
            if value not in first_seen:
                first_seen[value] = where

    def judge(self, referential: CountryReferential) -> list[JudgedValue]:
        """Every distinct value with its verdict, by status (in `STATUSES` order), then the
        most frequent first."""
        judged = [
            JudgedValue(value, count, self.first_seen[value], referential.verdict(value))
            for value, count in self.counts.items()
        ]
        order = {status: position for position, status in enumerate(STATUSES)}
        judged.sort(key=lambda j: (order[j.verdict.status], -j.count, j.value))
        return judged

    @property
    def total(self) -> int:
        """The non-empty values counted."""
        return sum(self.counts.values())


def by_status(judged: Iterable[JudgedValue]) -> dict[Status, int]:
    """How many values (not distinct ones) have each status."""
    counts: dict[Status, int] = dict.fromkeys(STATUSES, 0)
    for value in judged:
        counts[value.verdict.status] += value.count
    return counts


def share(count: int, total: int) -> str:
    """`count` as a share of `total`, in %, one decimal: `40.0 %`."""
    return f"{100 * count / total:.1f} %" if total else "-"

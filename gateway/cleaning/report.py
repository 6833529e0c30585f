"""What `sne-gateway pays` prints: each distinct value with its verdict, and the shares.

The values are the user's own data, shown on purpose: cleaning them is the point. Control
characters in a value are escaped, so that a line of the report stays one line.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import IO

from gateway.cleaning.tally import JudgedValue, by_status, share
from gateway.rules.countries import SIMILARITY, STATUSES, CountryVerdict

#: The report's columns, in CSV and JSON-like order.
COLUMNS = ("status", "count", "value", "suggestion", "reason", "first_seen")


def shown(value: str) -> str:
    """`value` on one line: control characters (a tab, a line break) escaped."""
    return "".join(
        char if char.isprintable() or char == " " else char.encode("unicode_escape").decode()
        for char in value
    )


def reason(verdict: CountryVerdict) -> str:
    """Why a value has its status, in a few words."""
    return {
        "name": "a COG name",
        "code": "a country code, not a name"
        + ("" if verdict.suggestion else " (of several COG entries)"),
        "france": "France: the address is French",
        "overseas": "a French overseas department or collectivity: the address is French",
        "close": f"{verdict.score:.0f} % similar to a COG name" if verdict.score else "",
        "ambiguous": f"several COG names {SIMILARITY:.0f} % similar",
        "unknown": f"no COG name {SIMILARITY:.0f} % similar",
        "empty": "empty",
    }[verdict.reason]


def _where(first_seen: int | str) -> str:
    return f"line {first_seen}" if isinstance(first_seen, int) else first_seen


def write_text(out: IO[str], judged: Sequence[JudgedValue]) -> None:
    """One line per distinct value: status, count, value, suggestion or reason, first seen."""
    width = min(max((len(shown(j.value)) for j in judged), default=5), 40)
    out.write(
        f"{'STATUS':<18} {'COUNT':>7}  {'VALUE':<{width}}  SUGGESTION / REASON  (FIRST SEEN)\n"
    )
    for value in judged:
        verdict = value.verdict
        why = reason(verdict)
        if verdict.status == "fixable":
            why = f"-> {verdict.suggestion} ({why})"
        out.write(
            f"{verdict.status:<18} {value.count:>7}  {shown(value.value):<{width}}  {why}  "
            f"({_where(value.first_seen)})\n"
        )


def write_csv(out: IO[str], judged: Sequence[JudgedValue]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for value in judged:
        verdict = value.verdict
        writer.writerow(
            (
                verdict.status,
                value.count,
                value.value,
                verdict.suggestion if verdict.status == "fixable" else "",
                reason(verdict),
                _where(value.first_seen),
            )
        )


def summary_lines(judged: Sequence[JudgedValue], empty: int, source: str) -> list[str]:
    """The counts and shares by status, over the non-empty values."""
    counts = by_status(judged)
    total = sum(counts.values())
    lines = [
        f"{total:,} values ({len(judged):,} distinct) in {source}; {empty:,} empty, not counted"
    ]
    lines += [
        f"  {status:<18} {counts[status]:>9,}  {share(counts[status], total):>7}"
        for status in STATUSES
    ]
    return lines

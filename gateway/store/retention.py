"""Retention: exchanges older than the retention age are removed, then, where the engine can
tell how much its data takes (SQLite), the oldest until it is back under its bound.

Removal goes by batches of `CHUNK` exchanges, each in a transaction of its own, so that the
workers' writes are never held up for long.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gateway.store.backend import Backend

CHUNK = 2000
#: Past its bound, the store is brought down to this share of it, so that retention does not
#: run again at the next batch.
SIZE_TARGET = 0.9


@dataclass(frozen=True, slots=True)
class Removed:
    by_age: int = 0
    by_size: int = 0


#: Tables of rows kept beside the exchanges, removed by age alone and not counted in
#: `Removed` (they are few: what the next XSD set judges otherwise, GDM calls and advisories).
AGED_TABLES = ("next_set_differences", "gdm_calls", "gdm_advisories")


def apply_retention(backend: Backend, now_ms: int, max_age_ms: int, max_bytes: int) -> Removed:
    by_age = _remove_oldest(backend, "WHERE at_ms < ?", (now_ms - max_age_ms,), None)
    for table in AGED_TABLES:
        backend.execute(f"DELETE FROM {table} WHERE at_ms < ?", (now_ms - max_age_ms,))
    by_size = 0
    used = backend.used_bytes()
    if used is not None and used > max_bytes:
        ((count,),) = backend.fetch("SELECT count(*) FROM exchanges")
        excess = math.ceil(count * (used - SIZE_TARGET * max_bytes) / used)
        by_size = _remove_oldest(backend, "", (), min(count, excess))
    if by_age or by_size:
        backend.compact()
    return Removed(by_age, by_size)


def _remove_oldest(
    backend: Backend, where: str, parameters: tuple[int, ...], limit: int | None
) -> int:
    removed = 0
    while limit is None or removed < limit:
        chunk = CHUNK if limit is None else min(CHUNK, limit - removed)
        ids = [
            row[0]
            for row in backend.fetch(
                f"SELECT id FROM exchanges {where} ORDER BY at_ms LIMIT ?", (*parameters, chunk)
            )
        ]
        if not ids:
            break
        backend.delete_exchanges(ids)
        removed += len(ids)
    return removed

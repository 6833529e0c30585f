"""One refusal path: a request the gateway refuses, whether its admission did
(`gateway.proxy.admission`), the guard of its own endpoints (the admin token,
`gateway.proxy.reserved`) or their router (a method they do not take), is answered in the
SNE's shape with the client's X-Request-ID kept (or a new one), logged as `exchange.refused`
and counted, through the same record handed to the worker's observers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.proxy.answer import Answer, refused
from gateway.proxy.exchange_record import refused_record
from gateway.proxy.headers import RawHeaders
from gateway.proxy.request import RequestHead
from gateway.proxy.response_writer import ResponseWriter
from gateway.proxy.worker import Worker


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request refused: the status, why (for the client and the log), and the headers the
    answer carries besides the gateway's own (`Allow` on a 405)."""

    status: int
    reason: str
    headers: RawHeaders = field(default_factory=list)


def refusal_answer(refusal: Refusal, head: RequestHead, version: str) -> tuple[Answer, RawHeaders]:
    """The answer to `refusal`, and its headers besides Content-Type and Content-Length."""
    headers = [(b"x-request-id", head.request_id.encode("latin-1")), *refusal.headers]
    return refused(refusal.status, refusal.reason, version), headers


async def refuse(
    worker: Worker, head: RequestHead, refusal: Refusal, writer: ResponseWriter
) -> None:
    """Answer `refusal`, then hand its record to the observers."""
    answer, headers = refusal_answer(refusal, head, worker.schemas.current.schema_set.version)
    await writer.whole(answer, headers)
    worker.exchange_ended(refused_record(head, worker.settings, refusal.status, refusal.reason))

"""What a simulator endpoint answers, before HTTP: the protocol modules build `Answer`s and
`gateway.simulator.app` turns them into responses (and applies the transport faults)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

XML = "application/xml; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    """A status, a content type and a body: bytes, or chunks produced while streaming."""

    status: int
    content_type: str
    body: bytes | Iterator[bytes]
    headers: dict[str, str] = field(default_factory=dict)


def xml_answer(body: bytes, status: int = 200, **headers: str) -> Answer:
    return Answer(status, XML, body, headers)

"""The outcome of one direction of an exchange (`Verdict`): plain data the exchange answers,
heads and records (`gateway.proxy.exchange_record`) with."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.decide import Decision
from gateway.violation import DocumentReport, Violation


@dataclass(slots=True)
class Verdict:
    """The outcome of one direction, for headers and records."""

    decision: Decision
    reports: list[DocumentReport]
    seconds: float = 0.0
    soap_version: str | None = None
    #: For archives, which keep only their failures: how many members, and failures not kept.
    documents: int | None = None
    omitted: int = 0
    #: An export's, given once it has streamed: its check lasted as long as its download.
    archive: bool = False


def gateway_reports(source: str, code: str, message: str) -> list[DocumentReport]:
    """The report of what the gateway itself found, rather than a schema."""
    return [DocumentReport(source, None, (Violation(code, message),))]

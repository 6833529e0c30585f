"""The JSON report CI jobs parse: one object for the whole run."""

from __future__ import annotations

import json
from collections.abc import Sequence

from gateway.report.summary import Summary
from gateway.violation import DocumentReport


def json_report(reports: Sequence[DocumentReport], xsd: str, version: str) -> str:
    """`{"xsd", "version", "documents": [...], "summary": {...}}` as indented JSON."""
    return json.dumps(
        {
            "xsd": xsd,
            "version": version,
            "documents": [report.to_dict() for report in reports],
            "summary": Summary.of(reports).to_dict(),
        },
        indent=2,
        ensure_ascii=False,
    )

"""Structured logs: one event per exchange direction, one per violation.

JSON lines in production (or whenever stderr is not a terminal), a readable console in a TTY.
Events carry paths, codes, counts and durations, never element values: messages are built
without values unless the operator set `capture_values`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

import structlog

from gateway.violation import DocumentReport

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def configure_logging(log_format: str, level: str, env: str) -> None:
    """`log_format`: "json", "console", or "auto" (console in a TTY outside prod)."""
    # httpx logs every request URL at INFO; query strings may hold identifiers.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    console = log_format == "console" or (
        log_format == "auto" and env != "prod" and sys.stderr.isatty()
    )
    renderer = structlog.dev.ConsoleRenderer() if console else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def log_reports(
    logger: Any,
    reports: Sequence[DocumentReport],
    documents: int | None = None,
    omitted: int = 0,
    **exchange: Any,
) -> None:
    """Emit the exchange event, then one event per violation (bound to the same exchange).
    `documents` and `omitted` count what `reports` leaves out (an archive keeps only its
    failures: `omitted` is the number of failed documents not kept)."""
    violations = sum(report.violation_count for report in reports)
    level = logger.warning if violations or omitted else logger.info
    schemas = dict.fromkeys(report.schema for report in reports if report.schema)
    level(
        "exchange",
        schemas=list(schemas) or None,
        documents=len(reports) if documents is None else documents,
        violations=violations,
        **({"failed_documents_not_listed": omitted} if omitted else {}),
        **exchange,
    )
    for report in reports:
        for violation in report.violations:
            logger.warning(
                "violation",
                request_id=exchange.get("request_id"),
                direction=exchange.get("direction"),
                document=report.source,
                schema=report.schema,
                code=violation.code,
                path=violation.path,
                line=violation.line,
                column=violation.column,
                message=violation.message,
            )

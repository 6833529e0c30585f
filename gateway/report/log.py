"""Structured logs: one event per exchange direction, one per violation (`ExchangeLog`, an
observer of finished exchanges), and the logging configuration of the gateway and its server.

JSON lines in production (or whenever stderr is not a terminal), a readable console in a TTY.
Events carry paths, codes, counts and durations, never element values: messages are built
without values unless the operator set `capture_values`.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

import orjson
import structlog

from gateway.record import ExchangeRecord
from gateway.violation import DocumentReport

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


#: The action logged for an exchange whose bodies were not validated, by its outcome (None: it
#: went through); any other outcome was answered by the gateway itself.
UNVALIDATED_ACTIONS = {None: "forwarded", "client-disconnected": "abandoned"}
#: What uvicorn says when an application returns in the middle of a response, which the
#: gateway does on purpose to cut an export found invalid, or an answer the upstream broke off.
UNFINISHED_RESPONSE = "ASGI callable returned without completing response."


def _console(log_format: str, env: str) -> bool:
    """`log_format`: "json", "console", or "auto" (console in a TTY outside prod)."""
    return log_format == "console" or (
        log_format == "auto" and env != "prod" and sys.stderr.isatty()
    )


#: The standard json module's compact form, the same as orjson's, for uvicorn's records and for
#: what orjson refuses.
COMPACT = (",", ":")


def _json_line(event: dict[str, Any], **options: Any) -> bytes:
    """orjson (a fifth of the standard module's cost per event); what it refuses (a non-str key,
    an int over 64 bits, a lone surrogate in a file name) the standard module still renders,
    so a log call never fails."""
    try:
        return orjson.dumps(event, **options)
    except TypeError:
        return json.dumps(event, separators=COMPACT, **options).encode()


def configure_logging(log_format: str, level: str, env: str) -> None:
    """The gateway's own events: a readable console, or JSON lines written as bytes, rendered by
    orjson (every exchange logs at info in production, and the standard json module's
    rendering was a measurable share of a validating worker's CPU: docs/benchmarks.md)."""
    # httpx logs every request URL at INFO; query strings may hold identifiers.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if _console(log_format, env):
        rendering: list[Any] = [structlog.dev.ConsoleRenderer()]
        output: Any = structlog.PrintLoggerFactory(sys.stderr)
    else:
        # Exceptions in text first: the console renderer prints them itself.
        rendering = [structlog.processors.format_exc_info]
        stream = getattr(sys.stderr, "buffer", None)
        if stream is None:
            # A text-only stderr (an embedding, a test harness): lines written as text.
            rendering.append(
                structlog.processors.JSONRenderer(
                    serializer=lambda event, **options: _json_line(event, **options).decode()
                )
            )
            output = structlog.PrintLoggerFactory(sys.stderr)
        else:
            rendering.append(structlog.processors.JSONRenderer(serializer=_json_line))
            output = structlog.BytesLoggerFactory(stream)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *rendering,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        logger_factory=output,
        cache_logger_on_first_use=True,
    )


def server_log_formatter(log_format: str, env: str) -> logging.Formatter:
    """uvicorn's records rendered like the gateway's events (one compact JSON line each in JSON
    mode; these are few, and a formatter gives text, so the standard json module renders them,
    escaping what is not ASCII whatever stderr's encoding)."""
    renderer: structlog.dev.ConsoleRenderer | structlog.processors.JSONRenderer
    if _console(log_format, env):
        preparing, renderer = [], structlog.dev.ConsoleRenderer()
    else:
        preparing = [structlog.processors.format_exc_info]
        renderer = structlog.processors.JSONRenderer(separators=COMPACT)
    return structlog.stdlib.ProcessorFormatter(
        processor=renderer,
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *preparing,
        ],
    )


class DeliberateCut(logging.Filter):
    """uvicorn reports an unfinished response as an error; the gateway leaves a response
    unfinished only on purpose, to cut an export it blocks or an answer the upstream broke off,
    and logs that exchange itself (`outcome: archive-cut` or `upstream-broke-off`), so the
    record is kept at info level and says what happened."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() != UNFINISHED_RESPONSE:
            return True
        record.msg = (
            "connection closed before the end of the response (archive-cut or "
            "upstream-broke-off: see the exchange's outcome)"
        )
        record.args = ()
        record.levelno, record.levelname = logging.INFO, "INFO"
        return logging.getLogger(record.name).isEnabledFor(logging.INFO)


def server_log_config(log_format: str, level: str, env: str) -> dict[str, Any]:
    """uvicorn's logging configuration (`logging.config.dictConfig`): its records on stderr,
    rendered like the gateway's own events, so a JSON log stream stays JSON throughout."""
    handler = {"handlers": ["stderr"], "level": LEVELS[level], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "gateway": {
                "()": f"{__name__}.server_log_formatter",
                "log_format": log_format,
                "env": env,
            }
        },
        "filters": {"deliberate_cut": {"()": f"{__name__}.DeliberateCut"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "gateway",
                "filters": ["deliberate_cut"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {"uvicorn": handler, "uvicorn.access": handler},
    }


def log_reports(
    logger: Any,
    reports: Sequence[DocumentReport],
    documents: int | None = None,
    omitted: int = 0,
    **exchange: Any,
) -> None:
    """Emit the exchange event, then one event per violation (bound to the same exchange).
    `documents` and `omitted` count what `reports` leaves out (an archive keeps only its
    failures, and any message its first `MAX_FAILED_DOCUMENTS`: `omitted` is the number of
    failed documents not kept)."""
    violations = sum(report.violation_count for report in reports)
    level = logger.warning if violations or omitted else logger.info
    schemas = dict.fromkeys(report.schema for report in reports if report.schema)
    # How a schema was chosen when a document's declared version had none of its own.
    notes = list(dict.fromkeys(report.note for report in reports if report.note))
    level(
        "exchange",
        schemas=list(schemas) or None,
        documents=len(reports) if documents is None else documents,
        violations=violations,
        **({"failed_documents_not_listed": omitted} if omitted else {}),
        **({"notes": notes} if notes else {}),
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


class ExchangeLog:
    """The log's observer of finished exchanges: one `exchange` event per validated direction
    (one in all when neither was), each violation after it; `exchange.refused` for a request
    the gateway refused."""

    def __init__(self, logger: Any) -> None:
        self.logger = logger

    def exchange_ended(self, record: ExchangeRecord) -> None:
        logger = self.logger
        if record.outcome == "refused":
            logger.warning(
                "exchange.refused",
                request_id=record.request_id,
                method=record.method,
                reason=record.reason,
            )
            return
        if not logger.is_enabled_for(logging.INFO) and not any(
            checked.omitted or not all(report.valid for report in checked.reports)
            for checked in record.directions
        ):
            return  # only info events to emit, and the level is above: spare building them
        common: dict[str, Any] = {
            "request_id": record.request_id,
            "method": record.method,
            "path": record.path,
            "route": record.route,
            "env": record.env,
            "status": record.status,
            "upstream_ms": round(record.upstream_ms, 3),
        }
        if record.outcome:
            common["outcome"] = record.outcome
        if not record.directions:
            log_reports(
                logger,
                [],
                direction=None,
                conformance="skipped",
                action=UNVALIDATED_ACTIONS.get(record.outcome, "answered"),
                **common,
            )
            return
        for checked in record.directions:
            log_reports(
                logger,
                checked.reports,
                documents=checked.documents,
                omitted=checked.omitted,
                direction=checked.direction,
                conformance=checked.conformance,
                action=checked.action,
                # Forwarded although it could not be judged (fail-open): say so.
                **({"incomplete": True} if checked.incomplete else {}),
                validation_ms=round(checked.validation_ms, 3),
                **common,
            )

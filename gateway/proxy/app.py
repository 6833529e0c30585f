"""The gateway's ASGI application: the proxy, and its own endpoints under `/_gateway/`.

`/_gateway/health` (liveness, with the state of the XSD set), `/_gateway/ready`,
`/_gateway/schemas`, `/_gateway/metrics` and the campaign dashboard `/_gateway/ui` are Litestar
handlers, reached at their exact spelling only (`gateway.proxy.reserved`); every other request
goes to the proxy, a raw ASGI application, so that bodies and headers pass byte for byte. Each
worker starts the violations store's writer thread, and the observers that follow exchanges
from their start (`gateway.exchange_tap`): the next XSD set's process (`shadow_xsd`) and the
GDM advisor's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import resource
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import structlog
from litestar import Litestar, Request, Response, get
from litestar.exceptions import ClientException
from litestar.types import HTTPScope, Receive, Send

from gateway.advice.advisor import GdmAdvisor
from gateway.advice.history import CallHistory, MemoryHistory, StoreHistory
from gateway.allocator import in_use, refused
from gateway.config import Settings
from gateway.exchange_tap import TapFactory
from gateway.proxy.dashboard import dashboard_handlers
from gateway.proxy.exchange import Exchange
from gateway.proxy.exchange_record import refused_record
from gateway.proxy.refusal import Refusal, refusal_answer, refuse
from gateway.proxy.request import RequestHead
from gateway.proxy.reserved import Endpoints
from gateway.proxy.response_writer import ResponseWriter
from gateway.proxy.upstream import UpstreamClient
from gateway.proxy.upstream_transport import upstream_transport
from gateway.proxy.worker import Worker
from gateway.record import ExchangeObserver
from gateway.reload import SchemaHolder
from gateway.report.log import ExchangeLog, configure_logging
from gateway.report.metrics import CONTENT_TYPE, Metrics
from gateway.rules import CountryReferential
from gateway.rules.referential import SHIPPED_COG
from gateway.shadow.schemas import next_schemas
from gateway.shadow.service import ShadowService
from gateway.store.location import StoreLocation, parse_store
from gateway.store.writer import StoreWriter

#: How long start-up waits for the upstream's host name to resolve before saying it did not.
RESOLVE_SECONDS = 5.0


def _referential_state(referential: CountryReferential | None) -> dict[str, Any] | None:
    """The country referential in service: its file (the shipped one named as such, its path
    depending on where the project is installed), and how many countries it accepts."""
    if referential is None:
        return None
    source = referential.source
    shown = f"{source.name} (shipped)" if source == SHIPPED_COG else str(source)
    return {"file": shown, "countries": referential.accepted}


def _schemas_state(holder: SchemaHolder) -> dict[str, Any]:
    current = holder.current
    rules = current.schema_set.rules
    return {
        "source": str(current.catalog.source),
        "version": current.schema_set.version,
        "rules": list(rules.names),
        "referential": _referential_state(rules.referential),
        "loaded_at": current.loaded_at.isoformat(),
        "reloads": holder.reloads,
        "last_reload_error": holder.failure.to_dict() if holder.failure else None,
    }


async def _warn_if_unresolved(upstream: str | None, logger: Any) -> None:
    """A mistyped upstream host shows in the start-up log, not only as each exchange's 502."""
    if upstream is None:
        return
    host = httpx.URL(upstream).host
    try:
        await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(host, None), RESOLVE_SECONDS)
    except TimeoutError:
        logger.warning(
            "upstream.unresolved",
            host=host,
            reason=f"no answer from the resolver within {RESOLVE_SECONDS:g} s",
        )
    except (OSError, UnicodeError) as error:
        logger.warning(
            "upstream.unresolved",
            host=host,
            reason=str(error),
            consequence="exchanges are answered 502 (GTW03) while the name does not resolve; "
            "check upstream",
        )


def _store_writer(
    location: StoreLocation | None, settings: Settings, metrics: Metrics, logger: Any
) -> StoreWriter | None:
    """The worker's writer to the violations store, started (None when the store is off)."""
    if location is None:
        return None
    writer = StoreWriter(
        location,
        logger,
        metrics.count_store,
        retention_days=settings.store_retention_days,
        max_bytes=settings.store_max_mb * 1024 * 1024,
    )
    metrics.store_state.failing = lambda: writer.failing
    writer.start()
    return writer


def create_app(
    settings: Settings,
    holder: SchemaHolder | None = None,
    observers: Sequence[ExchangeObserver] = (),
    shadow: SchemaHolder | None = None,
    taps: Sequence[TapFactory] = (),
) -> Endpoints:
    """The application for `settings`; compiles the XSD set unless `holder` is given. Each
    finished exchange's record goes to the log, the metrics, the store (unless it is off),
    then `observers`; each exchange is shown at its start to the next XSD set, the GDM
    advisor, then `taps` (`gateway.exchange_tap`). The next XSD set (`shadow_xsd`) is judged by a process of its own; the
    worker keeps it compiled (`shadow`, else compiled here) only for the answers that say its
    verdict (`conformance_next`)."""
    configure_logging(settings.log_format, settings.log_level, settings.env)
    logger = structlog.get_logger("gateway")
    schemas = holder or SchemaHolder(settings)
    judges_inline = settings.shadow_xsd is not None and settings.conformance_next != "off"
    inline_next = (shadow or next_schemas(settings)) if judges_inline else None
    store = parse_store(settings.store)
    metrics = Metrics(
        lambda: (schemas.current.schema_set.version, schemas.failure is not None), logger
    )
    #: The worker's shared state, made in its event loop when it starts (`lifespan`).
    state: dict[str, Worker] = {}
    writers: dict[str, StoreWriter] = {}
    shadows: dict[str, ShadowService] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        upstream = UpstreamClient(settings, upstream_transport(settings))
        writer = _store_writer(store, settings, metrics, logger)
        if writer is not None:
            writers["store"] = writer
        # The observers of every finished exchange: a new one is added here.
        told: list[ExchangeObserver] = [ExchangeLog(logger), metrics]
        if writer is not None:
            told.append(writer)
        told.extend(observers)
        # The observers that follow each exchange from its start: a new one is added here.
        following: list[TapFactory] = []
        if settings.shadow_xsd is not None:
            keep = writer.put if writer is not None else None
            shadows["next"] = next_set = ShadowService(
                settings, inline_next, metrics.registry, logger, keep
            )
            following.append(next_set.taps)
            next_set.start()
        advisor = None
        if settings.gdm_advice:
            history: CallHistory = StoreHistory(store) if store else MemoryHistory()
            advisor = GdmAdvisor(settings.gdm_path, history, logger, metrics.registry)
            following.append(advisor)
            advisor.start()
        following.extend(taps)
        state["worker"] = Worker(settings, schemas, upstream, logger, told, following)
        flushing = asyncio.create_task(metrics.flush_regularly())
        stop = asyncio.Event()
        watcher = (
            asyncio.create_task(schemas.watch(settings.reload_debounce_ms, stop))
            if settings.reload
            else None
        )
        logger.info(
            "gateway.started",
            env=settings.env,
            upstream=settings.upstream,
            xsd=str(settings.xsd),
            version=schemas.current.schema_set.version,
            policy=settings.policies[settings.env],
            routes=len(schemas.current.routes),
            next_xsd=str(settings.shadow_xsd) if settings.shadow_xsd else None,
            allocator=in_use(),
            open_files=resource.getrlimit(resource.RLIMIT_NOFILE)[0],
            store=store.shown() if store else "off",
        )
        for warning in schemas.current.warnings:
            logger.warning("xsd.warning", reason=warning)
        # In the background: a slow resolver must not hold up the start.
        resolving = asyncio.create_task(_warn_if_unresolved(settings.upstream, logger))
        if library := refused():
            logger.warning(
                "allocator.not-loaded",
                library=library,
                reason="the dynamic loader refused it (its message is above); the system "
                "allocator is in use. Point allocator at a shared library, or set it to system.",
            )
        # Everything alive now (imports, the app, the compiled catalog) lives as long as the
        # worker: out of the collector's way, full collections stop pausing exchanges (their
        # tail latency, docs/benchmarks.md).
        gc.freeze()
        try:
            yield
        finally:
            resolving.cancel()
            flushing.cancel()
            stop.set()
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            with contextlib.suppress(asyncio.CancelledError):
                await flushing
            if "next" in shadows:
                await shadows["next"].stop()
            if advisor is not None:
                await asyncio.to_thread(advisor.stop)
            if writer is not None:
                # What it holds is written before the worker ends (10 s at most).
                await asyncio.to_thread(writer.stop)
            await upstream.aclose()

    @get("/_gateway/health", sync_to_thread=False)
    def health() -> dict[str, Any]:
        """Liveness: 200 while the process serves; `degraded` while a reload error stands.
        With an admin token, that alone: the upstream and the XSD set's paths are not for
        whoever can reach the port."""
        status = "degraded" if schemas.failure else "ok"
        if settings.admin_token:
            return {"status": status}
        return {
            "status": status,
            "env": settings.env,
            "upstream": settings.upstream,
            "xsd": _schemas_state(schemas),
            **({"next_xsd": shadows["next"].state()} if "next" in shadows else {}),
        }

    @get("/_gateway/ready", sync_to_thread=False)
    def ready() -> Response[dict[str, Any]]:
        is_ready = "worker" in state and settings.upstream is not None
        return Response({"ready": is_ready}, status_code=200 if is_ready else 503)

    @get("/_gateway/schemas", sync_to_thread=False)
    def schemas_endpoint() -> dict[str, Any]:
        current = schemas.current
        return {
            **_schemas_state(schemas),
            "versions": {
                label: {name: schema.entry.name for name, schema in version.schemas.items()}
                for label, version in current.catalog.versions.items()
            },
            "in_service": {
                name: {"entry": str(schema.entry), "title": schema.title}
                for name, schema in current.schema_set.schemas.items()
            },
        }

    @get("/_gateway/metrics", sync_to_thread=False)
    def metrics_endpoint() -> Response[bytes]:
        """Prometheus's text format: every worker's counts, this worker's XSD set."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    async def proxy(scope: HTTPScope, receive: Receive, send: Send) -> None:
        await Exchange(state["worker"], scope, receive, send).run()

    async def refuse_endpoint(scope: HTTPScope, send: Send, refusal: Refusal) -> None:
        head = RequestHead.from_scope(scope)
        await refuse(state["worker"], head, refusal, ResponseWriter(send))

    def refused_by_router(
        request: Request[Any, Any, Any], error: ClientException
    ) -> Response[bytes]:
        """What Litestar refuses of a request to the gateway's own endpoints (a method they
        do not take), through the gateway's one refusal path."""
        head = RequestHead.from_scope(request.scope)
        refusal = Refusal(
            error.status_code,
            f"The request is refused: {error.detail}.",
            [
                (name.lower().encode(), value.encode())
                for name, value in (error.headers or {}).items()
            ],
        )
        worker = state["worker"]
        answer, headers = refusal_answer(refusal, head, schemas.current.schema_set.version)
        worker.exchange_ended(refused_record(head, settings, refusal.status, refusal.reason))
        return Response(
            answer.body,
            status_code=answer.status,
            media_type=answer.content_type.decode(),
            headers={name.decode(): value.decode("latin-1") for name, value in headers},
        )

    ui = dashboard_handlers(store, lambda: _schemas_state(schemas), lambda: writers.get("store"))
    endpoints = Litestar(
        route_handlers=[health, ready, schemas_endpoint, metrics_endpoint, *ui],
        exception_handlers={ClientException: refused_by_router},
        lifespan=[lifespan],
        openapi_config=None,
        logging_config=None,
        debug=False,
    )
    return Endpoints(endpoints, proxy, refuse_endpoint, settings.admin_token)

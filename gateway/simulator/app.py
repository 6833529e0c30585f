"""The simulator's ASGI application: the SNE's routes, as `gateway.toml` expects them.

Each handler reads the request, draws the answer's faults (from `--faults`, or from the
request's `X-Simulator-Fault` header), applies the transport faults here (`slow` waits first,
`5xx` replaces the answer), and lets a protocol module build the answer, in a worker thread so
that building documents never stalls the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Stream

from gateway.catalog import SHIPPED_XSD, load_catalog
from gateway.report.anomaly import Anomaly, anomaly_document
from gateway.rules import NO_RULES
from gateway.simulator import soap
from gateway.simulator.answer import Answer, xml_answer
from gateway.simulator.drm import DrmService
from gateway.simulator.exports import ExportService
from gateway.simulator.fake_data import FakeData
from gateway.simulator.faults import HEADER, FaultDraw, FaultInjector, FaultSpecError, parse_faults
from gateway.simulator.gdm import GdmService
from gateway.simulator.registry import Registry
from gateway.simulator.settings import SimulatorSettings

HEALTH_PATH = "/_simulator/health"
RETRY_AFTER_SECONDS = "30"
#: Builds an answer from the faults drawn for it, and a way to draw more (one per archive member).
Producer = Callable[[FaultDraw, Callable[[], FaultDraw]], Answer]


def _response(answer: Answer) -> Response[Any]:
    if isinstance(answer.body, bytes):
        return Response(
            answer.body,
            status_code=answer.status,
            media_type=answer.content_type,
            headers=answer.headers,
        )
    return Stream(
        answer.body,
        status_code=answer.status,
        media_type=answer.content_type,
        headers=answer.headers,
    )


def create_simulator(settings: SimulatorSettings) -> Litestar:
    """The simulator for `settings` (`app.state.version`: the interface version it answers);
    compiles the shipped XSD set: raise `CatalogError`, or `SchemaNotFound` for a version the
    set does not have."""
    # The SNE checks its XSD, not yet the business rules it announced (the country referential):
    # the simulator accepts what it accepts.
    schema_set = replace(load_catalog(SHIPPED_XSD).version(settings.version), rules=NO_RULES)
    version = schema_set.version
    data = FakeData(settings.seed)
    injector = FaultInjector(settings.faults, settings.seed)
    services = soap.SoapServices(schema_set, data, Registry())
    drm = DrmService(schema_set, data)
    gdm = GdmService(version, data)
    exports = ExportService(schema_set, data, settings.export_size, settings.export_delay)

    def rest_unavailable() -> Answer:
        anomaly = Anomaly("SNE503", "Service momentanément indisponible : réessayer plus tard.")
        return xml_answer(
            anomaly_document([anomaly], version), 503, **{"Retry-After": RETRY_AFTER_SECONDS}
        )

    async def respond(
        request: Request[Any, Any, Any],
        produce: Producer,
        unavailable: Callable[[], Answer] = rest_unavailable,
    ) -> Response[Any]:
        header = request.headers.get(HEADER)
        try:
            forced = parse_faults(header) if header is not None else None
        except FaultSpecError as error:
            return Response(
                f"{HEADER}: {error}\n",
                status_code=400,
                media_type="text/plain",  # Litestar adds the charset
            )
        draw = injector.draw(forced)
        if draw.delay:
            await asyncio.sleep(draw.delay)
        if draw.server_error:
            return _response(unavailable())
        answer = await asyncio.to_thread(produce, draw, lambda: injector.draw(forced))
        return _response(answer)

    def content_type(request: Request[Any, Any, Any]) -> str:
        return request.headers.get("content-type", "")

    @post("/nuu-ws/services/DemandeLogement", status_code=200)
    async def demande_logement(request: Request[Any, Any, Any]) -> Response[Any]:
        body = await request.body()
        return await respond(
            request,
            lambda draw, _: services.demande_logement(body, content_type(request), draw),
            soap.unavailable,
        )

    @post("/nuu-ws/services/GestionPartageeEVT", status_code=200)
    async def gestion_partagee_evt(request: Request[Any, Any, Any]) -> Response[Any]:
        body = await request.body()
        return await respond(
            request,
            lambda draw, _: services.gestion_partagee_evt(body, content_type(request), draw),
            soap.unavailable,
        )

    @post("/v1.0/exports", status_code=202)
    async def create_export(request: Request[Any, Any, Any]) -> Response[Any]:
        body = await request.body()
        return await respond(request, lambda draw, _: exports.create(body, draw, datetime.now(UTC)))

    @get("/v1.0/exports/{identifier:str}")
    async def export_status(
        request: Request[Any, Any, Any], identifier: FromPath[str]
    ) -> Response[Any]:
        return await respond(
            request, lambda draw, _: exports.status(identifier, draw, datetime.now(UTC))
        )

    @get("/v1.0/exports/{identifier:str}/fichier")
    async def export_file(
        request: Request[Any, Any, Any], identifier: FromPath[str]
    ) -> Response[Any]:
        return await respond(
            request, lambda _, redraw: exports.download(identifier, redraw, datetime.now(UTC))
        )

    @post(["/v1.0/drm/ressources", "/v1.0/drm/ressources/"], status_code=200)
    async def drm_ressources(request: Request[Any, Any, Any]) -> Response[Any]:
        body = await request.body()
        return await respond(
            request, lambda draw, _: drm.ressources(body, draw, datetime.now(UTC).date())
        )

    @get("/v1.0/gdm/mouvements")
    async def gdm_mouvements(request: Request[Any, Any, Any]) -> Response[Any]:
        depuis = request.query_params.get("depuis")
        communes = [
            code.strip()
            for value in request.query_params.getall("communes", [])
            for code in value.split(",")
            if code.strip()
        ]
        return await respond(
            request, lambda draw, _: gdm.mouvements(depuis, communes, draw, datetime.now(UTC))
        )

    @get(HEALTH_PATH, sync_to_thread=False)
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "version": version,
            "seed": settings.seed,
            "faults": str(settings.faults),
            "export_size": settings.export_size,
            "export_delay": settings.export_delay,
        }

    return Litestar(
        route_handlers=[
            demande_logement,
            gestion_partagee_evt,
            create_export,
            export_status,
            export_file,
            drm_ressources,
            gdm_mouvements,
            health,
        ],
        state=State({"version": version}),
        openapi_config=None,
        logging_config=None,
        debug=False,
    )

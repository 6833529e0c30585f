"""The simulator's ASGI application: the SNE's routes, as `gateway.toml` expects them.

Each handler reads the request, draws the answer's faults (from `--faults`, or from the
request's `X-Simulator-Fault` header), applies the transport faults here (`slow` waits first,
`5xx` replaces the answer), and lets a protocol module build the answer, in a worker thread so
that building documents never stalls the event loop.

A simulator may serve several versions of the shipped XSD set, each a platform of its own
(its services, its exports): the first answers unless a request names another in
`X-Simulator-Version`. `X-Simulator-Now` steers the moment an answer is produced at
(`gateway.simulator.clock`), `X-Simulator-Movements` the size of a GDM feed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Stream

from gateway.catalog import SHIPPED_XSD, SchemaSet, load_catalog
from gateway.report.anomaly import Anomaly, anomaly_document
from gateway.rules import NO_RULES
from gateway.simulator import clock, soap
from gateway.simulator.answer import Answer, xml_answer
from gateway.simulator.drm import DrmService
from gateway.simulator.exports import ExportService
from gateway.simulator.fake_data import FakeData
from gateway.simulator.faults import HEADER, FaultDraw, FaultInjector, FaultSpecError, parse_faults
from gateway.simulator.gdm import MAX_STEERED_MOVEMENTS, MOVEMENTS_HEADER, GdmService
from gateway.simulator.registry import Registry
from gateway.simulator.settings import SimulatorSettings

HEALTH_PATH = "/_simulator/health"
RETRY_AFTER_SECONDS = "30"
VERSION_HEADER = "X-Simulator-Version"
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


@dataclass(frozen=True)
class Platform:
    """The services of one version."""

    version: str
    soap: soap.SoapServices
    drm: DrmService
    gdm: GdmService
    exports: ExportService

    def unavailable(self) -> Answer:
        anomaly = Anomaly("SNE503", "Service momentanément indisponible : réessayer plus tard.")
        return xml_answer(
            anomaly_document([anomaly], self.version, clock.now()),
            503,
            **{"Retry-After": RETRY_AFTER_SECONDS},
        )


def _platform(
    schema_set: SchemaSet, data: FakeData, registry: Registry, settings: SimulatorSettings
) -> Platform:
    return Platform(
        schema_set.version,
        soap.SoapServices(schema_set, data, registry),
        DrmService(schema_set, data),
        GdmService(schema_set.version, data),
        ExportService(schema_set, data, settings.export_size, settings.export_delay),
    )


class SteeringError(ValueError):
    """A steering header the simulator cannot follow; the message says which and why."""


def _movements(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit() or int(text) > MAX_STEERED_MOVEMENTS:
        raise SteeringError(
            f"{MOVEMENTS_HEADER}: expected a number of movements from 0 to "
            f"{MAX_STEERED_MOVEMENTS}, not {text[:32]!r}"
        )
    return int(text)


def create_simulator(settings: SimulatorSettings) -> Litestar:
    """The simulator for `settings` (`app.state.version`: the interface version it answers by
    default, `app.state.versions` all those it serves); compiles the shipped XSD set: raise
    `CatalogError`, or `SchemaNotFound` for a version the set does not have."""
    catalog = load_catalog(SHIPPED_XSD)
    data = FakeData(settings.seed)
    registry = Registry()
    platforms: dict[str, Platform] = {}
    for asked in (settings.version, *settings.other_versions):
        # The SNE checks its XSD, not yet the business rules it announced (the country
        # referential): the simulator accepts what it accepts.
        schema_set = replace(catalog.version(asked), rules=NO_RULES)
        platforms.setdefault(schema_set.version, _platform(schema_set, data, registry, settings))
    default = next(iter(platforms.values()))
    version = default.version
    injector = FaultInjector(settings.faults, settings.seed)

    def platform_of(request: Request[Any, Any, Any]) -> Platform:
        """The platform the request names, else the first; steers the clock of its answer."""
        moment = request.headers.get(clock.HEADER)
        try:
            clock.steer(clock.parse_now(moment) if moment is not None else None)
        except clock.ClockError as error:
            raise SteeringError(f"{clock.HEADER}: {error}") from None
        named = request.headers.get(VERSION_HEADER)
        if named is None:
            return default
        if named.strip() not in platforms:
            raise SteeringError(
                f"{VERSION_HEADER}: this simulator serves {', '.join(platforms)}, not "
                f"{named[:32]!r}"
            )
        return platforms[named.strip()]

    def refused(reason: str) -> Response[Any]:
        return Response(
            f"{reason}\n",
            status_code=400,
            media_type="text/plain",  # Litestar adds the charset
        )

    async def respond(
        request: Request[Any, Any, Any],
        produce: Callable[[Platform], Producer],
        soap_service: bool = False,
    ) -> Response[Any]:
        header = request.headers.get(HEADER)
        try:
            forced = parse_faults(header) if header is not None else None
            platform = platform_of(request)
            producer = produce(platform)
        except FaultSpecError as error:
            return refused(f"{HEADER}: {error}")
        except SteeringError as error:
            return refused(str(error))
        unavailable = soap.unavailable if soap_service else platform.unavailable
        draw = injector.draw(forced)
        if draw.delay:
            await asyncio.sleep(draw.delay)
        if draw.server_error:
            return _response(unavailable())
        answer = await asyncio.to_thread(producer, draw, lambda: injector.draw(forced))
        return _response(answer)

    def content_type(request: Request[Any, Any, Any]) -> str:
        return request.headers.get("content-type", "")

    @post("/nuu-ws/services/DemandeLogement", status_code=200)
    async def demande_logement(request: Request[Any, Any, Any]) -> Response[Any]:
        body = await request.body()
        return await respond(
            request,
            lambda platform: (
                lambda draw, _: platform.soap.demande_logement(body, content_type(request), draw)
            ),
            soap_service=True,
        )

    @post("/nuu-ws/services/GestionPartageeEVT", status_code=200)
    async def gestion_partagee_evt(request: Request[Any, Any, Any]) -> Response[Any]:
        body = await request.body()
        return await respond(
            request,
            lambda platform: (
                lambda draw, _: platform.soap.gestion_partagee_evt(
                    body, content_type(request), draw
                )
            ),
            soap_service=True,
        )

    @post("/v1.0/exports", status_code=202)
    async def create_export(request: Request[Any, Any, Any]) -> Response[Any]:
        body = await request.body()
        return await respond(
            request,
            lambda platform: lambda draw, _: platform.exports.create(body, draw, clock.now()),
        )

    @get("/v1.0/exports/{identifier:str}")
    async def export_status(
        request: Request[Any, Any, Any], identifier: FromPath[str]
    ) -> Response[Any]:
        return await respond(
            request,
            lambda platform: lambda draw, _: platform.exports.status(identifier, draw, clock.now()),
        )

    @get("/v1.0/exports/{identifier:str}/fichier")
    async def export_file(
        request: Request[Any, Any, Any], identifier: FromPath[str]
    ) -> Response[Any]:
        return await respond(
            request,
            lambda platform: (
                lambda _, redraw: platform.exports.download(identifier, redraw, clock.now())
            ),
        )

    @post(["/v1.0/drm/ressources", "/v1.0/drm/ressources/"], status_code=200)
    async def drm_ressources(request: Request[Any, Any, Any]) -> Response[Any]:
        body = await request.body()
        return await respond(
            request,
            lambda platform: (
                lambda draw, _: platform.drm.ressources(body, draw, clock.now().date())
            ),
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

        def produce(platform: Platform) -> Producer:
            count = _movements(request.headers.get(MOVEMENTS_HEADER))
            return lambda draw, _: platform.gdm.mouvements(
                depuis, communes, draw, clock.now(), count
            )

        return await respond(request, produce)

    @get(HEALTH_PATH, sync_to_thread=False)
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "version": version,
            "versions": list(platforms),
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
        state=State({"version": version, "versions": list(platforms)}),
        openapi_config=None,
        logging_config=None,
        debug=False,
    )

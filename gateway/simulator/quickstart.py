"""What `sne-gateway serve` prints when it runs the embedded simulator: where everything is, the
routes in service, and the three curls of the README's quick start, to run from the repository
root (or, from an installed wheel, anywhere: its bodies are then the wheel's copies, see
hatch_build.py). The curls show what the README says only on the shipped routes with the
schemas they name: over another XSD set (a delivery as received), the banner lists the SOAP
services of its WSDLs instead."""

from __future__ import annotations

import shlex
from pathlib import Path

from gateway.catalog import PACKAGED
from gateway.config import Settings
from gateway.reload import LoadedSchemas
from gateway.routing.route import Route

#: Where an installed wheel keeps the demo's request bodies; a clone has them in fixtures/.
PACKAGED_DEMO = PACKAGED / "demo"


def _body(fixture: str) -> str:
    packaged = PACKAGED_DEMO / Path(fixture).name
    return shlex.quote(f"@{packaged}" if PACKAGED_DEMO.is_dir() else f"@fixtures/{fixture}")


SERVICE_PATH = "/nuu-ws/services/DemandeLogement"
DRM_PATH = "/v1.0/drm/ressources"
GET_NUM_UNIQUE_ACTION = "http://ws.metier.nuu.application.i2/getNumUnique"
GET_NUM_UNIQUE = (
    "-H 'Content-Type: application/soap+xml; charset=UTF-8; "
    f'action="{GET_NUM_UNIQUE_ACTION}"\' '
    f"--data-binary {_body('soap/soap12-getNumUnique-request.xml')}"
)
INVALID_DRM = (
    "-H 'Content-Type: application/xml' "
    f"--data-binary {_body('invalid/drm-ressources/xsd.pattern--numunique-lowercase-key.xml')}"
)
CONFORMANCE_LINES = "| grep -iE '^(HTTP|x-conformance)'"
GATEWAY = "{gateway}"
#: (what it shows, the curl with `{gateway}` standing for the gateway's URL), as in the README:
#: what the second and third show depends on the request and the response policy.
CURLS = (
    (
        "A valid getNumUnique (SOAP 1.2, answered in MTOM): forwarded, both directions pass",
        f"curl -si {GATEWAY}{SERVICE_PATH} {GET_NUM_UNIQUE} {CONFORMANCE_LINES}",
    ),
    (
        "An invalid DRM request: {request}",
        "curl -s -w 'HTTP %{http_code}\\n' " + f"{GATEWAY}{DRM_PATH} {INVALID_DRM}",
    ),
    (
        "The same getNumUnique, answered with a name over its length: {response}",
        f"curl -si {GATEWAY}{SERVICE_PATH} -H 'X-Simulator-Fault: too-long' "
        f"{GET_NUM_UNIQUE} {CONFORMANCE_LINES}",
    ),
)
OUTCOMES = {
    "request": {
        "block": "blocked, answered in the SNE's anomaly shape (HTTP 422)",
        "log": "forwarded, and logged here (the simulator answers with its own anomaly)",
        "off": "forwarded without validation (requests: off)",
    },
    "response": {
        "block": "replaced by a SOAP Fault (HTTP 500), and logged here",
        "log": "forwarded, and logged here",
        "off": "forwarded without validation (responses: off)",
    },
}


def gateway_url(settings: Settings) -> str:
    """Where a client on this machine reaches the gateway."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"


def curls(url: str, settings: Settings) -> list[tuple[str, str]]:
    """The calls to a gateway at `url`, each with what it shows under `settings`' policy (the
    DRM route's for the requests, getNumUnique's for the responses)."""
    drm = settings.route_for("POST", DRM_PATH, None)
    get_num_unique = settings.route_for("POST", SERVICE_PATH, GET_NUM_UNIQUE_ACTION)
    outcomes = {
        "request": OUTCOMES["request"][settings.policy("request", drm)],
        "response": OUTCOMES["response"][settings.policy("response", get_num_unique)],
    }
    return [(title.format(**outcomes), command.replace(GATEWAY, url)) for title, command in CURLS]


def demo_in_service(loaded: LoadedSchemas) -> bool:
    """Whether the routes the three curls call are in service with every schema they name."""
    routes = (
        loaded.route_for("POST", DRM_PATH, None),
        loaded.route_for("POST", SERVICE_PATH, GET_NUM_UNIQUE_ACTION),
    )

    def complete(route: Route | None) -> bool:
        if route is None:
            return False
        names = {*route.request.schema_names, *route.response.schema_names}
        return bool(names) and names.isdisjoint(loaded.schema_set.unresolved)

    return all(map(complete, routes))


def _xsd_line(settings: Settings, loaded: LoadedSchemas) -> str:
    catalog = loaded.catalog
    if catalog.side_by_side and settings.version is None:
        versions = ", ".join(catalog.versions)
        return (
            f"  xsd       {settings.xsd} (versions {versions} side by side: each document is "
            "judged by the one it declares)"
        )
    return f"  xsd       {settings.xsd} (version {loaded.schema_set.version})"


def _routes_lines(settings: Settings, url: str, loaded: LoadedSchemas) -> list[str]:
    made = sum(len(service.routes) for service in loaded.services)
    source = settings.source.name if settings.source else "the configuration"
    lines = [f"  routes    {len(loaded.routes) - made} from {source}"]
    if made:
        lines[0] += f", {made} from the XSD set's WSDLs"
    if loaded.schema_set.unresolved:
        names = ", ".join(sorted(loaded.schema_set.unresolved))
        lines.append(
            f"            naming schemas the XSD set lacks ({names}): their documents are "
            "judged by identity"
        )
    return lines


def _services_lines(url: str, loaded: LoadedSchemas) -> list[str]:
    lines = ["SOAP services of the XSD set's WSDLs, validated at these addresses:", ""]
    for wsdl_service in loaded.services:
        service = wsdl_service.service
        count = len(service.operations)
        routes = "its own routes" if wsdl_service.routes else "configured routes"
        lines.append(
            f"  {url}{service.path or '/'}  {service.name}: {count} operation"
            f"{'' if count == 1 else 's'} ({routes})"
        )
    return [
        *lines,
        "",
        "The simulator answers as the project's own XSD set describes them: its answers may",
        "not fit this XSD set (école logs invalid responses, it does not block them).",
    ]


def banner(
    settings: Settings, loaded: LoadedSchemas, interface: str, simulator_pid: int | None
) -> str:
    """The banner of a gateway in front of the simulator answering in version `interface`."""
    policy = settings.policies[settings.env]
    url = gateway_url(settings)
    lines = [
        "sne-gateway serve: no upstream is configured, so the gateway runs the SNE école simulator.",
        "",
        f"  gateway   {url}",
        f"  upstream  {settings.upstream} (SNE école simulator, pid {simulator_pid}, interface {interface})",
        f"  env       {settings.env}",
        f"  policy    requests: {policy['request']}, responses: {policy['response']}",
        _xsd_line(settings, loaded),
        *_routes_lines(settings, url, loaded),
        "",
    ]
    if demo_in_service(loaded):
        lines.append(
            "Try it in another terminal"
            + ("" if PACKAGED_DEMO.is_dir() else ", from the repository root")
            + ":"
        )
        for number, (title, command) in enumerate(curls(url, settings), start=1):
            lines += ["", f"  # {number}. {title}", f"  {command}"]
    elif loaded.services:
        lines += _services_lines(url, loaded)
    lines += ["", "Ctrl-C stops the gateway and the simulator.", ""]
    return "\n".join(lines)

"""The routes in service for an XSD set as it is: the configured routes fitted to it, then routes
read from its WSDLs.

A delivery as received is enough to serve, whatever the configuration's routes were written for:

- a route naming a schema the set lacks (the shipped routes name the project's own schemas)
  keeps its path and action; the documents it asks that schema for are judged by the schema
  their identity selects (`gateway.select`), and a warning names the route;
- when its SOAP wrapper is such a schema, the elements it looks for documents in are those of
  all the set's WSDLs too: another delivery may name them otherwise, and its payload is judged
  by whichever WSDL declares it, so a payload of another service must not carry a document
  past the checks;
- every service of the set's WSDLs whose address no configured route takes whole (a route
  without action for any method) gets one route per operation that has a SOAP action, and one
  for the service's other calls, after the configured ones: its wrapper is the WSDL, its
  documents those of the WSDL's `base64Binary` elements (`gateway.wsdl`), judged by identity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from gateway.catalog import SchemaSet
from gateway.routing.route import DIRECTIONS, Direction, DirectionRule, Route
from gateway.wsdl import Service, read_wsdl

#: How a route matches any sub-path of a service's address (as the shipped routes do).
ANY_SUB_PATH = "**"


@dataclass(frozen=True, slots=True)
class WsdlService:
    """A SOAP service of the set, the catalog name of its WSDL (the wrapper schema), and the
    routes made for it (none when configured routes take its address)."""

    service: Service
    wrapper: str
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True, slots=True)
class FittedRoutes:
    """The routes in service (configured first), the schema names routes give that the set
    lacks (each with the routes giving it), the set's SOAP services, and the warnings to say at
    start."""

    routes: tuple[Route, ...]
    unresolved: dict[str, tuple[str, ...]]
    services: tuple[WsdlService, ...]
    warnings: tuple[str, ...]


def wsdl_services(schema_set: SchemaSet) -> tuple[list[WsdlService], list[str]]:
    """The SOAP services of the WSDLs of `schema_set`, and what could not be read in them."""
    services: list[WsdlService] = []
    warnings: list[str] = []
    for name, schema in schema_set.schemas.items():
        if schema.entry.suffix.lower() != ".wsdl":
            continue
        reading = read_wsdl(schema.entry, schema.sources.contents)
        services += [WsdlService(service, name) for service in reading.services]
        warnings += reading.warnings
    return services, warnings


def routed_in_order(services: Iterable[WsdlService]) -> list[WsdlService]:
    """The services to make routes for, in the order of their routes: those with an address,
    another port of a WSDL at the same address left out, the longest address first (a service
    whose path begins another's must not take its calls)."""
    kept: dict[tuple[str, str], WsdlService] = {}
    for wsdl_service in services:
        if wsdl_service.service.path is not None:
            kept.setdefault((wsdl_service.service.path, wsdl_service.wrapper), wsdl_service)
    return sorted(kept.values(), key=lambda s: -len(s.service.path or ""))


def service_glob(service: Service) -> str:
    """The path glob of a service's routes: its address's path and anything below it."""
    return (service.path or "/").rstrip("/") + ANY_SUB_PATH


def service_routes(service: Service, wrapper: str) -> tuple[Route, ...]:
    """One route per operation of `service` that has a SOAP action, then one for its other
    calls. Every route checks the documents any request of the service may carry, whatever
    its action says: the action picks the route, the SNE acts on the payload."""
    path = service_glob(service)
    request = DirectionRule(wrapper=wrapper, embedded=service.documents.get("request", ()))
    response = DirectionRule(wrapper=wrapper, embedded=service.documents.get("response", ()))
    routes = [
        Route(
            operation.name,
            path,
            soap_action=operation.soap_action,
            request=request,
            response=response,
        )
        for operation in service.operations
        if operation.soap_action
    ]
    routes.append(Route(service.name, path, request=request, response=response))
    return tuple(routes)


def _takes_whole(route: Route, path: str) -> bool:
    return (
        route.soap_action is None
        and (not route.methods or "POST" in route.methods)
        and any(route.pattern.fullmatch(p) for p in {path, path.rstrip("/") or "/"})
    )


def _documents(services: Iterable[WsdlService], direction: Direction) -> tuple[str, ...]:
    names = (n for s in services for n in s.service.documents.get(direction, ()))
    return tuple(dict.fromkeys(names))


def _fitted(route: Route, unresolved: set[str], services: list[WsdlService]) -> Route:
    request, response = (
        _fitted_rule(route.rule(direction), unresolved, _documents(services, direction))
        for direction in DIRECTIONS
    )
    if request is route.request and response is route.response:
        return route
    return replace(route, request=request, response=response)


def _fitted_rule(
    rule: DirectionRule, unresolved: set[str], documents: tuple[str, ...]
) -> DirectionRule:
    if rule.wrapper not in unresolved:
        return rule
    return replace(rule, embedded=tuple(dict.fromkeys((*rule.embedded, *documents))))


def fit_routes(configured: tuple[Route, ...], schema_set: SchemaSet) -> FittedRoutes:
    """The routes in service for `configured` over `schema_set` (see the module's doc)."""
    services, read = wsdl_services(schema_set)
    warnings = list(read)
    unresolved: dict[str, list[str]] = {}
    for route in configured:
        for direction in DIRECTIONS:
            for name in route.rule(direction).schema_names:
                if name not in schema_set.schemas:
                    named_by = unresolved.setdefault(name, [])
                    if route.name not in named_by:
                        named_by.append(route.name)
    routes = [_fitted(route, set(unresolved), services) for route in configured]
    routed = set(map(id, routed_in_order(services)))
    made = []
    for wsdl_service in services:
        path = wsdl_service.service.path
        taken = path is None or any(_takes_whole(route, path) for route in configured)
        if id(wsdl_service) in routed and not taken:
            routes_made = service_routes(wsdl_service.service, wsdl_service.wrapper)
            wsdl_service = replace(wsdl_service, routes=routes_made)
        made.append(wsdl_service)
    for wsdl_service in routed_in_order(made):
        routes += wsdl_service.routes
    # One warning per group of routes, naming every schema they give that the set lacks.
    lacking: dict[tuple[str, ...], list[str]] = {}
    for name, naming in unresolved.items():
        lacking.setdefault(tuple(naming), []).append(f"'{name}'")
    for group, names in lacking.items():
        warnings.append(
            f"route(s) {', '.join(group)} name {', '.join(names)}, which the XSD set "
            f"{schema_set.source} does not have: their documents are judged by the schema their "
            "identity selects (root, element after entete, versionInterface)"
        )
    return FittedRoutes(
        tuple(routes),
        {name: tuple(names) for name, names in unresolved.items()},
        tuple(made),
        tuple(warnings),
    )

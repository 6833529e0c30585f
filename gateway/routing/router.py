"""Finding an exchange's route among the routes in service, in their order: the first that
matches its method, canonical path and SOAP action takes it."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.routing.route import Route


def first_route(
    routes: Sequence[Route], method: str, path: str, soap_action: str | None
) -> Route | None:
    """The first of `routes` matching the exchange."""
    return next((r for r in routes if r.matches(method, path, soap_action)), None)


def routes_without_method(
    routes: Sequence[Route], method: str, path: str, soap_action: str | None
) -> list[Route]:
    """The routes of `path` (and `soap_action`) that list their methods, `method` not among
    them: an exchange with that method matches none of them."""
    return [
        route
        for route in routes
        if route.methods
        and method not in route.methods
        and route.matches(route.methods[0], path, soap_action)
    ]

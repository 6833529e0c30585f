"""Routing in process: the first route of an exchange, the routes a method is not listed by,
and the policy of a direction (`gateway.routing`)."""

from __future__ import annotations

from gateway.routing.route import DirectionRule, Route, policy_for
from gateway.routing.router import first_route, routes_without_method

SERVICE = "/nuu-ws/services/DemandeLogement**"
ROUTES = (
    Route("getNumUnique", SERVICE, soap_action="urn:getNumUnique"),
    Route("DemandeLogement", SERVICE),
    Route("drm", "/v1.0/drm/ressources", methods=("POST",)),
    Route("drm-status", "/v1.0/drm/ressources", methods=("GET",)),
    Route("exports", "/v1.0/exports/*/fichier", response=DirectionRule(extract="tgz")),
)


def test_the_first_matching_route_in_order_takes_the_exchange() -> None:
    action = first_route(ROUTES, "POST", "/nuu-ws/services/DemandeLogement", "urn:getNumUnique")
    assert action is not None and action.name == "getNumUnique"
    other = first_route(ROUTES, "POST", "/nuu-ws/services/DemandeLogement", "urn:other")
    assert other is not None and other.name == "DemandeLogement"
    assert first_route(ROUTES, "GET", "/v1.0/drm/ressources", None).name == "drm-status"  # type: ignore[union-attr]
    assert first_route(ROUTES, "GET", "/elsewhere", None) is None


def test_paths_are_matched_without_case_and_globs_stay_in_their_segments() -> None:
    assert first_route(ROUTES, "GET", "/V1.0/EXPORTS/7/FICHIER", None).name == "exports"  # type: ignore[union-attr]
    assert first_route(ROUTES, "GET", "/v1.0/exports/7/8/fichier", None) is None


def test_the_routes_a_method_is_not_listed_by() -> None:
    listing = routes_without_method(ROUTES, "PUT", "/v1.0/drm/ressources", None)
    assert [route.name for route in listing] == ["drm", "drm-status"]
    assert routes_without_method(ROUTES, "POST", "/v1.0/drm/ressources", None) == [ROUTES[3]]
    # A route that lists no method takes them all.
    assert routes_without_method(ROUTES, "PUT", "/nuu-ws/services/DemandeLogement", None) == []


def test_a_route_s_policy_overrides_the_environment_s() -> None:
    policies = {"request": "block", "response": "log"}
    strict = Route("r", "/r", response=DirectionRule(policy="block"))
    assert policy_for(policies, "response", strict) == "block"  # type: ignore[arg-type]
    assert policy_for(policies, "request", strict) == "block"  # type: ignore[arg-type]
    assert policy_for(policies, "response", None) == "log"  # type: ignore[arg-type]

"""Extractor choice in process: which extractor reads each direction's body, or none
(`gateway.proxy.check.Checks.extractor`, `response_extractor`), by route, policy, method,
status and content type; and the registry every choice reads (`gateway.extract.message`)."""

from __future__ import annotations

import asyncio

import pytest

from gateway.config import Settings
from gateway.extract.message import EXTRACTORS, extractor_for
from gateway.proxy.check import Checks
from gateway.routing.route import NO_RULE, DirectionRule, Route

VALIDATED = Route(
    "drm",
    "/v1.0/drm/ressources",
    request=DirectionRule(schema="drm-ressources"),
    response=DirectionRule(schema="drm-ressources"),
)
EXPORT = Route("download", "/v1.0/exports/*/fichier", response=DirectionRule(extract="tgz"))


def checks(route: Route | None, env: str = "recette", **policies: str) -> Checks:
    settings = Settings(env=env)
    if policies:
        settings.policies[env].update(policies)  # type: ignore[typeddict-item]
    return Checks(settings, route, None, None, None, "id", asyncio.Semaphore(), None)  # type: ignore[arg-type]


def name(extractor: object) -> str | None:
    return getattr(extractor, "name", None)


def test_the_registry_holds_each_extractor_once_in_its_order() -> None:
    assert list(EXTRACTORS) == ["xml", "soap", "mtom", "tgz"]
    assert [e.streaming for e in EXTRACTORS.values()] == [False, False, False, True]
    assert name(extractor_for("application/vnd.sne+xml; charset=utf-8", NO_RULE)) == "xml"
    assert name(extractor_for("Multipart/Related; boundary=b", NO_RULE)) == "mtom"
    assert name(extractor_for("application/x-gzip", NO_RULE)) == "tgz"
    assert extractor_for("application/json", NO_RULE) is None


@pytest.mark.parametrize(
    ("content_type", "route", "chosen"),
    [
        ("application/xml", None, "xml"),
        ("text/plain", None, None),
        # On a route that names its schemas, a request is read as XML whatever its type says.
        ("text/plain", VALIDATED, "xml"),
        ("application/gzip", VALIDATED, "xml"),
        ("", VALIDATED, "xml"),
        ("multipart/related; boundary=b", VALIDATED, "mtom"),
    ],
)
def test_the_request_s_extractor(
    content_type: str, route: Route | None, chosen: str | None
) -> None:
    assert name(checks(route).extractor("request", content_type)) == chosen


def test_policy_off_reads_nothing() -> None:
    assert checks(VALIDATED, request="off").extractor("request", "application/xml") is None


@pytest.mark.parametrize(
    ("method", "status", "content_type", "route", "chosen"),
    [
        ("POST", 200, "application/xml", None, "xml"),
        ("HEAD", 200, "application/xml", None, None),
        ("POST", 204, "application/xml", None, None),
        ("POST", 304, "application/xml", None, None),
        # A successful answer of no XML type on a validated route is XML to a CXF client...
        ("POST", 200, "", VALIDATED, "xml"),
        ("POST", 200, "text/plain", VALIDATED, "xml"),
        # ... an error page is not.
        ("POST", 500, "text/html", VALIDATED, None),
        # An export route streams its archives, and reads an error answer by its type.
        ("GET", 200, "application/gzip", EXPORT, "tgz"),
        ("GET", 200, "application/octet-stream", EXPORT, "tgz"),
        ("GET", 404, "application/xml", EXPORT, "xml"),
        ("GET", 200, "application/xml", EXPORT, "xml"),
        ("GET", 500, "text/html", EXPORT, None),
    ],
)
def test_the_answer_s_extractor(
    method: str, status: int, content_type: str, route: Route | None, chosen: str | None
) -> None:
    assert name(checks(route).response_extractor(method, status, content_type)) == chosen

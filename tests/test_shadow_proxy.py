"""Validation against the next XSD set, over real sockets: the gateway in front of a scripted
upstream, with the shipped 13.34 in service and, as the next set, a copy of it in which `nom`
is shorter (a change that breaks producers); then 13.33 in service and 13.34 next (the 2025
incident: an answer carrying `adressePostale`). Each time, the client's answer and headers are
those of a gateway without a next set, what the upstream receives is what was sent, and the
document judged otherwise is recorded (store, metrics, log) with the `diff` change that
explains it.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.store.backend import open_backend
from gateway.store.location import parse_store
from tests.servers import (
    RunningServer,
    gateway_settings,
    scraped,
    series,
    serve_asgi,
    serve_gateway,
    wait_for,
)
from tests.upstream import Answer, ScriptedUpstream

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHIPPED_XSD = ROOT / "xsd"
CONTENT_TYPES = tomllib.loads((FIXTURES / "soap/content-types.toml").read_text())
SOAP = "/nuu-ws/services/DemandeLogement"
GDM = "/v1.0/gdm/mouvements"
#: 40 characters: within 13.34's 50 for `nom`, over the next set's 30.
FORTY = b"DE LA TOUR D AUVERGNE-VALDEMARNE-ESSAIS"
NOM_PATH = (
    "/nuu:interfaceNuu/nuu:demande/nuu:demandeLogement/nuu:personnePhysique/nuu:demandeur/nuu:nom"
)
HEADERS_COMPARED = ("x-conformance", "x-conformance-request", "x-conformance-response")


def next_set_with_short_nom(directory: Path) -> Path:
    """A copy of the shipped 13.34 whose names (`nomDomaine`) take 30 characters, not 50."""
    copy = directory / "livraison-13.35"
    shutil.copytree(SHIPPED_XSD / "13.34", copy)
    domains = copy / "commun" / "NUU_Domaines.xsd"
    text = domains.read_text(encoding="utf-8")
    start = text.index('<xs:simpleType name="nomDomaine">')
    end = text.index("</xs:simpleType>", start)
    shortened = text[start:end].replace('<xs:maxLength value="50"/>', '<xs:maxLength value="30"/>')
    domains.write_text(text[:start] + shortened + text[end:], encoding="utf-8")
    manifest = copy / "manifest.toml"
    manifest.write_text(manifest.read_text().replace('"13.34"', '"13.35"'))
    return copy


def mtom_request() -> tuple[bytes, str]:
    name = "mtom-getNumUnique-invalid.mime"
    message = (FIXTURES / "soap" / name).read_bytes()
    return message.replace(b"DE LA TOUR D AUVERGNE-VALDEMARNE-ESSAI-FICTIVE-TESTARDE", FORTY), (
        CONTENT_TYPES[name]
    )


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[RunningServer, ScriptedUpstream]]:
    scripted = ScriptedUpstream()
    response = "mtom-getNumUnique-response.mime"
    scripted.answer(
        SOAP,
        Answer(200, CONTENT_TYPES[response], (FIXTURES / "soap" / response).read_bytes()),
    )
    scripted.answer(
        GDM,
        Answer(
            200,
            "application/xml",
            (FIXTURES / "valid/13.34/gdm-mouvements/empty-adresse-postale.xml").read_bytes(),
        ),
    )
    with serve_asgi(scripted) as running:
        yield running, scripted


def differences(store: str) -> list[dict[str, Any]]:
    backend = open_backend(parse_store(store))  # type: ignore[arg-type]
    try:
        rows = backend.fetch(
            """SELECT route, direction, schema_now, schema_next, verdict_next, violations,
               explained_by, request_id FROM next_set_differences ORDER BY id"""
        )
    finally:
        backend.close()
    return [
        {
            "route": route,
            "direction": direction,
            "current": current,
            "next_schema": next_schema,
            "next": verdict,
            "violations": json.loads(violations),
            "explained_by": json.loads(explained),
            "request_id": request_id,
        }
        for route, direction, current, next_schema, verdict, violations, explained, request_id in rows
    ]


def exchange(url: str, method: str, path: str, **options: Any) -> httpx.Response:
    return httpx.request(method, url + path, timeout=30, **options)


def test_a_request_too_long_for_the_next_set_goes_as_today_and_is_recorded(
    upstream: tuple[RunningServer, ScriptedUpstream], tmp_path: Path
) -> None:
    server, scripted = upstream
    body, content_type = mtom_request()
    headers = {"content-type": content_type, "x-request-id": "shadow-nom-1"}
    with serve_gateway(gateway_settings(server.url, version="13.34")) as plain:
        today = exchange(plain.url, "POST", SOAP, content=body, headers=headers)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    settings = gateway_settings(
        server.url,
        version="13.34",
        shadow_xsd=str(next_set_with_short_nom(tmp_path)),
        store=store,
    )
    scripted.received.clear()
    with serve_gateway(settings) as gateway:
        shadowed = exchange(gateway.url, "POST", SOAP, content=body, headers=headers)
        assert scripted.received[-1].body == body
        assert shadowed.status_code == today.status_code == 200
        assert shadowed.content == today.content
        assert {name: shadowed.headers.get(name) for name in HEADERS_COMPARED} == {
            name: today.headers.get(name) for name in HEADERS_COMPARED
        }
        assert shadowed.headers["x-conformance"] == "pass"
        assert "x-conformance-next" not in shadowed.headers
        wait_for(lambda: differences(store))
        key = series(
            "sne_gateway_shadow_differences_total",
            route="getNumUnique",
            direction="request",
            code="xsd.facet",
            next="fail",
        )
        wait_for(lambda: scraped(gateway.url).get(key) == 1.0)
    (found,) = differences(store)
    assert found["route"] == "getNumUnique"
    assert found["direction"] == "request"
    assert found["request_id"] == "shadow-nom-1"
    assert (found["current"], found["next_schema"], found["next"]) == (
        "demande@13.34",
        "demande@13.35",
        "fail",
    )
    assert [(code, path) for code, path, _, _ in found["violations"]] == [("xsd.facet", NOM_PATH)]
    explained = [(kind, path) for _, kind, path, _ in found["explained_by"]]
    assert explained == [
        (
            "facet-changed",
            "interfaceNuu/demande/demandeLogement/personnePhysique/demandeur/nom",
        )
    ]
    change_id, _, _, why = found["explained_by"][0]
    assert change_id.startswith("C")
    assert "(50 → 30)" in why


def test_an_answer_with_adresse_postale_fails_today_and_passes_under_13_34(
    upstream: tuple[RunningServer, ScriptedUpstream], tmp_path: Path
) -> None:
    server, _ = upstream
    with serve_gateway(gateway_settings(server.url, version="13.33")) as plain:
        today = exchange(plain.url, "GET", GDM, params={"depuis": "2025-04-28T15:36:00+02:00"})
    store = f"sqlite:///{tmp_path / 'store.db'}"
    settings = gateway_settings(
        server.url,
        version="13.33",
        shadow_xsd=str(SHIPPED_XSD / "13.34"),
        store=store,
    )
    with serve_gateway(settings) as gateway:
        shadowed = exchange(gateway.url, "GET", GDM, params={"depuis": "2025-04-28T15:36:00+02:00"})
        assert shadowed.content == today.content
        assert shadowed.headers["x-conformance"] == today.headers["x-conformance"] == "fail"
        wait_for(lambda: differences(store))
    (found,) = differences(store)
    assert (found["route"], found["direction"], found["next"]) == (
        "gdm-mouvements",
        "response",
        "pass",
    )
    assert (found["current"], found["next_schema"]) == (
        "gdm-mouvements@13.33",
        "gdm-mouvements@13.34",
    )
    assert {code for code, _, _, _ in found["violations"]} == {"xsd.unexpected-element"}
    assert [(kind, path) for _, kind, path, _ in found["explained_by"]] == [
        ("element-added", "interfaceNuu/listeMouvement/mouvement/demandeur/adressePostale")
    ]

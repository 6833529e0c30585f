"""`sne-gateway serve --xsd DELIVERY` with the shipped gateway.toml, as a new user runs it, over
real sockets: a delivery shaped as the GIP SNE sends it (fixtures/delivery-sne/xsd) is served
with no hand-written configuration, at its WSDLs' addresses and at the shipped paths."""

from __future__ import annotations

import base64
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.servers import RunningServer, ServeProcess, serve_asgi, serve_process, wait_for
from tests.upstream import Answer, ScriptedUpstream

ROOT = Path(__file__).resolve().parent.parent
DELIVERY = ROOT / "fixtures" / "delivery-sne"
SOAP = DELIVERY / "soap"
CONTENT_TYPES = tomllib.loads((SOAP / "content-types.toml").read_text(encoding="utf-8"))
WS = "http://ws.metier.nuu.application.i2/"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"
#: The delivery's WSDL address for DemandeLogement, and the shipped configuration's path.
WSDL_PATH = "/nuu/services/DemandeLogement/"
SHIPPED_PATH = "/nuu-ws/services/DemandeLogement"
EVENTS_PATH = "/nuu-ws/services/GestionPartageeEVTImplService/"
RESPONSE = "mtom-numUniqueReponse-v0201.mime"


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[ScriptedUpstream, RunningServer]]:
    scripted = ScriptedUpstream()
    with serve_asgi(scripted) as running:
        yield scripted, running


@dataclass
class Gateway:
    url: str
    upstream: ScriptedUpstream
    process: ServeProcess


@pytest.fixture(scope="module")
def gateway(upstream) -> Iterator[Gateway]:
    """`serve --xsd fixtures/delivery-sne/xsd --env recette` from the repository root: the
    shipped gateway.toml, as a newcomer's."""
    scripted, running = upstream
    with serve_process(
        "--xsd", str(DELIVERY / "xsd"), "--env", "recette", "--upstream", running.url
    ) as served:
        yield Gateway(served.url, scripted, served)


@pytest.fixture(autouse=True)
def answers(upstream) -> None:
    scripted, _ = upstream
    scripted.received.clear()
    response = Answer(200, CONTENT_TYPES[RESPONSE], (SOAP / RESPONSE).read_bytes())
    for path in (WSDL_PATH, SHIPPED_PATH):
        scripted.answer(path, response)


def post(url: str, fixture: str) -> httpx.Response:
    return httpx.post(
        url, content=(SOAP / fixture).read_bytes(), headers={"content-type": CONTENT_TYPES[fixture]}
    )


@pytest.mark.parametrize("path", [WSDL_PATH, SHIPPED_PATH])
def test_a_valid_mtom_call_passes_at_the_wsdl_address_and_at_the_shipped_path(
    gateway: Gateway, path: str
) -> None:
    answer = post(gateway.url + path, "mtom-numUniqueParametres-v0201.mime")
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-conformance-request"] == "pass"
    assert answer.headers["x-conformance-response"] == "pass"
    schemas = answer.headers["x-conformance-schema"]
    assert "DemandeLogementImplService@02.01" in schemas
    assert "InterfaceNuu@02.01" in schemas
    assert [received.path for received in gateway.upstream.received] == [path]


@pytest.mark.parametrize("path", [WSDL_PATH, SHIPPED_PATH])
def test_an_invalid_mtom_call_is_blocked_in_recette(gateway: Gateway, path: str) -> None:
    answer = post(gateway.url + path, "mtom-numUniqueParametres-v0201-invalid.mime")
    assert answer.status_code == 400
    assert answer.headers["x-conformance-request"] == "fail"
    assert "InterfaceNuu@02.01" in answer.headers["x-conformance-schema"]
    assert b"xsd.facet" in answer.content and b"nuu:nom" in answer.content
    assert gateway.upstream.received == []


def test_a_0200_application_is_judged_by_the_0200_schema(gateway: Gateway) -> None:
    answer = httpx.post(
        gateway.url + WSDL_PATH,
        content=(SOAP / "soap12-numUniqueParametres-v0200.xml").read_bytes(),
        headers={"content-type": f'application/soap+xml; action="{WS}getNumUnique"'},
    )
    assert answer.headers["x-conformance-request"] == "pass"
    assert "InterfaceNuu@02.00" in answer.headers["x-conformance-schema"]


def test_the_event_service_is_served_at_its_wsdl_address(gateway: Gateway) -> None:
    events = (DELIVERY / "documents" / "evenements-v0200.xml").read_bytes()
    body = (
        f'<env:Envelope xmlns:env="{ENV12}"><env:Body><ws:ajoutEvenementParametres xmlns:ws="{WS}">'
        "<nomFichierEvenements>evt.xml</nomFichierEvenements>"
        f"<fichierEvenements>{base64.b64encode(events).decode()}</fichierEvenements>"
        "<nomCertificat>c.cer</nomCertificat><certificat>AAAA</certificat>"
        "</ws:ajoutEvenementParametres></env:Body></env:Envelope>"
    ).encode()
    gateway.upstream.answer(EVENTS_PATH, Answer(500, "text/plain", b"not scripted"))
    answer = httpx.post(
        gateway.url + EVENTS_PATH,
        content=body,
        headers={"content-type": f'application/soap+xml; action="{WS}ajouterEvenementDemande"'},
    )
    assert answer.headers["x-conformance-request"] == "pass"
    schemas = answer.headers["x-conformance-schema"]
    assert "GestionPartageeEVTImplService@02.01" in schemas
    assert "InterfaceNuuGPEvenement@02.00" in schemas


def test_the_routes_naming_schemas_the_delivery_lacks_are_warnings_at_start(
    gateway: Gateway,
) -> None:
    wait_for(lambda: gateway.process.events("gateway.started"))
    warnings = [event["reason"] for event in gateway.process.events("xsd.warning")]
    assert any(
        w.startswith("route(s) getNumUnique, getDemandeLogement") and "'demande'" in w
        for w in warnings
    )
    assert any("exports-create" in w and "'export-demande'" in w for w in warnings)


def test_a_version_without_its_own_schema_is_logged_with_the_exchange(gateway: Gateway) -> None:
    document = (DELIVERY / "documents" / "demande-v0202-unknown-version.xml").read_bytes()
    inline = (SOAP / "soap12-numUniqueParametres-v0200.xml").read_bytes()
    start, end = inline.index(b"<fichierDemande>") + 16, inline.index(b"</fichierDemande>")
    body = inline[:start] + base64.b64encode(document) + inline[end:]
    answer = httpx.post(
        gateway.url + WSDL_PATH,
        content=body,
        headers={
            "content-type": f'application/soap+xml; action="{WS}getNumUnique"',
            "x-request-id": "0202" * 8,
        },
    )
    assert answer.headers["x-conformance-request"] == "pass"

    def logged() -> list[dict]:
        return [
            event
            for event in gateway.process.events("exchange")
            if event.get("request_id") == "0202" * 8 and event.get("direction") == "request"
        ]

    wait_for(logged)
    [event] = logged()
    assert event["notes"] == [
        'The document declares versionInterface "02.02", for which there is no InterfaceNuu '
        "schema here: it is judged by the newest, InterfaceNuu@02.01."
    ]

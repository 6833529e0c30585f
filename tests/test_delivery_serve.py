"""`sne-gateway serve --xsd DELIVERY` with the shipped gateway.toml, as a new user runs it, over
real sockets: a delivery shaped as the GIP SNE sends it (fixtures/delivery-sne/xsd) is served
with no hand-written configuration, at its WSDLs' addresses and at the shipped paths."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.servers import RunningServer, serve_asgi, serve_command, wait_for
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


@dataclass
class Gateway:
    url: str
    upstream: ScriptedUpstream
    lines: list[str] = field(default_factory=list)

    def events(self, name: str) -> list[dict]:
        events = [json.loads(line) for line in self.lines if line.startswith("{")]
        return [event for event in events if event.get("event") == name]


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[ScriptedUpstream, RunningServer]]:
    scripted = ScriptedUpstream()
    with serve_asgi(scripted) as running:
        yield scripted, running


@pytest.fixture(scope="module")
def gateway(upstream) -> Iterator[Gateway]:
    """`serve --xsd fixtures/delivery-sne/xsd --env recette` from the repository root: the
    shipped gateway.toml, as a newcomer's."""
    scripted, running = upstream
    command, port = serve_command(
        "--xsd", str(DELIVERY / "xsd"), "--env", "recette", "--upstream", running.url
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SNE_GATEWAY_")}
    environment["SNE_GATEWAY_LOG_FORMAT"] = "json"
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = Gateway(f"http://127.0.0.1:{port}", scripted)
    reader = threading.Thread(
        target=lambda: served.lines.extend(iter(process.stderr.readline, "")), daemon=True
    )
    reader.start()
    try:

        def ready() -> bool:
            assert process.poll() is None, "".join(served.lines)
            with contextlib.suppress(httpx.TransportError):
                return httpx.get(served.url + "/_gateway/ready").status_code == 200
            return False

        wait_for(ready)
        yield served
    finally:
        process.terminate()
        process.wait(15)


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
    wait_for(lambda: gateway.events("gateway.started"))
    warnings = [event["reason"] for event in gateway.events("xsd.warning")]
    assert any(
        w.startswith("route(s) getNumUnique, getDemandeLogement") and "'demande'" in w
        for w in warnings
    )
    assert any("exports-create" in w and "'export-demande'" in w for w in warnings)

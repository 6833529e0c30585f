"""Each fault the simulator injects, caught by the gateway over real sockets with the expected
violation code. The gateways here block responses too, so that each verdict comes back in the
gateway's answer (`complement nom="violation"`) rather than in its logs."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from lxml import etree

from gateway.config import Settings
from gateway.simulator.app import create_simulator
from gateway.simulator.faults import parse_faults
from gateway.simulator.settings import SimulatorSettings
from tests.servers import RunningServer, gateway_settings, serve_asgi, serve_gateway

NUU = "http://nuu.application.i2/"
WS = "http://ws.metier.nuu.application.i2/"
ENV = "http://www.w3.org/2003/05/soap-envelope"
XML = {"content-type": "application/xml"}
FAULT = "X-Simulator-Fault"
#: A household under seed 0 (an association has no adressePostale to empty).
NUM_UNIQUE = "03824030000012345K"


def blocking(settings: Settings) -> Settings:
    """`settings` with both directions blocked in recette."""
    policies = {**settings.policies, "recette": {"request": "block", "response": "block"}}
    return dataclasses.replace(settings, policies=policies)


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningServer]:
    with serve_asgi(create_simulator(SimulatorSettings(export_size=30, export_delay=0))) as running:
        yield running


@pytest.fixture(scope="module")
def gateway(simulator) -> Iterator[str]:
    with serve_gateway(blocking(gateway_settings(simulator.url, env="recette"))) as running:
        yield running.url


@pytest.fixture(scope="module")
def simulator_13_33() -> Iterator[RunningServer]:
    with serve_asgi(create_simulator(SimulatorSettings(version="13.33"))) as running:
        yield running


def violations(response: httpx.Response) -> list[str]:
    root = etree.fromstring(response.content)
    return [c.text for c in root.iter(f"{{{NUU}}}complement") if c.get("nom") == "violation"]


def get_demande_logement(gateway: str, faults: str | None = None) -> httpx.Response:
    certificate = base64.b64encode(b"FAKE CERTIFICATE").decode()
    body = (
        f'<env:Envelope xmlns:env="{ENV}" xmlns:ws="{WS}"><env:Body><ws:getDemandeLogement>'
        f"<ws:demandeLogementParametres><ws:numUnique>{NUM_UNIQUE}</ws:numUnique>"
        f"<ws:nomCertificat>g.cer</ws:nomCertificat><ws:certificat>{certificate}</ws:certificat>"
        "</ws:demandeLogementParametres></ws:getDemandeLogement></env:Body></env:Envelope>"
    )
    headers = {"content-type": f'application/soap+xml; action="{WS}getDemandeLogement"'}
    if faults is not None:
        headers[FAULT] = faults
    return httpx.post(gateway + "/nuu-ws/services/DemandeLogement", content=body, headers=headers)


def drm(gateway: str, faults: str | None = None) -> httpx.Response:
    body = (
        f'<interfaceNuu xmlns="{NUU}" versionInterface="13.34"><entete><typeFichier>DRM</typeFichier>'
        "<dateFichier>2025-06-23T09:30:00+02:00</dateFichier></entete><requeteRessources>"
        f"<listeNumUnique><numUnique>{NUM_UNIQUE}</numUnique></listeNumUnique>"
        "</requeteRessources></interfaceNuu>"
    )
    headers = {**XML, FAULT: faults} if faults is not None else XML
    return httpx.post(gateway + "/v1.0/drm/ressources", content=body, headers=headers)


def gdm(gateway: str, faults: str) -> httpx.Response:
    since = (datetime.now(UTC) - timedelta(hours=6)).isoformat()
    return httpx.get(
        gateway + "/v1.0/gdm/mouvements", params={"depuis": since}, headers={FAULT: faults}
    )


def test_without_faults_every_answer_passes(gateway) -> None:
    for response in (get_demande_logement(gateway), drm(gateway)):
        assert response.status_code == 200
        assert response.headers["x-conformance"] == "pass"


def test_a_field_over_its_length_in_an_mtom_attachment(gateway) -> None:
    response = get_demande_logement(gateway, "too-long")
    assert response.status_code == 500  # a blocked SOAP response: env:Receiver
    assert etree.fromstring(response.content).findtext(f".//{{{ENV}}}Value") == "env:Receiver"
    assert violations(response) == ["xsd.facet"]


@pytest.mark.parametrize(
    ("call", "fault", "code"),
    [
        (drm, "too-long", "xsd.facet"),
        (drm, "malformed", "xml.malformed"),
        (gdm, "unknown-element", "xsd.unexpected-element"),
        (gdm, "too-long", "xsd.facet"),
    ],
)
def test_rest_answer_faults(gateway, call, fault, code) -> None:
    response = call(gateway, fault)
    assert response.status_code == 502  # a blocked plain-XML response
    assert response.headers["x-conformance-response"] == "fail"
    assert violations(response) == [code]


def test_an_export_status_over_its_length(gateway) -> None:
    created = httpx.post(
        gateway + "/v1.0/exports",
        content=(
            f'<interfaceNuu xmlns="{NUU}" versionInterface="13.34"><entete><typeFichier>EXP'
            "</typeFichier><dateFichier>2025-06-26T07:12:00Z</dateFichier></entete><demandeExport>"
            "<listeEntite><entite>CERFA</entite></listeEntite><etat>ACTIVE</etat><listeDepartement>"
            "<departement>38</departement></listeDepartement></demandeExport></interfaceNuu>"
        ),
        headers={**XML, FAULT: "too-long"},
    )
    assert created.status_code == 502
    assert violations(created) == ["xsd.facet"]


def test_a_malformed_member_cuts_the_archive(gateway) -> None:
    created = httpx.post(
        gateway + "/v1.0/exports",
        content=(
            f'<interfaceNuu xmlns="{NUU}" versionInterface="13.34"><entete><typeFichier>EXP'
            "</typeFichier><dateFichier>2025-06-26T07:12:00Z</dateFichier></entete><demandeExport>"
            "<listeEntite><entite>CERFA</entite></listeEntite><etat>ACTIVE</etat><listeDepartement>"
            "<departement>38</departement></listeDepartement></demandeExport></interfaceNuu>"
        ),
        headers=XML,
    )
    identifier = etree.fromstring(created.content).findtext(f".//{{{NUU}}}idExport")
    url = f"{gateway}/v1.0/exports/{identifier}/fichier"
    whole = httpx.get(url)
    assert whole.status_code == 200
    cut = b""
    # Under block, the stream is cut at the first invalid member.
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("GET", url, headers={FAULT: "malformed"}) as response,
    ):
        assert response.headers["x-conformance"] == "streaming"
        for chunk in response.iter_raw():
            cut += chunk
    assert len(cut) < len(whole.content)


@pytest.mark.parametrize(
    ("fault", "under_13_33"),
    [("empty-adresse", "xsd.missing-element"), ("pj-metadata", "xsd.unexpected-element")],
)
def test_answers_valid_only_under_another_version(simulator_13_33, fault, under_13_33) -> None:
    """The 2025 incident: the SNE emits 13.34 content; a gateway on 13.33 catches it, one on
    13.34 lets it through."""
    old = blocking(gateway_settings(simulator_13_33.url, env="recette", version="13.33"))
    new = blocking(gateway_settings(simulator_13_33.url, env="recette", version="13.34"))
    with serve_gateway(old) as on_13_33, serve_gateway(new) as on_13_34:
        assert get_demande_logement(on_13_33.url).headers["x-conformance"] == "pass"
        caught = get_demande_logement(on_13_33.url, fault)
        assert caught.status_code == 500
        assert violations(caught) == [under_13_33]
        assert get_demande_logement(on_13_34.url, fault).headers["x-conformance"] == "pass"


def test_an_empty_address_in_the_gdm_feed_under_13_33(simulator_13_33) -> None:
    settings = blocking(gateway_settings(simulator_13_33.url, env="recette", version="13.33"))
    with serve_gateway(settings) as on_13_33:
        response = gdm(on_13_33.url, "empty-adresse")
    assert response.status_code == 502
    assert violations(response) == ["xsd.unexpected-element"]


def test_a_slow_answer_times_the_gateway_out(simulator) -> None:
    # A short timeout for this gateway only: on a busy machine, other answers (an export being
    # generated) may take longer than it.
    settings = blocking(gateway_settings(simulator.url, env="recette", read_timeout="0.3"))
    with serve_gateway(settings) as gateway:
        response = drm(gateway.url, "slow:1s")
    assert response.status_code == 504
    assert violations(response) == ["upstream.timeout"]


def test_server_errors_are_relayed(gateway) -> None:
    soap = get_demande_logement(gateway, "5xx")
    assert soap.status_code == 500
    fault = etree.fromstring(soap.content)
    assert fault.findtext(f".//{{{WS}}}serviceFault/{{{WS}}}code") == "TECH01"
    assert soap.headers["x-conformance-response"] == "skipped"  # a SOAP Fault is not validated
    rest = drm(gateway, "5xx")
    assert rest.status_code == 503
    assert rest.headers["retry-after"] == "30"
    assert [a.get("code") for a in etree.fromstring(rest.content).iter(f"{{{NUU}}}anomalie")] == [
        "SNE503"
    ]
    assert rest.headers["x-conformance-response"] == "pass"


def test_configured_faults_apply_to_every_answer() -> None:
    settings = SimulatorSettings(faults=parse_faults("unknown-element=1"))
    with (
        serve_asgi(create_simulator(settings)) as faulty,
        serve_gateway(blocking(gateway_settings(faulty.url, env="recette"))) as running,
    ):
        for _ in range(3):
            response = drm(running.url)
            assert response.status_code == 502
            assert violations(response) == ["xsd.unexpected-element"]
        assert drm(running.url, "").headers["x-conformance"] == "pass"  # the header wins


def test_a_bad_fault_header_is_refused(simulator) -> None:
    response = drm(simulator.url, "too-short")
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "unknown fault 'too-short'" in response.text

"""The simulator's SOAP services through the gateway, over real sockets: MTOM answers shaped as
CXF writes them, registration then consultation, duplicates, events, and invalid applications
blocked by the gateway or, when the gateway only logs, refused by the simulator itself."""

from __future__ import annotations

import base64
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from gateway.extract.mtom import content_type_parameters, parse_multipart
from gateway.simulator.app import create_simulator
from gateway.simulator.settings import SimulatorSettings
from gateway.validate import validate
from tests.servers import RunningServer, gateway_settings, serve_asgi, serve_gateway

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SOAP = FIXTURES / "soap"
CONTENT_TYPES = tomllib.loads((SOAP / "content-types.toml").read_text(encoding="utf-8"))
DEMANDE_LOGEMENT = "/nuu-ws/services/DemandeLogement"
GESTION_PARTAGEE_EVT = "/nuu-ws/services/GestionPartageeEVT"
WS = "http://ws.metier.nuu.application.i2/"
NUU = "http://nuu.application.i2/"
ENV = "http://www.w3.org/2003/05/soap-envelope"
XOP = "http://www.w3.org/2004/08/xop/include"
CERTIFICATE = base64.b64encode(b"FAKE CERTIFICATE - sne-gateway test").decode()
NUM_UNIQUE = re.compile(r"[0-9]{2}[0-9AB][0-9]{2}(0[1-9]|1[0-2])[0-9]{10}[A-Z]")


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningServer]:
    with serve_asgi(create_simulator(SimulatorSettings(seed=0))) as running:
        yield running


@pytest.fixture(scope="module")
def recette(simulator) -> Iterator[str]:
    with serve_gateway(gateway_settings(simulator.url, env="recette")) as gateway:
        yield gateway.url


@pytest.fixture(scope="module")
def prod(simulator) -> Iterator[str]:
    with serve_gateway(gateway_settings(simulator.url, env="prod")) as gateway:
        yield gateway.url


def soap12(operation: str, wrapper: str, fields: list[tuple[str, str]]) -> bytes:
    inner = "".join(f"<ws:{name}>{value}</ws:{name}>" for name, value in fields)
    return (
        f'<env:Envelope xmlns:env="{ENV}" xmlns:ws="{WS}"><env:Body><ws:{operation}>'
        f"<ws:{wrapper}>{inner}</ws:{wrapper}></ws:{operation}></env:Body></env:Envelope>"
    ).encode()


def soap12_headers(operation: str) -> dict[str, str]:
    return {"content-type": f'application/soap+xml; charset=UTF-8; action="{WS}{operation}"'}


def mtom_fixture(name: str) -> tuple[bytes, dict[str, str]]:
    return (SOAP / name).read_bytes(), {"content-type": CONTENT_TYPES[name]}


class MtomAnswer:
    """An MTOM answer split with the gateway's own parser."""

    def __init__(self, response: httpx.Response) -> None:
        multipart = parse_multipart(response.content, response.headers["content-type"])
        self.root_headers = multipart.root.headers
        self.envelope = etree.fromstring(multipart.root.content)
        self.attachments = multipart.attachments

    def text(self, name: str) -> str | None:
        return self.envelope.findtext(f".//{{{WS}}}{name}")

    def attachment(self, name: str) -> bytes:
        include = self.envelope.find(f".//{{{WS}}}{name}/{{{XOP}}}Include")
        return self.attachments[include.get("href").removeprefix("cid:")]


def test_get_num_unique_round_trip_in_mtom(recette, catalog) -> None:
    body, headers = mtom_fixture("mtom-getNumUnique-request.mime")
    response = httpx.post(recette + DEMANDE_LOGEMENT, content=body, headers=headers)
    assert response.status_code == 200
    assert response.headers["x-conformance-request"] == "pass"
    assert response.headers["x-conformance-response"] == "pass"
    media_type, parameters = content_type_parameters(response.headers["content-type"])
    assert media_type == "multipart/related"
    assert parameters["type"] == "application/xop+xml"
    assert parameters["start"] == "<root.message@cxf.apache.org>"
    assert parameters["start-info"] == "application/soap+xml"
    assert parameters["boundary"].startswith("uuid:")
    assert response.content.startswith(b"\r\n--uuid:")
    answer = MtomAnswer(response)
    assert (
        answer.root_headers["content-type"]
        == 'application/xop+xml; charset=UTF-8; type="application/soap+xml"'
    )
    assert etree.QName(answer.envelope[0][0]).localname == "getNumUniqueResponse"
    assert answer.text("nomFichierDemande") == "demande-38A12-20250612-0001.xml"
    registered = answer.attachment("fichierDemande")
    assert validate(registered, catalog.schema("demande")).valid
    num_unique = etree.fromstring(registered).findtext(
        f".//{{{NUU}}}demandeLogement/{{{NUU}}}numUnique"
    )
    assert NUM_UNIQUE.fullmatch(num_unique) and num_unique.startswith("038")
    assert answer.attachment("attestation").startswith(b"%PDF-1.4")
    assert answer.text("nomAttestation") == f"attestation-{num_unique}.pdf"

    consulted = httpx.post(
        recette + DEMANDE_LOGEMENT,
        content=soap12(
            "getDemandeLogement",
            "demandeLogementParametres",
            [
                ("numUnique", num_unique),
                ("nomCertificat", "guichet.cer"),
                ("certificat", CERTIFICATE),
            ],
        ),
        headers=soap12_headers("getDemandeLogement"),
    )
    assert consulted.status_code == 200
    assert consulted.headers["x-conformance"] == "pass"
    application = etree.fromstring(MtomAnswer(consulted).attachment("fichierDemande"))
    assert application.findtext(f".//{{{NUU}}}numUnique") == num_unique
    assert application.findtext(f".//{{{NUU}}}demandeur/{{{NUU}}}nom") == "TESTARD"


def test_an_unknown_num_unique_gets_a_generated_application(recette, catalog) -> None:
    response = httpx.post(
        recette + DEMANDE_LOGEMENT,
        content=soap12(
            "getDemandeLogement",
            "demandeLogementParametres",
            [
                ("numUnique", "06924020000000321D"),
                ("nomCertificat", "g.cer"),
                ("certificat", CERTIFICATE),
                ("complet", "true"),
            ],
        ),
        headers=soap12_headers("getDemandeLogement"),
    )
    assert response.headers["x-conformance"] == "pass"
    application = MtomAnswer(response).attachment("fichierDemande")
    root = etree.fromstring(application)
    assert root.findtext(f".//{{{NUU}}}numUnique") == "06924020000000321D"
    assert root.findtext(f".//{{{NUU}}}numGuichet").startswith("69")
    assert root.get("versionInterface") == "13.34"


def test_an_invalid_application_is_blocked_by_the_gateway(recette) -> None:
    body, headers = mtom_fixture("mtom-getNumUnique-invalid.mime")
    response = httpx.post(recette + DEMANDE_LOGEMENT, content=body, headers=headers)
    assert response.status_code == 400
    assert response.headers["x-conformance-request"] == "fail"
    assert "x-conformance-response" not in response.headers  # nothing came back from upstream
    fault = etree.fromstring(response.content)
    assert fault.findtext(f".//{{{ENV}}}Value") == "env:Sender"
    assert [a.get("code") for a in fault.iter(f"{{{NUU}}}anomalie")] == ["XSD03"]


def test_the_simulator_refuses_an_invalid_application_itself(prod) -> None:
    body, headers = mtom_fixture("mtom-getNumUnique-invalid.mime")
    response = httpx.post(prod + DEMANDE_LOGEMENT, content=body, headers=headers)
    assert response.headers["x-conformance-request"] == "fail"  # logged, forwarded (prod)
    assert response.status_code == 400
    fault = etree.fromstring(response.content)
    assert fault.findtext(f".//{{{ENV}}}Value") == "env:Sender"
    assert "refusée par le SNE" in fault.findtext(f".//{{{ENV}}}Text")
    anomalies = list(fault.iter(f"{{{NUU}}}anomalie"))
    assert [a.get("code") for a in anomalies] == ["XSD03"]
    assert anomalies[0].get("propriete").endswith("/nuu:demandeur/nuu:nom")


def test_get_doublons_returns_the_application_with_its_duplicates(recette) -> None:
    minimal = (FIXTURES / "valid/13.33/demande/minimal.xml").read_text(encoding="utf-8")
    found = []
    for surname in ("TESTARD", "FAUXNOM", "ESSAYEUSE", "FICTIVAL", "SIMULON", "MAQUETTIN"):
        application = minimal.replace("TESTARD", surname).encode()
        response = httpx.post(
            recette + DEMANDE_LOGEMENT,
            content=soap12(
                "getDoublons",
                "doublonsParametres",
                [
                    ("nomFichierDemande", "demande.xml"),
                    ("fichierDemande", base64.b64encode(application).decode()),
                    ("nomCertificat", "g.cer"),
                    ("certificat", CERTIFICATE),
                ],
            ),
            headers=soap12_headers("getDoublons"),
        )
        assert response.status_code == 200
        assert response.headers["x-conformance"] == "pass"
        returned = etree.fromstring(MtomAnswer(response).attachment("fichierDemande"))
        doublons = returned.findall(f".//{{{NUU}}}doublon")
        if doublons:
            assert returned.find(f".//{{{NUU}}}anomalie").get("code") == "DBL001"
            assert {d.findtext(f"{{{NUU}}}nom") for d in doublons} == {surname}
            found.append(surname)
    assert found, "some applicants have potential duplicates"


def test_lister_evenements_demande(recette, catalog) -> None:
    response = httpx.post(
        recette + GESTION_PARTAGEE_EVT,
        content=soap12(
            "listerEvenementsDemande",
            "evenementsDemandeParametres",
            [
                ("numUnique", "03824030000012345K"),
                ("nomCertificat", "g.cer"),
                ("certificat", CERTIFICATE),
            ],
        ),
        headers=soap12_headers("listerEvenementsDemande"),
    )
    assert response.status_code == 200
    assert response.headers["x-conformance"] == "pass"
    assert "evenements@13.34" in response.headers["x-conformance-schema"]
    answer = MtomAnswer(response)
    assert answer.text("nomFichierEvenements") == "evenements-03824030000012345K.xml"
    events = answer.attachment("fichierEvenements")
    assert validate(events, catalog.schema("evenements")).valid
    numbers = {e.text for e in etree.fromstring(events).iter(f"{{{NUU}}}numUnique")}
    assert numbers <= {"03824030000012345K"}


def test_an_operation_not_simulated_is_a_service_fault(recette) -> None:
    response = httpx.post(
        recette + DEMANDE_LOGEMENT,
        content=soap12(
            "getNouveauxDaloDepuisLe",
            "nouveauxDaloParametres",
            [
                ("depuisLe", "2025-06-01T08:00:00Z"),
                ("nomCertificat", "g.cer"),
                ("certificat", CERTIFICATE),
            ],
        ),
        headers=soap12_headers("getNouveauxDaloDepuisLe"),
    )
    assert response.status_code == 400
    fault = etree.fromstring(response.content)
    assert fault.findtext(f".//{{{WS}}}serviceFault/{{{WS}}}code") == "SIM001"


def test_soap_1_1_is_a_version_mismatch(recette) -> None:
    response = httpx.post(
        recette + DEMANDE_LOGEMENT,
        content=(SOAP / "soap11-getNumUnique-request.xml").read_bytes(),
        headers={"content-type": "text/xml; charset=UTF-8", "soapaction": f'"{WS}getNumUnique"'},
    )
    assert response.status_code == 500
    assert (
        etree.fromstring(response.content).findtext(f".//{{{ENV}}}Value") == "soap:VersionMismatch"
    )

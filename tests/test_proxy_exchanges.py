"""The proxy over real sockets: each extractor with fixtures, each environment's policy in
both directions, and the SNE-shaped answers parsed back and checked."""

from __future__ import annotations

import base64
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from gateway.catalog import Catalog
from gateway.validate import validate
from tests.servers import RunningServer, gateway_settings, serve_asgi, serve_gateway
from tests.upstream import Answer, ScriptedUpstream

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SOAP = FIXTURES / "soap"
CONTENT_TYPES = tomllib.loads((SOAP / "content-types.toml").read_text(encoding="utf-8"))
SERVICE = "/nuu-ws/services/DemandeLogement"
GET_NUM_UNIQUE = "http://ws.metier.nuu.application.i2/getNumUnique"
SOAP12_TYPE = f'application/soap+xml; charset=UTF-8; action="{GET_NUM_UNIQUE}"'
NUU = "http://nuu.application.i2/"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"
ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
VALID_DEMANDE = (FIXTURES / "valid/13.33/demande/minimal.xml").read_bytes()


def soap12_response(document: bytes) -> bytes:
    encoded = base64.b64encode(document).decode()
    return (
        f'<env:Envelope xmlns:env="{ENV12}"><env:Body><ws:getNumUniqueResponse '
        'xmlns:ws="http://ws.metier.nuu.application.i2/"><ws:numUniqueReponse>'
        f"<ws:nomFichierDemande>demande.xml</ws:nomFichierDemande><ws:fichierDemande>{encoded}"
        "</ws:fichierDemande></ws:numUniqueReponse></ws:getNumUniqueResponse></env:Body></env:Envelope>"
    ).encode()


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[ScriptedUpstream, RunningServer]]:
    scripted = ScriptedUpstream()
    with serve_asgi(scripted) as running:
        yield scripted, running


@pytest.fixture(scope="module", params=["ecole", "recette", "prod"])
def gateway(request, upstream) -> Iterator[tuple[str, str]]:
    _, running = upstream
    with serve_gateway(gateway_settings(running.url, env=request.param)) as server:
        yield request.param, server.url


@pytest.fixture(autouse=True)
def clean(upstream) -> None:
    scripted, _ = upstream
    scripted.received.clear()
    scripted.answers.clear()
    scripted.answer(SERVICE, Answer(200, "application/soap+xml", soap12_response(VALID_DEMANDE)))


def anomalies(element: etree._Element) -> list[dict[str, str]]:
    result = []
    for anomaly in element.iter(f"{{{NUU}}}anomalie"):
        complements = {c.get("nom"): c.text for c in anomaly.iter(f"{{{NUU}}}complement")}
        result.append(
            {
                "code": anomaly.get("code"),
                "propriete": anomaly.get("propriete"),
                "violation": complements["violation"],
                "message": anomaly.findtext(f"{{{NUU}}}message"),
            }
        )
    return result


def post(url: str, fixture: str, content_type: str) -> httpx.Response:
    return httpx.post(
        url + SERVICE,
        content=(SOAP / fixture).read_bytes(),
        headers={"content-type": content_type},
        timeout=30,
    )


def test_a_valid_soap12_call_passes_both_ways(gateway, upstream) -> None:
    _, url = gateway
    scripted, running = upstream
    response = post(url, "soap12-getNumUnique-request.xml", SOAP12_TYPE)
    assert response.status_code == 200
    assert response.headers["x-conformance"] == "pass"
    assert response.headers["x-conformance-request"] == "pass"
    assert response.headers["x-conformance-response"] == "pass"
    assert response.headers["x-conformance-schema"] == "ws-demande-logement@13.34, demande@13.34"
    forwarded = scripted.received[-1]
    assert forwarded.body == (SOAP / "soap12-getNumUnique-request.xml").read_bytes()
    assert forwarded.headers["host"] == running.url.removeprefix("http://")
    assert forwarded.headers["x-forwarded-for"] == "127.0.0.1"
    assert forwarded.headers["x-forwarded-proto"] == "http"
    assert forwarded.headers["x-request-id"] == response.headers["x-request-id"]
    assert response.content == soap12_response(VALID_DEMANDE)


def test_an_invalid_embedded_document_by_environment(gateway, upstream, catalog: Catalog) -> None:
    env, url = gateway
    scripted, _ = upstream
    response = post(url, "soap12-getNumUnique-invalid-embedded.xml", SOAP12_TYPE)
    assert response.headers["x-conformance"] == "fail"
    if env == "prod":
        assert response.status_code == 200
        assert len(scripted.received) == 1
        return
    assert response.status_code == 400
    assert scripted.received == []  # a blocked request is not forwarded
    assert response.headers["content-type"].startswith("application/soap+xml")
    envelope = etree.fromstring(response.content)
    assert envelope.findtext(f".//{{{ENV12}}}Code/{{{ENV12}}}Value") == "env:Sender"
    detail = envelope.find(f".//{{{ENV12}}}Detail")
    [anomaly] = anomalies(detail)
    assert anomaly["code"] == "XSD03"
    assert anomaly["violation"] == "xsd.facet"
    assert anomaly["propriete"].endswith("/nuu:demandeur/nuu:nom")
    assert "line" in anomaly["message"] and "column" in anomaly["message"]


def test_soap11_is_answered_with_a_soap11_fault(gateway, upstream) -> None:
    env, url = gateway
    invalid = (SOAP / "soap12-getNumUnique-invalid-embedded.xml").read_bytes()
    as_soap11 = invalid.replace(ENV12.encode(), ENV11.encode())
    response = httpx.post(
        url + SERVICE,
        content=as_soap11,
        headers={"content-type": "text/xml; charset=UTF-8", "soapaction": f'"{GET_NUM_UNIQUE}"'},
    )
    if env == "prod":
        assert response.status_code == 200
        return
    assert response.status_code == 500
    envelope = etree.fromstring(response.content)
    assert envelope.tag == f"{{{ENV11}}}Envelope"
    assert envelope.findtext(f".//{{{ENV11}}}Fault/faultcode") == "soap:Client"
    assert anomalies(envelope)[0]["violation"] == "xsd.facet"


def test_soap11_fixture_passes(gateway) -> None:
    _, url = gateway
    response = httpx.post(
        url + SERVICE,
        content=(SOAP / "soap11-getNumUnique-request.xml").read_bytes(),
        headers={"content-type": "text/xml; charset=UTF-8", "soapaction": f'"{GET_NUM_UNIQUE}"'},
    )
    assert response.headers["x-conformance-request"] == "pass"


@pytest.mark.parametrize(
    ("fixture", "violation"),
    [
        ("mtom-getNumUnique-request.mime", None),
        ("mtom-getNumUnique-invalid.mime", "xsd.facet"),
        ("mtom-missing-cid.mime", "xop.missing-part"),
        ("mtom-truncated.mime", "mime.truncated"),
    ],
)
def test_mtom_requests(gateway, upstream, fixture: str, violation: str | None) -> None:
    env, url = gateway
    scripted, _ = upstream
    response = post(url, fixture, CONTENT_TYPES[fixture])
    if violation is None:
        assert response.status_code == 200
        assert response.headers["x-conformance-request"] == "pass"
        assert scripted.received[-1].body == (SOAP / fixture).read_bytes()
        return
    assert response.headers["x-conformance-request"] == "fail"
    if env == "prod":
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert violation in [a["violation"] for a in anomalies(etree.fromstring(response.content))]


@pytest.mark.parametrize(
    "action",
    [
        # As CXF sends it: a parameter of the multipart type.
        f'; action="{GET_NUM_UNIQUE}"',
        # As the MTOM specification's example does: inside start-info.
        None,
    ],
)
def test_an_mtom_request_is_routed_by_its_action(upstream, tmp_path: Path, action) -> None:
    """The getNumUnique route (not validated here) is chosen over the service's
    catch-all (which validates) by the action the Content-Type carries."""
    _, running = upstream
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[gateway]\nxsd = "{FIXTURES.parent / "xsd"}"\n'
        f'[[routes]]\nname = "getNumUnique"\npath = "{SERVICE}"\nsoap_action = "{GET_NUM_UNIQUE}"\n'
        'request = { policy = "off" }\nresponse = { policy = "off" }\n'
        f'[[routes]]\nname = "DemandeLogement"\npath = "{SERVICE}"\n'
        'request = { wrapper = "ws-demande-logement", schema = "demande", embedded = ["fichierDemande"] }\n'
    )
    fixture = "mtom-getNumUnique-invalid.mime"
    bare = CONTENT_TYPES[fixture].split("; action=")[0]
    if action is None:
        with_action = bare.replace(
            'start-info="application/soap+xml"',
            f'start-info="application/soap+xml; action=\\"{GET_NUM_UNIQUE}\\""',
        )
    else:
        with_action = bare + action
    with serve_gateway(gateway_settings(running.url, config=config, env="recette")) as server:
        routed = post(server.url, fixture, with_action)
        unrouted = post(server.url, fixture, bare)
    assert routed.status_code == 200, routed.headers
    assert routed.headers["x-conformance"] == "skipped"
    assert unrouted.headers["x-conformance-request"] == "fail"
    assert unrouted.status_code == 400


@pytest.mark.parametrize(
    ("fixture", "content_type", "expected"),
    [
        (
            "mtom-repeated-cid.mime",
            CONTENT_TYPES["mtom-repeated-cid.mime"],
            {
                "code": "MIM04",
                "propriete": "/env:Envelope/env:Body/ws:getNumUnique/ws:numUniqueParametres"
                "/ws:certificat/xop:Include",
                "violation": "xop.repeated-part",
                "message": "[xop.repeated-part] ws:certificat "
                "(cid:2f6e1c3a-8d4b-4e7f-a1c2-3b4d5e6f7a8b-1@ws.metier.nuu.application.i2) "
                "line 1: The MIME part "
                "'cid:2f6e1c3a-8d4b-4e7f-a1c2-3b4d5e6f7a8b-1@ws.metier.nuu.application.i2' is "
                "referred to by more than one xop:Include; each attachment is one value.",
            },
        ),
        (
            "soap12-extra-payload.xml",
            SOAP12_TYPE,
            {
                "code": "SOA04",
                "propriete": "/env:Envelope/env:Body/ws:getNumUnique[2]",
                "violation": "soap.extra-payload",
                "message": "[soap.extra-payload] soap:Body line 13: The SOAP Body holds 2 "
                "elements; a SOAP message to the SNE carries one payload in one Body.",
            },
        ),
    ],
)
def test_what_would_reach_the_sne_unvalidated_is_blocked(
    gateway, upstream, fixture: str, content_type: str, expected: dict[str, str]
) -> None:
    env, url = gateway
    response = post(url, fixture, content_type)
    assert response.headers["x-conformance-request"] == "fail"
    if env == "prod":
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert anomalies(etree.fromstring(response.content)) == [expected]
    assert upstream[0].received == []


def test_bad_base64_is_blocked(gateway) -> None:
    env, url = gateway
    response = post(url, "soap12-bad-base64.xml", SOAP12_TYPE)
    assert response.headers["x-conformance-request"] == "fail"
    if env != "prod":
        assert "soap.bad-base64" in [
            a["violation"] for a in anomalies(etree.fromstring(response.content))
        ]


def test_an_mtom_response_is_validated(gateway, upstream) -> None:
    _, url = gateway
    scripted, _ = upstream
    fixture = "mtom-getNumUnique-response.mime"
    scripted.answer(SERVICE, Answer(200, CONTENT_TYPES[fixture], (SOAP / fixture).read_bytes()))
    response = post(url, "soap12-getNumUnique-request.xml", SOAP12_TYPE)
    assert response.status_code == 200
    assert response.headers["x-conformance-response"] == "pass"
    assert response.content == (SOAP / fixture).read_bytes()


@pytest.mark.parametrize(("status", "validated"), [(200, True), (500, False)])
def test_a_successful_answer_is_validated_whatever_its_content_type(
    gateway, upstream, status: int, validated: bool
) -> None:
    """A CXF client parses a 200 as SOAP whatever it is labelled; an error page is not one."""
    _, url = gateway
    scripted, _ = upstream
    invalid = (FIXTURES / "invalid/demande/xsd.facet--nom-too-long.xml").read_bytes()
    scripted.answer(SERVICE, Answer(status, "text/plain", soap12_response(invalid)))
    response = post(url, "soap12-getNumUnique-request.xml", SOAP12_TYPE)
    assert response.status_code == status
    assert response.headers.get("x-conformance-response") == ("fail" if validated else None)


def test_an_invalid_response_is_logged_by_default_and_forwarded(gateway, upstream) -> None:
    _, url = gateway
    scripted, _ = upstream
    invalid = (FIXTURES / "invalid/demande/xsd.facet--nom-too-long.xml").read_bytes()
    scripted.answer(SERVICE, Answer(200, "application/soap+xml", soap12_response(invalid)))
    response = post(url, "soap12-getNumUnique-request.xml", SOAP12_TYPE)
    assert response.status_code == 200
    assert response.headers["x-conformance-response"] == "fail"
    assert response.content == soap12_response(invalid)


def test_plain_xml_request_blocked_with_an_anomaly_document(
    gateway, upstream, catalog: Catalog
) -> None:
    env, url = gateway
    scripted, _ = upstream
    scripted.answer(
        "/v1.0/exports",
        Answer(
            200,
            "application/xml",
            next((FIXTURES / "valid/13.33/export-statut").glob("*.xml")).read_bytes(),
        ),
    )
    invalid = FIXTURES / "invalid/export-demande/xsd.facet--profondeur-drm-4.xml"
    response = httpx.post(
        url + "/v1.0/exports",
        content=invalid.read_bytes(),
        headers={"content-type": "application/xml"},
    )
    if env == "prod":
        assert response.status_code == 200
        assert response.headers["x-conformance-request"] == "fail"
        return
    assert response.status_code == 422
    assert scripted.received == []
    assert validate(response.content, catalog.schema("anomalies")).valid
    [anomaly] = anomalies(etree.fromstring(response.content))
    assert anomaly["violation"] == "xsd.facet"
    assert anomaly["message"].startswith("[xsd.facet] body line ")


def test_unknown_content_passes_untouched(gateway, upstream) -> None:
    _, url = gateway
    scripted, _ = upstream
    scripted.answer("/other", Answer(200, "application/json", b'{"ok": true}'))
    response = httpx.post(
        url + "/other?x=1", content=b'{"a": 1}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.headers["x-conformance"] == "skipped"
    assert response.content == b'{"ok": true}'
    assert scripted.received[-1].query == b"x=1"


def test_response_blocking_policy(upstream, catalog: Catalog, tmp_path: Path) -> None:
    scripted, running = upstream
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[gateway]\nxsd = "{FIXTURES.parent / "xsd"}"\n[policy.recette]\nresponse = "block"\n'
        '[[routes]]\nname = "status"\npath = "/v1.0/exports/*"\nresponse = { schema = ["export-statut", "anomalies"] }\n'
        '[[routes]]\nname = "getNumUnique"\npath = "/nuu-ws/services/DemandeLogement"\n'
        'response = { wrapper = "ws-demande-logement", schema = "demande", embedded = ["fichierDemande"] }\n'
    )
    invalid_status = (
        FIXTURES / "invalid/export-statut/xsd.enumeration--etat-termine.xml"
    ).read_bytes()
    scripted.answer("/v1.0/exports/7", Answer(200, "application/xml", invalid_status))
    invalid = (FIXTURES / "invalid/demande/xsd.facet--nom-too-long.xml").read_bytes()
    scripted.answer(SERVICE, Answer(200, "application/soap+xml", soap12_response(invalid)))
    with serve_gateway(gateway_settings(running.url, config=config, env="recette")) as server:
        plain = httpx.get(server.url + "/v1.0/exports/7")
        soap = post(server.url, "soap12-getNumUnique-request.xml", SOAP12_TYPE)
    assert plain.status_code == 502
    assert validate(plain.content, catalog.schema("anomalies")).valid
    assert anomalies(etree.fromstring(plain.content))[0]["violation"] == "xsd.enumeration"
    assert soap.status_code == 500
    assert etree.fromstring(soap.content).findtext(f".//{{{ENV12}}}Value") == "env:Receiver"

"""Reading a delivery's WSDLs (services, addresses, actions, payloads, the elements carrying
documents) and the routes in service they make with a configuration written for another XSD
set; the banner that describes them. In process: no socket is needed."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from gateway.catalog import load_catalog
from gateway.config import SHIPPED_CONFIG, load_settings
from gateway.reload import SchemaHolder, load_schemas
from gateway.routing.delivery import fit_routes, wsdl_services
from gateway.schema import read_sources
from gateway.simulator.quickstart import banner, curls, demo_in_service
from gateway.wsdl import read_wsdl

ROOT = Path(__file__).resolve().parent.parent
DELIVERY = ROOT / "fixtures" / "delivery-sne" / "xsd"
WS = "http://ws.metier.nuu.application.i2/"


def services_of(wsdl: Path):
    return read_wsdl(wsdl.resolve(), read_sources(wsdl).contents)


def test_a_wsdl_gives_its_services_addresses_actions_payloads_and_documents() -> None:
    reading = services_of(DELIVERY / "DemandeLogementImplService.wsdl")
    assert reading.warnings == ()
    [service] = reading.services
    assert (service.name, service.path, service.soap_version) == (
        "DemandeLogementImplService",
        "/nuu/services/DemandeLogement/",
        "1.2",
    )
    operation = service.operations[0]
    assert (operation.name, operation.soap_action, operation.request, operation.response) == (
        "getNumUnique",
        f"{WS}getNumUnique",
        f"{{{WS}}}numUniqueParametres",
        f"{{{WS}}}numUniqueReponse",
    )
    assert len(service.operations) == 6
    # certificat and attestation are base64Binary too, but carry no business document.
    assert dict(service.documents) == {
        "request": ("fichierDemande",),
        "response": ("fichierDemande",),
    }


def test_a_wsdl_without_soap_actions_and_importing_its_types() -> None:
    [service] = services_of(DELIVERY / "RechercheDemandeImplService.wsdl").services
    assert [o.soap_action for o in service.operations] == [None]
    assert dict(service.documents) == {
        "request": ("fichierCriteres",),
        "response": ("fichierResultats",),
    }


WSDL_11 = """<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:xmime="http://www.w3.org/2005/05/xmlmime" xmlns:tns="urn:s" targetNamespace="urn:s">
  <wsdl:types>
    <xs:schema targetNamespace="urn:s" elementFormDefault="qualified">
      <xs:element name="envoi">
        <xs:complexType><xs:sequence>
          <xs:element name="piece" type="xs:base64Binary" xmime:expectedContentTypes="text/xml"/>
          <xs:element name="scan" type="xs:base64Binary"/>
        </xs:sequence></xs:complexType>
      </xs:element>
    </xs:schema>
  </wsdl:types>
  <wsdl:message name="envoi"><wsdl:part name="p" element="tns:envoi"/></wsdl:message>
  <wsdl:portType name="P"><wsdl:operation name="envoi"><wsdl:input message="tns:envoi"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="B" type="tns:P">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="envoi"><soap:operation soapAction="urn:s#envoi"/></wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="S">
    <wsdl:port name="ok" binding="tns:B"><soap:address location="http://h/s/Envoi"/></wsdl:port>
    <wsdl:port name="broken" binding="tns:Missing"><soap:address location="http://h/x"/></wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""


def test_soap_11_an_xml_content_type_and_what_cannot_be_read(tmp_path: Path) -> None:
    wsdl = tmp_path / "Envoi.wsdl"
    wsdl.write_text(WSDL_11, encoding="utf-8")
    reading = services_of(wsdl)
    [service] = reading.services
    assert (service.soap_version, service.path) == ("1.1", "/s/Envoi")
    assert service.documents["request"] == ("piece",)
    assert reading.warnings == (
        "Envoi.wsdl:23: the binding 'tns:Missing' is not defined in the file",
    )


@pytest.fixture(scope="module")
def shipped_over_delivery():
    settings = load_settings(SHIPPED_CONFIG, {"xsd": str(DELIVERY)}, environ={})
    return settings, load_schemas(settings)


def test_the_shipped_routes_over_a_delivery(shipped_over_delivery) -> None:
    settings, loaded = shipped_over_delivery
    # The configured routes come first, each still there; then the WSDL's service that no
    # configured route takes whole (DemandeLogement lives under /nuu/, not /nuu-ws/).
    configured = loaded.routes[: len(settings.routes)]
    assert [(r.name, r.path) for r in configured] == [(r.name, r.path) for r in settings.routes]
    made = [route.name for route in loaded.routes[len(settings.routes) :]]
    assert made == [
        "getNumUnique",
        "getDemandeLogement",
        "getDoublons",
        "getDeclarationNouveauDalo",
        "getDemandesRadieesDepuisLe",
        "getNouveauxDaloDepuisLe",
        "DemandeLogementImplService",
    ]
    route = loaded.route_for("POST", "/nuu/services/DemandeLogement/", f"{WS}getDoublons")
    assert (route.name, route.request.wrapper, route.request.embedded) == (
        "getDoublons",
        "DemandeLogementImplService",
        ("fichierDemande",),
    )
    # The shipped path of the event service takes the delivery's ...ImplService/ address.
    route = loaded.route_for(
        "POST", "/nuu-ws/services/GestionPartageeEVTImplService/", f"{WS}supprimerEvenementDemande"
    )
    assert route.name == "supprimerEvenementDemande"
    # Its wrapper is not in the delivery: it looks for the documents of all the delivery's
    # services too (its payload is judged by whichever WSDL declares it).
    assert route.response.embedded == (
        "fichierDemande",
        "fichierTypesEvenements",
        "fichierEvenements",
        "fichierResultats",
    )
    assert "ws-gestion-partagee-evt" in loaded.schema_set.unresolved
    assert {"demande", "export-demande", "ws-demande-logement"} <= loaded.schema_set.unresolved


def test_the_project_set_gets_no_route_of_its_own() -> None:
    settings = load_settings(SHIPPED_CONFIG, environ={})
    loaded = load_schemas(settings)
    assert loaded.routes == settings.routes
    assert loaded.warnings == ()
    assert loaded.schema_set.unresolved == frozenset()
    assert [s.routes for s in loaded.services] == [(), (), ()]


def test_a_service_whose_address_begins_another_comes_after_it(tmp_path: Path) -> None:
    delivery = Path(shutil.copytree(DELIVERY, tmp_path / "livraison"))
    wsdl = delivery / "RechercheDemandeImplService.wsdl"
    wsdl.write_bytes(
        wsdl.read_bytes().replace(
            b"/nuu-ws/services/RechercheDemandeImplService/", b"/nuu/services/Demande"
        )
    )
    schema_set = load_catalog(delivery).version()
    fitted = fit_routes((), schema_set)
    paths = [route.path for route in fitted.routes]
    assert paths.index("/nuu/services/DemandeLogement**") < paths.index("/nuu/services/Demande**")


def test_the_banner_describes_the_routes_in_service(shipped_over_delivery) -> None:
    _, loaded = shipped_over_delivery
    settings = load_settings(
        SHIPPED_CONFIG, {"xsd": str(DELIVERY), "upstream": "http://127.0.0.1:1"}, environ={}
    )
    assert not demo_in_service(loaded)
    text = banner(settings, loaded, "13.34", 4242)
    assert "interface 13.34" in text
    assert "versions 02.00, 02.01 side by side" in text
    assert "routes    20 from gateway.toml, 7 from the XSD set's WSDLs" in text
    assert "naming schemas the XSD set lacks (anomalies, demande," in text
    assert (
        "  http://127.0.0.1:8080/nuu/services/DemandeLogement/  DemandeLogementImplService: "
        "6 operations (its own routes)" in text
    )
    assert "Try it" not in text and "curl" not in text


def test_the_banner_keeps_the_three_curls_on_the_shipped_set() -> None:
    settings = load_settings(SHIPPED_CONFIG, {"upstream": "http://127.0.0.1:1"}, environ={})
    loaded = load_schemas(settings)
    assert demo_in_service(loaded)
    text = banner(settings, loaded, "13.34", 4242)
    assert "  xsd       " in text and "(version 13.34)" in text
    assert "routes    20 from gateway.toml\n" in text
    for _, command in curls("http://127.0.0.1:8080", settings):
        assert command in text


def test_a_new_wsdl_address_is_in_service_after_a_reload(tmp_path: Path) -> None:
    delivery = Path(shutil.copytree(DELIVERY, tmp_path / "livraison"))
    settings = load_settings(
        SHIPPED_CONFIG, {"xsd": str(delivery), "upstream": "http://127.0.0.1:1"}, environ={}
    )
    holder = SchemaHolder(settings)
    moved = "/nuu/services/v2/DemandeLogement"
    assert holder.current.route_for("POST", moved, None) is None
    wsdl = delivery / "DemandeLogementImplService.wsdl"
    wsdl.write_bytes(wsdl.read_bytes().replace(b"/nuu/services/DemandeLogement/", moved.encode()))
    assert asyncio.run(holder.reload())
    assert holder.current.route_for("POST", moved, None).name == "DemandeLogementImplService"


def test_every_wsdl_of_the_delivery_is_read() -> None:
    services, warnings = wsdl_services(load_catalog(DELIVERY).version())
    assert warnings == []
    assert sorted(s.service.name for s in services) == [
        "DemandeLogementImplService",
        "GestionPartageeEVTImplService",
        "RechercheDemandeImplService",
    ]


def test_two_ports_at_one_address_make_one_set_of_routes_and_no_address_none(
    tmp_path: Path, capsys
) -> None:
    from gateway.cli.main import main

    two_ports = WSDL_11.replace(
        '<wsdl:port name="broken" binding="tns:Missing"><soap:address location="http://h/x"/></wsdl:port>',
        '<wsdl:port name="again" binding="tns:B"><soap:address location="http://h/s/Envoi"/></wsdl:port>'
        '</wsdl:service><wsdl:service name="Nowhere"><wsdl:port name="n" binding="tns:B"/>',
    )
    (tmp_path / "Envoi.wsdl").write_text(two_ports, encoding="utf-8")
    schema_set = load_catalog(tmp_path).version()
    fitted = fit_routes((), schema_set)
    assert [(r.name, r.path, r.soap_action) for r in fitted.routes] == [
        ("envoi", "/s/Envoi**", "urn:s#envoi"),
        ("S", "/s/Envoi**", None),
    ]
    assert main(["init", "--xsd", str(tmp_path), "--output", "-"]) == 0
    out = capsys.readouterr().out
    assert out.count('name = "envoi"') == 1
    assert "# Nowhere (Envoi.wsdl) gives no soap:address: no route for it here." in out


@pytest.mark.parametrize(("version", "judged_by"), [("02.00", "@02.00"), (None, "@02.01")])
def test_the_proxys_version_pins_the_delivery(version, judged_by) -> None:
    from gateway.extract.document import Document
    from gateway.validate import validate_document

    overrides = {"xsd": str(DELIVERY), "upstream": "http://127.0.0.1:1"}
    if version:
        overrides["version"] = version
    loaded = load_schemas(load_settings(SHIPPED_CONFIG, overrides, environ={}))
    assert loaded.schema_set.version == (version or "02.01")
    data = (DELIVERY.parent / "documents" / "demande-v0201.xml").read_bytes()
    # As the shipped getNumUnique route asks: 'demande', which the delivery lacks.
    report = validate_document(Document("fichierDemande", data, "demande"), loaded.schema_set)
    assert report.schema == f"InterfaceNuu{judged_by}"
    assert report.valid == (version is None)

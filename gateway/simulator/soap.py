"""The SOAP 1.2 services: DemandeLogement (`getNumUnique`, `getDemandeLogement`, `getDoublons`)
and GestionPartageeEVT (`listerEvenementsDemande`), answered in MTOM as the SNE's CXF does.

A request is read with the gateway's own extractors (plain SOAP or MTOM) and validated with its
engine, wrapper and business document alike. An invalid request is refused as the SNE refuses
an invalid application: a SOAP Fault `env:Sender` (HTTP 400) whose Detail lists the anomalies
(`listeAnomalie`). Other operations of the services are answered with the WSDL's
`serviceFault`, saying they are not simulated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from lxml import etree

from gateway.catalog import SchemaSet
from gateway.extract.message import extract_documents, extractor_for
from gateway.extract.mtom import MTOM
from gateway.extract.xml_body import XML
from gateway.limits import DEFAULT_LIMITS
from gateway.names import SOAP12, WS
from gateway.parse import parse_xml
from gateway.report.anomaly import Anomaly, add_anomaly_list, report_anomalies
from gateway.report.soap_fault import (
    Culprit,
    anomaly_fault,
    fault_content_type,
    fault_status,
    soap_fault,
)
from gateway.routing.route import NO_RULE, DirectionRule
from gateway.simulator import clock
from gateway.simulator import fake_data as fake
from gateway.simulator.answer import Answer
from gateway.simulator.demande import (
    CREATED_FROM,
    CREATED_TO,
    ApplicationBuilder,
    ApplicationOptions,
    demande_logement,
)
from gateway.simulator.evenements import events_document
from gateway.simulator.faults import FaultDraw
from gateway.simulator.mtom import MtomMessage
from gateway.simulator.nuu_document import add, add_code, nuu
from gateway.simulator.registry import Registry
from gateway.validate import validate_document
from gateway.violation import DocumentReport

SOAP_CONTENT_TYPE = fault_content_type("1.2")
DEMANDE_LOGEMENT = DirectionRule(
    schema="demande", wrapper="ws-demande-logement", embedded=("fichierDemande",)
)
GESTION_PARTAGEE_EVT = DirectionRule(
    schema="evenements", wrapper="ws-gestion-partagee-evt", embedded=("fichierEvenements",)
)
#: demandeLogement's children that come after listeAnomalie and listeDoublons.
AFTER_DUPLICATES = ("dateDerniereModificationPiece", "listePieceJustificative")
ATTESTATION = (
    "%PDF-1.4\n% Attestation d'enregistrement fictive (simulateur SNE école) : {}\n%%EOF\n"
)


def _ws(local_name: str) -> str:
    return f"{{{WS}}}{local_name}"


def service_fault(culprit: Culprit, code: str, message: str) -> Answer:
    """A SOAP 1.2 Fault as CXF writes it (`soap:Sender`, `soap:Receiver` or
    `soap:VersionMismatch`) whose Detail is the WSDL's `serviceFault` (code, message)."""
    service = etree.Element(_ws("serviceFault"), nsmap={"ns2": WS})
    etree.SubElement(service, _ws("code")).text = code
    etree.SubElement(service, _ws("message")).text = message
    return Answer(
        fault_status("1.2", culprit),
        SOAP_CONTENT_TYPE,
        soap_fault("1.2", culprit, message, service, prefix="soap"),
    )


def unavailable() -> Answer:
    """The `5xx` fault on a SOAP service: what CXF answers when the service fails."""
    return service_fault(
        "server", "TECH01", "Erreur technique du SNE : service momentanément indisponible."
    )


@dataclass(frozen=True)
class SoapRequest:
    """A valid request: its operation, its payload element, and its business documents."""

    operation: str
    payload: etree._Element
    documents: tuple[bytes, ...]

    def parameter(self, name: str) -> str | None:
        return self.payload.findtext(f".//{_ws(name)}")


def _reply(operation: str, wrapper: str, fields: list[tuple[str, str | bytes]]) -> Answer:
    """An MTOM answer `<operation>Response > <wrapper>`: text fields, and binary fields as
    attachments."""
    message = MtomMessage()
    envelope = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"soap": SOAP12})
    body = etree.SubElement(envelope, f"{{{SOAP12}}}Body")
    response = etree.SubElement(body, _ws(f"{operation}Response"), nsmap={"ns2": WS})
    reponse = etree.SubElement(response, _ws(wrapper))
    for name, value in fields:
        element = etree.SubElement(reponse, _ws(name))
        if isinstance(value, bytes):
            message.include(element, value)
        else:
            element.text = value
    return Answer(200, message.content_type, message.write(envelope))


def _insert_before(
    parent: etree._Element, element: etree._Element, followers: tuple[str, ...]
) -> None:
    """Insert `element` before the first child named in `followers`, else at the end."""
    names = {nuu(name) for name in followers}
    for index, child in enumerate(parent):
        if child.tag in names:
            parent.insert(index, element)
            return
    parent.append(element)


class SoapServices:
    """The two SOAP services of one simulator."""

    def __init__(self, schema_set: SchemaSet, data: fake.FakeData, registry: Registry) -> None:
        self.schema_set = schema_set
        self.version = schema_set.version
        self.data = data
        self.registry = registry
        self.applications = ApplicationBuilder(self.version)

    # -- reading a request -------------------------------------------------------------------

    def _read(self, body: bytes, content_type: str, rule: DirectionRule) -> SoapRequest | Answer:
        kind = extractor_for(content_type, NO_RULE)
        if kind not in (MTOM, XML):
            return service_fault(
                "client",
                "SOAP415",
                f"Type de contenu non pris en charge ({content_type or 'absent'}) : "
                "le service attend du SOAP 1.2 (application/soap+xml) ou du MTOM.",
            )
        extraction = extract_documents(
            body, content_type, rule, DEFAULT_LIMITS, "mtom" if kind is MTOM else "soap"
        )
        if extraction.soap_version == "1.1":
            return service_fault("version", "SOAP11", "Le service n'accepte que SOAP 1.2.")
        reports = [
            validate_document(document, self.schema_set) for document in extraction.documents
        ]
        if not all(report.valid for report in reports):
            return self._refuse(reports)
        payload, *embedded = extraction.documents
        return SoapRequest(
            etree.QName(payload.element).localname,
            payload.element,
            tuple(document.data for document in embedded),
        )

    def _refuse(self, reports: list[DocumentReport]) -> Answer:
        count = sum(report.violation_count for report in reports)
        reason = f"Demande refusée par le SNE : {count} anomalie(s)."
        return Answer(
            fault_status("1.2", "client"),
            SOAP_CONTENT_TYPE,
            anomaly_fault("1.2", "client", reason, report_anomalies(reports)),
        )

    @staticmethod
    def _not_simulated(operation: str) -> Answer:
        return service_fault(
            "client", "SIM001", f"Opération {operation} non simulée par le simulateur SNE école."
        )

    # -- DemandeLogement ---------------------------------------------------------------------

    def demande_logement(self, body: bytes, content_type: str, faults: FaultDraw) -> Answer:
        request = self._read(body, content_type, DEMANDE_LOGEMENT)
        if isinstance(request, Answer):
            return request
        if request.operation == "getNumUnique":
            return self._get_num_unique(request, faults)
        if request.operation == "getDoublons":
            return self._get_doublons(request, faults)
        if request.operation == "getDemandeLogement":
            return self._get_demande_logement(request, faults)
        return self._not_simulated(request.operation)

    def _get_num_unique(self, request: SoapRequest, faults: FaultDraw) -> Answer:
        """Register the application: it comes back with its numUnique, and an attestation."""
        root = parse_xml(request.documents[0], DEFAULT_LIMITS)
        logement = demande_logement(root)
        assert logement is not None  # the document is valid against the demande schema
        num_unique = logement.findtext(nuu("numUnique"))
        if num_unique is None:
            guichet = logement.findtext(nuu("numGuichet")) or ""
            base = self.data.rng("sequence").randrange(10**9)
            num_unique = fake.num_unique(
                fake.department_of_guichet(guichet),
                clock.now().date(),
                base + self.registry.next_sequence(),
            )
            element = etree.Element(nuu("numUnique"))
            element.text = num_unique
            logement.insert(1, element)  # numUnique follows numGuichet
        registered = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        self.registry.register(num_unique, registered)
        return _reply(
            "getNumUnique",
            "numUniqueReponse",
            [
                (
                    "nomFichierDemande",
                    request.parameter("nomFichierDemande") or f"demande-{num_unique}.xml",
                ),
                ("fichierDemande", faults.document(root)),
                ("nomAttestation", f"attestation-{num_unique}.pdf"),
                ("attestation", ATTESTATION.format(num_unique).encode("utf-8")),
            ],
        )

    def _get_doublons(self, request: SoapRequest, faults: FaultDraw) -> Answer:
        """The application back, with the active applications that look like it, if any."""
        root = parse_xml(request.documents[0], DEFAULT_LIMITS)
        logement = demande_logement(root)
        assert logement is not None
        for stale in ("listeAnomalie", "listeDoublons"):
            for element in logement.findall(nuu(stale)):
                logement.remove(element)
        demandeur = logement.find(f"{nuu('personnePhysique')}/{nuu('demandeur')}")
        if demandeur is not None:
            identity = [
                demandeur.findtext(nuu(name)) or "" for name in ("nom", "prenom", "dateNaissance")
            ]
            rng = self.data.rng("doublons", *identity)
            count = rng.choice((0, 0, 1, 2))
            if count:
                self._add_duplicates(logement, rng, identity, count)
        return _reply(
            "getDoublons",
            "doublonsReponse",
            [
                ("nomFichierDemande", request.parameter("nomFichierDemande") or "demande.xml"),
                ("fichierDemande", faults.document(root)),
            ],
        )

    def _add_duplicates(
        self, logement: etree._Element, rng: random.Random, identity: list[str], count: int
    ) -> None:
        nom, prenom, born = identity
        duplicates = Anomaly(
            "DBL001",
            "Des demandes actives semblent concerner le même demandeur. Renvoyer la demande "
            "avec forcerDoublon à true pour l'enregistrer malgré tout.",
            "demandeLogement",
            (("nombreDoublons", count),),
        )
        _insert_before(logement, add_anomaly_list(None, [duplicates]), AFTER_DUPLICATES)
        doublons = etree.Element(nuu("listeDoublons"))
        for _ in range(count):
            commune = rng.choice(fake.COMMUNES)
            created = fake.between(rng, CREATED_FROM, CREATED_TO)
            doublon = add(doublons, "doublon")
            add(
                doublon,
                "numUnique",
                fake.num_unique(commune.department, created, rng.randrange(10**10)),
            )
            add(doublon, "numGuichet", fake.guichet(rng, commune.department))
            add(doublon, "dateCreationDemande", created.isoformat())
            add(doublon, "nom", nom)
            add(doublon, "prenom", prenom)
            add(doublon, "dateNaissance", born)
            add(doublon, "tauxSimilarite", rng.randint(85, 100))
            criteres = add(doublon, "listeCritereDoublon")
            for critere in ("NOM", "PRENOM", "DATNAI"):
                add_code(criteres, "critereDoublon", critere)
        _insert_before(logement, doublons, AFTER_DUPLICATES)

    def application(self, num_unique: str) -> etree._Element:
        """The application of `num_unique`: as registered, or generated from fake data."""
        registered = self.registry.get(num_unique)
        if registered is not None:
            return parse_xml(registered, DEFAULT_LIMITS)
        department = fake.department_of(num_unique)
        rng = self.data.rng("demande", num_unique)
        options = ApplicationOptions(num_unique, fake.commune_in(rng, department))
        return self.applications.document(rng, options)

    def _get_demande_logement(self, request: SoapRequest, faults: FaultDraw) -> Answer:
        num_unique = request.parameter("numUnique") or ""
        return _reply(
            "getDemandeLogement",
            "demandeLogementReponse",
            [
                ("nomFichierDemande", f"demande-{num_unique}.xml"),
                ("fichierDemande", faults.document(self.application(num_unique))),
            ],
        )

    # -- GestionPartageeEVT ------------------------------------------------------------------

    def gestion_partagee_evt(self, body: bytes, content_type: str, faults: FaultDraw) -> Answer:
        request = self._read(body, content_type, GESTION_PARTAGEE_EVT)
        if isinstance(request, Answer):
            return request
        if request.operation != "listerEvenementsDemande":
            return self._not_simulated(request.operation)
        num_unique = request.parameter("numUnique") or ""
        events = events_document(self.version, self.data.rng("evenements", num_unique), num_unique)
        return _reply(
            "listerEvenementsDemande",
            "evenementsReponse",
            [
                ("nomFichierEvenements", f"evenements-{num_unique}.xml"),
                ("fichierEvenements", faults.document(events)),
            ],
        )

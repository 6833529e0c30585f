"""REST `/v1.0/drm/ressources`: the monthly resources (DRM) of up to 50 applications.

The SNE refreshes DRM data on the 22nd: from then on the last complete month is available, so
"the three last months" end with last month from the 22nd on, and with the month before until
then. More than 50 numUniques in one request is refused with an anomaly (HTTP 400), as is a
request that does not fit the schema.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

from gateway.catalog import SchemaSet
from gateway.report.anomaly import Anomaly, add_anomaly_list, anomaly_document
from gateway.simulator import clock
from gateway.simulator import fake_data as fake
from gateway.simulator.answer import Answer, xml_answer
from gateway.simulator.faults import FaultDraw
from gateway.simulator.incoming import read_document, refusal
from gateway.simulator.nuu_document import add, add_code, interface_root, nuu

FILE_TYPE = "DRM"
MAX_APPLICATIONS = 50
REFRESH_DAY = 22
MONTHS = 3
NATURES = (
    ("SALNET", "Rémunération nette versée"),
    ("PRRB", "Pensions, retraites et rentes servies au titre de la retraite de base"),
    ("PRHRB", "Pensions servies au titre de la retraite hors retraite de base"),
    ("INDCHO", "Allocations chômage versées"),
    ("INDJOU", "Indemnités journalières de sécurité sociale"),
)
NO_NIR = Anomaly("DRM004", "Demandeur sans NIR permanent : pas de données DRM.")
REQUEST_PATH = f"{nuu('requeteRessources')}/{nuu('listeNumUnique')}/{nuu('numUnique')}"


def last_months(today: date, depth: int = MONTHS) -> list[str]:
    """The `depth` last months with DRM data on `today`, oldest first (`2025-04`)."""
    back = 1 if today.day >= REFRESH_DAY else 2
    index = today.year * 12 + today.month - 1 - back
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - depth + 1, index + 1)]


def add_applicant_resources(
    liste: etree._Element, data: fake.FakeData, num_unique: str, months: list[str]
) -> None:
    """One `ressourcesDemande`: the resources of `num_unique` for each of `months`."""
    rng = data.rng("drm", num_unique)
    ressources = add(liste, "ressourcesDemande")
    add(ressources, "numUnique", num_unique)
    liste_mois = add(ressources, "listeMois")
    if rng.random() < 0.1:
        add_anomaly_list(ressources, [NO_NIR])
        return
    natures = rng.sample(NATURES, rng.randint(1, 2))
    bases = [Decimal(fake.amount(rng, 300, 2200)) for _ in natures]
    for month in months:
        mois = add(liste_mois, "mois")
        add(mois, "periode", month)
        liste_ressource = add(mois, "listeRessource")
        total = Decimal(0)
        for (code, label), base in zip(natures, bases, strict=True):
            montant = (base * Decimal(rng.uniform(0.9, 1.1))).quantize(Decimal("0.01"))
            total += montant
            ressource = add(liste_ressource, "ressource")
            add_code(ressource, "nature", code)
            add(ressource, "libelle", label)
            add(ressource, "montant", montant)
        add(mois, "totalMensuel", total)


def drm_document(
    version: str, data: fake.FakeData, numbers: list[str], months: list[str]
) -> etree._Element:
    """`interfaceNuu > entete, listeRessourcesDemande`: the answer for `numbers`."""
    root = interface_root(version, FILE_TYPE)
    liste = add(root, "listeRessourcesDemande")
    for num_unique in numbers:
        add_applicant_resources(liste, data, num_unique, months)
    return root


class DrmService:
    def __init__(self, schema_set: SchemaSet, data: fake.FakeData) -> None:
        self.schema = schema_set.schema("drm-ressources")
        self.version = schema_set.version
        self.data = data

    def ressources(self, body: bytes, faults: FaultDraw, today: date) -> Answer:
        root, report = read_document(body, self.schema)
        if root is None:
            return refusal(report, self.version)
        numbers = [element.text or "" for element in root.iterfind(REQUEST_PATH)]
        if len(numbers) > MAX_APPLICATIONS:
            too_many = Anomaly(
                "DRM001",
                f"{len(numbers)} numéros uniques demandés : {MAX_APPLICATIONS} au plus par appel.",
                "requeteRessources.listeNumUnique",
            )
            return xml_answer(anomaly_document([too_many], self.version, clock.now()), 400)
        if not report.valid:
            return refusal(report, self.version)
        if not numbers:
            not_a_request = Anomaly(
                "DRM002", "Le document n'est pas une requête (requeteRessources attendu)."
            )
            return xml_answer(anomaly_document([not_a_request], self.version, clock.now()), 400)
        answer = drm_document(self.version, self.data, numbers, last_months(today))
        return xml_answer(faults.document(answer))

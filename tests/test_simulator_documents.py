"""Every document the simulator builds is valid against its schema in the chosen version, for
many seeds; 13.34 additions appear under 13.34 only; the data is deterministic and fake."""

from __future__ import annotations

import io
import re
import tarfile
from datetime import UTC, date, datetime, timedelta

import pytest
from lxml import etree

from gateway.report.anomaly import Anomaly, anomaly_document
from gateway.simulator import fake_data as fake
from gateway.simulator.demande import ApplicationBuilder, ApplicationOptions
from gateway.simulator.drm import drm_document, last_months
from gateway.simulator.evenements import events_document
from gateway.simulator.exports import ExportJob, ExportService, status_document
from gateway.simulator.faults import NO_DRAW
from gateway.simulator.gdm import GdmService
from gateway.simulator.nuu_document import serialize
from gateway.validate import validate

VERSIONS = ("13.33", "13.34")
SEEDS = (0, 1, 7, 2025)
NUU = "{http://nuu.application.i2/}"


def assert_valid(catalog, data: bytes, schema: str, version: str) -> None:
    report = validate(data, catalog.schema(schema, version), source=schema)
    assert report.valid, [(v.code, v.path, v.message) for v in report.violations]


def applications(version: str, seed: int, count: int) -> list[etree._Element]:
    data = fake.FakeData(seed)
    builder = ApplicationBuilder(version)
    documents = []
    for index in range(count):
        rng = data.rng("demande", index)
        options = ApplicationOptions(
            num_unique=fake.num_unique("38", date(2024, 5, 2), index) if index % 2 else None,
            commune=fake.commune_in(rng, rng.choice(("38", "2A", "974", "01"))),
            radiated=index % 5 == 0,
        )
        documents.append(builder.document(rng, options))
    return documents


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_applications_are_valid(catalog, version, seed) -> None:
    for document in applications(version, seed, 150):
        assert_valid(catalog, serialize(document), "demande", version)


def test_13_34_additions_appear_under_13_34_only(catalog) -> None:
    modern = applications("13.34", 3, 200)
    empty = [a for document in modern for a in document.iter(f"{NUU}adressePostale") if len(a) == 0]
    assert empty, "some applicants and cotitulaires have an empty adressePostale under 13.34"
    assert any(
        document.find(f".//{NUU}cotitulaire/{NUU}adressePostale") is not None for document in modern
    )
    assert any(document.find(f".//{NUU}listeContenuPiece") is not None for document in modern)
    invalid_under_13_33 = [
        document
        for document in modern
        if not validate(serialize(document), catalog.schema("demande", "13.33")).valid
    ]
    assert invalid_under_13_33, "13.34 applications carry what 13.33 refuses"
    legacy = applications("13.33", 3, 200)
    assert not any(document.find(f".//{NUU}listeContenuPiece") is not None for document in legacy)
    assert all(len(a) > 0 for document in legacy for a in document.iter(f"{NUU}adressePostale"))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_events_drm_and_anomalies_are_valid(catalog, version, seed) -> None:
    data = fake.FakeData(seed)
    numbers = [fake.num_unique("38", date(2024, 1, 9), n) for n in range(60)]
    for number in numbers:
        assert_valid(
            catalog,
            serialize(events_document(version, data.rng("evt", number), number)),
            "evenements",
            version,
        )
    for depth in (1, 2, 3):
        months = last_months(date(2025, 6, 23), depth)
        assert_valid(
            catalog,
            serialize(drm_document(version, data, numbers[:50], months)),
            "drm-ressources",
            version,
        )
    document = anomaly_document(
        [Anomaly("DRM001", "Trop de numéros.", "requeteRessources")], version
    )
    assert_valid(catalog, document, "anomalies", version)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_gdm_feeds_are_valid(catalog, version, seed) -> None:
    now = datetime(2025, 6, 12, 9, 41, tzinfo=UTC)
    service = GdmService(version, fake.FakeData(seed))
    for communes in ([], ["38185", "2A004", "97411", "01053"]):
        answer = service.mouvements((now - timedelta(days=2)).isoformat(), communes, NO_DRAW, now)
        assert answer.status == 200
        assert b"<mouvement>" in answer.body
        assert_valid(catalog, answer.body, "gdm-mouvements", version)


def test_gdm_feed_is_a_function_of_the_window_and_communes() -> None:
    now = datetime(2025, 6, 12, 9, 41, tzinfo=UTC)
    service = GdmService("13.34", fake.FakeData(0))

    def movements(since: datetime, communes: list[str], until: datetime = now) -> set[str]:
        body = service.mouvements(since.isoformat(), communes, NO_DRAW, until).body
        root = etree.fromstring(body)
        return {etree.tostring(m, with_tail=False) for m in root.iter(f"{NUU}mouvement")}

    everything = movements(now - timedelta(hours=30), [])
    grenoble = movements(now - timedelta(hours=30), ["38185"])
    assert grenoble and grenoble < everything
    earlier = movements(now - timedelta(hours=30), [], now - timedelta(hours=10))
    later = movements(now - timedelta(hours=11), [])
    assert earlier | later == everything, "overlapping windows give the same movements"


@pytest.mark.parametrize("version", VERSIONS)
def test_export_statuses_and_members_are_valid(catalog, version) -> None:
    service = ExportService(catalog.version(version), fake.FakeData(5), size=40, delay=0)
    request = (
        f'<interfaceNuu xmlns="http://nuu.application.i2/" versionInterface="{version}"><entete>'
        "<typeFichier>EXP</typeFichier><dateFichier>2025-06-26T07:12:00+02:00</dateFichier>"
        "</entete><demandeExport><listeEntite><entite>CERFA</entite><entite>EVT</entite>"
        "<entite>DRM</entite></listeEntite><profondeurDrm>2</profondeurDrm><etat>RADIEE</etat>"
        "<listeDepartement><departement>38</departement><departement>2B</departement>"
        "</listeDepartement></demandeExport></interfaceNuu>"
    ).encode()
    now = datetime.now(UTC)
    created = service.create(request, NO_DRAW, now)
    assert created.status == 202
    assert_valid(catalog, created.body, "export-statut", version)
    identifier = etree.fromstring(created.body).findtext(f".//{NUU}idExport")
    ready = service.status(identifier, NO_DRAW, now)
    assert_valid(catalog, ready.body, "export-statut", version)
    archive = b"".join(service.download(identifier, lambda: NO_DRAW, now).body)
    schemas = {"CERFA": "demande", "EVT": "evenements", "DRM": "drm-ressources"}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        assert len(members) == 120
        for member in members:
            data = tar.extractfile(member).read()
            assert_valid(catalog, data, schemas[member.name.split("/")[0]], version)


def test_every_status_of_an_export_is_valid(catalog) -> None:
    schema_set = catalog.version()
    start = datetime(2025, 6, 26, 7, 12, tzinfo=UTC)
    job = ExportJob("4c1e9d7a", ("CERFA",), False, ("38",), (), 3, start, timedelta(seconds=9), 10)
    failed = ExportJob(
        "9a0b7c3e",
        (),
        False,
        ("38",),
        (),
        3,
        start,
        timedelta(seconds=9),
        10,
        Anomaly("EXP012", "Entité non disponible."),
    )
    for moment in (start, start + timedelta(seconds=4), start + timedelta(seconds=10)):
        for export in (job, failed):
            assert_valid(
                catalog,
                serialize(status_document(schema_set.version, export, moment)),
                "export-statut",
                schema_set.version,
            )


def test_the_same_seed_gives_the_same_people_and_another_seed_others() -> None:
    def people(seed: int) -> list[bytes]:
        documents = applications("13.34", seed, 5)
        for document in documents:  # the production time is the only moving part
            document.find(f"{NUU}entete/{NUU}dateFichier").text = "-"
        return [serialize(document) for document in documents]

    assert people(4) == people(4)
    assert people(4) != people(5)


def test_the_data_is_fake() -> None:
    text = b"".join(serialize(document) for document in applications("13.34", 11, 200)).decode()
    mails = re.findall(r"<mel>([^<]+)</mel>", text)
    assert mails and all(mail.endswith("@example.org") for mail in mails)
    phones = re.findall(r"<tel\w+>([^<]+)</tel\w+>", text)
    assert phones and all(phone.startswith(("046571", "063998")) for phone in phones)
    surnames = set(re.findall(r"<nom>([^<]+)</nom>", text))
    assert all(
        name in fake.INVENTED_SURNAMES or name.endswith(fake.FICTIONAL_SUFFIXES)
        for name in surnames
    )

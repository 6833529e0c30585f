"""The simulator's REST interface v1.0 through the gateway, over real sockets: the exports flow
from the request to a streamed TGZ checked member by member, DRM and its 50 limit, GDM."""

from __future__ import annotations

import io
import re
import tarfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from lxml import etree

from gateway.simulator.app import create_simulator
from gateway.simulator.export_archive import tgz_chunks
from gateway.simulator.exports import ExportJob
from gateway.simulator.settings import SimulatorSettings
from gateway.validate import validate
from tests.servers import RunningServer, gateway_settings, serve_asgi, serve_gateway

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NUU = "http://nuu.application.i2/"
XML = {"content-type": "application/xml"}
EXPORT_SIZE = 12
STATES = ("EN_ATTENTE", "EN_COURS", "PRET")


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningServer]:
    settings = SimulatorSettings(seed=3, export_size=EXPORT_SIZE, export_delay=0.3)
    with serve_asgi(create_simulator(settings)) as running:
        yield running


@pytest.fixture(scope="module")
def recette(simulator) -> Iterator[str]:
    with serve_gateway(gateway_settings(simulator.url, env="recette")) as gateway:
        yield gateway.url


@pytest.fixture(scope="module")
def prod(simulator) -> Iterator[str]:
    with serve_gateway(gateway_settings(simulator.url, env="prod")) as gateway:
        yield gateway.url


def text(document: bytes, name: str) -> str | None:
    return etree.fromstring(document).findtext(f".//{{{NUU}}}{name}")


def anomaly_codes(document: bytes) -> list[str]:
    return [a.get("code") for a in etree.fromstring(document).iter(f"{{{NUU}}}anomalie")]


def request_export(gateway: str, fixture: str) -> str:
    response = httpx.post(
        gateway + "/v1.0/exports", content=(FIXTURES / fixture).read_bytes(), headers=XML
    )
    assert response.status_code == 202
    assert response.headers["x-conformance"] == "pass"
    assert text(response.content, "etat") == "EN_ATTENTE"
    identifier = text(response.content, "idExport")
    assert response.headers["location"] == f"/v1.0/exports/{identifier}"
    return identifier


def wait_until_ready(gateway: str, identifier: str) -> tuple[list[str], bytes]:
    """Poll the status until PRET; the deadline only bounds a failing test."""
    seen: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = httpx.get(f"{gateway}/v1.0/exports/{identifier}")
        assert response.status_code == 200
        assert response.headers["x-conformance"] == "pass"
        state = text(response.content, "etat")
        if not seen or seen[-1] != state:
            seen.append(state)
        if state == "PRET":
            return seen, response.content
        time.sleep(0.02)
    raise AssertionError(f"the export never became ready: {seen}")


def test_export_from_request_to_a_streamed_archive(recette, catalog) -> None:
    identifier = request_export(recette, "valid/13.33/export-demande/communes.xml")
    seen, status = wait_until_ready(recette, identifier)
    assert seen == [state for state in STATES if state in seen], "states only move forward"
    assert text(status, "nombreFichiers") == str(2 * EXPORT_SIZE)  # CERFA (and DALO, PJ), EVT
    with httpx.stream("GET", f"{recette}/v1.0/exports/{identifier}/fichier") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/gzip"
        assert response.headers["x-conformance"] == "streaming"
        assert identifier in response.headers["content-disposition"]
        archive = b"".join(response.iter_bytes())
    communes = {"38185", "38151", "38382"}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        entries = tar.getmembers()
        assert [e.name for e in entries if e.isdir()] == ["CERFA", "EVT"]
        files = [e for e in entries if e.isfile()]
        width = 6
        expected = [
            f"{folder}/{n:0{width}d}.xml"
            for folder in ("CERFA", "EVT")
            for n in range(1, EXPORT_SIZE + 1)
        ]
        assert [e.name for e in files] == expected
        numbers = {}
        for entry in files:
            data = tar.extractfile(entry).read()
            folder, name = entry.name.split("/")
            report = validate(
                data, catalog.schema({"CERFA": "demande", "EVT": "evenements"}[folder])
            )
            assert report.valid, (entry.name, report.violations)
            root = etree.fromstring(data)
            if folder == "CERFA":
                assert root.find(f".//{{{NUU}}}radiation") is not None  # etat RADIEE
                wanted = root.find(f".//{{{NUU}}}communeSouhaitee")
                assert wanted is None or wanted.get("code") in communes
                numbers[name] = root.findtext(f".//{{{NUU}}}demandeLogement/{{{NUU}}}numUnique")
            else:
                assert {e.text for e in root.iter(f"{{{NUU}}}numUnique")} <= {numbers[name]}


def test_a_drm_export_has_drm_members(recette, catalog) -> None:
    identifier = request_export(recette, "valid/13.33/export-demande/departements.xml")
    wait_until_ready(recette, identifier)
    response = httpx.get(f"{recette}/v1.0/exports/{identifier}/fichier")
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as tar:
        files = [e for e in tar.getmembers() if e.isfile()]
        assert {e.name.split("/")[0] for e in files} == {"DRM"}
        for entry in files:
            data = tar.extractfile(entry).read()
            assert validate(data, catalog.schema("drm-ressources")).valid
            months = etree.fromstring(data).findall(f".//{{{NUU}}}mois")
            assert len(months) in (0, 3)  # profondeurDrm 3, or no DRM data for that applicant


def test_export_errors(recette) -> None:
    unknown = httpx.get(recette + "/v1.0/exports/no-such-export")
    assert unknown.status_code == 404
    assert anomaly_codes(unknown.content) == ["EXP404"]
    assert unknown.headers["x-conformance"] == "pass"  # an anomaly document, valid
    assert httpx.get(recette + "/v1.0/exports/no-such-export/fichier").status_code == 404
    only_unsimulated = (FIXTURES / "valid/13.33/export-demande/communes.xml").read_text(
        encoding="utf-8"
    )
    only_unsimulated = re.sub(
        r"<listeEntite>.*</listeEntite>",
        "<listeEntite><entite>PRIO</entite></listeEntite>",
        only_unsimulated,
        flags=re.S,
    )
    created = httpx.post(recette + "/v1.0/exports", content=only_unsimulated.encode(), headers=XML)
    assert text(created.content, "etat") == "ERREUR"
    assert anomaly_codes(created.content) == ["EXP012"]
    not_ready = httpx.get(f"{recette}/v1.0/exports/{text(created.content, 'idExport')}/fichier")
    assert not_ready.status_code == 409
    assert anomaly_codes(not_ready.content) == ["EXP409"]


def test_an_invalid_export_request_is_refused(recette, prod) -> None:
    invalid = (FIXTURES / "invalid/export-demande/xsd.facet--profondeur-drm-4.xml").read_bytes()
    blocked = httpx.post(recette + "/v1.0/exports", content=invalid, headers=XML)
    assert blocked.status_code == 422  # the gateway
    refused = httpx.post(prod + "/v1.0/exports", content=invalid, headers=XML)
    assert refused.status_code == 400  # the simulator, in the same shape
    assert anomaly_codes(refused.content) == ["XSD03"]


def test_export_states_move_with_time_alone() -> None:
    start = datetime(2025, 6, 26, 7, 12, tzinfo=UTC)
    job = ExportJob("x", ("CERFA",), False, ("38",), (), 3, start, timedelta(seconds=9), 10)
    assert [job.state(start + timedelta(seconds=s)) for s in (0, 2.9, 3, 8.9, 9, 99)] == [
        "EN_ATTENTE", "EN_ATTENTE", "EN_COURS", "EN_COURS", "PRET", "PRET",
    ]  # fmt: skip


def test_the_archive_is_produced_in_chunks_as_it_is_consumed() -> None:
    produced = []

    def members():
        for index in range(2000):
            produced.append(index)
            yield f"CERFA/{index:06d}.xml", bytes(range(256)) * 40

    chunks = tgz_chunks(["CERFA/"], members(), 0)
    first = next(chunks)
    assert first and len(produced) < 2000, "the first chunk leaves before the last member is made"
    archive = first + b"".join(chunks)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        assert len(tar.getmembers()) == 2001


def drm_request(count: int) -> bytes:
    numbers = "".join(f"<numUnique>0382406{n:010d}K</numUnique>" for n in range(count))
    return (
        f'<interfaceNuu xmlns="{NUU}" versionInterface="13.34"><entete><typeFichier>DRM</typeFichier>'
        "<dateFichier>2025-06-23T09:30:00+02:00</dateFichier></entete><requeteRessources>"
        f"<listeNumUnique>{numbers}</listeNumUnique></requeteRessources></interfaceNuu>"
    ).encode()


def test_drm_answers_the_three_last_months_of_up_to_50_applications(recette) -> None:
    response = httpx.post(recette + "/v1.0/drm/ressources", content=drm_request(50), headers=XML)
    assert response.status_code == 200
    assert response.headers["x-conformance"] == "pass"
    root = etree.fromstring(response.content)
    applicants = root.findall(f".//{{{NUU}}}ressourcesDemande")
    assert len(applicants) == 50
    periods = {m.findtext(f"{{{NUU}}}periode") for m in root.iter(f"{{{NUU}}}mois")}
    assert len(periods) == 3
    with_trailing_slash = httpx.post(
        recette + "/v1.0/drm/ressources/", content=drm_request(1), headers=XML
    )
    assert with_trailing_slash.status_code == 200


def test_more_than_50_is_blocked_by_the_gateway_or_refused_by_the_simulator(recette, prod) -> None:
    blocked = httpx.post(recette + "/v1.0/drm/ressources", content=drm_request(51), headers=XML)
    assert blocked.status_code == 422
    assert blocked.headers["x-conformance-request"] == "fail"
    assert anomaly_codes(blocked.content) == ["XSD01"]
    refused = httpx.post(prod + "/v1.0/drm/ressources", content=drm_request(51), headers=XML)
    assert refused.status_code == 400
    assert anomaly_codes(refused.content) == ["DRM001"]
    assert refused.headers["x-conformance-response"] == "pass"
    assert "anomalies@13.34" in refused.headers["x-conformance-schema"]


def test_gdm_movements_since_a_timestamp_for_some_communes(recette) -> None:
    since = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    everything = httpx.get(recette + "/v1.0/gdm/mouvements", params={"depuis": since})
    assert everything.status_code == 200
    assert everything.headers["x-conformance"] == "pass"
    assert "gdm-mouvements@13.34" in everything.headers["x-conformance-schema"]
    some = httpx.get(
        recette + "/v1.0/gdm/mouvements",
        params=[("depuis", since), ("communes", "38185,38151"), ("communes", "2A004")],
    )
    assert some.status_code == 200
    root = etree.fromstring(some.content)
    assert [c.get("code") for c in root.iterfind(f".//{{{NUU}}}parametres//{{{NUU}}}commune")] == [
        "38185",
        "38151",
        "2A004",
    ]
    movements = root.findall(f".//{{{NUU}}}mouvement")
    assert (
        0
        < len(movements)
        < len(etree.fromstring(everything.content).findall(f".//{{{NUU}}}mouvement"))
    )
    moments = [m.findtext(f"{{{NUU}}}dateMouvement") for m in movements]
    assert moments == sorted(moments)
    assert all(
        datetime.fromisoformat(moment) >= datetime.fromisoformat(since) for moment in moments
    )


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "GDM001"),
        ({"depuis": "hier"}, "GDM001"),
        ({"depuis": "2001-01-01T00:00:00Z"}, "GDM002"),
    ],
)
def test_gdm_parameter_errors(recette, params, code) -> None:
    response = httpx.get(recette + "/v1.0/gdm/mouvements", params=params)
    assert response.status_code == 400
    assert anomaly_codes(response.content) == [code]
    assert response.headers["x-conformance"] == "pass"


def test_gdm_refuses_a_bad_commune_code(recette) -> None:
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    params = {"depuis": since, "communes": "38185,Grenoble"}
    response = httpx.get(recette + "/v1.0/gdm/mouvements", params=params)
    assert response.status_code == 400
    assert anomaly_codes(response.content) == ["GDM003"]

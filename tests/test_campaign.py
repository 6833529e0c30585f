"""A recette campaign end to end, over real sockets: traffic of every kind (valid and invalid
REST XML, SOAP 1.2, MTOM, a TGZ export, an unrouted call) through `serve --workers 2` in front
of a scripted upstream, recorded in the store (SQLite, then a real PostgreSQL server), then
`sne-gateway report` run as a user runs it: exact counts per route, direction and code.

A personal-data canary rides inside the invalid documents (the values at fault, an export
member's name, the query string): it is found nowhere in the store (its files and a dump), the
report in any format, or the dashboard's page.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.store.backend import open_backend
from gateway.store.location import parse_store
from tests.postgres import PostgresServer, postgres_server
from tests.servers import RunningServer, serve_asgi, wait_for
from tests.test_proxy_metrics import serve_workers
from tests.upstream import Answer, ScriptedUpstream

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CANARY = "zzcanary7f3a91"
#: Over the 50 characters `nom` may have.
CANARY_NAME = (CANARY + "-DUPONTEL-") * 5
SUBJECT = "CN=editeur-essai,O=Editeur SI,C=FR"
CONTENT_TYPES = tomllib.loads((FIXTURES / "soap/content-types.toml").read_text())
MTOM_INVALID = "mtom-getNumUnique-invalid.mime"
MTOM_RESPONSE = "mtom-getNumUnique-response.mime"
SOAP12 = (
    'application/soap+xml; charset=UTF-8; action="http://ws.metier.nuu.application.i2/getNumUnique"'
)
DRM = "/v1.0/drm/ressources"
SOAP = "/nuu-ws/services/DemandeLogement"
XML = {"content-type": "application/xml"}


def drm_invalid() -> bytes:
    """The lowercase-key numUnique fixture, the value at fault now the canary."""
    document = (
        FIXTURES / "invalid/drm-ressources/xsd.pattern--numunique-lowercase-key.xml"
    ).read_bytes()
    return document.replace(b"03825040000000912h", CANARY.encode())


def mtom_invalid() -> bytes:
    """The MTOM call whose attached application has a name over its length: the canary's."""
    message = (FIXTURES / "soap" / MTOM_INVALID).read_bytes()
    return message.replace(
        b"DE LA TOUR D AUVERGNE-VALDEMARNE-ESSAI-FICTIVE-TESTARDE", CANARY_NAME.encode()
    )


def export_with_canary() -> bytes:
    """The valid export, plus a member named after the canary whose applicant's name is it."""
    application = (FIXTURES / "valid/13.33/demande/complete-household.xml").read_bytes()
    invalid = application.replace(
        b"<nom>MARTIN-ESSAI</nom>", f"<nom>{CANARY_NAME}</nom>".encode(), 1
    )
    output = io.BytesIO()
    with (
        tarfile.open(
            fileobj=io.BytesIO((FIXTURES / "archives/export-valid.tgz").read_bytes())
        ) as valid,
        tarfile.open(fileobj=output, mode="w:gz") as tar,
    ):
        for member in valid.getmembers():
            tar.addfile(member, valid.extractfile(member) if member.isfile() else None)
        info = tarfile.TarInfo(f"CERFA/{CANARY}-dossier.xml")
        info.size = len(invalid)
        tar.addfile(info, io.BytesIO(invalid))
    return output.getvalue()


@pytest.fixture(scope="module")
def upstream() -> Iterator[RunningServer]:
    scripted = ScriptedUpstream()
    scripted.answer(
        DRM,
        Answer(
            200,
            "application/xml",
            (FIXTURES / "valid/13.33/drm-ressources/reponse.xml").read_bytes(),
        ),
    )
    scripted.answer(
        SOAP,
        Answer(200, CONTENT_TYPES[MTOM_RESPONSE], (FIXTURES / "soap" / MTOM_RESPONSE).read_bytes()),
    )
    scripted.answer(
        "/v1.0/exports/1/fichier",
        Answer(200, "application/gzip", (FIXTURES / "archives/export-valid.tgz").read_bytes()),
    )
    scripted.answer(
        "/v1.0/exports/2/fichier", Answer(200, "application/gzip", export_with_canary())
    )
    scripted.answer("/elsewhere", Answer(200, "text/plain", b"ok"))
    with serve_asgi(scripted) as running:
        yield running


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as running:
        yield running


def send_the_campaign(url: str) -> None:
    """11 exchanges, each on a connection of its own (the two workers take turns)."""
    valid_drm = (FIXTURES / "valid/13.33/drm-ressources/requete.xml").read_bytes()
    for _ in range(3):
        answer = httpx.post(
            url + DRM, content=valid_drm, headers={**XML, "x-client-subject": SUBJECT}
        )
        assert answer.headers["x-conformance"] == "pass"
    for _ in range(2):
        assert httpx.post(url + DRM, content=drm_invalid(), headers=XML).status_code == 422
    soap = (FIXTURES / "soap/soap12-getNumUnique-request.xml").read_bytes()
    for _ in range(2):
        answer = httpx.post(url + SOAP, content=soap, headers={"content-type": SOAP12})
        assert answer.headers["x-conformance"] == "pass", answer.text
    blocked = httpx.post(
        url + SOAP, content=mtom_invalid(), headers={"content-type": CONTENT_TYPES[MTOM_INVALID]}
    )
    assert blocked.status_code == 400
    assert httpx.get(url + "/v1.0/exports/1/fichier").status_code == 200
    # Logged in recette: streamed whole, its verdict recorded once it has streamed.
    assert httpx.get(url + "/v1.0/exports/2/fichier").status_code == 200
    assert httpx.get(url + f"/elsewhere?name={CANARY}").headers["x-conformance"] == "skipped"


def report(store: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli.main",
            "report",
            "--store",
            store,
            "--since",
            "1h",
            *arguments,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def recorded(store: str) -> int:
    backend = open_backend(parse_store(store))  # type: ignore[arg-type]
    try:
        return backend.fetch("SELECT count(*) FROM exchanges")[0][0]
    finally:
        backend.close()


def run_campaign(
    store: str, tmp_path: Path, upstream: RunningServer, **variables: str
) -> tuple[dict[str, str], list[str]]:
    """The campaign through `serve --workers 2` writing to `store` (with these SNE_GATEWAY_*
    `variables`); the report in every format and the dashboard's page, and the gateway's log."""
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    environment = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "SNE_GATEWAY_LOG_FORMAT": "json",
        "SNE_GATEWAY_STORE": store,
        "SNE_GATEWAY_CLIENT_HEADER": "X-Client-Subject",
        **{f"SNE_GATEWAY_{name.upper()}": value for name, value in variables.items()},
    }
    log: list[str] = []
    with serve_workers(upstream.url, environment, log) as url:
        send_the_campaign(url)
        wait_for(lambda: recorded(store) == 11)
        page = httpx.get(url + "/_gateway/ui", params={"since": "1h"})
        assert page.status_code == 200
    assert not [line for line in log if '"store.' in line], log
    outputs = {"page": page.text}
    for format_name in ("json", "md", "html", "junit"):
        completed = report(store, "--format", format_name)
        assert completed.returncode == 1, completed.stderr  # violations in the window
        outputs[format_name] = completed.stdout
    return outputs, log


def check_the_report(outputs: dict[str, str]) -> None:
    document = json.loads(outputs["json"])
    assert document["totals"] == {
        "exchanges": 11,
        "passed": 6,
        "failed": 4,
        "not_validated": 1,
        "violations": 4,
    }
    flows = {
        (flow["route"], flow["direction"]): (
            flow["exchanges"],
            flow["passed"],
            flow["failed"],
            flow["blocked"],
            flow["violations"],
        )
        for flow in document["flows"]
    }
    assert flows == {
        ("drm-ressources", "request"): (5, 3, 2, 2, 2),
        ("drm-ressources", "response"): (3, 3, 0, 0, 0),
        ("getNumUnique", "request"): (3, 2, 1, 1, 1),
        ("getNumUnique", "response"): (2, 2, 0, 0, 0),
        ("exports-download", "response"): (2, 1, 1, 0, 1),
        ("", None): (1, 0, 0, 0, 0),
    }
    assert {(c["code"], c["violations"], c["exchanges"]) for c in document["codes"]} == {
        ("xsd.pattern", 2, 2),
        ("xsd.facet", 2, 2),
    }
    assert {
        (f["route"], f["direction"], f["code"], f["violations"]) for f in document["findings"]
    } == {
        ("drm-ressources", "request", "xsd.pattern", 2),
        ("getNumUnique", "request", "xsd.facet", 1),
        ("exports-download", "response", "xsd.facet", 1),
    }
    paths = {(v["code"], v["path"]): v["violations"] for v in document["violations"]}
    assert paths == {
        (
            "xsd.pattern",
            "/nuu:interfaceNuu/nuu:requeteRessources/nuu:listeNumUnique/nuu:numUnique",
        ): 2,
        (
            "xsd.facet",
            "/nuu:interfaceNuu/nuu:demande/nuu:demandeLogement/nuu:personnePhysique/nuu:demandeur/nuu:nom",
        ): 2,
    }
    assert "| drm-ressources | request | 5 | 3 | 2 | 2 | 0 | 2 | 60.0 % |" in outputs["md"]
    assert 'classname="exports-download" name="response"' in outputs["junit"]
    # The page shows the same figures.
    assert 'data-total="exchanges"><div class="value">11<' in outputs["page"]


def test_a_campaign_in_sqlite(upstream, tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = f"sqlite:///{path}"
    # Even with values quoted in messages and logs, the store keeps none.
    outputs, log = run_campaign(store, tmp_path, upstream, capture_values="true")
    check_the_report(outputs)
    assert any(CANARY in line for line in log)  # the canary was there to be found
    connection = sqlite3.connect(path)
    dump = "\n".join(connection.iterdump())
    clients = connection.execute(
        "SELECT client, count(*) FROM exchanges GROUP BY client"
    ).fetchall()
    connection.close()
    assert dict(clients) == {SUBJECT: 3, "127.0.0.1": 8}
    files = b"".join(file.read_bytes() for file in tmp_path.glob("store.db*"))
    assert CANARY.encode() not in files
    for text in (dump, *outputs.values()):
        assert CANARY not in text


def test_a_campaign_in_postgresql(upstream, postgres, tmp_path: Path) -> None:
    outputs, _ = run_campaign(postgres.url, tmp_path, upstream)
    check_the_report(outputs)
    dump = postgres.dump()
    assert SUBJECT in dump
    for text in (dump, *outputs.values()):
        assert CANARY not in text

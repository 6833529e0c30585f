"""Validation against the next XSD set, over real sockets: the gateway in front of a scripted
upstream, with the shipped 13.34 in service and, as the next set, a copy of it in which `nom`
is shorter (a change that breaks producers); then 13.33 in service and 13.34 next (the 2025
incident: an answer carrying `adressePostale`). Each time, the client's answer and headers are
those of a gateway without a next set, what the upstream receives is what was sent, and the
document judged otherwise is recorded (store, metrics, log) with the `diff` change that
explains it.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import time
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from gateway.simulator.app import create_simulator
from gateway.simulator.settings import SimulatorSettings
from gateway.store.backend import open_backend
from gateway.store.location import parse_store
from tests.servers import (
    RunningServer,
    gateway_settings,
    scraped,
    series,
    serve_asgi,
    serve_gateway,
    wait_for,
)
from tests.upstream import Answer, ScriptedUpstream

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHIPPED_XSD = ROOT / "xsd"
CONTENT_TYPES = tomllib.loads((FIXTURES / "soap/content-types.toml").read_text())
SOAP = "/nuu-ws/services/DemandeLogement"
GDM = "/v1.0/gdm/mouvements"
#: 40 characters: within 13.34's 50 for `nom`, over the next set's 30.
FORTY = b"DE LA TOUR D AUVERGNE-VALDEMARNE-ESSAIS"
NOM_PATH = (
    "/nuu:interfaceNuu/nuu:demande/nuu:demandeLogement/nuu:personnePhysique/nuu:demandeur/nuu:nom"
)
HEADERS_COMPARED = ("x-conformance", "x-conformance-request", "x-conformance-response")


def next_set_with_short_nom(directory: Path) -> Path:
    """A copy of the shipped 13.34 whose names (`nomDomaine`) take 30 characters, not 50."""
    copy = directory / "livraison-13.35"
    shutil.copytree(SHIPPED_XSD / "13.34", copy)
    domains = copy / "commun" / "NUU_Domaines.xsd"
    text = domains.read_text(encoding="utf-8")
    start = text.index('<xs:simpleType name="nomDomaine">')
    end = text.index("</xs:simpleType>", start)
    shortened = text[start:end].replace('<xs:maxLength value="50"/>', '<xs:maxLength value="30"/>')
    domains.write_text(text[:start] + shortened + text[end:], encoding="utf-8")
    manifest = copy / "manifest.toml"
    manifest.write_text(manifest.read_text().replace('"13.34"', '"13.35"'))
    return copy


def mtom_request() -> tuple[bytes, str]:
    name = "mtom-getNumUnique-invalid.mime"
    message = (FIXTURES / "soap" / name).read_bytes()
    return message.replace(b"DE LA TOUR D AUVERGNE-VALDEMARNE-ESSAI-FICTIVE-TESTARDE", FORTY), (
        CONTENT_TYPES[name]
    )


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[RunningServer, ScriptedUpstream]]:
    scripted = ScriptedUpstream()
    response = "mtom-getNumUnique-response.mime"
    scripted.answer(
        SOAP,
        Answer(200, CONTENT_TYPES[response], (FIXTURES / "soap" / response).read_bytes()),
    )
    scripted.answer(
        GDM,
        Answer(
            200,
            "application/xml",
            (FIXTURES / "valid/13.34/gdm-mouvements/empty-adresse-postale.xml").read_bytes(),
        ),
    )
    with serve_asgi(scripted) as running:
        yield running, scripted


def differences(store: str) -> list[dict[str, Any]]:
    backend = open_backend(parse_store(store))  # type: ignore[arg-type]
    try:
        rows = backend.fetch(
            """SELECT route, direction, schema_now, schema_next, verdict_next, violations,
               explained_by, request_id FROM next_set_differences ORDER BY id"""
        )
    finally:
        backend.close()
    return [
        {
            "route": route,
            "direction": direction,
            "current": current,
            "next_schema": next_schema,
            "next": verdict,
            "violations": json.loads(violations),
            "explained_by": json.loads(explained),
            "request_id": request_id,
        }
        for route, direction, current, next_schema, verdict, violations, explained, request_id in rows
    ]


class LoggedEvents:
    """The JSON events in-process gateways write to stderr (captured by pytest)."""

    def __init__(self, capfd: pytest.CaptureFixture[str]) -> None:
        self.capfd = capfd
        self.events: list[dict[str, Any]] = []

    def named(self, name: str) -> list[dict[str, Any]]:
        for line in self.capfd.readouterr().err.splitlines():
            if line.startswith("{"):
                self.events.append(json.loads(line))
        return [event for event in self.events if event["event"] == name]


def changed(file: Path, text: str, seen: Callable[[], bool]) -> None:
    """Write `text` into `file` until `seen` (every 2 s: a watch armed late saw nothing)."""
    deadline = time.monotonic() + 30  # only bounds a failing test
    while True:
        file.write_text(text, encoding="utf-8")
        written = time.monotonic()
        while time.monotonic() - written < 2:
            if seen():
                return
            assert time.monotonic() < deadline, "the change was not seen"
            time.sleep(0.05)


def exchange(url: str, method: str, path: str, **options: Any) -> httpx.Response:
    return httpx.request(method, url + path, timeout=30, **options)


def test_a_request_too_long_for_the_next_set_goes_as_today_and_is_recorded(
    upstream: tuple[RunningServer, ScriptedUpstream],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    logging_restored: None,
) -> None:
    server, scripted = upstream
    body, content_type = mtom_request()
    headers = {"content-type": content_type, "x-request-id": "shadow-nom-1"}
    with serve_gateway(gateway_settings(server.url, version="13.34")) as plain:
        today = exchange(plain.url, "POST", SOAP, content=body, headers=headers)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    settings = gateway_settings(
        server.url,
        version="13.34",
        shadow_xsd=str(next_set_with_short_nom(tmp_path)),
        store=store,
        # Even so, what the next set finds keeps no value: the name too long for it is the
        # canary.
        capture_values=True,
    )
    scripted.received.clear()
    with serve_gateway(settings) as gateway:
        shadowed = exchange(gateway.url, "POST", SOAP, content=body, headers=headers)
        assert scripted.received[-1].body == body
        assert shadowed.status_code == today.status_code == 200
        assert shadowed.content == today.content
        assert {name: shadowed.headers.get(name) for name in HEADERS_COMPARED} == {
            name: today.headers.get(name) for name in HEADERS_COMPARED
        }
        assert shadowed.headers["x-conformance"] == "pass"
        assert "x-conformance-next" not in shadowed.headers
        wait_for(lambda: differences(store))
        key = series(
            "sne_gateway_shadow_differences_total",
            route="getNumUnique",
            direction="request",
            code="xsd.facet",
            next="fail",
        )
        wait_for(lambda: scraped(gateway.url).get(key) == 1.0)
    logged = LoggedEvents(capfd)
    (differs,) = logged.named("shadow.differs")
    assert differs["request_id"] == "shadow-nom-1" and differs["next"] == "fail"
    assert FORTY.decode() not in json.dumps(logged.events)
    assert FORTY not in (tmp_path / "store.db").read_bytes()
    (found,) = differences(store)
    assert found["route"] == "getNumUnique"
    assert found["direction"] == "request"
    assert found["request_id"] == "shadow-nom-1"
    assert (found["current"], found["next_schema"], found["next"]) == (
        "demande@13.34",
        "demande@13.35",
        "fail",
    )
    assert [(code, path) for code, path, _, _ in found["violations"]] == [("xsd.facet", NOM_PATH)]
    explained = [(kind, path) for _, kind, path, _ in found["explained_by"]]
    assert explained == [
        (
            "facet-changed",
            "interfaceNuu/demande/demandeLogement/personnePhysique/demandeur/nom",
        )
    ]
    change_id, _, _, why = found["explained_by"][0]
    assert change_id.startswith("C")
    assert "maxLength 50 → 30" in why


def test_an_answer_with_adresse_postale_fails_today_and_passes_under_13_34(
    upstream: tuple[RunningServer, ScriptedUpstream], tmp_path: Path
) -> None:
    server, _ = upstream
    with serve_gateway(gateway_settings(server.url, version="13.33")) as plain:
        today = exchange(plain.url, "GET", GDM, params={"depuis": "2025-04-28T15:36:00+02:00"})
    store = f"sqlite:///{tmp_path / 'store.db'}"
    settings = gateway_settings(
        server.url,
        version="13.33",
        shadow_xsd=str(SHIPPED_XSD / "13.34"),
        store=store,
    )
    with serve_gateway(settings) as gateway:
        shadowed = exchange(gateway.url, "GET", GDM, params={"depuis": "2025-04-28T15:36:00+02:00"})
        assert shadowed.content == today.content
        assert shadowed.headers["x-conformance"] == today.headers["x-conformance"] == "fail"
        wait_for(lambda: differences(store))
    (found,) = differences(store)
    assert (found["route"], found["direction"], found["next"]) == (
        "gdm-mouvements",
        "response",
        "pass",
    )
    assert (found["current"], found["next_schema"]) == (
        "gdm-mouvements@13.33",
        "gdm-mouvements@13.34",
    )
    assert {code for code, _, _, _ in found["violations"]} == {"xsd.unexpected-element"}
    assert [(kind, path) for _, kind, path, _ in found["explained_by"]] == [
        ("element-added", "interfaceNuu/listeMouvement/mouvement/demandeur/adressePostale")
    ]


def export_with(application: bytes) -> bytes:
    """The valid export, plus one CERFA member."""
    output = io.BytesIO()
    with (
        tarfile.open(
            fileobj=io.BytesIO((FIXTURES / "archives/export-valid.tgz").read_bytes())
        ) as valid,
        tarfile.open(fileobj=output, mode="w:gz") as tar,
    ):
        for member in valid.getmembers():
            tar.addfile(member, valid.extractfile(member) if member.isfile() else None)
        info = tarfile.TarInfo("CERFA/long-name.xml")
        info.size = len(application)
        tar.addfile(info, io.BytesIO(application))
    return output.getvalue()


def test_x_conformance_next_when_asked(
    upstream: tuple[RunningServer, ScriptedUpstream], tmp_path: Path
) -> None:
    server, scripted = upstream
    body, content_type = mtom_request()
    store = f"sqlite:///{tmp_path / 'store.db'}"
    next_set = str(next_set_with_short_nom(tmp_path))
    application = (FIXTURES / "valid/13.34/demande/empty-adresse-postale.xml").read_bytes()
    name = etree.fromstring(application).findtext(".//{http://nuu.application.i2/}nom")
    assert name is not None
    scripted.answer(
        "/v1.0/exports/7/fichier",
        Answer(
            200,
            "application/gzip",
            export_with(application.replace(f">{name}<".encode(), b">" + FORTY + b"<", 1)),
        ),
    )
    settings = gateway_settings(
        server.url, version="13.34", shadow_xsd=next_set, store=store, conformance_next="asked"
    )
    with serve_gateway(settings) as gateway:
        asked = {"content-type": content_type, "x-conformance-next": "?"}
        answer = exchange(gateway.url, "POST", SOAP, content=body, headers=asked)
        assert (answer.headers["x-conformance"], answer.headers["x-conformance-next"]) == (
            "pass",
            "fail",
        )
        # The header reached the upstream as sent; the request did too.
        assert scripted.received[-1].headers["x-conformance-next"] == "?"
        assert scripted.received[-1].body == body
        unasked = exchange(
            gateway.url, "POST", SOAP, content=body, headers={"content-type": content_type}
        )
        assert "x-conformance-next" not in unasked.headers
        export = exchange(
            gateway.url, "GET", "/v1.0/exports/7/fichier", headers={"x-conformance-next": "?"}
        )
        assert export.headers["x-conformance-next"] == "streaming"
        wait_for(lambda: len(differences(store)) == 3)
    found = [(d["route"], d["direction"], d["next"]) for d in differences(store)]
    assert sorted(found) == [
        ("exports-download", "response", "fail"),
        ("getNumUnique", "request", "fail"),
        ("getNumUnique", "request", "fail"),
    ]
    member = next(d for d in differences(store) if d["route"] == "exports-download")
    assert [kind for _, kind, _, _ in member["explained_by"]] == ["facet-changed"]
    off = gateway_settings(server.url, version="13.34", shadow_xsd=next_set)
    with serve_gateway(off) as gateway:
        answer = exchange(gateway.url, "POST", SOAP, content=body, headers=asked)
        assert "x-conformance-next" not in answer.headers


def test_what_the_queue_has_no_room_for_is_dropped_counted_and_said(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], logging_restored: None
) -> None:
    logged = LoggedEvents(capfd)
    with serve_asgi(create_simulator(SimulatorSettings())) as simulator:
        settings = gateway_settings(
            simulator.url, shadow_xsd=str(SHIPPED_XSD / "13.33"), shadow_queue_mb=1
        )
        with serve_gateway(settings) as gateway:
            depuis = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
            # About 3 MB of movements: more than the shadow's 1 MiB, never queued.
            big = exchange(
                gateway.url,
                "GET",
                GDM,
                params={"depuis": depuis},
                headers={"x-simulator-movements": "6000"},
            )
            assert big.status_code == 200
            key = series("sne_gateway_shadow_documents_total", result="dropped")
            wait_for(lambda: scraped(gateway.url).get(key) == 1.0)
            small = exchange(
                gateway.url,
                "GET",
                GDM,
                params={"depuis": depuis},
                headers={"x-simulator-movements": "3"},
            )
            assert small.status_code == 200
            compared = series("sne_gateway_shadow_documents_total", result="compared")
            wait_for(lambda: scraped(gateway.url).get(compared) == 1.0)
            wait_for(lambda: logged.named("shadow.drops-ended"))
    dropped = logged.named("shadow.dropped")
    assert len(dropped) == 1 and "shadow_queue_mb" in dropped[0]["reason"]
    assert logged.named("shadow.drops-ended")[0]["dropped"] == 1


def test_the_next_set_is_hot_reloaded_and_a_broken_one_keeps_the_last_good(
    upstream: tuple[RunningServer, ScriptedUpstream], tmp_path: Path
) -> None:
    server, _ = upstream
    body, content_type = mtom_request()
    headers = {"content-type": content_type}
    next_set = tmp_path / "next"
    shutil.copytree(SHIPPED_XSD / "13.34", next_set)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    settings = gateway_settings(
        server.url,
        version="13.34",
        shadow_xsd=str(next_set),
        store=store,
        reload=True,
        reload_debounce_ms=50,
    )
    with serve_gateway(settings) as gateway:
        health = lambda: httpx.get(gateway.url + "/_gateway/health").json()  # noqa: E731
        wait_for(lambda: health()["next_xsd"].get("version") == "13.34")
        exchange(gateway.url, "POST", SOAP, content=body, headers=headers)
        compared = series("sne_gateway_shadow_documents_total", result="compared")
        wait_for(lambda: scraped(gateway.url).get(compared) == 4.0)
        assert differences(store) == []
        shortened = next_set_with_short_nom(tmp_path / "shortened")
        domains = next_set / "commun/NUU_Domaines.xsd"
        written = (shortened / "commun/NUU_Domaines.xsd").read_text(encoding="utf-8")
        # The next set's process arms its watch once its sets are compiled: written again
        # until it has seen a change.
        changed(domains, written, lambda: health()["next_xsd"]["reloads"] == 1)
        exchange(gateway.url, "POST", SOAP, content=body, headers=headers)
        wait_for(lambda: len(differences(store)) == 1)
        domains.write_text(written[:200], encoding="utf-8")
        wait_for(lambda: health()["next_xsd"]["last_reload_error"] is not None)
        state = health()
        assert state["status"] == "ok"  # the set in service is fine
        assert state["next_xsd"]["last_reload_error"]["file"].endswith("NUU_Domaines.xsd")
        exchange(gateway.url, "POST", SOAP, content=body, headers=headers)
        wait_for(lambda: len(differences(store)) == 2)

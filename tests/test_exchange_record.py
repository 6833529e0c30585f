"""What the proxy records of each exchange, over real sockets: the client (the configured
header, else the peer's address), refusals, upstream failures, and an exchange nothing
validated; and never the path, query or a header's value but the client's."""

from __future__ import annotations

from pathlib import Path

import httpx

import gateway.store.writer as writer_module
from gateway.store.backend import open_backend
from gateway.store.location import parse_store
from tests.servers import gateway_settings, serve_gateway, wait_for
from tests.test_campaign import DRM, FIXTURES, XML, drm_invalid
from tests.test_campaign import upstream as campaign_upstream

upstream = campaign_upstream
SUBJECT = "CN=si-essai,O=Editeur"


def rows(store: str, sql: str) -> list[tuple]:
    backend = open_backend(parse_store(store))  # type: ignore[arg-type]
    try:
        return backend.fetch(sql)
    finally:
        backend.close()


def test_each_exchange_is_recorded_with_its_client_and_how_it_ended(
    upstream, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    settings = gateway_settings(upstream.url, env="recette", store=store, client_header="X-Client")
    valid = (FIXTURES / "valid/13.33/drm-ressources/requete.xml").read_bytes()
    with serve_gateway(settings) as gateway:
        answer = httpx.post(
            gateway.url + DRM,
            content=valid,
            headers={**XML, "x-client": SUBJECT, "x-request-id": "mine-1"},
        )
        assert answer.status_code == 200
        assert httpx.post(gateway.url + DRM, content=drm_invalid(), headers=XML).status_code == 422
        assert httpx.request("TRACE", gateway.url + "/anything").status_code == 405
        assert httpx.get(gateway.url + "/elsewhere?secret=1").status_code == 200
        wait_for(lambda: rows(store, "SELECT count(*) FROM exchanges") == [(4,)])
    exchanges = rows(
        store,
        "SELECT request_id, method, route, conformance, outcome, status, client, env, violations "
        "FROM exchanges ORDER BY at_ms",
    )
    assert exchanges[0] == (
        "mine-1",
        "POST",
        "drm-ressources",
        "pass",
        None,
        200,
        SUBJECT,
        "recette",
        0,
    )
    assert exchanges[1][1:] == (
        "POST",
        "drm-ressources",
        "fail",
        None,
        422,
        "127.0.0.1",
        "recette",
        1,
    )
    assert exchanges[2][1:] == ("TRACE", "", "skipped", "refused", 405, "127.0.0.1", "recette", 0)
    assert exchanges[3][1:] == ("GET", "", "skipped", None, 200, "127.0.0.1", "recette", 0)
    checks = rows(store, "SELECT direction, conformance, action, schemas, documents FROM checks")
    assert sorted(checks) == [
        ("request", "fail", "blocked", "drm-ressources@13.34", 1),
        ("request", "pass", "forwarded", "drm-ressources@13.34", 1),
        ("response", "pass", "forwarded", "drm-ressources@13.34", 1),
    ]
    assert rows(store, "SELECT direction, code, schema_name, path, line, col FROM violations") == [
        (
            "request",
            "xsd.pattern",
            "drm-ressources@13.34",
            "/nuu:interfaceNuu/nuu:requeteRessources/nuu:listeNumUnique/nuu:numUnique[2]",
            12,
            7,
        )
    ]
    every_value = str(rows(store, "SELECT * FROM exchanges")) + str(
        rows(store, "SELECT * FROM checks")
    )
    assert "elsewhere" not in every_value and "secret" not in every_value


def test_an_upstream_failure_is_recorded_as_it_ended(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    with serve_gateway(gateway_settings("http://127.0.0.1:9", store=store)) as gateway:
        valid = (FIXTURES / "valid/13.33/drm-ressources/requete.xml").read_bytes()
        assert httpx.post(gateway.url + DRM, content=valid, headers=XML).status_code == 502
        wait_for(lambda: rows(store, "SELECT count(*) FROM exchanges") == [(1,)])
    assert rows(store, "SELECT route, conformance, outcome, status FROM exchanges") == [
        ("drm-ressources", "pass", "upstream.unreachable", 502)
    ]


def test_a_store_that_cannot_be_written_does_not_stop_traffic(
    upstream, tmp_path: Path, capfd, logging_restored, monkeypatch
) -> None:
    # The stop gives the store a second, not ten, to come back.
    monkeypatch.setattr(writer_module, "STOP_SECONDS", 1.0)
    blocker = tmp_path / "stores"
    blocker.write_text("a file where the store's folder should be")
    store = f"sqlite:///{blocker / 'store.db'}"
    valid = (FIXTURES / "valid/13.33/drm-ressources/requete.xml").read_bytes()
    with serve_gateway(gateway_settings(upstream.url, env="recette", store=store)) as gateway:
        for _ in range(5):
            answer = httpx.post(gateway.url + DRM, content=valid, headers=XML)
            assert answer.status_code == 200 and answer.headers["x-conformance"] == "pass"
        wait_for(
            lambda: (
                "sne_gateway_store_failing 1.0" in httpx.get(gateway.url + "/_gateway/metrics").text
            )
        )
    events = [line for line in capfd.readouterr().err.splitlines() if '"store.' in line]
    assert sum('"event":"store.unavailable"' in line for line in events) == 1
    # Stopped with the store still down: what it held is said lost, not silently dropped.
    assert any('"event":"store.records-lost"' in line and '"records":5' in line for line in events)

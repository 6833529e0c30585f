"""Hot reload of the XSD set while exchanges run: valid → broken → fixed, with 50 concurrent
clients and no failed exchange; a broken set keeps the last good one and shows in health."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from pathlib import Path

import httpx

from gateway.reload import SchemaHolder
from tests.servers import (
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
CLIENTS = 50


def test_reload_valid_broken_fixed_under_load(tmp_path: Path) -> None:
    xsd = tmp_path / "xsd"
    shutil.copytree(ROOT / "xsd", xsd)
    domains = xsd / "13.34" / "commun" / "NUU_Domaines.xsd"
    original = domains.read_text(encoding="utf-8")
    request = sorted((FIXTURES / "valid/13.33/export-demande").glob("*.xml"))[0].read_bytes()
    answer = sorted((FIXTURES / "valid/13.33/export-statut").glob("*.xml"))[0].read_bytes()
    upstream = ScriptedUpstream()
    upstream.answer("/v1.0/exports", Answer(200, "application/xml", answer))
    failures: list[str] = []
    done = threading.Event()
    exchanges = 0
    lock = threading.Lock()

    def client(url: str) -> None:
        nonlocal exchanges
        with httpx.Client(timeout=30) as session:
            while not done.is_set():
                response = session.post(
                    url + "/v1.0/exports",
                    content=request,
                    headers={"content-type": "application/xml"},
                )
                with lock:
                    exchanges += 1
                    if (
                        response.status_code != 200
                        or response.headers.get("x-conformance") != "pass"
                    ):
                        failures.append(
                            f"{response.status_code} {response.headers.get('x-conformance')}"
                        )

    with serve_asgi(upstream) as running:
        settings = gateway_settings(
            running.url, xsd=str(xsd), reload="true", reload_debounce_ms="50"
        )
        with serve_gateway(settings) as gateway:
            health = lambda: httpx.get(gateway.url + "/_gateway/health").json()  # noqa: E731
            degraded = lambda: scraped(gateway.url)[series("sne_gateway_xsd_degraded")]  # noqa: E731
            threads = [threading.Thread(target=client, args=(gateway.url,)) for _ in range(CLIENTS)]
            for thread in threads:
                thread.start()
            wait_for(lambda: exchanges >= CLIENTS)

            domains.write_text(original.replace("</xs:schema>", "<xs:broken>"), encoding="utf-8")
            wait_for(lambda: health()["status"] == "degraded")
            error = health()["xsd"]["last_reload_error"]
            assert error["file"].endswith("NUU_Domaines.xsd")
            assert error["line"] and error["reason"].startswith("not well-formed XML")
            assert degraded() == 1
            served_during_breakage = exchanges

            domains.write_text(original, encoding="utf-8")
            wait_for(lambda: health()["status"] == "ok" and health()["xsd"]["reloads"] >= 1)
            assert degraded() == 0
            wait_for(lambda: exchanges >= served_during_breakage + CLIENTS)
            done.set()
            for thread in threads:
                thread.join()
            assert failures == []
            assert exchanges > 2 * CLIENTS

            # A valid change is swapped in: the same request now breaks the new rule.
            export = xsd / "13.34" / "export" / "NUU_ExportDemande.xsd"
            renamed = export.read_text(encoding="utf-8").replace(
                'name="etat" type=', 'name="etatDemande" type='
            )
            reloads = health()["xsd"]["reloads"]
            export.write_text(renamed, encoding="utf-8")
            wait_for(lambda: health()["xsd"]["reloads"] > reloads)
            response = httpx.post(
                gateway.url + "/v1.0/exports",
                content=request,
                headers={"content-type": "application/xml"},
            )
            assert response.status_code == 422
            assert b"xsd.unexpected-element" in response.content


def test_a_delivery_replaced_as_a_whole_is_picked_up(tmp_path: Path) -> None:
    xsd = tmp_path / "xsd"
    shutil.copytree(ROOT / "xsd", xsd)
    broken = tmp_path / "xsd.new"
    shutil.copytree(ROOT / "xsd", broken)
    domains = Path("13.34") / "commun" / "NUU_Domaines.xsd"
    (broken / domains).write_text("<xs:broken", encoding="utf-8")
    upstream = ScriptedUpstream()
    with serve_asgi(upstream) as running:
        settings = gateway_settings(
            running.url, xsd=str(xsd), reload="true", reload_debounce_ms="50"
        )
        with serve_gateway(settings) as gateway:
            health = lambda: httpx.get(gateway.url + "/_gateway/health").json()  # noqa: E731
            shutil.rmtree(xsd)
            broken.rename(xsd)
            wait_for(lambda: health()["status"] == "degraded")
            (xsd / domains).write_text(
                (ROOT / "xsd" / domains).read_text(encoding="utf-8"), encoding="utf-8"
            )
            wait_for(lambda: health()["status"] == "ok")


def test_a_file_name_that_is_not_utf8_is_reported_then_recovered(tmp_path: Path) -> None:
    # A manifest-less delivery, as unzipped from Windows: "Données.xsd" in Latin-1.
    xsd = tmp_path / "xsd"
    for part in ("demande", "commun"):
        shutil.copytree(ROOT / "xsd" / "13.34" / part, xsd / part)
    stray = os.path.join(os.fsencode(xsd / "demande"), b"Donn\xe9es.xsd")
    config = tmp_path / "gateway.toml"
    config.write_text('[gateway]\nenv = "recette"\n', encoding="utf-8")
    upstream = ScriptedUpstream()
    with serve_asgi(upstream) as running:
        settings = gateway_settings(
            running.url, config=config, xsd=str(xsd), reload="true", reload_debounce_ms="50"
        )
        with serve_gateway(settings) as gateway:
            health = lambda: httpx.get(gateway.url + "/_gateway/health").json()  # noqa: E731
            with open(stray, "wb") as file:
                file.write(b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>')
            # The watch cannot name the file; the reload after its failure reports it.
            wait_for(lambda: health()["status"] == "degraded")
            error = health()["xsd"]["last_reload_error"]
            assert error["file"].endswith("demande/Donn\\xe9es.xsd")
            assert error["reason"].startswith("the file name is not UTF-8")
            os.remove(stray)
            wait_for(lambda: health()["status"] == "ok")


def test_a_save_in_several_writes_is_reloaded_once(tmp_path: Path) -> None:
    """reload_debounce_ms is a pause: a file truncated, then written 0.2 s later (an editor's
    save), is reloaded once, whole, rather than half-written and then again."""
    xsd = tmp_path / "xsd"
    shutil.copytree(ROOT / "xsd", xsd)
    domains = xsd / "13.34" / "commun" / "NUU_Domaines.xsd"
    content = domains.read_bytes()
    holder = SchemaHolder(gateway_settings("http://127.0.0.1:9", xsd=str(xsd)))
    reloads: list[bool] = []
    reload = holder.reload

    async def counted() -> bool:
        reloads.append(await reload())
        return reloads[-1]

    holder.reload = counted  # type: ignore[method-assign]

    async def save_in_two_writes() -> None:
        stop = asyncio.Event()
        watching = asyncio.create_task(holder.watch(1000, stop))
        await asyncio.sleep(0.5)  # the watch is armed
        domains.write_bytes(b"")
        await asyncio.sleep(0.2)
        domains.write_bytes(content)
        while not reloads:
            await asyncio.sleep(0.05)
        stop.set()
        await watching

    asyncio.run(asyncio.wait_for(save_in_two_writes(), 60))
    assert reloads == [True]

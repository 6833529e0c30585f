"""The dashboard at `/_gateway/ui`, in a real headless Chromium (Debian's `chromium`, which
`.ci/run` installs when missing, driven by Playwright with that browser; Playwright's own
browsers are never downloaded): it shows the counts of the traffic the test sent, its filters
change them, with or without JavaScript, and no console error. A screenshot is kept in
`build/test-artefacts/` (or `$SNE_GATEWAY_TEST_ARTEFACTS`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.catalog import SHIPPED_XSD, load_catalog
from tests.servers import RunningServer, gateway_settings, serve_gateway, wait_for
from tests.test_campaign import (
    CONTENT_TYPES,
    DRM,
    FIXTURES,
    MTOM_INVALID,
    SOAP,
    SOAP12,
    XML,
    drm_invalid,
    mtom_invalid,
    recorded,
)
from tests.test_campaign import upstream as campaign_upstream

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTEFACTS = Path(os.environ.get("SNE_GATEWAY_TEST_ARTEFACTS", ROOT / "build/test-artefacts"))
BROWSER_ARGUMENTS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
upstream = campaign_upstream


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).is_file():
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGUMENTS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def gateway(upstream, tmp_path_factory) -> Iterator[tuple[RunningServer, str]]:
    """A gateway in recette with a store, and 7 exchanges recorded: 3 valid and 2 invalid DRM
    calls, a valid SOAP call and an invalid MTOM one."""
    store = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'store.db'}"
    settings = gateway_settings(upstream.url, env="recette", store=store)
    with serve_gateway(settings) as running:
        valid = (FIXTURES / "valid/13.33/drm-ressources/requete.xml").read_bytes()
        for _ in range(3):
            assert httpx.post(running.url + DRM, content=valid, headers=XML).status_code == 200
        for _ in range(2):
            assert (
                httpx.post(running.url + DRM, content=drm_invalid(), headers=XML).status_code == 422
            )
        soap = (FIXTURES / "soap/soap12-getNumUnique-request.xml").read_bytes()
        assert (
            httpx.post(
                running.url + SOAP, content=soap, headers={"content-type": SOAP12}
            ).status_code
            == 200
        )
        mtom = {"content-type": CONTENT_TYPES[MTOM_INVALID]}
        assert (
            httpx.post(running.url + SOAP, content=mtom_invalid(), headers=mtom).status_code == 400
        )
        wait_for(lambda: recorded(store) == 7)
        yield running, store


def watched(page) -> list[str]:
    """The console errors and page errors of `page`, as they come."""
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def total(page, name: str) -> int:
    return int(page.locator(f'[data-total="{name}"] .value').inner_text())


def test_the_page_shows_the_traffic_and_its_filters_change_it(browser, gateway) -> None:
    running, _ = gateway
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = watched(page)
    page.goto(running.url + "/_gateway/ui?since=1h")
    assert total(page, "exchanges") == 7
    assert (total(page, "passed"), total(page, "failed"), total(page, "violations")) == (4, 3, 3)
    version = load_catalog(SHIPPED_XSD).latest.version
    assert f"version {version}" in page.locator("#xsd-state").inner_text()
    row = page.locator("tr", has_text="drm-ressources").filter(has_text="request").first
    assert row.locator("td").all_inner_texts()[:5] == ["drm-ressources", "request", "5", "3", "2"]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTEFACTS / "dashboard.png", full_page=True)

    page.select_option("select[name=route]", "drm-ressources")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "route=drm-ressources" in page.url
    assert total(page, "exchanges") == 5 and total(page, "failed") == 2

    page.select_option("select[name=route]", "")
    page.select_option("select[name=code]", "xsd.facet")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert total(page, "exchanges") == 1 and total(page, "violations") == 1
    assert page.locator("table", has_text="xsd.facet").count() >= 1
    assert "xsd.pattern" not in " ".join(page.locator("table").all_inner_texts())

    page.select_option("select[name=code]", "")
    page.select_option("select[name=direction]", "response")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert total(page, "exchanges") == 4  # those whose answer was checked
    page.close()
    assert problems == []


def test_without_javascript_the_tables_and_the_form_work(browser, gateway) -> None:
    running, _ = gateway
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    problems = watched(page)
    page.goto(running.url + "/_gateway/ui?since=1h")
    assert total(page, "exchanges") == 7
    assert page.locator("table").count() >= 4
    page.select_option("select[name=route]", "getNumUnique")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert total(page, "exchanges") == 2 and total(page, "failed") == 1
    context.close()
    assert problems == []


def test_a_window_that_cannot_be_read_is_said(browser, gateway) -> None:
    running, _ = gateway
    answer = httpx.get(running.url + "/_gateway/ui", params={"since": "yesterday"})
    assert answer.status_code == 400
    assert "&#x27;yesterday&#x27; is not a moment" in answer.text
    page = browser.new_page()
    page.goto(running.url + "/_gateway/ui?since=2020-01-01&until=2020-01-02")
    assert "No exchange recorded" in page.locator("#empty").inner_text()
    page.close()


def test_its_files_come_from_the_gateway_with_a_strict_policy(gateway) -> None:
    running, _ = gateway
    page = httpx.get(running.url + "/_gateway/ui")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert page.headers["cache-control"] == "no-store"
    for name, media_type in (("campaign.css", "text/css"), ("dashboard.js", "text/javascript")):
        asset = httpx.get(running.url + f"/_gateway/ui/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(media_type)
    assert "http" not in page.text.split("<body>")[0]  # nothing in the head from elsewhere


def test_with_the_store_off_the_page_says_so(upstream) -> None:
    with serve_gateway(gateway_settings(upstream.url)) as running:
        page = httpx.get(running.url + "/_gateway/ui")
    assert page.status_code == 200
    assert "The violations store is off" in page.text and "XSD set in service" in page.text


def test_a_failed_reload_shows_as_the_xsd_sets_state() -> None:
    from gateway.report.campaign.dashboard_page import Form, StoreState, dashboard_page

    state = {
        "source": "/srv/xsd",
        "version": "13.34",
        "loaded_at": "2026-11-29T10:00:00+00:00",
        "reloads": 2,
        "last_reload_error": {
            "file": "/srv/xsd/NUU_Domaines.xsd",
            "line": 704,
            "reason": "not <well-formed>",
        },
    }
    page = dashboard_page(None, Form(), state, StoreState("off"))
    assert "XSD set degraded" in page and "/srv/xsd/NUU_Domaines.xsd, line 704" in page
    assert "not &lt;well-formed&gt;" in page and "version 13.34" in page

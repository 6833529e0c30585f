"""Business rules through the proxy, over real sockets: the country rule's cases in a SOAP
body, in an MTOM attachment and in an export's member, in recette at the rules' defaults (pays
logged, PJ blocked) and with pays following the policy; the SNE simulator behind, which checks
no rule; the referential edited and broken while the gateway runs."""

from __future__ import annotations

import importlib.util
import io
import re
import shutil
import tarfile
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from gateway.rules.referential import SHIPPED_COG
from gateway.simulator.app import create_simulator
from gateway.simulator.settings import SimulatorSettings
from tests.servers import (
    RunningServer,
    gateway_settings,
    scraped,
    series,
    serve_asgi,
    serve_gateway,
    wait_for,
)
from tests.test_proxy_exchanges import VALID_DEMANDE, anomalies, soap12_response
from tests.upstream import Answer, ScriptedUpstream

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SOAP = FIXTURES / "soap"
SERVICE = "/nuu-ws/services/DemandeLogement"
ACTION = "http://ws.metier.nuu.application.i2/getNumUnique"
SOAP12_TYPE = f'application/soap+xml; charset=UTF-8; action="{ACTION}"'
MTOM_TYPE = tomllib.loads((SOAP / "content-types.toml").read_text(encoding="utf-8"))[
    "mtom-getNumUnique-request.mime"
]
ENV12 = "http://www.w3.org/2003/05/soap-envelope"
EXPORT = "/v1.0/exports/7/fichier"
_spec = importlib.util.spec_from_file_location("make_soap", SOAP / "make_soap.py")
assert _spec is not None and _spec.loader is not None
make_soap = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_soap)

#: The issue's cases: the application's pays, and the violation code (None: it passes).
CASES = {
    "allemagne": ("valid/13.33/demande/foreign-address.xml", None),
    "Republique dominicainne": ("invalid/demande/rule.pays--typo.xml", "rule.pays"),
    "Martinique": ("invalid/demande/rule.pays-overseas--martinique.xml", "rule.pays-overseas"),
    "DE": ("invalid/demande/rule.pays-code--iso2.xml", "rule.pays-code"),
}
SHORT = {"rule.pays": "PAY01", "rule.pays-overseas": "PAY04", "rule.pays-code": "PAY02"}


def application(name: str) -> bytes:
    return make_soap.as_request((FIXTURES / name).read_bytes())


def soap_request(document: bytes) -> bytes:
    certificate = make_soap.b64(make_soap.CERTIFICATE)
    return make_soap.envelope(
        make_soap.SOAP12, make_soap.parametres("ws", make_soap.b64(document), certificate, "  ")
    )


def mtom_request(document: bytes) -> bytes:
    envelope = make_soap.cxf_envelope(
        make_soap.parametres("ns2", make_soap.include(1), make_soap.include(2)).replace(
            "<ns2:getNumUnique>", f'<ns2:getNumUnique xmlns:ns2="{make_soap.WS}">', 1
        )
    )
    return make_soap.mtom(envelope, [(1, document), (2, make_soap.CERTIFICATE)])


CARRIERS = {"soap": (soap_request, SOAP12_TYPE), "mtom": (mtom_request, MTOM_TYPE)}


def export(*names: str) -> bytes:
    """An XML TGZ export whose members are these fixtures."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for number, name in enumerate(names, 1):
            data = (FIXTURES / name).read_bytes()
            info = tarfile.TarInfo(f"CERFA/{number:04d}.xml")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


#: Valid members first, then the three broken ones, then more valid ones: a download cut at the
#: first broken member is shorter than the whole.
EXPORTED = export(
    *[CASES["allemagne"][0]] * 40,
    CASES["Martinique"][0],
    CASES["DE"][0],
    CASES["Republique dominicainne"][0],
    *[CASES["allemagne"][0]] * 200,
)


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[ScriptedUpstream, RunningServer]]:
    scripted = ScriptedUpstream()
    scripted.answer(SERVICE, Answer(200, "application/soap+xml", soap12_response(VALID_DEMANDE)))
    scripted.answer(EXPORT, Answer(200, "application/gzip", EXPORTED))
    with serve_asgi(scripted) as running:
        yield scripted, running


def post(url: str, carrier: str, document: bytes) -> httpx.Response:
    build, content_type = CARRIERS[carrier]
    return httpx.post(
        url + SERVICE, content=build(document), headers={"content-type": content_type}, timeout=30
    )


def violations(url: str, code: str, direction: str = "request") -> float:
    route = "exports-download" if direction == "response" else "getNumUnique"
    key = series("sne_gateway_violations_total", route=route, direction=direction, code=code)
    return scraped(url).get(key, 0)


RECETTE = '[policy.recette]\nrequest = "block"\nresponse = "log"'
#: The shipped file's own [rules] table, which `rules` replaces.
SHIPPED_RULES = re.compile(r"^\[rules\]\n(?:[^\n\[]+\n)*", re.MULTILINE)


def write_config(path: Path, rules: str = "", block_answers: bool = False) -> Path:
    """The shipped configuration with a [rules] table, and answers blocked in recette."""
    text = (ROOT / "gateway.toml").read_text(encoding="utf-8")
    assert RECETTE in text
    if rules:
        text, replaced = SHIPPED_RULES.subn("", text)
        assert replaced == 1
    recette = RECETTE.replace('"log"', '"block"') if block_answers else RECETTE
    path.write_text(text.replace(RECETTE, f"{rules}\n{recette}", 1), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def recette(upstream) -> Iterator[str]:
    """The gateway in recette, rules at their defaults."""
    _, running = upstream
    with serve_gateway(gateway_settings(running.url, env="recette")) as gateway:
        yield gateway.url


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
@pytest.mark.parametrize("value", sorted(CASES))
def test_recette_at_the_defaults_logs_the_country_rule_and_forwards(
    recette: str, upstream, carrier: str, value: str
) -> None:
    scripted, _ = upstream
    name, code = CASES[value]
    before = violations(recette, code) if code else 0
    scripted.received.clear()
    response = post(recette, carrier, application(name))
    # pays only logs by default (docs/configuration.md): every case reaches the SNE.
    assert response.status_code == 200
    assert len(scripted.received) == 1
    assert response.headers["x-conformance-request"] == ("pass" if code is None else "fail")
    if code is not None:
        wait_for(lambda: violations(recette, code) == before + 1)


@pytest.fixture(scope="module")
def blocking(upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[bool, str]]:
    """Gateways in recette with pays following the policy, with and without values."""
    _, running = upstream
    config = write_config(
        tmp_path_factory.mktemp("config") / "gateway.toml", '[rules]\npays = "policy"'
    )
    with (
        serve_gateway(gateway_settings(running.url, config, env="recette")) as plain,
        serve_gateway(
            gateway_settings(running.url, config, env="recette", capture_values="true")
        ) as values,
    ):
        yield {False: plain.url, True: values.url}


def fault_anomalies(response: httpx.Response) -> list[dict[str, str]]:
    envelope = etree.fromstring(response.content)
    return anomalies(envelope.find(f".//{{{ENV12}}}Detail"))


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
@pytest.mark.parametrize("value", sorted(CASES))
@pytest.mark.parametrize("show_values", [False, True])
def test_pays_following_the_policy_blocks_in_recette(
    blocking, upstream, carrier: str, value: str, show_values: bool
) -> None:
    scripted, _ = upstream
    name, code = CASES[value]
    scripted.received.clear()
    response = post(blocking[show_values], carrier, application(name))
    if code is None:
        assert response.status_code == 200
        assert response.headers["x-conformance-request"] == "pass"
        return
    assert response.status_code == 400
    assert scripted.received == []
    (anomaly,) = fault_anomalies(response)
    assert (anomaly["code"], anomaly["violation"]) == (SHORT[code], code)
    assert anomaly["propriete"].endswith("/nuu:adressePostale/nuu:pays")
    assert (value in anomaly["message"]) == show_values
    if value == "Republique dominicainne":
        assert ("'République dominicaine'" in anomaly["message"]) == show_values
    if value == "Martinique":
        assert "overseas" in anomaly["message"]
    if value == "DE":
        assert "country code" in anomaly["message"]


def test_a_pj_rule_follows_the_policy_by_default(recette: str, upstream) -> None:
    scripted, _ = upstream
    scripted.received.clear()
    document = application("invalid/demande/rule.pj-page-overlap--page-2.xml")
    response = post(recette, "mtom", document)
    assert response.status_code == 400
    assert scripted.received == []
    (anomaly,) = fault_anomalies(response)
    assert anomaly["code"] == "PJ02"
    assert "pages 2-4" in anomaly["message"] and "page 2" in anomaly["message"]
    # Never the file's name.
    assert b"avis-imposition" not in response.content


def test_an_export_member_breaking_a_logged_rule_does_not_cut_the_download(
    upstream, tmp_path: Path
) -> None:
    _, running = upstream
    config = write_config(tmp_path / "gateway.toml", block_answers=True)
    with serve_gateway(gateway_settings(running.url, config, env="recette")) as gateway:
        download = httpx.get(gateway.url + EXPORT, timeout=30)
        assert download.content == EXPORTED  # whole: pays only logs
        for code in ("rule.pays", "rule.pays-overseas", "rule.pays-code"):
            wait_for(lambda code=code: violations(gateway.url, code, "response") == 1)
        checks = series(
            "sne_gateway_checks_total",
            route="exports-download",
            direction="response",
            conformance="fail",
            action="forwarded",
        )
        assert scraped(gateway.url)[checks] == 1


def test_an_export_member_breaking_pays_under_policy_cuts_the_download(
    upstream, tmp_path: Path
) -> None:
    _, running = upstream
    config = write_config(tmp_path / "gateway.toml", '[rules]\npays = "policy"', True)
    received = b""
    with (
        serve_gateway(gateway_settings(running.url, config, env="recette")) as gateway,
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("GET", gateway.url + EXPORT, timeout=30) as response,
    ):
        for chunk in response.iter_raw():
            received += chunk
    assert len(received) < len(EXPORTED)


def test_the_simulator_behind_accepts_what_the_sne_accepts() -> None:
    """The SNE does not check countries yet: nor does its simulator. The gateway logs."""
    with (
        serve_asgi(create_simulator(SimulatorSettings(seed=0))) as simulator,
        serve_gateway(gateway_settings(simulator.url, env="recette")) as gateway,
    ):
        response = post(gateway.url, "mtom", application(CASES["Martinique"][0]))
    assert response.status_code == 200
    assert response.headers["x-conformance-request"] == "fail"
    assert b"numUnique" in response.content or b"fichierDemande" in response.content


def test_a_referential_edit_is_picked_up_without_restart(upstream, tmp_path: Path) -> None:
    _, running = upstream
    xsd = tmp_path / "xsd"
    shutil.copytree(ROOT / "xsd", xsd)
    lines = SHIPPED_COG.read_text(encoding="utf-8").splitlines(keepends=True)
    without_germany = "".join(line for line in lines if ",Allemagne," not in line)
    referential = tmp_path / "cog.csv"
    referential.write_text(without_germany, encoding="utf-8")
    config = write_config(tmp_path / "gateway.toml", '[rules]\npays = "policy"')
    germany = application(CASES["allemagne"][0])
    settings = gateway_settings(
        running.url,
        config,
        env="recette",
        xsd=str(xsd),
        referential=str(referential),
        reload="true",
        reload_debounce_ms="50",
    )
    with serve_gateway(settings) as gateway:
        health = lambda: httpx.get(gateway.url + "/_gateway/health").json()  # noqa: E731

        def edited(text: str, condition: Callable[[dict[str, Any]], bool]) -> None:
            """Write `text` until the gateway's health meets `condition`: the file watch may
            not be armed yet when the gateway starts serving."""

            def met() -> bool:
                referential.write_text(text, encoding="utf-8")
                return condition(health())

            wait_for(met)

        assert health()["xsd"]["referential"] == {"file": str(referential), "countries": 227}
        assert health()["xsd"]["rules"] == ["pays", "pj"]
        assert post(gateway.url, "soap", germany).status_code == 400

        edited("".join(lines), lambda h: h["xsd"]["referential"]["countries"] == 228)
        assert post(gateway.url, "soap", germany).status_code == 200

        # A file that is not a COG export: the last good one stays, and health says why.
        edited("pays\nAllemagne\n", lambda h: h["status"] == "degraded")
        error = health()["xsd"]["last_reload_error"]
        assert (error["file"], error["line"]) == (str(referential), 1)
        assert error["reason"].startswith("not a COG country export")
        assert health()["xsd"]["referential"]["countries"] == 228
        assert post(gateway.url, "soap", germany).status_code == 200

        edited(
            without_germany,
            lambda h: h["status"] == "ok" and h["xsd"]["referential"]["countries"] == 227,
        )
        assert post(gateway.url, "soap", germany).status_code == 400

"""A personal-data canary: a name that appears in invalid documents, in each kind of place a
message could quote it from (an undefined entity's name, an `xsi:type` value, the encoding the
XML declaration names, a namespace declaration's value, a processing instruction, a value that
breaks a pattern or a length). Sent through every carrier (plain XML, inline base64, MTOM, an
export's member), in both directions and every environment, and through `validate` in every
format, it must be found nowhere the gateway writes: its answers, its logs, its metrics, the
files `validate` writes. With values asked for, it is found (the search works)."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.cli.main import main
from gateway.validate import validate
from tests.servers import SHIPPED_CONFIG, gateway_settings, serve_asgi, serve_gateway
from tests.upstream import Answer, ScriptedUpstream

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CANARY = "Kanarienvogel"
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
MINIMAL = re.sub(
    r"<!--.*?-->\n",
    "",
    (FIXTURES / "valid/13.33/demande/minimal.xml").read_text(encoding="utf-8"),
    count=1,
    flags=re.S,
).replace('versionInterface="13.33"', 'versionInterface="13.34"')
NOM = "<nom>TESTARD</nom>"
#: Each kind of place a message could quote the document's text from.
DOCUMENTS = {
    "entity": MINIMAL.replace(NOM, f"<nom>MARTIN&{CANARY};</nom>"),
    "xsi-type": MINIMAL.replace(NOM, f'<nom {XSI} xsi:type="{CANARY}">TESTARD</nom>'),
    "xsi-type-prefix": MINIMAL.replace(NOM, f'<nom {XSI} xsi:type="x:{CANARY}">TESTARD</nom>'),
    "encoding": MINIMAL.replace('encoding="UTF-8"', f'encoding="{CANARY}"'),
    "namespace": MINIMAL.replace(NOM, f'<nom xmlns:a="{CANARY} x">TESTARD</nom>'),
    "processing-instruction": MINIMAL.replace(NOM, f"<nom><?{CANARY} x</nom>"),
    "pattern": MINIMAL.replace(
        "<codePostal>38000</codePostal>", f"<codePostal>{CANARY}</codePostal>"
    ),
    "length": MINIMAL.replace(NOM, f"<nom>{CANARY * 5}</nom>"),
}
SERVICE = "/nuu-ws/services/DemandeLogement"
WS = "http://ws.metier.nuu.application.i2/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP_TYPE = f'application/soap+xml; charset=UTF-8; action="{WS}getNumUnique"'
BOUNDARY = "uuid:6b62f8f2-5c1d-4b8e-9a3f-1c2d3e4f5a6b"
MTOM_TYPE = (
    f'multipart/related; type="application/xop+xml"; boundary="{BOUNDARY}"; '
    'start="<root>"; start-info="application/soap+xml"'
)
VALID_SOAP = (FIXTURES / "soap/soap12-getNumUnique-request.xml").read_bytes()


def envelope(operation: str, element: str, content: str) -> bytes:
    """A SOAP 1.2 getNumUnique request or answer whose fichierDemande holds `content`."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP12}">'
        f'<soap:Body><ws:{operation} xmlns:ws="{WS}"><ws:{element}>'
        "<ws:nomFichierDemande>demande.xml</ws:nomFichierDemande>"
        f"<ws:fichierDemande>{content}</ws:fichierDemande>"
        + (
            "<ws:nomCertificat>c.cer</ws:nomCertificat><ws:certificat>Yw==</ws:certificat>"
            "<ws:complet>false</ws:complet>"
            if operation == "getNumUnique"
            else ""
        )
        + f"</ws:{element}></ws:{operation}></soap:Body></soap:Envelope>"
    ).encode()


def soap(direction: str, content: str) -> bytes:
    if direction == "request":
        return envelope("getNumUnique", "numUniqueParametres", content)
    return envelope("getNumUniqueResponse", "numUniqueReponse", content)


def mtom(direction: str, document: bytes) -> bytes:
    include = '<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:app"/>'
    return (
        f"\r\n--{BOUNDARY}\r\nContent-Type: application/xop+xml; charset=UTF-8; "
        'type="application/soap+xml"\r\nContent-ID: <root>\r\n\r\n'.encode()
        + soap(direction, include)
        + f"\r\n--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\n"
        "Content-ID: <app>\r\n\r\n".encode()
        + document
        + f"\r\n--{BOUNDARY}--".encode()
    )


def export(documents: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in documents.items():
            member = tarfile.TarInfo(f"CERFA/{name}.xml")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


#: The carriers: (content type, the body carrying a document) by direction.
CARRIERS = {
    "xml": lambda direction, data: ("application/xml; charset=UTF-8", data),
    "base64": lambda direction, data: (
        SOAP_TYPE if direction == "request" else "application/soap+xml; charset=UTF-8",
        soap(direction, base64.b64encode(data).decode()),
    ),
    "mtom": lambda direction, data: (
        MTOM_TYPE + (f'; action="{WS}getNumUnique"' if direction == "request" else ""),
        mtom(direction, data),
    ),
}


def path(carrier: str, name: str) -> str:
    """A plain XML document goes to a path no route names (validated all the same, its schema
    selected from it); SOAP messages to the DemandeLogement service."""
    return f"/canary/{name}" if carrier == "xml" else f"{SERVICE}/{name}"


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[ScriptedUpstream, str]]:
    """Answers each carrier's document at its own path, and an export of them all."""
    scripted = ScriptedUpstream()
    for name, text in DOCUMENTS.items():
        for carrier, carry in CARRIERS.items():
            content_type, body = carry("response", text.encode())
            scripted.answer(path(carrier, f"{name}-response"), Answer(200, content_type, body))
            scripted.answer(path(carrier, f"{name}-request"), Answer(200, "text/plain", b"ok"))
    archive = export({name: text.encode() for name, text in DOCUMENTS.items()})
    scripted.answer("/v1.0/exports/1/fichier", Answer(200, "application/gzip", archive))
    with serve_asgi(scripted) as running:
        yield scripted, running.url


def config_blocking_responses_in_ecole(tmp_path: Path) -> Path:
    """The shipped configuration, but école blocks invalid responses too: answers replacing a
    blocked response are carriers as well."""
    text = SHIPPED_CONFIG.read_text(encoding="utf-8")
    text = text.replace(
        '[policy.ecole]\nrequest = "block"\nresponse = "log"',
        '[policy.ecole]\nrequest = "block"\nresponse = "block"',
    )
    config = tmp_path / "gateway.toml"
    config.write_text(text, encoding="utf-8")
    return config


def exchange_everything(url: str, scripted: ScriptedUpstream) -> list[str]:
    """Every document through every carrier, both ways; what the gateway wrote of its own in
    each answer (its headers, and its body unless the upstream's was passed on)."""
    written = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for name, text in DOCUMENTS.items():
            for carrier, carry in CARRIERS.items():
                content_type, body = carry("request", text.encode())
                answer = client.post(
                    path(carrier, f"{name}-request"),
                    content=body,
                    headers={"content-type": content_type},
                )
                written.append(str(answer.headers) + answer.text)
                answered = client.post(
                    path(carrier, f"{name}-response"),
                    content=VALID_SOAP if carrier != "xml" else b"",
                    headers={"content-type": SOAP_TYPE} if carrier != "xml" else {},
                )
                sent = scripted.answers[path(carrier, f"{name}-response")].body
                written.append(str(answered.headers))
                if answered.content != sent:
                    written.append(answered.text)
        received = b""
        with client.stream("GET", "/v1.0/exports/1/fichier") as download:
            written.append(str(download.headers))
            with contextlib.suppress(httpx.RemoteProtocolError):  # cut under block
                for chunk in download.iter_raw():
                    received += chunk
        assert scripted.answers["/v1.0/exports/1/fichier"].body.startswith(received)
        written.append(client.get("/_gateway/metrics").text)
    return written


def logged_until_settled(capfd: pytest.CaptureFixture[str]) -> str:
    """What the gateway logged; the export's event, the last, comes after its last byte."""
    logged = ""
    deadline = time.monotonic() + 30  # only bounds a failing test
    while time.monotonic() < deadline:
        logged += capfd.readouterr().err
        if '"path":"/v1.0/exports/1/fichier"' in logged:
            break
        time.sleep(0.1)
    return logged


@pytest.mark.parametrize("env", ["ecole", "recette", "prod"])
def test_the_canary_is_nowhere_the_gateway_writes(
    upstream, tmp_path: Path, capfd, logging_restored, env: str
) -> None:
    scripted, upstream_url = upstream
    settings = gateway_settings(upstream_url, config_blocking_responses_in_ecole(tmp_path), env=env)
    with serve_gateway(settings) as gateway:
        written = exchange_everything(gateway.url, scripted)
        logged = logged_until_settled(capfd)
    assert '"event":"violation"' in logged  # the documents were found invalid, and logged
    assert not [text for text in written if CANARY in text]
    assert CANARY not in logged


def test_the_canary_is_found_when_values_are_captured(
    upstream, tmp_path: Path, capfd, logging_restored
) -> None:
    scripted, upstream_url = upstream
    settings = gateway_settings(
        upstream_url,
        config_blocking_responses_in_ecole(tmp_path),
        env="ecole",
        capture_values=True,
    )
    with serve_gateway(settings) as gateway:
        written = exchange_everything(gateway.url, scripted)
        logged = logged_until_settled(capfd)
    assert CANARY in logged
    assert any(CANARY in text for text in written)


def documents_on_disk(tmp_path: Path) -> list[str]:
    folder = tmp_path / "documents"
    folder.mkdir()
    for name, text in DOCUMENTS.items():
        (folder / f"{name}.xml").write_text(text, encoding="utf-8")
    (folder / "export.tgz").write_bytes(
        export({name: text.encode() for name, text in DOCUMENTS.items()})
    )
    return [str(folder)]


@pytest.mark.parametrize("output_format", ["text", "json", "junit"])
def test_validate_writes_the_canary_nowhere(tmp_path: Path, capsys, output_format: str) -> None:
    inputs = documents_on_disk(tmp_path)
    report = tmp_path / f"report.{output_format}"
    status = main(["validate", "--format", output_format, *inputs])
    printed = capsys.readouterr()
    assert status == 1
    assert main(["validate", "--format", output_format, "--output", str(report), *inputs]) == 1
    written = capsys.readouterr()
    assert "xml.malformed" in printed.out + report.read_text(encoding="utf-8")
    for text in (printed.out, printed.err, written.out, written.err, report.read_text()):
        assert CANARY not in text
    assert main(["validate", "--format", output_format, "--show-values", *inputs]) == 1
    assert CANARY in capsys.readouterr().out


def test_every_document_is_invalid_for_the_reason_it_was_made_for(tmp_path: Path, capsys) -> None:
    """The canary's documents are each refused where the canary is (not for a reason before
    it, which would leave that place untested)."""
    main(["validate", "--format", "json", *documents_on_disk(tmp_path)])
    report = json.loads(capsys.readouterr().out)
    codes = {
        Path(document["source"]).stem: [violation["code"] for violation in document["violations"]]
        for document in report["documents"]
        if "!" not in document["source"]
    }
    assert codes["entity"] == ["xml.malformed"]
    assert codes["encoding"] == ["xml.malformed"]
    assert codes["namespace"] == ["xml.malformed"]
    assert codes["processing-instruction"] == ["xml.malformed"]
    assert codes["xsi-type"] == ["xsd.type"]
    assert codes["xsi-type-prefix"] == ["xsd.type"]
    assert codes["pattern"] == ["xsd.pattern"]
    assert codes["length"] == ["xsd.facet"]


#: Places of the application where a value is judged by the schema: a pattern, a date, an
#: enumerated attribute, element-only content, xsi:type and xsi:nil, an attribute not allowed.
VALUE_PLACES = [
    ("<codePostal>38000</codePostal>", "<codePostal>{}</codePostal>"),
    ("<dateNaissance>1991-04-17</dateNaissance>", "<dateNaissance>{}</dateNaissance>"),
    ('<civilite code="2"/>', '<civilite code="{}"/>'),
    ("<entete>", "<entete>{}"),
    (NOM, f'<nom {XSI} xsi:type="{{}}">TESTARD</nom>'),
    (NOM, f'<nom {XSI} xsi:nil="{{}}">TESTARD</nom>'),
    (NOM, '<nom autre="{}">TESTARD</nom>'),
    (NOM, f'<nom {XSI} xsi:type="xs:int" xmlns:xs="http://www.w3.org/2001/XMLSchema">{{}}</nom>'),
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(VALUE_PLACES),
    st.lists(st.sampled_from(["'", " ", ":", "x:", "[", "]", "{", "}", "1", "."]), max_size=4),
    st.lists(st.sampled_from(["'", " ", ":", "[", "]", "1", "."]), max_size=4),
)
def test_no_schema_message_quotes_a_value(
    catalog, place: tuple[str, str], before: list[str], after: list[str]
) -> None:
    original, changed = place
    value = "".join([*before, CANARY, *after]).replace("<", "").replace("&", "")
    escaped = value.replace('"', "&quot;")
    document = MINIMAL.replace(original, changed.format(escaped), 1).encode()
    report = validate(document, catalog.version("13.34"))
    assert report.violations
    assert not [v.message for v in report.violations if CANARY in v.message]

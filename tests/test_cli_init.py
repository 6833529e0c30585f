"""`sne-gateway init --xsd DELIVERY`: the gateway.toml a delivery as received amounts to, which
`serve` then loads, covering every operation of its WSDLs."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.catalog import load_catalog
from gateway.cli.main import main
from gateway.config import load_settings
from gateway.reload import load_schemas
from gateway.routing.delivery import wsdl_services
from tests.servers import RunningServer, serve_asgi, serve_process
from tests.upstream import Answer, ScriptedUpstream

ROOT = Path(__file__).resolve().parent.parent
DELIVERY = ROOT / "fixtures" / "delivery-sne"
SOAP = DELIVERY / "soap"
CONTENT_TYPES = tomllib.loads((SOAP / "content-types.toml").read_text(encoding="utf-8"))


def init(capsys, *arguments: str) -> tuple[int, str, str]:
    status = main(["init", *arguments])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def written(tmp_path: Path, capsys) -> Path:
    output = tmp_path / "sne.toml"
    status, _, err = init(
        capsys, "--xsd", str(DELIVERY / "xsd"), "--output", str(output), "--env", "recette"
    )
    assert status == 0, err
    assert f"wrote {output} (20 routes)" in err
    return output


def test_the_configuration_loads_without_warnings_and_covers_every_wsdl_operation(
    written: Path,
) -> None:
    settings = load_settings(written, {"upstream": "http://127.0.0.1:1"}, environ={})
    assert settings.env == "recette"
    assert settings.xsd.resolve() == (DELIVERY / "xsd").resolve()
    loaded = load_schemas(settings)
    assert loaded.warnings == ()
    # Every route is the file's own: none had to be made from the WSDLs at start.
    assert loaded.routes == settings.routes
    services, _ = wsdl_services(load_catalog(DELIVERY / "xsd").version())
    assert len(services) == 3
    for wsdl_service in services:
        service = wsdl_service.service
        for operation in service.operations:
            route = loaded.route_for("POST", service.path, operation.soap_action)
            assert route is not None, operation.name
            assert route.name == (operation.name if operation.soap_action else service.name)
            assert route.request.wrapper == route.response.wrapper == wsdl_service.wrapper
            assert route.request.embedded == service.documents["request"]
            assert route.response.embedded == service.documents["response"]
            assert route.request.schema is None  # documents are judged by identity


def test_rest_routes_are_kept_without_the_schemas_the_delivery_lacks(written: Path) -> None:
    text = written.read_text(encoding="utf-8")
    routes = {route["name"]: route for route in tomllib.loads(text)["routes"]}
    assert routes["exports-download"]["response"] == {"extract": "tgz"}
    assert routes["drm-ressources"]["methods"] == ["POST"]
    assert "request" not in routes["drm-ressources"]
    assert "# drm-ressources, anomalies: not in this XSD set" in text


def test_the_xsd_path_is_relative_to_the_file_when_it_can_be(tmp_path: Path, capsys) -> None:
    shutil.copytree(DELIVERY / "xsd", tmp_path / "livraison")
    output = tmp_path / "sne.toml"
    assert init(capsys, "--xsd", str(tmp_path / "livraison"), "--output", str(output))[0] == 0
    assert tomllib.loads(output.read_text(encoding="utf-8"))["gateway"]["xsd"] == "livraison"


def test_an_existing_file_is_kept_unless_forced(written: Path, capsys) -> None:
    written.write_text("# mine\n")
    status, _, err = init(capsys, "--xsd", str(DELIVERY / "xsd"), "--output", str(written))
    assert status == 2
    assert "exists: choose another file with --output, or replace it with --force" in err
    assert written.read_text() == "# mine\n"
    status, _, _ = init(capsys, "--xsd", str(DELIVERY / "xsd"), "--output", str(written), "--force")
    assert status == 0
    assert written.read_text() != "# mine\n"


def test_standard_output_and_a_broken_delivery(tmp_path: Path, capsys) -> None:
    status, out, _ = init(capsys, "--xsd", str(DELIVERY / "xsd"), "--output", "-")
    assert status == 0
    assert tomllib.loads(out)["gateway"]["xsd"] == str((DELIVERY / "xsd").resolve())
    (tmp_path / "Broken.xsd").write_text("<xs:schema")
    status, _, err = init(capsys, "--xsd", str(tmp_path), "--output", "-")
    assert status == 2
    assert "Broken.xsd:1: not well-formed XML" in err


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[ScriptedUpstream, RunningServer]]:
    scripted = ScriptedUpstream()
    with serve_asgi(scripted) as running:
        yield scripted, running


def test_serve_loads_it_and_validates_at_the_wsdl_addresses(
    tmp_path: Path, capsys, upstream
) -> None:
    scripted, running = upstream
    output = tmp_path / "sne.toml"
    status, _, err = init(
        capsys,
        "--xsd",
        str(DELIVERY / "xsd"),
        "--output",
        str(output),
        "--env",
        "recette",
        "--upstream",
        running.url,
    )
    assert status == 0, err
    response = "mtom-numUniqueReponse-v0201.mime"
    scripted.answer(
        "/nuu/services/DemandeLogement/",
        Answer(200, CONTENT_TYPES[response], (SOAP / response).read_bytes()),
    )
    with serve_process("--config", str(output)) as served:
        for fixture, status_code, conformance in (
            ("mtom-numUniqueParametres-v0201.mime", 200, "pass"),
            ("mtom-numUniqueParametres-v0201-invalid.mime", 400, "fail"),
        ):
            answer = httpx.post(
                served.url + "/nuu/services/DemandeLogement/",
                content=(SOAP / fixture).read_bytes(),
                headers={"content-type": CONTENT_TYPES[fixture]},
            )
            assert answer.status_code == status_code, answer.text
            assert answer.headers["x-conformance-request"] == conformance
            assert "InterfaceNuu@02.01" in answer.headers["x-conformance-schema"]
        assert served.events("xsd.warning") == []
        [started] = served.events("gateway.started")
        assert started["routes"] == 20
    assert len(scripted.received) == 1

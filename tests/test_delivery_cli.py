"""`validate` and `diff` on a delivery as received (fixtures/delivery-sne/xsd), as the README's
"Use your SNE delivery" section runs them."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from gateway.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
DELIVERY = ROOT / "fixtures" / "delivery-sne"
XSD = str(DELIVERY / "xsd")
DOCUMENTS = DELIVERY / "documents"
V0200 = str(DOCUMENTS / "demande-v0200.xml")
V0201 = str(DOCUMENTS / "demande-v0201.xml")


def run(capsys, *arguments: str) -> tuple[int, str, str]:
    status = main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_validate_judges_each_document_by_the_version_it_declares(capsys) -> None:
    status, out, _ = run(capsys, "validate", "--xsd", XSD, V0200, V0201)
    assert status == 0
    assert f"PASS {V0200}  InterfaceNuu@02.00" in out
    assert f"PASS {V0201}  InterfaceNuu@02.01" in out


@pytest.mark.parametrize(
    ("version", "status", "labels"),
    [("02.00", 1, ("FAIL", "PASS")), ("02.01", 0, ("PASS", "PASS"))],
)
def test_validate_version_picks_either(capsys, version: str, status: int, labels) -> None:
    code, out, _ = run(capsys, "validate", "--xsd", XSD, "--version", version, V0201, V0200)
    assert code == status
    assert f"{labels[0]} {V0201}  InterfaceNuu@{version}" in out
    assert f"{labels[1]} {V0200}  InterfaceNuu@{version}" in out
    # The document declaring the other version says it was judged by this one.
    assert out.count("no InterfaceNuu schema here") == 1


def test_validate_json_says_how_the_schema_was_chosen(capsys) -> None:
    unknown = str(DOCUMENTS / "demande-v0202-unknown-version.xml")
    status, out, _ = run(capsys, "validate", "--xsd", XSD, "--format", "json", unknown)
    assert status == 0
    [document] = json.loads(out)["documents"]
    assert document["schema"] == "InterfaceNuu@02.01"
    assert document["note"].startswith('The document declares versionInterface "02.02"')


def test_an_unknown_version_names_the_versions_of_the_delivery(capsys) -> None:
    status, _, err = run(capsys, "validate", "--xsd", XSD, "--version", "13.34", V0200)
    assert status == 2
    assert "no version '13.34'" in err and "(known: 02.00, 02.01)" in err


def _line_of(file: Path, text: bytes) -> int:
    lines = file.read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    return next(number for number, line in enumerate(lines, 1) if text in line)


def test_diff_sources_show_the_true_line_of_a_cr_only_file(capsys) -> None:
    status, out, _ = run(
        capsys, "diff", "02.00", "02.01", "--xsd", XSD, "--format", "json", "--fail-on", "none"
    )
    assert status == 0
    report = json.loads(out)
    changes = {change["path"].rsplit("/", 1)[1]: change for change in report["changes"]}
    assert set(changes) == {"informationTraitement", "notifSms", "notifEvt"}
    entry = DELIVERY / "xsd" / "InterfaceNuu_v0201.xsd"
    assert b"\n" not in entry.read_bytes()  # CR-only line ends
    for name, change in changes.items():
        assert change["source"] == {
            "file": "InterfaceNuu_v0201.xsd",
            "line": _line_of(entry, f'name="{name}"'.encode()),
        }
        assert change["source"]["line"] > 20


def test_diff_of_a_folder_with_versions_side_by_side_says_how_to_name_them(capsys) -> None:
    status, _, err = run(capsys, "diff", XSD, "02.01", "--xsd", XSD)
    assert status == 2
    assert f"(diff 02.00 02.01 --xsd {XSD})" in err


def test_the_readme_commands_for_a_delivery(tmp_path: Path, capsys, monkeypatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Use your SNE delivery\n") :]
    section = section[: section.index("\n## ", 4)]
    commands, shown = re.findall(r"```(?:sh)?\n(.*?)```", section, re.DOTALL)[:2]
    init, serve, validate = commands.strip().splitlines()
    assert serve == "uv run sne-gateway serve --config sne.toml"
    monkeypatch.chdir(ROOT)
    output = tmp_path / "sne.toml"
    words = shlex.split(init.replace("sne.toml", str(output)))
    assert words[:3] == ["uv", "run", "sne-gateway"]
    assert run(capsys, *words[3:])[0] == 0
    assert output.is_file()
    status, out, _ = run(capsys, *shlex.split(validate)[3:])
    assert status == 1
    assert out == shown


def test_two_files_for_the_same_documents_are_said_on_stderr(tmp_path: Path, capsys) -> None:
    from gateway.config import SHIPPED_CONFIG, load_settings
    from gateway.reload import load_schemas

    delivery = Path(shutil.copytree(DELIVERY / "xsd", tmp_path / "livraison"))
    shutil.copy(delivery / "InterfaceNuu_v0201.xsd", delivery / "InterfaceNuu_v0201_corrige.xsd")
    status, _, err = run(capsys, "validate", "--xsd", str(delivery), V0201)
    assert status == 0
    assert err.startswith("sne-gateway: warning: InterfaceNuu_v0201")
    assert "the newest file" in err
    # serve says it at start too (xsd.warning), with the routes' own warnings.
    settings = load_settings(SHIPPED_CONFIG, {"xsd": str(delivery)}, environ={})
    assert any("the newest file" in w for w in load_schemas(settings).warnings)


def test_diff_says_what_loading_a_delivery_had_to_decide(tmp_path: Path, capsys) -> None:
    delivery = Path(shutil.copytree(DELIVERY / "xsd", tmp_path / "livraison"))
    shutil.copy(delivery / "InterfaceNuu_v0201.xsd", delivery / "InterfaceNuu_v0201_corrige.xsd")
    status, _, err = run(
        capsys, "diff", "02.00", "02.01", "--xsd", str(delivery), "--fail-on", "none"
    )
    assert status == 0
    assert err.startswith("sne-gateway: warning: InterfaceNuu_v0201")
    assert err.count("the newest file") == 1

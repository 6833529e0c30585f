"""The diff's documentation stays true: docs/diff.md lists every change kind and every rule,
and docs/xsd-upgrade-13.33-13.34.md is exactly what the tool produces for the shipped set."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.diff.change import KINDS
from gateway.diff.judge import RULES

ROOT = Path(__file__).resolve().parent.parent
UPGRADE_REPORT = ROOT / "docs" / "xsd-upgrade-13.33-13.34.md"
#: The command the committed report says it was produced by (run from the repository's root).
UPGRADE_COMMAND = ["diff", "13.33", "13.34", "--samples", "fixtures/valid"]


def test_every_kind_is_documented_with_its_meaning() -> None:
    documented = (ROOT / "docs" / "diff.md").read_text(encoding="utf-8")
    for kind, meaning in KINDS.items():
        assert f"| `{kind}` | {meaning} |" in documented


def test_every_rule_is_in_the_documented_table() -> None:
    documented = (ROOT / "docs" / "diff.md").read_text(encoding="utf-8").splitlines()
    rows = [line for line in documented if line.count("|") == 5 and line.startswith("| `")]
    expected = [
        f"| `{rule.kind}` | `{rule.effect}` | {rule.producers} | {rule.consumers} |"
        for rule in RULES.values()
    ]
    assert rows == expected


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> str:
    output = tmp_path_factory.mktemp("upgrade") / "report.md"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        patch.delenv("SNE_GATEWAY_XSD", raising=False)
        assert main([*UPGRADE_COMMAND, "--output", str(output)]) == 1
    return output.read_text(encoding="utf-8")


def test_the_committed_upgrade_report_is_what_the_tool_produces(produced: str) -> None:
    command = (
        "uv run sne-gateway "
        + " ".join(UPGRADE_COMMAND)
        + f" --output {UPGRADE_REPORT.relative_to(ROOT)}"
    )
    assert UPGRADE_REPORT.read_text(encoding="utf-8") == produced, f"regenerate it: {command}"


def test_the_upgrade_report_shows_the_2025_changes_break_consumers_only(produced: str) -> None:
    lines = produced.splitlines()
    assert lines[2].startswith("**Breaking for consumers.**")

    def row(path: str) -> str:
        (found,) = [line for line in lines if f"| `{path}` |" in line]
        return found

    demandeur = "interfaceNuu/demande/demandeLogement/personnePhysique/demandeur/adressePostale"
    cotitulaire = (
        "interfaceNuu/demande/demandeLogement/personnePhysique/listeCotitulaire/cotitulaire/"
        "adressePostale"
    )
    pj = (
        "interfaceNuu/demande/demandeLogement/listePieceJustificative/pieceJustificative/"
        "listeContenuPiece"
    )
    gdm = "interfaceNuu/listeMouvement/mouvement/demandeur/adressePostale"
    for path in (f"{demandeur}/voie", f"{demandeur}/etranger", demandeur, cotitulaire, pj, gdm):
        assert row(path).endswith("| compatible | **breaking** |"), path
    assert "element-added" in row(pj) and "element-added" in row(gdm)
    # The documents that prove it: each 13.34 fixture, rejected by 13.33.
    for sample in (
        "demande/empty-adresse-postale.xml",
        "demande/cotitulaire-empty-adresse-postale.xml",
        "demande/pj-metadata.xml",
        "gdm-mouvements/empty-adresse-postale.xml",
    ):
        assert f"#### `fixtures/valid/13.34/{sample}`: invalid under 13.33" in lines

"""Every fixture gets exactly the report `fixtures/invalid/expected.toml` (or its directory)
promises: each violation code is triggered and its code, path and line checked (and its
message, where the fixture gives one)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gateway.catalog import Catalog
from gateway.limits import Limits
from gateway.validate import validate
from gateway.violation import CODES

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPECTED = tomllib.loads((FIXTURES / "invalid" / "expected.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_and_hostile_fixtures_report_exactly(catalog: Catalog, name: str) -> None:
    expected = EXPECTED[name]
    schema_set = catalog.version(expected["version"])
    target = schema_set.schema(expected["schema"]) if "schema" in expected else schema_set
    limits = Limits(max_bytes=expected.get("max_bytes", Limits().max_bytes))
    report = validate((FIXTURES / name).read_bytes(), target, source=name, limits=limits)
    found = [
        {
            key: value
            for key, value in (
                ("code", v.code),
                ("path", v.path),
                ("line", v.line),
                ("message", v.message),
            )
            if key in wanted
        }
        for v, wanted in zip(report.violations, expected["violations"], strict=False)
    ]
    assert found == expected["violations"]
    assert len(report.violations) == len(expected["violations"])
    for violation in report.violations:
        assert violation.message
        assert violation.code in CODES


def test_every_engine_code_has_a_fixture() -> None:
    covered = {v["code"] for entry in EXPECTED.values() for v in entry["violations"]}
    engine_codes = {
        code for code in CODES if code.split(".")[0] in ("xml", "limits", "xsd", "schema", "rule")
    }
    assert engine_codes - covered <= {"xsd.invalid"}


def valid_fixtures() -> list[tuple[str, str]]:
    cases = []
    for version_directory in sorted((FIXTURES / "valid").iterdir()):
        for path in sorted(version_directory.rglob("*.xml")):
            cases.append((version_directory.name, str(path.relative_to(FIXTURES))))
    return cases


@pytest.mark.parametrize(("version", "name"), valid_fixtures())
def test_valid_fixtures_are_valid_in_their_version_and_later(
    catalog: Catalog, version: str, name: str
) -> None:
    data = (FIXTURES / name).read_bytes()
    schema = Path(name).parent.name
    for label in catalog.versions:
        report = validate(data, catalog.schema(schema, label), source=name)
        if label >= version:
            assert report.valid, report.violations
        else:
            # 13.34-only documents use what 13.33 does not know: the 2025 incident.
            assert not report.valid


def test_a_valid_document_selects_its_schema_among_the_shared_root(catalog: Catalog) -> None:
    data = (FIXTURES / "valid/13.33/evenements").glob("*.xml")
    report = validate(next(iter(data)).read_bytes(), catalog.latest)
    assert report.valid
    assert report.schema == "evenements@13.34"
    # Its identity (the element after entete) decided: no schema was tried.
    assert report.candidates == ()


def test_an_invalid_document_is_judged_by_the_schema_of_its_identity(catalog: Catalog) -> None:
    report = validate(
        (FIXTURES / "invalid/demande/xsd.facet--nom-too-long.xml").read_bytes(), catalog.latest
    )
    assert report.schema == "demande@13.34"
    assert [v.code for v in report.violations] == ["xsd.facet"]
    assert report.candidates == ()


def test_a_business_element_no_schema_declares_is_judged_by_the_closest(
    catalog: Catalog,
) -> None:
    data = (FIXTURES / "invalid/demande/xsd.facet--nom-too-long.xml").read_bytes()
    unknown = data.replace(b"<demande>", b"<demandeInconnue>").replace(
        b"</demande>", b"</demandeInconnue>"
    )
    report = validate(unknown, catalog.latest)
    assert report.schema is not None
    assert "demande@13.34" in report.candidates
    assert "evenements@13.34" in report.candidates


@pytest.mark.parametrize(("version", "name"), valid_fixtures())
def test_every_valid_fixture_is_identified_as_the_schema_of_its_folder(
    catalog: Catalog, version: str, name: str
) -> None:
    report = validate((FIXTURES / name).read_bytes(), catalog.latest)
    assert report.schema == f"{Path(name).parent.name}@13.34"
    assert report.candidates == ()


def test_every_code_is_documented_with_its_short_code() -> None:
    documented = (FIXTURES.parent / "docs" / "violations.md").read_text(encoding="utf-8")
    for code, described in CODES.items():
        assert f"| `{code}` | `{described.short}` |" in documented, code
        assert len(described.short) <= 10

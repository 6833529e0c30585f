"""A delivery as the GIP SNE sends it (fixtures/delivery-sne/xsd), loaded as a catalog: versions
side by side, documents judged by the schema of their identity and declared version, true line
numbers in files with CR-only line ends, and the bad deliveries users meet."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gateway.catalog import Catalog, SchemaNotFound, load_catalog
from gateway.identity import business_element, version_in_file_name
from gateway.limits import DEFAULT_LIMITS
from gateway.parse import parse_xml
from gateway.schema import CatalogError
from gateway.validate import validate

ROOT = Path(__file__).resolve().parent.parent
DELIVERY = ROOT / "fixtures" / "delivery-sne"
DOCUMENTS = DELIVERY / "documents"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(DELIVERY / "xsd")


def judged(catalog: Catalog, document: str, version: str | None = None):
    return validate((DOCUMENTS / document).read_bytes(), catalog.version(version))


def copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DELIVERY / "xsd", tmp_path / "livraison"))


def test_the_fixture_keeps_the_line_ends_of_a_real_delivery() -> None:
    # A checkout that converted line ends (no .gitattributes) would hide the CR-only bug.
    cr_only = (DELIVERY / "xsd" / "InterfaceNuu_v0201.xsd").read_bytes()
    assert b"\r" in cr_only and b"\n" not in cr_only
    crlf = (DELIVERY / "xsd" / "InterfaceNuu_v0200.xsd").read_bytes()
    assert crlf.count(b"\r\n") == crlf.count(b"\n") > 10


def test_versions_side_by_side_become_versions_of_the_catalog(catalog: Catalog) -> None:
    assert list(catalog.versions) == ["02.00", "02.01"]
    assert catalog.side_by_side
    assert catalog.warnings == ()
    old, new = catalog.versions["02.00"], catalog.versions["02.01"]
    assert old.schema("InterfaceNuu").entry.name == "InterfaceNuu_v0200.xsd"
    assert new.schema("InterfaceNuu").entry.name == "InterfaceNuu_v0201.xsd"
    # A schema with no newer file is in the newer version as it is.
    assert new.schema("InterfaceNuuGPEvenement") is old.schema("InterfaceNuuGPEvenement")
    assert new.schema("InterfaceNuuGPEvenement").label == "InterfaceNuuGPEvenement@02.00"
    # WSDLs carry no version: they are in both.
    assert new.schema("DemandeLogementImplService").label == "DemandeLogementImplService@02.01"
    assert old.schema("DemandeLogementImplService").label == "DemandeLogementImplService@02.00"


@pytest.mark.parametrize(
    ("document", "schema"),
    [
        ("demande-v0201.xml", "InterfaceNuu@02.01"),
        ("demande-v0200.xml", "InterfaceNuu@02.00"),
        ("evenements-v0200.xml", "InterfaceNuuGPEvenement@02.00"),
        # The search schema lists both versions (an enumeration): no note.
        ("criteres-v0201.xml", "InterfaceNuuRecherche@02.00"),
    ],
)
def test_a_document_is_judged_by_its_identity_and_declared_version(
    catalog: Catalog, document: str, schema: str
) -> None:
    report = judged(catalog, document)
    assert (report.schema, report.valid, report.note, report.candidates) == (
        schema,
        True,
        None,
        (),
    )


def test_a_0200_document_carrying_0201_elements_is_judged_by_0200(catalog: Catalog) -> None:
    report = judged(catalog, "demande-v0200-with-0201-elements.xml")
    assert report.schema == "InterfaceNuu@02.00"
    [violation] = report.violations
    assert (violation.code, violation.line) == ("xsd.unexpected-element", 13)
    assert violation.path.endswith("/nuu:demandeLogement/nuu:informationTraitement")


def test_a_version_without_its_own_schema_is_judged_by_the_newest_and_said(
    catalog: Catalog,
) -> None:
    report = judged(catalog, "demande-v0202-unknown-version.xml")
    assert report.schema == "InterfaceNuu@02.01"
    assert report.note == (
        'The document declares versionInterface "02.02", for which there is no InterfaceNuu '
        "schema here: it is judged by the newest, InterfaceNuu@02.01."
    )
    assert report.to_dict()["note"] == report.note


@pytest.mark.parametrize(
    ("version", "document", "schema", "valid"),
    [
        ("02.00", "demande-v0201.xml", "InterfaceNuu@02.00", False),
        ("02.00", "demande-v0200.xml", "InterfaceNuu@02.00", True),
        ("02.01", "demande-v0200.xml", "InterfaceNuu@02.01", True),
        ("02.01", "demande-v0201.xml", "InterfaceNuu@02.01", True),
    ],
)
def test_a_version_chosen_judges_every_document(
    catalog: Catalog, version: str, document: str, schema: str, valid: bool
) -> None:
    report = judged(catalog, document, version)
    assert (report.schema, report.valid) == (schema, valid)
    assert (report.note is not None) == (f"v{version.replace('.', '')}" not in document)


def test_an_unknown_version_names_the_known_ones(catalog: Catalog) -> None:
    with pytest.raises(SchemaNotFound, match=r"no version '02\.02' .*\(known: 02\.00, 02\.01\)"):
        catalog.version("02.02")


def test_a_named_schema_still_follows_the_declared_version(catalog: Catalog) -> None:
    from gateway.extract.document import Document
    from gateway.validate import validate_document

    data = (DOCUMENTS / "demande-v0200.xml").read_bytes()
    report = validate_document(Document("d", data, "InterfaceNuu"), catalog.version())
    assert report.schema == "InterfaceNuu@02.00"


def test_identity_reads_the_document_root_only() -> None:
    root = parse_xml((DOCUMENTS / "criteres-v0201.xml").read_bytes(), DEFAULT_LIMITS)
    assert business_element(root) == "criteresRecherche"
    assert version_in_file_name("InterfaceNuu_v0201") == ("02.01", "InterfaceNuu")
    assert version_in_file_name("Doublon_V0200") == ("02.00", "Doublon")
    assert version_in_file_name("InterfaceNuu_v0201_corrige") == ("02.01", "InterfaceNuu_corrige")
    assert version_in_file_name("NUU_Demande_13.34") is None
    assert version_in_file_name("DemandeLogementImplService") is None


def test_a_single_versioned_entry_file(tmp_path: Path) -> None:
    single = load_catalog(DELIVERY / "xsd" / "InterfaceNuu_v0201.xsd")
    assert list(single.versions) == ["02.01"]
    assert list(single.latest.schemas) == ["InterfaceNuu"]


# -- line numbers of files with CR-only or CRLF line ends ----------------------------------


def _break_line(path: Path, line: int, separator: bytes) -> None:
    lines = path.read_bytes().split(separator)
    lines[line - 1] = lines[line - 1].replace(b"/>", b">", 1)  # an element left open
    path.write_bytes(separator.join(lines))


@pytest.mark.parametrize(
    ("file", "separator"),
    [("domains.xsd", b"\r"), ("InterfaceNuu_v0200.xsd", b"\r\n")],
)
def test_a_compile_error_gives_the_true_line(tmp_path: Path, file: str, separator: bytes) -> None:
    delivery = copy(tmp_path)
    lines = (delivery / file).read_bytes().split(separator)
    line = next(
        n
        for n, text in enumerate(lines, 1)
        if b'<xs:attribute ref="tns:modifie"/>' in text or b"minOccurs" in text
    )
    _break_line(delivery / file, line, separator)
    with pytest.raises(CatalogError) as caught:
        load_catalog(delivery)
    assert Path(caught.value.file).name == file
    assert caught.value.line is not None and caught.value.line > line


def test_a_schema_error_in_a_cr_only_file_gives_the_true_line(tmp_path: Path) -> None:
    delivery = copy(tmp_path)
    domains = delivery / "domains.xsd"
    lines = domains.read_bytes().split(b"\r")
    line = next(n for n, text in enumerate(lines, 1) if b'name="_texte255"' in text)
    lines[line - 1] = lines[line - 1].replace(b'name="_texte255"', b'name="_texte255" nom="x"')
    domains.write_bytes(b"\r".join(lines))
    with pytest.raises(CatalogError) as caught:
        load_catalog(delivery)
    assert (Path(caught.value.file).name, caught.value.line) == ("domains.xsd", line)
    assert str(caught.value).startswith(f"{domains.resolve()}:{line}: the schema does not compile")


# -- bad deliveries -------------------------------------------------------------------------


def test_a_wsdl_whose_types_include_a_missing_file_names_the_wsdl_and_line(
    tmp_path: Path,
) -> None:
    delivery = copy(tmp_path)
    (delivery / "DemandeLogementImplService_schema1.xsd").unlink()
    with pytest.raises(CatalogError) as caught:
        load_catalog(delivery)
    wsdl = delivery / "DemandeLogementImplService.wsdl"
    lines = wsdl.read_bytes().split(b"\r\n")
    line = next(n for n, text in enumerate(lines, 1) if b"xs:include" in text)
    assert (Path(caught.value.file), caught.value.line) == (wsdl.resolve(), line)
    assert "include of 'DemandeLogementImplService_schema1.xsd' failed" in caught.value.reason


def test_two_files_for_the_same_documents_and_version_the_newest_judges(
    tmp_path: Path,
) -> None:
    delivery = copy(tmp_path)
    corrected = delivery / "InterfaceNuu_v0201_corrige.xsd"
    shutil.copy(delivery / "InterfaceNuu_v0201.xsd", corrected)
    original = delivery / "InterfaceNuu_v0201.xsd"
    os.utime(original, (1_700_000_000, 1_700_000_000))
    os.utime(corrected, (1_800_000_000, 1_800_000_000))
    catalog = load_catalog(delivery)
    [warning] = catalog.warnings
    assert warning.startswith(
        "InterfaceNuu_v0201.xsd and InterfaceNuu_v0201_corrige.xsd are both for "
        "nuu:interfaceNuu/demande in version 02.01: documents are judged by "
        "InterfaceNuu_v0201_corrige.xsd, the newest file."
    )
    assert "name it ('InterfaceNuu': validate --schema, or a route's schema)" in warning
    report = validate((DOCUMENTS / "demande-v0201.xml").read_bytes(), catalog.version())
    assert report.schema == "InterfaceNuu_corrige@02.01"
    # The other one stays there by name: the user may choose it.
    named = catalog.version("02.01").schema("InterfaceNuu")
    assert named.entry == original.resolve()
    # The 02.00 documents are not concerned.
    report = validate((DOCUMENTS / "demande-v0200.xml").read_bytes(), catalog.version())
    assert report.schema == "InterfaceNuu@02.00"
    os.utime(original, (1_900_000_000, 1_900_000_000))
    assert "judged by InterfaceNuu_v0201.xsd" in load_catalog(delivery).warnings[0]


OTHER = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:a="urn:exemple:autre"
    targetNamespace="urn:exemple:autre" elementFormDefault="qualified">
  <xs:element name="interfaceNuu">
    <xs:complexType>
      <xs:sequence><xs:element name="demande" type="xs:string"/></xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""


def test_a_delivery_mixing_unrelated_namespaces(tmp_path: Path) -> None:
    delivery = copy(tmp_path)
    (delivery / "Autre.xsd").write_text(OTHER, encoding="utf-8")
    catalog = load_catalog(delivery)
    assert list(catalog.versions) == ["02.00", "02.01"]
    other = validate(
        b'<interfaceNuu xmlns="urn:exemple:autre"><demande>x</demande></interfaceNuu>',
        catalog.version(),
    )
    assert (other.schema, other.valid) == ("Autre@02.01", True)
    for document, schema in (
        ("demande-v0201.xml", "InterfaceNuu@02.01"),
        ("demande-v0200.xml", "InterfaceNuu@02.00"),
    ):
        assert judged(catalog, document).schema == schema


def test_an_include_of_another_namespace_names_the_file_and_line(tmp_path: Path) -> None:
    delivery = copy(tmp_path)
    (delivery / "Autre.xsd").write_text(OTHER, encoding="utf-8")
    including = OTHER.replace(
        'elementFormDefault="qualified">',
        'elementFormDefault="qualified">\n  <xs:include schemaLocation="domains.xsd"/>',
    ).replace('name="interfaceNuu"', 'name="autre"')
    (delivery / "Mixte.xsd").write_text(including, encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(delivery)
    assert Path(caught.value.file).name in ("Mixte.xsd", "domains.xsd")
    assert caught.value.line is not None

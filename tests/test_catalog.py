"""Loading catalogs: directories with manifests, deliveries without, single .xsd/.wsdl entry
files with their includes, and broken sets reported with file, line and reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.catalog import Catalog, SchemaNotFound, load_catalog
from gateway.schema import CatalogError
from gateway.validate import validate

NUU = "http://nuu.application.i2/"
WS = "http://ws.metier.nuu.application.i2/"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def schema(body: str, namespace: str = NUU) -> str:
    return (
        f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="{namespace}" '
        f'targetNamespace="{namespace}" elementFormDefault="qualified">\n{body}\n</xs:schema>\n'
    )


def test_the_shipped_catalog_has_both_versions_newest_last(catalog: Catalog) -> None:
    assert list(catalog.versions) == ["13.33", "13.34"]
    assert catalog.latest.version == "13.34"
    names = set(catalog.latest.schemas)
    assert {"demande", "evenements", "gdm-mouvements", "export-demande", "export-statut"} <= names
    assert {"drm-ressources", "anomalies", "ws-demande-logement"} <= names


def test_every_shipped_schema_declares_its_roots(catalog: Catalog) -> None:
    for version in catalog.versions.values():
        for schema in version.schemas.values():
            assert schema.roots, schema.label
            if not schema.name.startswith("ws-"):
                assert f"{{{NUU}}}interfaceNuu" in schema.roots, schema.label


def test_an_unknown_version_or_schema_names_the_known_ones(catalog: Catalog) -> None:
    with pytest.raises(SchemaNotFound, match=r"13\.33, 13\.34"):
        catalog.version("12.00")
    with pytest.raises(SchemaNotFound, match="demande"):
        catalog.schema("demandes")


def test_a_single_entry_file_with_includes(tmp_path: Path) -> None:
    write(
        tmp_path / "types" / "Commun.xsd",
        schema(
            '<xs:simpleType name="nomT"><xs:restriction base="xs:string"><xs:maxLength value="5"/></xs:restriction></xs:simpleType>'
        ),
    )
    entry = write(
        tmp_path / "Demande.xsd",
        schema(
            '<xs:include schemaLocation="types/Commun.xsd"/><xs:element name="nom" type="nomT"/>'
        ),
    )
    catalog = load_catalog(entry)
    schema_set = catalog.latest
    assert list(schema_set.schemas) == ["Demande"]
    assert {path.name for path in schema_set.schema("Demande").files} == {
        "Demande.xsd",
        "Commun.xsd",
    }
    assert validate(f'<nom xmlns="{NUU}">abc</nom>'.encode(), schema_set).valid
    report = validate(f'<nom xmlns="{NUU}">abcdef</nom>'.encode(), schema_set)
    assert [v.code for v in report.violations] == ["xsd.facet"]


def test_a_delivery_directory_without_manifest(tmp_path: Path) -> None:
    write(
        tmp_path / "Commun.xsd",
        schema('<xs:simpleType name="t"><xs:restriction base="xs:string"/></xs:simpleType>'),
    )
    write(
        tmp_path / "A.xsd",
        schema('<xs:include schemaLocation="Commun.xsd"/><xs:element name="a" type="t"/>'),
    )
    write(
        tmp_path / "B.xsd",
        schema('<xs:include schemaLocation="Commun.xsd"/><xs:element name="b" type="t"/>'),
    )
    catalog = load_catalog(tmp_path)
    assert sorted(catalog.latest.schemas) == ["A", "B"]


def test_a_version_directory_label_comes_from_its_name(tmp_path: Path) -> None:
    write(tmp_path / "13.35" / "X.xsd", schema('<xs:element name="x"/>'))
    assert list(load_catalog(tmp_path / "13.35").versions) == ["13.35"]


WSDL = """<?xml version="1.0"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="{ws}" targetNamespace="{ws}">
  <wsdl:types>
{schemas}
  </wsdl:types>
</wsdl:definitions>
"""


def test_a_wsdl_inline_schema_is_compiled_with_its_relative_include(tmp_path: Path) -> None:
    write(
        tmp_path / "Service.xsd",
        schema(
            '<xs:element name="numUniqueParametres"><xs:complexType><xs:sequence><xs:element name="fichierDemande" type="xs:base64Binary"/></xs:sequence></xs:complexType></xs:element>',
            WS,
        ),
    )
    inline = f'    <xs:schema targetNamespace="{WS}" elementFormDefault="qualified"><xs:include schemaLocation="Service.xsd"/></xs:schema>'
    entry = write(tmp_path / "Service.wsdl", WSDL.format(ws=WS, schemas=inline))
    schema_set = load_catalog(entry).latest
    assert schema_set.schema("Service").roots == {f"{{{WS}}}numUniqueParametres"}
    document = f'<numUniqueParametres xmlns="{WS}"><fichierDemande>QUJD</fichierDemande></numUniqueParametres>'
    assert validate(document.encode(), schema_set).valid


def test_a_wsdl_with_several_inline_schemas_importing_each_other(tmp_path: Path) -> None:
    other = "urn:other"
    schemas = (
        f'    <xs:schema targetNamespace="{other}" xmlns="{other}" elementFormDefault="qualified">'
        '<xs:simpleType name="codeT"><xs:restriction base="xs:string"><xs:length value="2"/></xs:restriction></xs:simpleType></xs:schema>\n'
        f'    <xs:schema targetNamespace="{WS}" xmlns:o="{other}" elementFormDefault="qualified">'
        f'<xs:import namespace="{other}"/><xs:element name="code" type="o:codeT"/></xs:schema>'
    )
    entry = write(tmp_path / "Multi.wsdl", WSDL.format(ws=WS, schemas=schemas))
    schema_set = load_catalog(entry).latest
    assert validate(f'<code xmlns="{WS}">AB</code>'.encode(), schema_set).valid
    assert not validate(f'<code xmlns="{WS}">ABC</code>'.encode(), schema_set).valid


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (
            schema('<xs:include schemaLocation="missing.xsd"/>'),
            3,
            "include of 'missing.xsd' failed",
        ),
        (
            schema('<xs:import namespace="urn:x" schemaLocation="http://example.org/x.xsd"/>'),
            3,
            "remote schemaLocation 'http://example.org/x.xsd' is never fetched",
        ),
        (
            schema('<xs:element name="x" type="undefinedType"/>'),
            3,
            "does not resolve to a(n) type definition",
        ),
        (
            "<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'>\n<xs:element>\n</xs:schema>\n",
            4,
            "not well-formed XML: Opening and ending tag mismatch: element line 3 and schema",
        ),
    ],
    ids=["missing-include", "remote-import", "undefined-type", "not-well-formed"],
)
def test_a_broken_schema_names_file_line_and_reason(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    entry = write(tmp_path / "Broken.xsd", "\n" + text)
    with pytest.raises(CatalogError) as caught:
        load_catalog(entry)
    error = caught.value
    assert Path(error.file).name == "Broken.xsd"
    assert error.line == line
    assert reason in error.reason
    assert str(error).startswith(f"{error.file}:{line}: ")


def test_a_broken_include_is_reported_in_the_included_file(tmp_path: Path) -> None:
    write(tmp_path / "Types.xsd", schema('<xs:element name="y" type="missingType"/>'))
    entry = write(tmp_path / "Main.xsd", schema('<xs:include schemaLocation="Types.xsd"/>'))
    with pytest.raises(CatalogError) as caught:
        load_catalog(entry)
    assert Path(caught.value.file).name == "Types.xsd"
    assert caught.value.line == 2


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ('version = "1.0"\n[schemas.a]\nentry = "nope.xsd"\n', "entry 'nope.xsd' does not exist"),
        ('version = "1.0"\n', "names no schema"),
        (
            'version = "1.0"\ncolour = "red"\n[schemas.a]\nentry = "A.xsd"\n',
            "unknown key(s) ['colour']",
        ),
        ('version = "1.0"\n[schemas.a]\nfile = "A.xsd"\n', "needs an 'entry' key"),
        ("version = \n", "invalid TOML"),
    ],
)
def test_manifest_errors(tmp_path: Path, manifest: str, message: str) -> None:
    write(tmp_path / "A.xsd", schema('<xs:element name="a"/>'))
    write(tmp_path / "manifest.toml", manifest)
    with pytest.raises(CatalogError, match=r"manifest\.toml") as caught:
        load_catalog(tmp_path)
    assert message in str(caught.value)


def test_a_missing_catalog(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no such file or directory"):
        load_catalog(tmp_path / "absent")


BROKEN = Path(__file__).resolve().parent.parent / "fixtures" / "xsd-broken"


@pytest.mark.parametrize(
    ("entry", "file", "line"),
    [
        ("broken-include/NUU_Demande.xsd", "broken-include/NUU_Commun.xsd", 5),
        ("remote-include/NUU_Demande.xsd", "remote-include/NUU_Demande.xsd", 6),
        ("not-well-formed.xsd", "not-well-formed.xsd", 9),
        ("bad-type-reference.xsd", "bad-type-reference.xsd", 8),
    ],
)
def test_broken_fixture_sets_are_reported_where_fixtures_readme_says(
    entry: str, file: str, line: int
) -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog(BROKEN / entry)
    assert (Path(caught.value.file), caught.value.line) == ((BROKEN / file).resolve(), line)


def test_the_delivery_fixture_loads_without_a_manifest() -> None:
    delivery = Path(__file__).resolve().parent.parent / "fixtures" / "delivery"
    catalog = load_catalog(delivery)
    assert list(catalog.latest.schemas) == ["NUU_Demande_13.34"]


def test_threads_validate_with_their_own_copy_of_the_files_as_loaded(tmp_path: Path) -> None:
    import threading

    entry = write(
        tmp_path / "Nom.xsd",
        schema(
            '<xs:element name="nom"><xs:simpleType><xs:restriction base="xs:string"><xs:maxLength value="5"/></xs:restriction></xs:simpleType></xs:element>'
        ),
    )
    compiled = load_catalog(entry).latest.schema("Nom")
    entry.write_text(schema('<xs:element name="autre"/>'))  # changed on disk after the load
    valid, invalid = (
        f'<nom xmlns="{NUU}">abc</nom>'.encode(),
        f'<nom xmlns="{NUU}">abcdefgh</nom>'.encode(),
    )
    outcomes: list[tuple[bool, list[str]]] = []

    def validate_many() -> None:
        for _ in range(50):
            for data in (valid, invalid):
                report = validate(data, compiled)
                outcomes.append((data is valid, [v.code for v in report.violations]))

    threads = [threading.Thread(target=validate_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 8 * 100
    assert all(codes == ([] if is_valid else ["xsd.facet"]) for is_valid, codes in outcomes)


def test_free_base64_follows_restrictions_without_facets(tmp_path: Path) -> None:
    entry = write(
        tmp_path / "Types.xsd",
        schema(
            '<xs:simpleType name="fichier"><xs:restriction base="xs:base64Binary"/></xs:simpleType>'
            '<xs:simpleType name="alias"><xs:annotation><xs:documentation>x</xs:documentation>'
            '</xs:annotation><xs:restriction base="fichier"/></xs:simpleType>'
            '<xs:simpleType name="court"><xs:restriction base="fichier"><xs:maxLength value="4"/>'
            "</xs:restriction></xs:simpleType>"
            '<xs:element name="racine"><xs:complexType><xs:sequence>'
            '<xs:element name="direct" type="xs:base64Binary"/>'
            '<xs:element name="libre" type="alias"/>'
            '<xs:element name="borne" type="court"/>'
            '<xs:element name="fixe" type="xs:base64Binary" fixed="QUJD"/>'
            '<xs:element name="anonyme"><xs:simpleType><xs:restriction base="xs:base64Binary"/>'
            "</xs:simpleType></xs:element>"
            '<xs:element name="texte" type="xs:string"/>'
            '<xs:element name="double" type="xs:base64Binary"/>'
            '<xs:element name="autre"><xs:complexType><xs:sequence>'
            '<xs:element name="double" type="court"/></xs:sequence></xs:complexType></xs:element>'
            "</xs:sequence></xs:complexType></xs:element>",
            WS,
        ),
    )
    free = load_catalog(entry).latest.schema("Types").sources.free_base64
    assert free == {"direct", "libre"}


def test_the_shipped_wrappers_take_any_base64_in_their_attachments(catalog: Catalog) -> None:
    free = catalog.latest.schema("ws-demande-logement").sources.free_base64
    assert "fichierDemande" in free


def test_no_element_is_free_where_identity_constraints_could_compare_values(
    tmp_path: Path,
) -> None:
    entry = write(
        tmp_path / "Keys.xsd",
        schema(
            '<xs:element name="racine"><xs:complexType><xs:sequence>'
            '<xs:element name="fichier" type="xs:base64Binary" maxOccurs="2"/>'
            '</xs:sequence></xs:complexType><xs:unique name="distincts">'
            '<xs:selector xpath="."/><xs:field xpath="fichier"/></xs:unique></xs:element>',
            WS,
        ),
    )
    assert load_catalog(entry).latest.schema("Keys").sources.free_base64 == frozenset()


def test_a_redefined_simple_type_is_not_free(tmp_path: Path) -> None:
    write(
        tmp_path / "Types.xsd",
        schema(
            '<xs:simpleType name="fichier"><xs:restriction base="xs:base64Binary"/></xs:simpleType>',
            WS,
        ),
    )
    entry = write(
        tmp_path / "Service.xsd",
        schema(
            '<xs:redefine schemaLocation="Types.xsd"><xs:simpleType name="fichier">'
            '<xs:restriction base="fichier"><xs:maxLength value="4"/></xs:restriction>'
            "</xs:simpleType></xs:redefine>"
            '<xs:element name="fichierDemande" type="fichier"/>',
            WS,
        ),
    )
    assert load_catalog(entry).latest.schema("Service").sources.free_base64 == frozenset()


def test_an_unprefixed_type_name_without_default_namespace_has_no_namespace(
    tmp_path: Path,
) -> None:
    # `type="fichier"` names the no-namespace type (with a facet), not the target namespace's.
    write(
        tmp_path / "Local.xsd",
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:simpleType name="fichier">'
        '<xs:restriction base="xs:base64Binary"><xs:maxLength value="4"/></xs:restriction>'
        "</xs:simpleType></xs:schema>",
    )
    entry = write(
        tmp_path / "Service.xsd",
        f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{WS}" '
        'elementFormDefault="qualified"><xs:import schemaLocation="Local.xsd"/>'
        '<xs:simpleType name="fichier"><xs:restriction base="xs:base64Binary"/></xs:simpleType>'
        '<xs:element name="fichierDemande" type="fichier"/></xs:schema>',
    )
    assert load_catalog(entry).latest.schema("Service").sources.free_base64 == frozenset()


def test_a_schema_file_name_that_is_not_utf8_is_a_catalog_error(tmp_path: Path) -> None:
    write(tmp_path / "A.xsd", schema('<xs:element name="a" type="xs:string"/>'))
    with open(os.path.join(os.fsencode(tmp_path), b"Donn\xe9es.xsd"), "wb") as file:
        file.write(schema('<xs:element name="d" type="xs:string"/>').encode())
    with pytest.raises(CatalogError) as raised:
        load_catalog(tmp_path)
    assert raised.value.file == f"{tmp_path}/Donn\\xe9es.xsd"
    assert raised.value.reason.startswith("the file name is not UTF-8")

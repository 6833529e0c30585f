"""The element-path trees the diff compares: recursion cut, depth bounded, presence, labels and
schema pairing for deliveries as received."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.catalog import SchemaNotFound, load_catalog
from gateway.diff.components import load_components
from gateway.diff.model import MAX_DEPTH, ElementNode, element_trees
from gateway.diff.pairing import pair_schemas
from gateway.diff.side import open_sides
from gateway.schema import CatalogError

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "xsd-diff"
NUU = "{http://nuu.application.i2/}"


def trees(entry: Path) -> dict[str, ElementNode]:
    schema_set = load_catalog(entry).latest
    (schema,) = schema_set.schemas.values()
    return element_trees(load_components(schema, entry.parent))


def nodes(node: ElementNode) -> dict[str, ElementNode]:
    found = {node.path: node}
    for child in node.children:
        found.update(nodes(child))
    return found


def test_a_recursive_type_is_expanded_once_and_marked() -> None:
    roots = trees(CASES / "recursive" / "old.xsd")
    assert set(roots) == {f"{NUU}interfaceNuu", f"{NUU}note"}
    paths = nodes(roots[f"{NUU}interfaceNuu"])
    assert paths["interfaceNuu/section/section"].cut == "recursive"
    assert paths["interfaceNuu/section/section"].children == ()
    assert paths["interfaceNuu/section/titre"].cut is None
    # Two types that contain each other, and a global element that refers to itself.
    assert paths["interfaceNuu/personne/foyer/membre"].cut == "recursive"
    assert paths["interfaceNuu/note/note"].cut == "recursive"
    assert nodes(roots[f"{NUU}note"])["note/note"].cut == "recursive"


def test_nesting_is_bounded(tmp_path: Path) -> None:
    nested = '<xs:element name="n" type="xs:string"/>'
    for _ in range(MAX_DEPTH + 10):
        nested = f'<xs:element name="n"><xs:complexType><xs:sequence>{nested}</xs:sequence></xs:complexType></xs:element>'
    entry = tmp_path / "deep.xsd"
    entry.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">' + nested + "</xs:schema>",
        encoding="utf-8",
    )
    deepest = trees(entry)["n"]
    while deepest.children:
        deepest = deepest.children[0]
    assert deepest.cut == "depth"
    assert deepest.path.count("/") == MAX_DEPTH


def test_presence_says_whether_every_parent_holds_the_element(catalog) -> None:
    schema = catalog.schema("demande", "13.33")
    tree = element_trees(load_components(schema, schema.entry.parent.parent))
    paths = nodes(tree[f"{NUU}interfaceNuu"])
    address = "interfaceNuu/demande/demandeLogement/personnePhysique/demandeur/adressePostale"
    assert paths[f"{address}/voie"].presence == "required"
    assert paths[f"{address}/lieuDit"].presence == "optional"
    # Inside one branch of the choice between a French and a foreign location.
    assert paths[f"{address}/codePostal"].presence == "conditional"
    assert paths["interfaceNuu/demande/demandeLogement/personnePhysique"].presence == "optional"


def test_deliveries_without_manifest_are_paired_and_labelled_by_their_names() -> None:
    old, new = open_sides(
        str(CASES / "delivery" / "livraison-13.33"),
        str(CASES / "delivery" / "livraison-13.34"),
        CASES,
    )
    assert (old.label, new.label) == ("13.33", "13.34")
    pairs = pair_schemas(old.schema_set, new.schema_set)
    assert sorted(pair.label for pair in pairs) == [
        "NUU_Anomalies_13.33 → NUU_Anomalies_13.34",
        "NUU_Demande_13.33 → NUU_Demande_13.34",
    ]


def test_an_entry_file_is_compared_with_its_counterpart_only(fixtures: Path) -> None:
    xsd = fixtures.parent / "xsd"
    old, new = open_sides("13.33", str(fixtures / "delivery" / "NUU_Demande_13.34.xsd"), xsd)
    assert (old.label, new.label) == ("13.33", "13.34")
    (pair,) = pair_schemas(old.schema_set, new.schema_set)
    assert pair.old is not None and pair.old.name == "demande"
    assert pair.new is not None and pair.new.name == "NUU_Demande_13.34"


def test_an_entry_file_named_unlike_any_schema_needs_schema(fixtures: Path) -> None:
    xsd = fixtures.parent / "xsd"
    old, new = open_sides("13.33", str(CASES / "root-added" / "new.xsd"), xsd)
    with pytest.raises(SchemaNotFound, match=r"new\.xsd continues no schema .* --schema NAME"):
        pair_schemas(old.schema_set, new.schema_set)
    (pair,) = pair_schemas(old.schema_set, new.schema_set, "anomalies")
    assert (pair.old.name, pair.new.name) == ("anomalies", "new")  # type: ignore[union-attr]


def test_unknown_schema_version_and_file_are_clear_errors(fixtures: Path) -> None:
    xsd = fixtures.parent / "xsd"
    old, new = open_sides("13.33", "13.34", xsd)
    with pytest.raises(SchemaNotFound, match="no schema named 'demandes' in either set"):
        pair_schemas(old.schema_set, new.schema_set, "demandes")
    with pytest.raises(SchemaNotFound, match=r"no version '12\.00'.*known: 13\.33, 13\.34"):
        open_sides("12.00", "13.34", xsd)
    with pytest.raises(CatalogError, match="no such file or directory"):
        open_sides("missing/NUU_Demande.xsd", "13.34", xsd)
    with pytest.raises(SchemaNotFound, match="several versions"):
        open_sides(str(xsd), "13.34", xsd)

"""The rule stage in process: each rule fixture's exact report (with and without values), the
country comparison, the referential's checks, the stage's bounds, and `decide` with actions."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.catalog import Catalog
from gateway.config import load_settings
from gateway.decide import decide
from gateway.limits import Limits
from gateway.rules import NO_RULES, ReferentialError, load_referential, load_rules, shipped_rules
from gateway.rules.normalise import normalise
from gateway.rules.referential import SHIPPED_COG
from gateway.validate import validate
from gateway.violation import DocumentReport, Violation

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
DEMANDE = FIXTURES / "invalid" / "demande"
FOREIGN = (FIXTURES / "valid/13.33/demande/foreign-address.xml").read_bytes()
PJ = (FIXTURES / "valid/13.34/demande/pj-metadata.xml").read_bytes()
PAYS = "<nuu:pays>"
FRENCH = (
    "so the address is French: give codePostal and commune instead of codePostalEtranger, "
    "communeEtranger and pays."
)
#: Each rule fixture's message without values, then with them.
MESSAGES = {
    "rule.pays--typo.xml": (
        f"{PAYS} is not a country name of INSEE's COG; one COG name is 95 % similar or more "
        "(quote values to see it, or run `sne-gateway pays check`).",
        f"{PAYS} 'Republique dominicainne' is not a country name of INSEE's COG; did you mean "
        "'République dominicaine' (98 % similar)?",
    ),
    "rule.pays--street-name.xml": (
        f"{PAYS} is not a country name of INSEE's COG, nor 95 % similar to one: it cannot be "
        "corrected without asking.",
        f"{PAYS} 'place vauban' is not a country name of INSEE's COG, nor 95 % similar to one: "
        "it cannot be corrected without asking.",
    ),
    "rule.pays-code--iso2.xml": (
        f"{PAYS} is a country code (ISO 3166 or COG): write the country's COG name.",
        f"{PAYS} 'DE' is a country code (ISO 3166 or COG): write the country's COG name: "
        "'Allemagne'.",
    ),
    "rule.pays-france--france.xml": (
        f"{PAYS} names France, {FRENCH}",
        f"{PAYS} 'France' names France, {FRENCH}",
    ),
    "rule.pays-overseas--martinique.xml": (
        f"{PAYS} names a French overseas department or collectivity, {FRENCH}",
        f"{PAYS} 'Martinique' names a French overseas department or collectivity "
        f"(Martinique), {FRENCH}",
    ),
    "rule.pj-page-range--4-to-3.xml": (
        "Content 2 starts on page 4 and ends on page 3: pageDebut must not be after pageFin.",
    )
    * 2,
    "rule.pj-page-overlap--page-2.xml": (
        "Content 2 (pages 2-4) overlaps content 1 (pages 1-2) on page 2: a page holds one "
        "document.",
    )
    * 2,
    "rule.pj-page-order--listed-backwards.xml": (
        "Content 2 (pages 1-2) is listed after content 1 (pages 3-4): contents are listed in "
        "page order.",
    )
    * 2,
    "rule.pj-annee--after-depot.xml": (
        "Content 2's annee is after the year of dateDepot: a file cannot hold a document of a "
        "later year.",
        "Content 2's annee 2026 is after 2025, the year of dateDepot: a file cannot hold a "
        "document of a later year.",
    ),
    "rule.pj-page-beyond--page-5-of-4.xml": (
        "Content 2 (pages 3-5) ends past the last page of the file: the piece has 4 pages "
        "(nombrePages).",
    )
    * 2,
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_each_rule_fixture_reports_exactly(catalog: Catalog, name: str) -> None:
    schema = catalog.schema("demande", "13.34")
    data = (DEMANDE / name).read_bytes()
    code = name.split("--")[0]
    for show_values, message in zip((False, True), MESSAGES[name], strict=True):
        (violation,) = validate(data, schema, show_values=show_values).violations
        assert (violation.code, violation.message) == (code, message)
    # Without values, the value (nor the suggestion) is not in the message; the France
    # message names France, its category, whatever the value (FR, République française...).
    value = re.search(rb"<pays>([^<]*)</pays>", data)
    if value is not None and code != "rule.pays-france":
        (violation,) = validate(data, schema).violations
        assert value[1].decode() not in violation.message
        assert "dominicaine" not in violation.message


def test_every_rule_code_has_a_fixture() -> None:
    from gateway.rules import RULES

    codes = {code for rule in RULES.values() for code in rule.codes}
    assert codes == {name.split("--")[0] for name in MESSAGES}


@pytest.mark.parametrize(
    ("value", "status", "code", "suggestion"),
    [
        ("allemagne", "valid", None, None),
        ("  ALLEMAGNE ", "valid", None, None),
        ("Côte d\N{RIGHT SINGLE QUOTATION MARK}Ivoire", "valid", None, None),
        ("cote-d'ivoire", "valid", None, None),
        ("COTE D IVOIRE.", "valid", None, None),
        ("République fédérale d'Allemagne", "valid", None, None),  # the official name
        ("Saint-Martin (partie néerlandaise)", "valid", None, None),
        ("saint martin partie neerlandaise", "valid", None, None),
        ("Republique dominicainne", "fixable", "rule.pays", "République dominicaine"),
        ("DE", "fixable", "rule.pays-code", "Allemagne"),
        ("deu", "fixable", "rule.pays-code", "Allemagne"),
        ("276", "fixable", "rule.pays-code", "Allemagne"),
        ("99109", "fixable", "rule.pays-code", "Allemagne"),
        ("ES", "fixable", "rule.pays-code", "Espagne"),  # not its North African territories
        ("France", "france-or-overseas", "rule.pays-france", "France"),
        ("FR", "france-or-overseas", "rule.pays-france", "France"),
        ("99100", "france-or-overseas", "rule.pays-france", "France"),
        ("Martinique", "france-or-overseas", "rule.pays-overseas", "Martinique"),
        ("Saint-Martin", "france-or-overseas", "rule.pays-overseas", "Saint-Martin"),
        ("GP", "france-or-overseas", "rule.pays-overseas", "Guadeloupe"),
        ("Guadeloupee", "france-or-overseas", "rule.pays-overseas", "Guadeloupe"),
        ("TAAF", "france-or-overseas", "rule.pays-overseas", None),
        ("place vauban", "unfixable", "rule.pays", None),
        (".", "unfixable", "rule.pays", None),
        ("   ", "unfixable", "rule.pays", None),
        ("Tchécoslovaquie", "unfixable", "rule.pays", None),  # not in the 2025 COG
    ],
)
def test_country_verdicts(
    value: str, status: str, code: str | None, suggestion: str | None
) -> None:
    verdict = shipped_rules().referential.verdict(value)  # type: ignore[union-attr]
    assert (verdict.status, verdict.code) == (status, code)
    if suggestion is not None:
        assert verdict.suggestion == suggestion


def test_every_overseas_name_of_the_issue_is_refused_with_its_code() -> None:
    referential = load_referential()
    for name in (
        "Guadeloupe",
        "Martinique",
        "Guyane",
        "La Réunion",
        "Mayotte",
        "Saint-Pierre-et-Miquelon",
        "Saint-Barthélemy",
        "Saint-Martin",
        "Wallis-et-Futuna",
        "Polynésie française",
        "Nouvelle-Calédonie",
        "TAAF",
        "Clipperton",
    ):
        assert referential.verdict(name).code == "rule.pays-overseas", name


def test_a_name_close_to_two_countries_gets_no_suggestion(tmp_path: Path) -> None:
    cog = tmp_path / "cog.csv"
    cog.write_text(
        "COG,ACTUAL,CRPAY,ANI,LIBCOG,LIBENR,CODEISO2,CODEISO3,CODENUM3\n"
        "99901,1,,,Abcdefghijklmnopqrstuv,Abcdefghijklmnopqrstuv,,,\n"
        "99902,1,,,Abcdefghijklmnopqrstuw,Abcdefghijklmnopqrstuw,,,\n",
        encoding="utf-8",
    )
    verdict = load_referential(cog).verdict("Abcdefghijklmnopqrstux")
    assert (verdict.status, verdict.reason, verdict.suggestion) == (
        "unfixable",
        "ambiguous",
        None,
    )


@given(st.text())
def test_the_normaliser_is_idempotent_and_keeps_letters_and_digits_only(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert all(char.isalnum() or char == " " for char in once)


@given(st.text(max_size=80))
def test_any_value_gets_a_verdict(text: str) -> None:
    verdict = shipped_rules().referential.verdict(text)  # type: ignore[union-attr]
    assert verdict.status in ("valid", "fixable", "france-or-overseas", "unfixable")
    assert (verdict.code is None) == (verdict.status == "valid")


@given(
    st.sampled_from(
        [
            "Côte d\N{RIGHT SINGLE QUOTATION MARK}Ivoire",
            "République dominicaine",
            "Pays-Bas",
            "Royaume-Uni",
        ]
    )
)
def test_spelling_variants_of_a_name_stay_valid(name: str) -> None:
    referential = load_referential()
    for variant in (name.upper(), name.lower(), name.replace("-", " "), f" {name}. "):
        assert referential.verdict(variant).status == "valid", variant


# -- the referential file ------------------------------------------------------------------


def _cog(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "cog.csv"
    path.write_bytes(text.encode(encoding))
    return path


INSEE_HEADER = "COG,ACTUAL,CRPAY,ANI,LIBCOG,LIBENR,CODEISO2,CODEISO3,CODENUM3\n"


def test_insee_s_own_layout_is_read(tmp_path: Path) -> None:
    path = _cog(
        tmp_path,
        "\ufeff"
        + INSEE_HEADER.replace(",", ";")
        + "99109;1;;;Allemagne;République fédérale d'Allemagne;DE;DEU;276\n"
        + "99115;2;;;Tchécoslovaquie;Tchécoslovaquie;;;\n"
        + "99100;1;;;France;République française;FR;FRA;250\n",
    )
    referential = load_referential(path)
    assert referential.accepted == 1
    assert referential.verdict("Allemagne").status == "valid"
    assert referential.verdict("Tchécoslovaquie").status == "unfixable"  # a former country
    assert referential.verdict("France").code == "rule.pays-france"  # whatever the file says


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("name,capital\nAllemagne,Berlin\n", 1, "not a COG country export: the header has"),
        (INSEE_HEADER + "99109,1,,,Allemagne,,DE,DEU,276\n123,1,,,X,,,,\n", 3, "COG is '123'"),
        (INSEE_HEADER + "99109,1,,,Allemagne,,de,DEU,276\n", 2, "CODEISO2 is 'de'"),
        (INSEE_HEADER + "99109,7,,,Allemagne,,DE,DEU,276\n", 2, "ACTUAL is '7'"),
        (INSEE_HEADER + "99109,1,,,,,DE,DEU,276\n", 2, "the country has no name (LIBCOG)"),
        (INSEE_HEADER + "99109,1,,,Allemagne\n", 2, "5 fields where the header has 9"),
        (INSEE_HEADER, None, "it lists no current country"),
        ("", 1, "not a COG country export"),
    ],
)
def test_a_file_that_is_not_a_cog_export_is_refused_with_its_line(
    tmp_path: Path, text: str, line: int | None, reason: str
) -> None:
    path = _cog(tmp_path, text)
    with pytest.raises(ReferentialError) as raised:
        load_referential(path)
    assert raised.value.file == path
    assert raised.value.line == line
    assert reason in raised.value.reason
    assert str(raised.value).startswith(f"{path}:{line}: " if line else f"{path}: ")


def test_a_referential_in_another_encoding_is_refused_at_its_line(tmp_path: Path) -> None:
    text = (
        INSEE_HEADER
        + "99109,1,,,Allemagne,,DE,DEU,276\n99127,1,,,Italie,République italienne,IT,ITA,380\n"
    )
    with pytest.raises(ReferentialError, match=r":3: not UTF-8"):
        load_referential(_cog(tmp_path, text, "latin-1"))


def test_a_missing_or_huge_referential_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReferentialError, match="cannot read the file"):
        load_referential(tmp_path / "absent.csv")
    huge = tmp_path / "huge.csv"
    huge.write_bytes(INSEE_HEADER.encode() + b"x" * (3 * 1024 * 1024))
    with pytest.raises(ReferentialError, match="not a COG country export"):
        load_referential(huge)


def test_the_shipped_referential_is_the_cog_2025_copy() -> None:
    referential = load_referential()
    assert referential.source == SHIPPED_COG
    assert SHIPPED_COG.name == "cog-pays-2025.csv"
    assert referential.accepted == 228  # 229 rows, France refused
    readme = (SHIPPED_COG.parent / "README.md").read_text(encoding="utf-8")
    assert "INSEE" in readme and "2025" in readme and "Licence Ouverte" in readme


# -- the stage -----------------------------------------------------------------------------


def _with_pays(values: list[str]) -> bytes:
    """`foreign-address.xml` with its pays replaced by one per value (a hostile document: the
    XSD allows one; the rules must cope with many)."""
    elements = "".join(f"<pays>{value}</pays>" for value in values)
    return FOREIGN.replace(b"<pays>allemagne</pays>", elements.encode(), 1)


def test_findings_beyond_the_limit_are_counted_not_described(catalog: Catalog) -> None:
    schema = catalog.schema("demande", "13.34")
    data = _with_pays([f"pays {number}" for number in range(5000)])
    report = validate(data, schema, limits=Limits(max_violations=10))
    assert len(report.violations) == 10
    # libxml2 reports the second pays, unexpected; the rule, every pays but that one.
    assert report.violations[0].code == "xsd.unexpected-element"
    assert report.violations[0].path.endswith("/nuu:pays[2]")
    assert [v.path.rpartition("/")[2] for v in report.violations[1:3]] == [
        "nuu:pays[1]",
        "nuu:pays[3]",
    ]
    assert report.violation_count == 1 + 4999


def test_a_rule_finding_where_the_xsd_already_reports_is_left_out(catalog: Catalog) -> None:
    data = FOREIGN.replace(b"<pays>allemagne</pays>", b"<pays>" + b"x" * 60 + b"</pays>", 1)
    report = validate(data, catalog.schema("demande", "13.34"))
    assert [v.code for v in report.violations] == ["xsd.facet"]


def test_rules_run_on_documents_the_xsd_rejects(catalog: Catalog) -> None:
    data = (DEMANDE / "rule.pays-overseas--martinique.xml").read_bytes()
    broken = data.replace(b"<nom>TESTARD</nom>", b"<nom>" + b"N" * 60 + b"</nom>", 1)
    report = validate(broken, catalog.schema("demande", "13.34"))
    assert [v.code for v in report.violations] == ["xsd.facet", "rule.pays-overseas"]


def test_rules_apply_by_namespace_and_name_not_by_schema(catalog: Catalog) -> None:
    # The same document, automatically selected, and validated against the delivery-shaped
    # schema of fixtures/delivery (other file names): the same rule violation.
    from gateway.catalog import load_catalog

    data = (DEMANDE / "rule.pays-overseas--martinique.xml").read_bytes()
    delivery = load_catalog(FIXTURES / "delivery" / "NUU_Demande_13.34.xsd")
    for target in (catalog.latest, delivery.latest):
        report = validate(data, target)
        assert [v.code for v in report.violations] == ["rule.pays-overseas"]
    # A pays in another namespace is not the SNE's: not checked.
    foreign_ns = data.replace(
        b"<pays>Martinique</pays>", b'<x:pays xmlns:x="urn:x">Martinique</x:pays>'
    )
    assert not any(
        v.code.startswith("rule.") for v in validate(foreign_ns, catalog.latest).violations
    )


def test_hostile_page_lists_stay_linear(catalog: Catalog) -> None:
    contents = "".join(
        f"<contenuPiece><pageDebut>{n}</pageDebut><pageFin>9999</pageFin>"
        '<typeDocument code="AVIMP"/><annee>2022</annee></contenuPiece>'
        for n in range(1, 20001)
    )
    data = re.sub(
        rb"<listeContenuPiece>.*?</listeContenuPiece>",
        b"<listeContenuPiece>" + contents.encode() + b"</listeContenuPiece>",
        PJ,
        count=1,
        flags=re.S,
    )
    report = validate(data, catalog.schema("demande", "13.34"), limits=Limits(max_violations=5))
    assert len(report.violations) == 5
    # Every content but the first overlaps, and all end past page 4.
    assert report.violation_count == 19999 + 20000


def test_no_rules_and_skipped_rules(catalog: Catalog) -> None:
    data = (DEMANDE / "rule.pays-code--iso2.xml").read_bytes()
    schema = catalog.schema("demande", "13.34")
    assert validate(data, schema, rules=NO_RULES).valid
    assert validate(data, schema, rules=load_rules(skipped=["pays"])).valid
    assert not validate(data, schema, rules=load_rules(skipped=["pj"])).valid


def test_a_rule_set_travels_to_worker_processes() -> None:
    rules = pickle.loads(pickle.dumps(load_rules(skipped=["pj"])))
    assert rules.names == ("pays",)
    assert rules.referential.verdict("DE").suggestion == "Allemagne"


# -- decide --------------------------------------------------------------------------------


def _report(*codes: str) -> DocumentReport:
    return DocumentReport("doc", "demande@13.34", tuple(Violation(code, "m") for code in codes))


@pytest.mark.parametrize(
    ("codes", "env", "conformance", "block"),
    [
        (["rule.pays"], "recette", "fail", False),  # pays only logs by default
        (["rule.pays-overseas", "rule.pays-code"], "ecole", "fail", False),
        (["rule.pays", "xsd.facet"], "recette", "fail", True),  # the XSD's follows the policy
        (["rule.pj-page-overlap"], "recette", "fail", True),  # pj follows the policy
        (["rule.pj-page-overlap"], "prod", "fail", False),
        ([], "recette", "pass", False),
    ],
)
def test_decide_with_the_default_rule_actions(
    codes: list[str], env: str, conformance: str, block: bool
) -> None:
    settings = load_settings(None, {"env": env}, environ={})
    decision = decide(
        [_report(*codes)],
        settings.policy("request", None),
        env,
        settings.fail_closed,
        settings.rule_actions,
    )
    assert (decision.conformance, decision.block) == (conformance, block)


def test_rule_actions_from_the_file_and_the_environment(tmp_path: Path) -> None:
    file = tmp_path / "gateway.toml"
    file.write_text('[rules]\npays = "policy"\npj = "log"\n', encoding="utf-8")
    settings = load_settings(file, environ={})
    assert settings.rule_actions == {
        code: "log"
        for code in (
            "rule.pj-page-range",
            "rule.pj-page-beyond",
            "rule.pj-page-overlap",
            "rule.pj-page-order",
            "rule.pj-annee",
        )
    }
    pays = decide([_report("rule.pays")], "block", "recette", True, settings.rule_actions)
    assert pays.block
    from_environment = load_settings(None, environ={"SNE_GATEWAY_RULES_PAYS": "policy"})
    assert from_environment.rule_actions.keys() == set()  # pj at its default: policy


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[rules]\npays = "block"\n', "rules.pays: must be one of policy, log, off, not 'block'"),
        ('[rules]\ncountry = "log"\n', "rules.country: unknown key; known keys: pays, pj"),
        ('rules = "log"\n', "rules: must be a table"),
    ],
)
def test_a_bad_rules_table_stops_at_start(tmp_path: Path, text: str, message: str) -> None:
    from gateway.config import ConfigError

    file = tmp_path / "gateway.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(file, environ={})


def test_a_rule_turned_off_is_not_run_in_service(tmp_path: Path) -> None:
    from gateway.reload import load_schemas

    file = tmp_path / "gateway.toml"
    file.write_text(
        f'[gateway]\nxsd = "{ROOT / "xsd"}"\nreferential = "cog.csv"\n[rules]\npays = "off"\n',
        encoding="utf-8",
    )
    (tmp_path / "cog.csv").write_bytes(SHIPPED_COG.read_bytes())
    loaded = load_schemas(load_settings(file, environ={}))
    assert loaded.schema_set.rules.names == ("pj",)
    assert loaded.schema_set.rules.referential.source == tmp_path / "cog.csv"


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16", "ISO-8859-1", "UTF-32"])
def test_the_rules_see_the_document_whatever_its_encoding(catalog: Catalog, encoding: str) -> None:
    # Rules look at the parsed tree: the document's encoding does not matter.
    text = (DEMANDE / "rule.pays-overseas--martinique.xml").read_text(encoding="utf-8")
    data = text.replace('encoding="UTF-8"', f'encoding="{encoding}"', 1).encode(encoding)
    report = validate(data, catalog.schema("demande", "13.34"))
    assert [v.code for v in report.violations] == ["rule.pays-overseas"]
    pj = (FIXTURES / "valid/13.34/demande/pj-metadata.xml").read_text(encoding="utf-8")
    data = pj.replace('encoding="UTF-8"', f'encoding="{encoding}"', 1).encode(encoding)
    assert validate(data, catalog.schema("demande", "13.34")).valid


def test_a_rule_that_only_logs_never_hides_one_that_blocks(catalog: Catalog) -> None:
    """With the room for violations filled by `rule.pays` (logged only, by default), a PJ
    violation after it is still listed, so the exchange is blocked as its rule says."""
    overlap = (FIXTURES / "invalid/demande/rule.pj-page-overlap--page-2.xml").read_text()
    typo = (FIXTURES / "invalid/demande/rule.pays--typo.xml").read_text()
    foreign = re.search(r"<adressePostale>.*?</adressePostale>", typo, re.DOTALL)
    assert foreign is not None
    document = re.sub(
        r"<adressePostale>.*?</adressePostale>", foreign[0], overlap, count=1, flags=re.DOTALL
    )
    report = validate(
        document.encode(),
        catalog.version("13.34"),
        limits=Limits(max_violations=1),
        rules=shipped_rules(),
    )
    assert [violation.code for violation in report.violations] == [
        "rule.pays",
        "rule.pj-page-overlap",
    ]
    settings = load_settings(None, {"env": "recette"}, environ={})
    decision = decide([report], "block", "recette", True, settings.rule_actions)
    assert decision.block

"""The rule stage's shortcuts for the common case say what the full checks say.

`rule.pj-*` decides that a list has nothing to report before building anything for a finding,
and `rule.pays` remembers the values it accepted: both only to be cheaper (docs/benchmarks.md),
so any list and any value must get the same findings with or without them.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.names import NUU
from gateway.rules import pj, shipped_rules
from gateway.rules.rule import RuleContext

PAGE = st.one_of(st.integers(0, 6).map(str), st.sampled_from([" 3 ", "x", "", "٣"]))
YEAR = st.sampled_from(["2021", "2022", "2024", " 2023", "x"])
CHILD = st.one_of(
    st.builds("<pageDebut>{}</pageDebut>".format, PAGE),
    st.builds("<pageFin>{}</pageFin>".format, PAGE),
    st.builds("<annee>{}</annee>".format, YEAR),
    st.just('<typeDocument code="AVIMP"/>'),
)
#: Mostly contents as the SNE's example writes them, some of any shape.
CONTENT = st.one_of(
    st.builds(
        "<contenuPiece><pageDebut>{}</pageDebut><pageFin>{}</pageFin>"
        '<typeDocument code="AVIMP"/><annee>{}</annee></contenuPiece>'.format,
        PAGE,
        PAGE,
        YEAR,
    ),
    st.lists(CHILD, max_size=5).map(
        lambda children: f"<contenuPiece>{''.join(children)}</contenuPiece>"
    ),
    st.just("<autre/>"),
)
PIECE_CHILD = st.one_of(
    st.builds("<nombrePages>{}</nombrePages>".format, PAGE),
    st.sampled_from(["2024-03-18T15:49:31+01:00", " 2021-05-05", "x"]).map(
        "<dateDepot>{}</dateDepot>".format
    ),
    st.just("<taille>1</taille>"),
)


def _findings(
    check: object, document: etree._Element, show_values: bool
) -> list[tuple[tuple[str, str], str | None, int | None]]:
    context = RuleContext(document, shipped_rules().referential, show_values)  # type: ignore[arg-type]
    return [
        (finding.describe(), finding.path() if finding.path else None, finding.element.sourceline)
        for liste in document.iter(pj.LISTE)
        for finding in check(liste, context)  # type: ignore[operator]
    ]


@settings(max_examples=500)
@given(
    st.lists(CONTENT, max_size=4),
    st.lists(PIECE_CHILD, max_size=4),
    st.integers(0, 4),
    st.sampled_from(["", "<entete><dateFichier>2023-06-01</dateFichier></entete>"]),
    st.booleans(),
)
def test_a_page_list_gets_the_findings_of_the_full_check(
    contents: list[str], siblings: list[str], at: int, entete: str, show_values: bool
) -> None:
    liste = f"<listeContenuPiece>{''.join(contents)}</listeContenuPiece>"
    piece = "".join(siblings[:at]) + liste + "".join(siblings[at:])
    document = etree.fromstring(
        f'<demande xmlns="{NUU}">{entete}<pieceJustificative>{piece}</pieceJustificative></demande>'
    )
    assert _findings(pj.check, document, show_values) == _findings(
        pj._findings, document, show_values
    )


@given(st.lists(st.one_of(st.text(max_size=30), st.sampled_from(["Allemagne", "allemagne", "DE"]))))
def test_a_remembered_value_keeps_its_verdict(values: list[str]) -> None:
    referential = shipped_rules().referential
    assert referential is not None
    for value in values * 2:
        assert referential.accepts(value) == (referential.judge(value).status == "valid")

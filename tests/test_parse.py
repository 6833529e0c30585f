"""The hardened parser: hostile and malformed input ends in a violation, never in a crash,
a hang or a file read."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.catalog import Catalog
from gateway.limits import Limits
from gateway.parse import DocumentRejected, parse_xml
from gateway.validate import validate

LIMITS = Limits()


def rejected(data: bytes, limits: Limits = LIMITS) -> str:
    with pytest.raises(DocumentRejected) as caught:
        parse_xml(data, limits)
    return caught.value.violation.code


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>"""


def test_a_doctype_is_refused_with_its_position() -> None:
    with pytest.raises(DocumentRejected) as caught:
        parse_xml(BILLION_LAUGHS, LIMITS)
    violation = caught.value.violation
    assert (violation.code, violation.line, violation.column) == ("xml.dtd-forbidden", 2, 1)


@pytest.mark.parametrize(
    "prolog",
    [
        b"",
        b"\xef\xbb\xbf",
        b'<?xml version="1.0" encoding="UTF-8"?>\n',
        b"<!-- a comment -->\n<?pi data?>\n",
    ],
)
def test_a_doctype_is_found_behind_any_prolog(prolog: bytes) -> None:
    assert rejected(prolog + b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>') == "xml.dtd-forbidden"


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]
)
def test_a_wide_doctype_is_refused_before_parsing_with_its_position(encoding: str) -> None:
    # With or without a byte-order mark (utf-16 and utf-32 write one, the -le/-be forms not).
    with pytest.raises(DocumentRejected) as caught:
        parse_xml(BILLION_LAUGHS.decode().encode(encoding), LIMITS)
    violation = caught.value.violation
    assert (violation.code, violation.line, violation.column) == ("xml.dtd-forbidden", 2, 1)


def test_an_external_entity_is_never_read(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    document = f'<!DOCTYPE x [<!ENTITY e SYSTEM "{secret.as_uri()}">]><x>&e;</x>'.encode()
    with pytest.raises(DocumentRejected) as caught:
        parse_xml(document, LIMITS)
    assert "TOP-SECRET" not in caught.value.violation.message


def test_deep_nesting_is_a_depth_violation() -> None:
    deep = b"<a>" * 100_000 + b"</a>" * 100_000
    assert rejected(deep) == "limits.depth"


def test_a_lower_depth_limit_is_enforced() -> None:
    limits = Limits(max_depth=5)
    parse_xml(b"<a><b><c><d><e/></d></c></b></a>", limits)
    assert rejected(b"<a><b><c><d><e><f/></e></d></c></b></a>", limits) == "limits.depth"


def test_size_is_checked_before_parsing() -> None:
    assert rejected(b"<a>" + b"x" * 2000 + b"</a>", Limits(max_bytes=1000)) == "limits.size"


def test_malformed_xml_reports_its_position() -> None:
    with pytest.raises(DocumentRejected) as caught:
        parse_xml(b"<a>\n  <b></a>", LIMITS)
    violation = caught.value.violation
    assert violation.code == "xml.malformed"
    assert violation.line == 2
    assert violation.message.startswith("Not well-formed XML: ")


def test_xinclude_is_not_processed(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    document = (
        f'<x xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{secret.as_uri()}" '
        'parse="text"/></x>'
    ).encode()
    root = parse_xml(document, LIMITS)
    assert b"TOP-SECRET" not in b"".join(text.encode() for text in root.itertext())


xml_like = st.recursive(
    st.sampled_from([b"<a>", b"</a>", b"<b x='1'/>", b"&amp;", b"&e;", b"<!DOCTYPE a>", b"<?p?>"])
    | st.binary(max_size=20),
    lambda children: st.lists(children, max_size=8).map(b"".join),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(xml_like)
def test_any_input_parses_or_is_rejected_with_a_known_code(data: bytes) -> None:
    try:
        parse_xml(data, LIMITS)
    except DocumentRejected as rejection:
        assert rejection.violation.code in {"xml.malformed", "xml.dtd-forbidden", "limits.depth"}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.integers(min_value=1, max_value=64))
def test_truncated_documents_never_crash(tail: bytes, cut: int) -> None:
    document = (
        b'<?xml version="1.0"?><interfaceNuu versionInterface="13.34"><entete/></interfaceNuu>'
    )
    with contextlib.suppress(DocumentRejected):
        parse_xml(document[:cut] + tail, LIMITS)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"<a>" + b"x" * 10_000_001 + b"</a>", "Resource limit exceeded: Text node too long"),
        (
            b'<a b="' + b"x" * 10_000_001 + b'"/>',
            "Resource limit exceeded: Buffer size limit exceeded",
        ),
        (b"<a><!--" + b"x" * 10_000_001 + b"--></a>", "Comment too big found"),
    ],
)
def test_a_node_over_libxml2_s_limit_is_a_size_violation(document: bytes, reason: str) -> None:
    with pytest.raises(DocumentRejected) as rejected:
        parse_xml(document, Limits(max_bytes=32 * 1024 * 1024))
    violation = rejected.value.violation
    assert violation.code == "limits.size"
    assert violation.message == (
        "One text, name, attribute or comment of the document is larger than libxml2's limit "
        f"of 10,000,000 bytes ({reason}); the document is refused. A document this large is "
        "sent as an MTOM attachment rather than as inline base64."
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (b"   <!---->38400", "   38400"),
        (b"38400<!---->   ", "38400   "),
        (b"   <?pi?>38400", "   38400"),
        (b"<![CDATA[38400]]>   ", "38400   "),
        (b"   <![CDATA[38400]]>", "   38400"),
    ],
)
def test_blanks_beside_a_comment_pi_or_cdata_stay_in_the_value(value: bytes, text: str) -> None:
    root = parse_xml(b"<codePostal>" + value + b"</codePostal>", LIMITS)
    assert root.xpath("string()") == text


def test_a_comment_does_not_hide_blanks_from_the_schema(catalog: Catalog, fixtures: Path) -> None:
    # Xerces reads "   38000" either way: the comment must not turn a violation into a pass.
    minimal = (fixtures / "valid" / "13.33" / "demande" / "minimal.xml").read_bytes()
    schema_set = catalog.version("13.33")

    def violations(code_postal: bytes) -> list[tuple[str, str, str | None, int | None]]:
        document = minimal.replace(b"<codePostal>38000<", b"<codePostal>" + code_postal + b"<")
        report = validate(document, schema_set)
        return [(v.code, v.message, v.path, v.line) for v in report.violations]

    expected = [
        (
            "xsd.pattern",
            "<nuu:codePostal>: the value does not match the pattern [0-9]{5}.",
            "/nuu:interfaceNuu/nuu:demande/nuu:demandeLogement/nuu:personnePhysique"
            "/nuu:demandeur/nuu:adressePostale/nuu:codePostal",
            26,
        )
    ]
    assert violations(b"   38000") == expected
    assert violations(b"   <!---->38000") == expected
    assert violations(b"38000") == []


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            b"<a><nom><![CDATA[DUPONT Jean-Pierre 1 85 05 78 006 084 36",
            "Not well-formed XML: CData section not finished.",
        ),
        (b"<a><!-- DUPONT Jean-Pierre", "Not well-formed XML: Comment not terminated."),
        (
            b"<a><nom>MARTIN&DUPONT;</nom></a>",
            "Not well-formed XML: an entity reference (&name;) names an entity the document "
            "does not define; SNE documents use none: write a literal & as &amp;.",
        ),
        (
            b'<?xml version="1.0" encoding="DUPONT"?><a/>',
            "Not well-formed XML: the XML declaration names an encoding the gateway cannot "
            "read; send UTF-8.",
        ),
        (
            b'<a xmlns:b="DUPONT Jean"/>',
            "Not well-formed XML: a namespace declaration (xmlns) holds a value that is not a "
            "valid URI.",
        ),
        (
            b"<a><?DUPONT Jean</a>",
            "Not well-formed XML: a processing instruction (<?...?>) never ends.",
        ),
        (
            b"<a><?DUPONT:Jean ?></a>",
            "Not well-formed XML: a processing instruction's target holds a colon.",
        ),
        (
            b'<?xml version="2.0"?><a/>',
            "Not well-formed XML: the XML declaration names a version other than 1.0.",
        ),
    ],
)
def test_a_syntax_error_does_not_quote_the_document(document: bytes, message: str) -> None:
    with pytest.raises(DocumentRejected) as caught:
        parse_xml(document, LIMITS)
    assert (caught.value.violation.code, caught.value.violation.message) == (
        "xml.malformed",
        message,
    )


def test_a_syntax_error_quotes_the_document_when_values_are_asked_for() -> None:
    with pytest.raises(DocumentRejected) as caught:
        parse_xml(b"<a><nom>MARTIN&DUPONT;</nom></a>", LIMITS, show_values=True)
    assert caught.value.violation.message == (
        "Not well-formed XML: an entity reference (&name;) names an entity the document does "
        "not define; SNE documents use none: write a literal & as &amp; (Entity 'DUPONT' not "
        "defined)."
    )


CANARY = b"Kanarienvogel"
#: What can turn a value into markup (quotes and "<" aside: they make it an attribute's or an
#: element's name, which messages may name).
markup = st.sampled_from([b"&", b";", b">", b"?", b"!", b"=", b":", b" ", b"#", b"%", b"x"])


@settings(max_examples=500)
@given(
    st.lists(markup | st.just(CANARY), max_size=8),
    st.lists(markup, max_size=3),
    st.sampled_from(
        [
            b"<a><nom>%s</nom></a>",
            b'<a nom="%s"/>',
            b'<a xmlns:b="%s"/>',
            b'<?xml version="1.0" encoding="%s"?><a/>',
            b'<?xml version="%s"?><a/>',
            b"<a><?%s?></a>",
        ]
    ),
)
def test_no_syntax_error_quotes_a_value(
    after: list[bytes], before: list[bytes], template: bytes
) -> None:
    """A value with any markup around it, in text, an attribute, a namespace declaration, the
    XML declaration or a processing instruction: refused or not, never quoted."""
    try:
        parse_xml(template % b"".join([*before, CANARY, *after]), LIMITS)
    except DocumentRejected as rejected:
        assert CANARY.decode() not in rejected.violation.message

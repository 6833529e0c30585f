"""The Content-Type's charset: a document is read as the SNE's CXF reads it (the charset wins,
RFC 7303), and a charset that names no encoding, or not the one the document declares, is
`http.charset`, since receivers would read the document differently."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.catalog import Catalog
from gateway.extract.message import extract_documents
from gateway.limits import DEFAULT_LIMITS
from gateway.routing.route import DirectionRule
from gateway.validate import validate_document
from gateway.violation import CODES

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LATIN1_DEMANDE = (FIXTURES / "charset/demande-latin1-undeclared.xml").read_bytes()
DEMANDE = DirectionRule(schema="demande")


def codes(content_type: str, body: bytes, catalog: Catalog) -> list[str]:
    extraction = extract_documents(body, content_type, DEMANDE, DEFAULT_LIMITS)
    return [
        violation.code
        for document in extraction.documents
        for violation in validate_document(document, catalog.latest).violations
    ]


def test_the_fixture_holds_latin1_bytes_and_no_declaration() -> None:
    assert not LATIN1_DEMANDE.startswith(b"<?xml")
    assert b"\xe9" in LATIN1_DEMANDE  # é in ISO-8859-1, not valid UTF-8


@pytest.mark.parametrize(
    "content_type",
    [
        "application/xml; charset=ISO-8859-1",
        'application/xml; charset="iso-8859-1"',
        "text/xml; charset=latin1",
        "text/plain; charset=windows-1252",
    ],
)
def test_a_latin1_document_is_read_with_the_charset(content_type: str, catalog: Catalog) -> None:
    assert codes(content_type, LATIN1_DEMANDE, catalog) == []


def test_the_values_are_the_ones_the_charset_gives(catalog: Catalog) -> None:
    extraction = extract_documents(
        LATIN1_DEMANDE, "application/xml; charset=ISO-8859-1", DEMANDE, DEFAULT_LIMITS
    )
    [document] = extraction.documents
    texts = "".join(document.element.itertext())
    assert "é" in texts
    assert "Ã" not in texts  # UTF-8 bytes read as Latin-1 would show this


@pytest.mark.parametrize("content_type", ["application/xml", "application/xml; charset=UTF-8"])
def test_without_that_charset_the_same_bytes_are_malformed(
    content_type: str, catalog: Catalog
) -> None:
    assert codes(content_type, LATIN1_DEMANDE, catalog) == ["xml.malformed"]


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        (
            "application/xml; charset=ISO-8859-1",
            (FIXTURES / "valid/13.34/demande/pj-metadata.xml").read_bytes(),
            "The Content-Type's charset 'ISO-8859-1' and the encoding the document declares "
            "('UTF-8') differ, and receivers read it differently (the SNE follows the "
            "charset); make them the same.",
        ),
        *(
            (
                f"application/xml; charset={label}",
                LATIN1_DEMANDE,
                f"The Content-Type's charset {label!r} is not one the gateway reads as the SNE "
                "does (UTF-8, UTF-16, UTF-32, US-ASCII, ISO-8859-n, windows-125n); send UTF-8.",
            )
            # Unknown; Python codecs that are no text encoding; Python's names Java does not
            # know (and the reverse); empty (CXF fails on it).
            for label in ("klingon", "base64", "utf-7", "latin-1", "windows-31j", "")
        ),
        *(
            (
                content_type,
                LATIN1_DEMANDE,
                "The Content-Type names a charset more than once, or spells it other than "
                "'charset='; receivers could read different ones. Name it once, as 'charset='.",
            )
            for content_type in (
                "application/xml; charset=ISO-8859-1; charset=UTF-8",
                "application/xml; x-charset=ISO-8859-1; charset=UTF-8",
                "application/xml; Charset=ISO-8859-1",
            )
        ),
        (
            # A UTF-8 byte-order mark says UTF-8 as surely as a declaration.
            "application/xml; charset=ISO-8859-1",
            b"\xef\xbb\xbf" + LATIN1_DEMANDE.decode("iso-8859-1").encode("utf-8"),
            "The Content-Type's charset 'ISO-8859-1' does not agree with the document's "
            "byte-order mark (utf-8), and receivers would read it differently; send UTF-8 (in "
            "UTF-16 or UTF-32, with a byte-order mark of the charset's byte order).",
        ),
        (
            # CXF misses a charset spelled with blanks; its servlet container may not.
            "application/xml; charset = windows-1252",
            LATIN1_DEMANDE,
            "The Content-Type names a charset more than once, or spells it other than "
            "'charset='; receivers could read different ones. Name it once, as 'charset='.",
        ),
        (
            "application/xml; charset=ISO-8859-1",
            LATIN1_DEMANDE.decode("iso-8859-1").encode("utf-16-le"),
            "The document's first bytes are UTF-16 or UTF-32, not 'ISO-8859-1' as the "
            "Content-Type's charset says; send UTF-8.",
        ),
    ],
)
def test_a_charset_receivers_would_read_differently(
    content_type: str, body: bytes, message: str, catalog: Catalog
) -> None:
    extraction = extract_documents(body, content_type, DEMANDE, DEFAULT_LIMITS)
    [report] = [validate_document(d, catalog.latest) for d in extraction.documents]
    [violation] = report.violations
    assert (violation.code, violation.message, violation.line) == ("http.charset", message, None)
    assert CODES["http.charset"].short == "GTW08"


@pytest.mark.parametrize("spelling", ["UTF-8", "utf8", "Utf-8"])
def test_a_charset_the_declaration_agrees_with_passes(spelling: str, catalog: Catalog) -> None:
    body = (FIXTURES / "valid/13.34/demande/pj-metadata.xml").read_bytes()
    assert codes(f"application/xml; charset={spelling}", body, catalog) == []


def test_bytes_the_charset_cannot_decode_are_malformed_with_their_place() -> None:
    # 0x81 is no character in windows-1252: the third one of line 2.
    extraction = extract_documents(
        b"<a>\n\xe9\xe9\x81</a>", "application/xml; charset=windows-1252", DEMANDE, DEFAULT_LIMITS
    )
    [document] = extraction.documents
    assert document.problem is not None
    assert (document.problem.code, document.problem.line, document.problem.column) == (
        "xml.malformed",
        2,
        3,
    )
    assert document.problem.message == (
        "Not well-formed XML: the document is not valid 'windows-1252' (the Content-Type's "
        "charset)."
    )


def test_the_charset_is_found_where_cxf_finds_it(catalog: Catalog) -> None:
    """CXF takes the first `charset=` in the header, even inside another parameter."""
    content_type = 'application/xml; action="urn:a;charset=ISO-8859-1"'
    assert codes(content_type, LATIN1_DEMANDE, catalog) == []


def test_the_mtom_root_part_is_read_with_its_own_charset(catalog: Catalog) -> None:
    """In MTOM the envelope's charset is its part's (`application/xop+xml; charset=...`)."""
    mime = (FIXTURES / "soap/mtom-getNumUnique-request.mime").read_bytes()
    assert b"charset=UTF-8" in mime
    rule = DirectionRule(
        wrapper="ws-demande-logement", schema="demande", embedded=("fichierDemande",)
    )
    content_type = (
        'multipart/related; type="application/xop+xml"; '
        'boundary="uuid:6b62f8f2-5c1d-4b8e-9a3f-1c2d3e4f5a6b"; '
        'start="<root.message@cxf.apache.org>"; start-info="application/soap+xml"'
    )
    passing = extract_documents(mime, content_type, rule, DEFAULT_LIMITS)
    assert all(validate_document(d, catalog.latest).valid for d in passing.documents)
    refused = extract_documents(
        mime.replace(b"charset=UTF-8", b"charset=klingon", 1), content_type, rule, DEFAULT_LIMITS
    )
    assert [d.problem.code for d in refused.documents if d.problem] == ["http.charset"]
    # Without a charset of its own, the root part is read with the message's, as CXF does.
    without = mime.replace(b"; charset=UTF-8", b"", 1)
    assert b"charset" not in without.split(b"\r\n\r\n", 1)[0]
    refused = extract_documents(without, content_type + "; charset=klingon", rule, DEFAULT_LIMITS)
    assert [d.problem.code for d in refused.documents if d.problem] == ["http.charset"]


@pytest.mark.parametrize(
    ("encoding", "charset", "passes"),
    [
        # A mark of the charset's byte order, or any mark for the charset without one.
        ("utf-16-be", "UTF-16BE", True),
        ("utf-16-le", "utf-16le", True),
        ("utf-16-le", "UTF-16", True),
        ("utf-32-be", "UTF-32", True),
        ("utf-16-le", "UTF-16BE", False),
        # Without a mark, Java reads UTF-16 big-endian, Python little-endian: refused.
        (None, "UTF-16", False),
    ],
)
def test_utf16_and_utf32_need_a_mark_of_the_charsets_byte_order(
    encoding: str | None, charset: str, passes: bool, catalog: Catalog
) -> None:
    text = LATIN1_DEMANDE.decode("iso-8859-1")
    mark = {"utf-16-be": b"\xfe\xff", "utf-16-le": b"\xff\xfe", "utf-32-be": b"\x00\x00\xfe\xff"}
    body = mark[encoding] + text.encode(encoding) if encoding else text.encode("utf-16-be")
    found = codes(f"application/xml; charset={charset}", body, catalog)
    assert found == ([] if passes else ["http.charset"])

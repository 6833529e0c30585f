"""Extractors: SOAP envelopes, MTOM/XOP multipart messages, base64 documents; every defect is
a violation with its own code, never an exception."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.catalog import SchemaSet, load_catalog
from gateway.extract.message import extract_documents, extractor_for
from gateway.extract.mtom import MultipartError, parse_multipart
from gateway.http_metadata import (
    announced_soap_version,
    content_type_action,
    content_type_parameters,
)
from gateway.limits import Limits
from gateway.routing.route import DirectionRule
from gateway.validate import validate_document

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WS = "http://ws.metier.nuu.application.i2/"
RULE = DirectionRule(wrapper="ws-demande-logement", schema="demande", embedded=("fichierDemande",))
LIMITS = Limits()
DOCUMENT = b'<interfaceNuu xmlns="http://nuu.application.i2/" versionInterface="13.34"/>'


def envelope(fichier: str, namespace: str = SOAP12) -> bytes:
    return (
        f'<env:Envelope xmlns:env="{namespace}"><env:Body><ws:getNumUnique xmlns:ws="{WS}">'
        f"<ws:numUniqueParametres><ws:fichierDemande>{fichier}</ws:fichierDemande>"
        "</ws:numUniqueParametres></ws:getNumUnique></env:Body></env:Envelope>"
    ).encode()


BOUNDARY = "uuid:0f3e9a55-7b3c-4a57-9c8e-1d2b3c4d5e6f"
MTOM_TYPE = (
    f'multipart/related; type="application/xop+xml"; boundary="{BOUNDARY}"; '
    'start="<root.message@cxf.apache.org>"; start-info="application/soap+xml"'
)


def mtom(root: bytes, attachments: dict[str, bytes], close: bool = True) -> bytes:
    parts = [
        f"--{BOUNDARY}\r\nContent-Type: application/xop+xml; charset=UTF-8; "
        'type="application/soap+xml"\r\nContent-Transfer-Encoding: binary\r\n'
        "Content-ID: <root.message@cxf.apache.org>\r\n\r\n".encode()
        + root
    ]
    for identifier, content in attachments.items():
        parts.append(
            f"--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Transfer-Encoding: binary\r\nContent-ID: <{identifier}>\r\n\r\n".encode()
            + content
        )
    return b"\r\n".join(parts) + (f"\r\n--{BOUNDARY}--\r\n".encode() if close else b"")


def include(cid: str) -> str:
    return f'<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:{cid}"/>'


def test_content_type_parameters_are_unquoted() -> None:
    media_type, parameters = content_type_parameters(MTOM_TYPE)
    assert media_type == "multipart/related"
    assert parameters["boundary"] == BOUNDARY
    assert parameters["start"] == "<root.message@cxf.apache.org>"


@pytest.mark.parametrize(
    ("content_type", "soap_action_header", "version", "action"),
    [
        ('application/soap+xml; action="urn:op"', None, "1.2", "urn:op"),
        ("text/xml; charset=utf-8", '"urn:op"', "1.1", None),
        ('multipart/related; type="application/xop+xml"; start-info="text/xml"', None, "1.1", None),
        (
            'multipart/related; type="application/xop+xml"; start-info="application/soap+xml"; '
            'action="urn:op"',
            None,
            "1.2",
            "urn:op",
        ),
        # The MTOM specification's example: the action inside start-info.
        (
            'multipart/related; type="application/xop+xml"; '
            'start-info="application/soap+xml; action=\\"urn:op\\""',
            None,
            "1.2",
            "urn:op",
        ),
        ("application/xml", None, None, None),
    ],
)
def test_the_headers_announce_the_soap_version_and_action(
    content_type: str, soap_action_header: str | None, version: str | None, action: str | None
) -> None:
    assert announced_soap_version(content_type, soap_action_header) == version
    assert content_type_action(content_type) == action


@pytest.mark.parametrize(
    ("content_type", "rule", "kind"),
    [
        ("application/soap+xml; charset=utf-8", DirectionRule(), "xml"),
        ("text/xml", DirectionRule(), "xml"),
        ("application/vnd.sne+xml", DirectionRule(), "xml"),
        (MTOM_TYPE, DirectionRule(), "mtom"),
        ("application/gzip", DirectionRule(), "tgz"),
        ("application/json", DirectionRule(), None),
        ("application/octet-stream", DirectionRule(extract="tgz"), "tgz"),
    ],
)
def test_the_extractor_follows_the_route_then_the_content_type(
    content_type: str, rule: DirectionRule, kind: str | None
) -> None:
    extractor = extractor_for(content_type, rule)
    assert (extractor.name if extractor else None) == kind


@pytest.mark.parametrize("namespace,version", [(SOAP12, "1.2"), (SOAP11, "1.1")])
def test_soap_wrapper_and_base64_document(namespace: str, version: str) -> None:
    body = envelope(base64.b64encode(DOCUMENT).decode(), namespace)
    extraction = extract_documents(body, "text/xml", RULE, LIMITS)
    assert extraction.soap_version == version
    wrapper, embedded = extraction.documents
    assert (wrapper.source, wrapper.schema) == ("ws:getNumUnique", "ws-demande-logement")
    assert wrapper.element is not None
    assert (embedded.source, embedded.schema, embedded.data) == (
        "ws:fichierDemande",
        "demande",
        DOCUMENT,
    )


def test_bad_base64_is_a_violation_at_its_element() -> None:
    extraction = extract_documents(envelope("not base64!"), "application/soap+xml", RULE, LIMITS)
    problem = extraction.documents[1].problem
    assert problem is not None
    assert problem.code == "soap.bad-base64"
    assert (
        problem.path
        == "/env:Envelope/env:Body/ws:getNumUnique/ws:numUniqueParametres/ws:fichierDemande"
    )


def test_a_soap_fault_passes_unvalidated() -> None:
    fault = f'<env:Envelope xmlns:env="{SOAP12}"><env:Body><env:Fault/></env:Body></env:Envelope>'
    extraction = extract_documents(fault.encode(), "application/soap+xml", RULE, LIMITS)
    assert extraction.fault and extraction.documents == ()


def test_an_empty_body_and_a_non_envelope() -> None:
    empty = f'<env:Envelope xmlns:env="{SOAP12}"><env:Body/></env:Envelope>'.encode()
    assert (
        extract_documents(empty, "application/soap+xml", RULE, LIMITS).documents[0].problem.code
        == "soap.no-payload"
    )
    other = extract_documents(
        DOCUMENT, "text/xml", DirectionRule(extract="soap", wrapper="x"), LIMITS
    )
    assert other.documents[0].problem.code == "soap.not-envelope"


def test_mtom_resolves_the_xop_include() -> None:
    body = mtom(envelope(include("doc%40sne")), {"doc@sne": DOCUMENT})
    extraction = extract_documents(body, MTOM_TYPE, RULE, LIMITS, kind="mtom")
    assert extraction.soap_version == "1.2"
    wrapper, embedded = extraction.documents
    assert embedded.data == DOCUMENT
    assert embedded.source == "ws:fichierDemande (cid:doc%40sne)"
    # the Include is taken out; the attachment it stood for goes with the wrapper
    fichier = wrapper.element.find(f".//{{{WS}}}fichierDemande")
    assert len(fichier) == 0
    assert wrapper.xop_content == ((fichier, DOCUMENT),)


def test_a_part_referred_to_twice_is_reported_once() -> None:
    root = envelope(include("d")).replace(
        b"</ws:numUniqueParametres>",
        b"<ws:certificat>" + include("d").encode() + b"</ws:certificat></ws:numUniqueParametres>",
    )
    extraction = extract_documents(mtom(root, {"d": DOCUMENT}), MTOM_TYPE, RULE, LIMITS, "mtom")
    [document] = extraction.documents
    assert document.problem.code == "xop.repeated-part"
    assert document.problem.path.endswith("/ws:certificat/xop:Include")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        # Two payloads: a valid call, then one the wrapper would never see.
        (
            envelope(include("x")).replace(
                b"</env:Body>", b'<ws:getNumUnique xmlns:ws="urn:x"/></env:Body>'
            ),
            "/env:Envelope/env:Body/{urn:x}getNumUnique",
        ),
        # A Fault first (a Fault alone passes unvalidated), then a payload.
        (
            envelope(include("x")).replace(b"<env:Body>", b"<env:Body><env:Fault/>"),
            "/env:Envelope/env:Body/ws:getNumUnique",
        ),
        (
            envelope(include("x")).replace(b"</env:Envelope>", b"<env:Body/></env:Envelope>"),
            "/env:Envelope/env:Body[2]",
        ),
    ],
)
def test_one_payload_in_one_body(body: bytes, path: str) -> None:
    [document] = extract_documents(body, "application/soap+xml", RULE, LIMITS).documents
    assert document.problem.code == "soap.extra-payload"
    assert document.problem.path == path


def test_the_whole_text_of_an_embedded_element_is_its_value() -> None:
    encoded = base64.b64encode(DOCUMENT).decode()
    # A comment in the middle: the receiver reads the text on both sides of it as one value.
    body = envelope(f"{encoded[:8]}<!-- a comment -->{encoded[8:]}")
    documents = extract_documents(body, "application/soap+xml", RULE, LIMITS).documents
    assert documents[1].data == DOCUMENT


def test_two_parts_with_one_content_id_are_malformed() -> None:
    body = mtom(envelope(include("d")), {"d": DOCUMENT}) + b""
    body = body.replace(
        f"--{BOUNDARY}--".encode(),
        f"--{BOUNDARY}\r\nContent-ID: <d>\r\n\r\nother\r\n--{BOUNDARY}--".encode(),
    )
    with pytest.raises(MultipartError) as refused:
        parse_multipart(body, MTOM_TYPE)
    assert refused.value.violation.message == (
        "Malformed multipart/related message: two parts have the Content-ID <d>."
    )


def test_content_ids_are_decoded_as_the_sne_decodes_them() -> None:
    # Apache CXF URL-decodes the Content-ID header too: <d%6Fc> is the part cid:doc names...
    body = mtom(envelope(include("doc")), {"d%6Fc": DOCUMENT})
    extraction = extract_documents(body, MTOM_TYPE, RULE, LIMITS, kind="mtom")
    assert extraction.documents[1].data == DOCUMENT
    # ... and <x%40y> and <x@y> are one Content-ID: which part is meant is the receiver's guess.
    twice = mtom(envelope(include("x@y")), {"x%40y": b"<invalid/>", "x@y": DOCUMENT})
    with pytest.raises(MultipartError) as refused:
        parse_multipart(twice, MTOM_TYPE)
    assert refused.value.violation.message.endswith("two parts have the Content-ID <x@y>.")


def test_a_header_line_without_colon_is_not_quoted() -> None:
    body = mtom(envelope(include("d")), {"d": DOCUMENT}).replace(
        b"Content-Type: application/octet-stream", b"<nom>DUPONT Jean</nom>"
    )
    with pytest.raises(MultipartError) as refused:
        parse_multipart(body, MTOM_TYPE)
    assert "DUPONT" not in refused.value.violation.message
    assert "line 1 of a part's headers has no colon" in refused.value.violation.message


def test_mtom_missing_part() -> None:
    body = mtom(envelope(include("absent@sne")), {"doc@sne": DOCUMENT})
    extraction = extract_documents(body, MTOM_TYPE, RULE, LIMITS, kind="mtom")
    problem = extraction.documents[1].problem
    assert problem.code == "xop.missing-part"
    assert problem.path.endswith("/ws:fichierDemande/xop:Include")


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (mtom(envelope(include("d")), {"d": DOCUMENT}, close=False), MTOM_TYPE, "mime.truncated"),
        (b"no boundary here", MTOM_TYPE, "mime.malformed"),
        (mtom(envelope(include("d")), {"d": DOCUMENT}), "multipart/related", "mime.malformed"),
        (
            mtom(envelope(include("d")), {"d": DOCUMENT}),
            MTOM_TYPE.replace("root.message", "other"),
            "mime.malformed",
        ),
    ],
    ids=["truncated", "no-boundary-in-body", "no-boundary-parameter", "start-not-found"],
)
def test_broken_multipart_messages(body: bytes, content_type: str, code: str) -> None:
    extraction = extract_documents(body, content_type, RULE, LIMITS, kind="mtom")
    assert [document.problem.code for document in extraction.documents] == [code]
    assert extraction.soap_version == ("1.2" if "start-info" in content_type else None)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.integers(min_value=0, max_value=3000))
def test_any_truncation_or_garbage_is_a_multipart_violation_or_parses(
    tail: bytes, cut: int
) -> None:
    body = mtom(envelope(include("d")), {"d": DOCUMENT})[:cut] + tail
    try:
        parse_multipart(body, MTOM_TYPE)
    except MultipartError as error:
        assert error.violation.code in {"mime.malformed", "mime.truncated"}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.binary(max_size=500))
def test_any_content_type_and_body_never_raise(content_type: str, body: bytes) -> None:
    extractor = extractor_for(content_type, DirectionRule())
    if extractor is not None and extractor.name in ("xml", "mtom"):
        extraction = extract_documents(body, content_type, RULE, LIMITS, kind=extractor.name)
        for document in extraction.documents:
            assert document.problem is not None or document.element is not None or document.data


@pytest.mark.parametrize(("facet", "valid"), [("", True), ('<xs:maxLength value="4"/>', False)])
def test_an_attachment_is_inlined_only_where_the_wrapper_schema_constrains_it(
    tmp_path: Path, facet: str, valid: bool
) -> None:
    entry = tmp_path / "Wrapper.xsd"
    entry.write_text(
        f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="{WS}" '
        f'targetNamespace="{WS}" elementFormDefault="qualified">'
        f'<xs:simpleType name="fichier"><xs:restriction base="xs:base64Binary">{facet}'
        "</xs:restriction></xs:simpleType>"
        '<xs:element name="getNumUnique"><xs:complexType><xs:sequence>'
        '<xs:element name="numUniqueParametres"><xs:complexType><xs:sequence>'
        '<xs:element name="fichierDemande" type="fichier"/>'
        "</xs:sequence></xs:complexType></xs:element>"
        "</xs:sequence></xs:complexType></xs:element></xs:schema>"
    )
    schema_set = load_catalog(entry).latest
    body = mtom(envelope(include("doc@sne")), {"doc@sne": DOCUMENT})
    rule = DirectionRule(wrapper="Wrapper", schema="Wrapper", embedded=("fichierDemande",))
    wrapper = extract_documents(body, MTOM_TYPE, rule, LIMITS, kind="mtom").documents[0]
    report = validate_document(wrapper, schema_set)
    fichier = wrapper.element.find(f".//{{{WS}}}fichierDemande")
    if valid:
        assert report.valid
        assert fichier.text is None  # any base64 is valid there: nothing was inlined
    else:
        assert [v.path for v in report.violations] == [
            "/env:Envelope/env:Body/ws:getNumUnique/ws:numUniqueParametres/ws:fichierDemande"
        ]
        assert base64.b64decode(fichier.text) == DOCUMENT


def _free_wrapper(tmp_path: Path) -> tuple[SchemaSet, DirectionRule]:
    """A wrapper schema whose fichierDemande takes any base64, and a bounded base64 type."""
    entry = tmp_path / "Wrapper.xsd"
    entry.write_text(
        f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="{WS}" '
        f'targetNamespace="{WS}" elementFormDefault="qualified">'
        '<xs:simpleType name="court"><xs:restriction base="xs:base64Binary">'
        '<xs:maxLength value="4"/></xs:restriction></xs:simpleType>'
        '<xs:element name="getNumUnique"><xs:complexType><xs:sequence>'
        '<xs:element name="numUniqueParametres"><xs:complexType><xs:sequence>'
        '<xs:element name="fichierDemande" type="xs:base64Binary"/>'
        "</xs:sequence></xs:complexType></xs:element>"
        "</xs:sequence></xs:complexType></xs:element></xs:schema>"
    )
    rule = DirectionRule(wrapper="Wrapper", schema="Wrapper", embedded=("fichierDemande",))
    return load_catalog(entry).latest, rule


def test_xsi_type_in_the_message_puts_the_attachment_back(tmp_path: Path) -> None:
    schema_set, rule = _free_wrapper(tmp_path)
    fichier = (
        f'<ws:fichierDemande xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:type="ws:court">{include("doc@sne")}</ws:fichierDemande>'
    )
    root = envelope("").replace(b"<ws:fichierDemande></ws:fichierDemande>", fichier.encode())
    body = mtom(root, {"doc@sne": DOCUMENT})
    wrapper = extract_documents(body, MTOM_TYPE, rule, LIMITS, kind="mtom").documents[0]
    report = validate_document(wrapper, schema_set)
    assert [v.code for v in report.violations] == ["xsd.facet"]


def test_text_beside_an_include_is_not_part_of_the_value(tmp_path: Path) -> None:
    schema_set, rule = _free_wrapper(tmp_path)
    body = mtom(envelope("QUJ" + include("doc@sne")), {"doc@sne": DOCUMENT})
    wrapper = extract_documents(body, MTOM_TYPE, rule, LIMITS, kind="mtom").documents[0]
    assert validate_document(wrapper, schema_set).valid


def raw_mtom(parts: list[tuple[str, bytes]]) -> bytes:
    """A multipart/related body from (header lines, content) pairs, in that order."""
    return (
        b"".join(
            f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n"
            for headers, content in parts
        )
        + f"--{BOUNDARY}--\r\n".encode()
    )


def malformed(body: bytes, content_type: str = MTOM_TYPE) -> str:
    with pytest.raises(MultipartError) as refused:
        parse_multipart(body, content_type)
    assert refused.value.violation.code == "mime.malformed"
    return refused.value.violation.message


def test_the_root_is_the_first_part_and_start_must_name_it() -> None:
    # CXF reads the first part as the envelope whatever `start` says: a valid envelope second,
    # named by `start`, must not stand in for an invalid first one.
    valid = envelope(include("d"))
    parts = [
        ("Content-ID: <evil>", envelope("not base64!")),
        ("Content-ID: <root>", valid),
        ("Content-ID: <d>", DOCUMENT),
    ]
    content_type = MTOM_TYPE.replace("root.message@cxf.apache.org", "root")
    extraction = extract_documents(raw_mtom(parts), content_type, RULE, LIMITS, kind="mtom")
    [problem] = [document.problem for document in extraction.documents]
    assert problem.code == "mime.malformed"
    assert problem.message == (
        "Malformed multipart/related message: the start parameter names <root>, which is not "
        "the first part; it must name the first part, as receivers differ on which one is the "
        "root."
    )
    # Without `start`, or with `start` naming it, the first part is the root.
    for content_type in ('multipart/related; boundary="' + BOUNDARY + '"', MTOM_TYPE):
        body = raw_mtom(
            [("Content-ID: <root.message@cxf.apache.org>", valid), ("Content-ID: <d>", DOCUMENT)]
        )
        multipart = parse_multipart(body, content_type)
        assert (multipart.root.content, multipart.attachments) == (valid, {"d": DOCUMENT})


@pytest.mark.parametrize(
    ("header", "identifier"),
    [
        ("<ab", "a"),  # the first and the last character go, whatever the last is
        ("<a> ", "a>"),  # CXF keeps the blanks at the end of a value
        ("<cid:x>", "x"),
        ("<CID:x>", "CID:x"),  # the prefix is case-sensitive
        ("cid:a+b%40c", "a b@c"),  # Java's URLDecoder: '+' is a space
        ("<<a>>", "<a>"),
    ],
)
def test_content_ids_are_cleaned_as_cxf_cleans_them(header: str, identifier: str) -> None:
    body = raw_mtom([("Content-ID: <r>", envelope(include("x"))), (f"Content-ID: {header}", b"")])
    multipart = parse_multipart(body, MTOM_TYPE.replace("root.message@cxf.apache.org", "r"))
    assert list(multipart.attachments) == [identifier]


def test_a_content_id_cleaned_to_another_part_s_is_a_duplicate() -> None:
    body = raw_mtom(
        [
            ("Content-ID: <root.message@cxf.apache.org>", envelope(include("d"))),
            ("Content-ID: <d>", DOCUMENT),
            ("Content-ID: <dx", b"<other/>"),
        ]
    )
    assert malformed(body) == (
        "Malformed multipart/related message: two parts have the Content-ID <d>."
    )


def test_an_attachment_without_content_id_has_cxf_s_default_one() -> None:
    body = raw_mtom(
        [
            ("Content-ID: <r>", envelope(include("root.message@cxf.apache.org"))),
            ("Content-Type: application/xml", b"<other/>"),
            ("Content-ID: <root.message@cxf.apache.org>", DOCUMENT),
        ]
    )
    assert malformed(body, MTOM_TYPE.replace("root.message@cxf.apache.org", "r")) == (
        "Malformed multipart/related message: two parts have the Content-ID "
        "<root.message@cxf.apache.org>."
    )


def test_a_content_id_java_cannot_decode_is_malformed() -> None:
    body = mtom(envelope(include("d")), {"d%zz": DOCUMENT})
    assert malformed(body) == (
        "Malformed multipart/related message: a Content-ID has a '%' not followed by two "
        "hexadecimal digits."
    )


def test_an_href_without_cid_is_looked_up_as_it_stands() -> None:
    # CXF URL-decodes an href after `cid:` only: `x%41` names the part <x%2541>, not <xA>.
    root = envelope("").replace(
        b"<ws:fichierDemande></ws:fichierDemande>",
        b'<ws:fichierDemande><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" '
        b'href="x%41"/></ws:fichierDemande>',
    )
    body = mtom(root, {"x%2541": DOCUMENT, "xA": b"<other/>"})
    extraction = extract_documents(body, MTOM_TYPE, RULE, LIMITS, kind="mtom")
    assert extraction.documents[1].data == DOCUMENT


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (
            "Content-ID: <d>\r\nContent-ID: <e>",
            "a part has two Content-ID headers",
        ),
        (
            "Content-Type: application/octet-stream\r\ncontent-type: text/plain",
            "a part has two content-type headers",
        ),
        (
            "Content-Type: application/octet-stream;\r\n name=x\r\nContent-ID: <d>",
            "line 2 of a part's headers is folded (begins with a space or a tab)",
        ),
        (
            "Content-ID: <d>\r\nContent-Transfer-Encoding : base64",
            "line 2 of a part's headers has a space before its colon",
        ),
        ("Content-ID: <d>\rX-A: b", "line 1 of a part's headers holds a lone carriage return"),
        # The blank line after the headers takes the last line's CRLF: this CR is a lone one.
        ("Content-ID: <d>\r", "line 1 of a part's headers holds a lone carriage return"),
    ],
    ids=[
        "two-content-ids",
        "two-content-types",
        "folded",
        "space-before-colon",
        "lone-cr",
        "lone-cr-last",
    ],
)
def test_headers_receivers_read_differently_are_malformed(headers: str, reason: str) -> None:
    body = raw_mtom(
        [("Content-ID: <root.message@cxf.apache.org>", envelope(include("d"))), (headers, DOCUMENT)]
    )
    assert malformed(body) == f"Malformed multipart/related message: {reason}."


def test_an_element_holding_two_includes_is_a_repeated_part() -> None:
    body = mtom(envelope(include("a") + include("b")), {"a": DOCUMENT, "b": b"<other/>"})
    [document] = extract_documents(body, MTOM_TYPE, RULE, LIMITS, kind="mtom").documents
    assert document.source == "ws:fichierDemande (cid:b)"
    assert document.problem.code == "xop.repeated-part"
    assert document.problem.message == (
        "<ws:fichierDemande> holds more than one xop:Include; an element's value is one MIME part."
    )
    assert document.problem.path == (
        "/env:Envelope/env:Body/ws:getNumUnique/ws:numUniqueParametres/ws:fichierDemande"
        "/xop:Include[2]"
    )

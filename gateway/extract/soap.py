"""SOAP 1.1 and 1.2 envelopes: the Body's payload, and the business documents it carries.

The payload (e.g. `ws:numUniqueParametres`) is validated against the route's wrapper schema.
Each element named in the route's `embedded` list (e.g. `fichierDemande`) carries a business
document: as base64 text, or, in an MTOM message, as an `xop:Include` pointing to a MIME part.
Either way the document is decoded and validated against the route's business schema.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from gateway.explain import element_path
from gateway.extract.content_id import href_content_id
from gateway.extract.document import Document, SchemaChoice
from gateway.limits import Limits
from gateway.names import SOAP11, SOAP12, XOP, display_name
from gateway.parse import too_large
from gateway.routing.route import DirectionRule
from gateway.violation import Violation

SOAP_VERSIONS = {SOAP11: "1.1", SOAP12: "1.2"}
#: By envelope tag: the SOAP version, and the Body's and the Fault's tags.
_ENVELOPES = {
    f"{{{namespace}}}Envelope": (version, f"{{{namespace}}}Body", f"{{{namespace}}}Fault")
    for namespace, version in SOAP_VERSIONS.items()
}
_INCLUDE = f"{{{XOP}}}Include"
_WHITESPACE = re.compile(rb"\s+")
_STRING_VALUE = etree.XPath("string()")


@dataclass(slots=True)
class SoapContent:
    """The documents found in an envelope, and its SOAP version ("1.1"/"1.2")."""

    version: str
    documents: tuple[Document, ...]
    fault: bool = False


def soap_version(root: etree._Element) -> str | None:
    """ "1.1" or "1.2" when `root` is a SOAP envelope, else None."""
    envelope = _ENVELOPES.get(root.tag)
    return envelope[0] if envelope else None


def _attachment(attachments: Mapping[str, bytes], href: str) -> bytes | None:
    """The part an Include's href names, as the receiver resolves it; None when none is."""
    identifier = href_content_id(href)
    return None if identifier is None else attachments.get(identifier)


def _problem(
    source: str, schema: SchemaChoice, code: str, message: str, element: etree._Element
) -> Document:
    return Document(
        source,
        schema=schema,
        problem=Violation(code, message, element.sourceline, None, element_path(element)),
    )


def _embedded_document(
    element: etree._Element,
    schema: SchemaChoice,
    attachments: Mapping[str, bytes],
    limits: Limits,
) -> Document:
    name = display_name(element.tag)
    include = element.find(_INCLUDE)
    if include is not None:
        href = include.get("href", "")
        source = f"{name} ({href})"
        attachment = _attachment(attachments, href)
        if attachment is None:
            return _problem(
                source,
                schema,
                "xop.missing-part",
                f"<{name}> refers to the MIME part {href!r}, which the message does not carry.",
                include,
            )
        if len(attachment) > limits.max_bytes:
            return Document(source, schema=schema, problem=too_large(limits))
        return Document(source, attachment, schema)
    # The element's whole text, as the receiver reads it: comments or processing instructions
    # (children, for lxml) could otherwise hide a second document's base64 after the first.
    value = (element.text or "") if len(element) == 0 else str(_STRING_VALUE(element))
    text = _WHITESPACE.sub(b"", value.encode("ascii", errors="replace"))
    if len(text) * 3 // 4 > limits.max_bytes:
        return Document(name, schema=schema, problem=too_large(limits))
    try:
        return Document(name, base64.b64decode(text, validate=True), schema)
    except binascii.Error:
        return _problem(
            name,
            schema,
            "soap.bad-base64",
            f"<{name}> should carry a base64-encoded document, but its text is not valid base64.",
            element,
        )


def _take_out_includes(
    includes: list[etree._Element], attachments: Mapping[str, bytes]
) -> tuple[tuple[etree._Element, bytes], ...]:
    """Take each xop:Include out of the payload, which then reads as the XOP infoset the wrapper
    schema describes once the base64 of each part is back in place (the validator does that
    only where the schema could tell the difference: see `Document.xop_content`). An Include
    whose part is missing is reported once, as `xop.missing-part`: the wrapper sees an empty
    value rather than a second error."""
    content = []
    for include in includes:
        attachment = _attachment(attachments, include.get("href", ""))
        parent = include.getparent()
        if parent is None:
            continue
        parent.remove(include)
        # The element's value is the part's base64: text left beside the Include is not in it.
        parent.text = None
        if attachment is not None:
            content.append((parent, attachment))
    return tuple(content)


def soap_documents(
    root: etree._Element,
    data: bytes,
    rule: DirectionRule,
    limits: Limits,
    attachments: Mapping[str, bytes] | None = None,
    faults_pass: bool = True,
) -> SoapContent | Document:
    """The documents of the envelope `root` (parsed from `data`), or a problem `Document`
    when it is not a usable envelope. A Fault passes unvalidated (`fault`), unless not
    `faults_pass` (a request, whose client sends no Fault): it is then a payload like any
    other, which its wrapper schema does not declare, and its embedded documents are checked."""
    envelope = _ENVELOPES.get(root.tag)
    if envelope is None:
        return _problem(
            "soap:Envelope",
            rule.wrapper,
            "soap.not-envelope",
            f"Expected a SOAP 1.1 or 1.2 envelope, found <{display_name(root.tag)}>.",
            root,
        )
    version, body_tag, fault_tag = envelope
    bodies = list(root.iterchildren(body_tag))
    body = bodies[0] if bodies else None
    payloads = (
        [child for child in body.iterchildren() if isinstance(child.tag, str)]
        if body is not None
        else []
    )
    # One payload in one Body, as every SNE operation has (document/literal, WS-I R2201):
    # whatever comes beside it would reach the SNE unvalidated.
    if len(bodies) > 1 or len(payloads) > 1:
        extra = bodies[1] if len(bodies) > 1 else payloads[1]
        return _problem(
            "soap:Body",
            rule.wrapper,
            "soap.extra-payload",
            (
                f"The envelope has {len(bodies)} Body elements"
                if len(bodies) > 1
                else f"The SOAP Body holds {len(payloads)} elements"
            )
            + "; a SOAP message to the SNE carries one payload in one Body.",
            extra,
        )
    payload = payloads[0] if payloads else None
    if payload is None:
        return _problem(
            "soap:Body",
            rule.wrapper,
            "soap.no-payload",
            "The SOAP Body is missing or empty: there is no payload to validate.",
            body if body is not None else root,
        )
    if payload.tag == fault_tag and faults_pass:
        return SoapContent(version, (), fault=True)
    attachments = attachments or {}
    includes = list(payload.iter(_INCLUDE)) if attachments else []
    if includes:
        # One part is one value, and XOP allows one Include as an element's only content:
        # otherwise the document checked and the value the receiver uses could differ.
        referred: set[str] = set()
        holders: set[etree._Element] = set()
        for include in includes:
            href = include.get("href", "")
            parent = include.getparent()
            identifier = href_content_id(href)
            if parent in holders:
                message = (
                    f"<{display_name(parent.tag)}> holds more than one xop:Include; an "
                    "element's value is one MIME part."
                )
            elif identifier is not None and identifier in referred:
                message = (
                    f"The MIME part {href!r} is referred to by more than one xop:Include; "
                    "each attachment is one value."
                )
            else:
                holders.add(parent)
                if identifier is not None:
                    referred.add(identifier)
                continue
            return _problem(
                f"{display_name(parent.tag)} ({href})",
                rule.schema,
                "xop.repeated-part",
                message,
                include,
            )
    # `{*}name`: the local name in any namespace, matched by libxml2 rather than in Python.
    embedded = payload.iter(*(f"{{*}}{name}" for name in rule.embedded)) if rule.embedded else ()
    documents = [
        _embedded_document(element, rule.schema, attachments, limits) for element in embedded
    ]
    if rule.wrapper or not rule.embedded:
        xop_content = _take_out_includes(includes, attachments) if includes else ()
        wrapper = rule.wrapper if rule.embedded else (rule.wrapper or rule.schema)
        documents.insert(
            0,
            Document(
                display_name(payload.tag), data, wrapper, element=payload, xop_content=xop_content
            ),
        )
    return SoapContent(version, tuple(documents))

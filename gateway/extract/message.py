"""The extractors' seam: an HTTP message body and its content type → the documents to validate.

    >>> extraction = extract_documents(body, "application/soap+xml", rule, limits)
    >>> [document.source for document in extraction.documents]
    ['ws:numUniqueParametres', 'ws:fichierDemande']

The extractor is the route's (`extract = "soap"`), or else chosen by content type:
`multipart/related` → MTOM, XML types → the whole body (unwrapped when it is a SOAP envelope),
gzip/tar types → an archive (streamed by the proxy, see `gateway.proxy.archive_stream`).
Anything else is not XML: it passes through, counted as unvalidated.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.extract.document import Document
from gateway.extract.mtom import MultipartError, parse_multipart
from gateway.extract.soap import SoapContent, soap_documents, soap_version
from gateway.http_metadata import (
    SOAP12_TYPE,
    announced_soap_version,
    charset_of,
    content_type_parameters,
    read_with_charset,
)
from gateway.limits import Limits
from gateway.parse import DocumentRejected, parse_xml
from gateway.routing.route import DirectionRule

MULTIPART_RELATED = "multipart/related"
XML_TYPES = frozenset({"text/xml", "application/xml", SOAP12_TYPE, "application/xop+xml"})
ARCHIVE_TYPES = frozenset(
    {
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-gtar",
        "application/x-compressed-tar",
        "application/tar+gzip",
    }
)


def extractor_for(content_type: str, rule: DirectionRule) -> str | None:
    """ "xml", "soap", "mtom", "tgz", or None when the body is not XML."""
    if rule.extract:
        return rule.extract
    media_type, _ = content_type_parameters(content_type)
    if media_type == MULTIPART_RELATED:
        return "mtom"
    if media_type in XML_TYPES or media_type.endswith("+xml"):
        return "xml"
    if media_type in ARCHIVE_TYPES:
        return "tgz"
    return None


@dataclass(frozen=True, slots=True)
class Extraction:
    """The documents a message carries. `soap_version` is set for SOAP messages (a blocked
    exchange is answered with a Fault of that version); `fault` when the message is a SOAP
    Fault, which passes unvalidated."""

    documents: tuple[Document, ...]
    soap_version: str | None = None
    fault: bool = False


def extract_documents(
    body: bytes,
    content_type: str,
    rule: DirectionRule,
    limits: Limits,
    kind: str | None = None,
    soap_action_header: str | None = None,
    show_values: bool = False,
    faults_pass: bool = True,
) -> Extraction:
    """The documents in `body` for the extractor `kind` ("xml", "soap" or "mtom"; by default
    the one `extractor_for` chooses). A body that is not XML says why without quoting its text,
    unless `show_values`. A SOAP Fault passes unvalidated, unless not `faults_pass`."""
    kind = kind or extractor_for(content_type, rule)
    announced = announced_soap_version(content_type, soap_action_header)
    attachments = None
    data = body
    root_part_type = ""
    if kind == "mtom":
        try:
            multipart = parse_multipart(body, content_type)
        except MultipartError as error:
            return Extraction(
                (
                    Document(
                        "multipart", schema=rule.wrapper or rule.schema, problem=error.violation
                    ),
                ),
                announced,
            )
        data, attachments = multipart.root.content, multipart.attachments
        root_part_type = multipart.root.headers.get("content-type", "")
    try:
        # As CXF: the MTOM root part's charset, else the message's.
        charset, root_charset = charset_of(content_type), charset_of(root_part_type)
        data = read_with_charset(data, charset if root_charset is None else root_charset)
        root = parse_xml(data, limits, show_values)
    except DocumentRejected as rejected:
        return Extraction(
            (Document("body", schema=rule.wrapper or rule.schema, problem=rejected.violation),),
            announced,
        )
    if kind in ("soap", "mtom") or soap_version(root) is not None:
        content = soap_documents(root, data, rule, limits, attachments, faults_pass)
        if isinstance(content, SoapContent):
            return Extraction(content.documents, content.version, content.fault)
        return Extraction((content,), announced or soap_version(root))
    return Extraction((Document("body", data, rule.schema, element=root),))

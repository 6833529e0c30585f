"""A body that is one XML document: read with the charset its headers name, parsed by the
hardened parser, and, when it is a SOAP envelope, unwrapped into the payload and the documents
it carries (`gateway.extract.soap`). Two extractors read bodies so: `xml`, chosen by XML media
types, which unwraps an envelope when it finds one, and `soap`, forced by a route, for which
the body must be an envelope. MTOM's root part is read the same way (`gateway.extract.mtom`).
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.extract.document import Document
from gateway.extract.extractor import BufferedExtractor, Extraction, Message
from gateway.extract.soap import SoapContent, soap_documents, soap_version
from gateway.http_metadata import SOAP12_TYPE, announced_soap_version, charset_of, read_with_charset
from gateway.parse import DocumentRejected, parse_xml


def read_xml_body(
    message: Message,
    data: bytes,
    envelope: bool,
    attachments: Mapping[str, bytes] | None = None,
    root_part_type: str = "",
) -> Extraction:
    """The documents of `data`, the message's XML document (its body, or MTOM's root part,
    of type `root_part_type`, with its `attachments`); a SOAP envelope is unwrapped, and with
    `envelope` the document must be one."""
    rule = message.rule
    try:
        # As CXF: the MTOM root part's charset, else the message's.
        charset, root_charset = charset_of(message.content_type), charset_of(root_part_type)
        data = read_with_charset(data, charset if root_charset is None else root_charset)
        root = parse_xml(data, message.limits, message.show_values)
    except DocumentRejected as rejected:
        return Extraction(
            (Document("body", schema=rule.wrapper or rule.schema, problem=rejected.violation),),
            announced_soap_version(message.content_type, message.soap_action_header),
        )
    if envelope or soap_version(root) is not None:
        content = soap_documents(root, data, rule, message.limits, attachments, message.faults_pass)
        if isinstance(content, SoapContent):
            return Extraction(content.documents, content.version, content.fault)
        announced = announced_soap_version(message.content_type, message.soap_action_header)
        return Extraction((content,), announced or soap_version(root))
    return Extraction((Document("body", data, rule.schema, element=root),))


XML = BufferedExtractor(
    name="xml",
    media_types=frozenset({"text/xml", "application/xml", SOAP12_TYPE, "application/xop+xml"}),
    media_type_suffix="+xml",
    extract=lambda message: read_xml_body(message, message.body, envelope=False),
)
SOAP = BufferedExtractor(
    name="soap", extract=lambda message: read_xml_body(message, message.body, envelope=True)
)

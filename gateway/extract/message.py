"""The extractors' seam: an HTTP message body and its content type → the documents to validate.

    >>> extraction = extract_documents(body, "application/soap+xml", rule, limits)
    >>> [document.source for document in extraction.documents]
    ['ws:numUniqueParametres', 'ws:fichierDemande']

The extractor is the route's (`extract = "soap"`), or else chosen by content type among the
registered ones (`EXTRACTORS`): `multipart/related` → MTOM, XML types → the whole body
(unwrapped when it is a SOAP envelope), gzip/tar types → an archive (streamed by the proxy,
see `gateway.proxy.archive_stream`). Anything else is not XML: it passes through, counted as
unvalidated. The configuration's `extract` values are the registered names.
"""

from __future__ import annotations

from gateway.extract.archive import TGZ
from gateway.extract.extractor import BufferedExtractor, Extraction, Extractor, Message
from gateway.extract.mtom import MTOM
from gateway.extract.xml_body import SOAP, XML
from gateway.http_metadata import content_type_parameters
from gateway.limits import Limits
from gateway.routing.route import DirectionRule

#: Every extractor, by name: a new one is registered here.
EXTRACTORS: dict[str, Extractor] = {
    extractor.name: extractor for extractor in (XML, SOAP, MTOM, TGZ)
}


def extractor_named(name: str) -> Extractor:
    """The registered extractor `name` (the configuration only gives registered names)."""
    return EXTRACTORS[name]


def extractor_for(content_type: str, rule: DirectionRule) -> Extractor | None:
    """The route's extractor, else the one whose media types the Content-Type names, or None
    when the body is not XML."""
    if rule.extract:
        return EXTRACTORS[rule.extract]
    media_type, _ = content_type_parameters(content_type)
    return next((e for e in EXTRACTORS.values() if e.accepts(media_type)), None)


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
    """The documents in `body` for the buffered extractor named `kind` (by default the one
    `extractor_for` chooses, else `xml`). A body that is not XML says why without quoting its
    text, unless `show_values`. A SOAP Fault passes unvalidated, unless not `faults_pass`."""
    extractor = extractor_named(kind) if kind else extractor_for(content_type, rule) or XML
    if not isinstance(extractor, BufferedExtractor):
        raise ValueError(f"the {extractor.name} extractor reads a stream, not a buffered body")
    message = Message(
        body, content_type, rule, limits, soap_action_header, show_values, faults_pass
    )
    return extractor.extract(message)

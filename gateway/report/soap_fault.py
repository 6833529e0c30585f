"""Blocked SOAP exchanges answered with a SOAP Fault of the request's version, its Detail
holding the same `listeAnomalie` as a plain-XML answer.

A blocked request is the client's fault (1.2 `env:Sender`, HTTP 400; 1.1 `soap:Client`,
HTTP 500 as SOAP 1.1 requires); a blocked response is the server's (`env:Receiver` /
`soap:Server`, HTTP 500).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from lxml import etree

from gateway.names import SOAP11, SOAP12
from gateway.report.anomaly import anomaly_list
from gateway.violation import DocumentReport

Culprit = Literal["client", "server"]
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def fault_status(version: str, culprit: Culprit) -> int:
    return 400 if version == "1.2" and culprit == "client" else 500


def fault_content_type(version: str) -> str:
    return "application/soap+xml; charset=utf-8" if version == "1.2" else "text/xml; charset=utf-8"


def soap_fault(
    version: str, culprit: Culprit, reason: str, reports: Sequence[DocumentReport]
) -> bytes:
    """The whole envelope of a Fault for SOAP `version` ("1.1" or "1.2")."""
    namespace = SOAP12 if version == "1.2" else SOAP11
    prefix = "env" if version == "1.2" else "soap"
    envelope = etree.Element(f"{{{namespace}}}Envelope", nsmap={prefix: namespace})
    body = etree.SubElement(envelope, f"{{{namespace}}}Body")
    fault = etree.SubElement(body, f"{{{namespace}}}Fault")
    if version == "1.2":
        code = etree.SubElement(fault, f"{{{namespace}}}Code")
        value = etree.SubElement(code, f"{{{namespace}}}Value")
        value.text = f"{prefix}:{'Sender' if culprit == 'client' else 'Receiver'}"
        text = etree.SubElement(
            etree.SubElement(fault, f"{{{namespace}}}Reason"), f"{{{namespace}}}Text"
        )
        text.set(XML_LANG, "fr")
        text.text = reason
        detail = etree.SubElement(fault, f"{{{namespace}}}Detail")
    else:
        etree.SubElement(
            fault, "faultcode"
        ).text = f"{prefix}:{'Client' if culprit == 'client' else 'Server'}"
        etree.SubElement(fault, "faultstring").text = reason
        detail = etree.SubElement(fault, "detail")
    detail.append(anomaly_list(reports))
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")

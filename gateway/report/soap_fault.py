"""SOAP Faults, for the gateway's blocked and failed SOAP exchanges and the simulator's SOAP
services alike: the envelope of a Fault of SOAP 1.1 or 1.2 with its Detail.

A blocked request is the client's fault (1.2 `env:Sender`, HTTP 400; 1.1 `soap:Client`,
HTTP 500 as SOAP 1.1 requires); a blocked response is the server's (`env:Receiver` /
`soap:Server`, HTTP 500). The gateway's Detail holds the same `listeAnomalie` as a plain-XML
answer (`anomaly_fault`); the simulator's, the WSDL's `serviceFault`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from lxml import etree

from gateway.names import SOAP11, SOAP12
from gateway.report.anomaly import Anomaly, add_anomaly_list

#: Who is at fault: the client (its message), the server, or the envelope's SOAP version.
Culprit = Literal["client", "server", "version"]
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: The Fault's code for each culprit, by SOAP version.
FAULT_CODES: dict[str, dict[Culprit, str]] = {
    "1.2": {"client": "Sender", "server": "Receiver", "version": "VersionMismatch"},
    "1.1": {"client": "Client", "server": "Server", "version": "VersionMismatch"},
}


def fault_status(version: str, culprit: Culprit) -> int:
    return 400 if version == "1.2" and culprit == "client" else 500


def fault_content_type(version: str) -> str:
    return "application/soap+xml; charset=utf-8" if version == "1.2" else "text/xml; charset=utf-8"


def soap_fault(
    version: str,
    culprit: Culprit,
    reason: str,
    detail: etree._Element,
    prefix: str | None = None,
) -> bytes:
    """The whole envelope of a Fault for SOAP `version` ("1.1" or "1.2"), its `detail` in its
    Detail, in French (`xml:lang="fr"`, as the SNE's own Faults). `prefix`: the envelope's
    namespace prefix (`env` in 1.2 and `soap` in 1.1 by default; Apache CXF writes `soap`)."""
    namespace = SOAP12 if version == "1.2" else SOAP11
    prefix = prefix or ("env" if version == "1.2" else "soap")
    code = f"{prefix}:{FAULT_CODES[version][culprit]}"
    envelope = etree.Element(f"{{{namespace}}}Envelope", nsmap={prefix: namespace})
    body = etree.SubElement(envelope, f"{{{namespace}}}Body")
    fault = etree.SubElement(body, f"{{{namespace}}}Fault")
    if version == "1.2":
        value = etree.SubElement(
            etree.SubElement(fault, f"{{{namespace}}}Code"), f"{{{namespace}}}Value"
        )
        value.text = code
        text = etree.SubElement(
            etree.SubElement(fault, f"{{{namespace}}}Reason"), f"{{{namespace}}}Text"
        )
        text.set(XML_LANG, "fr")
        text.text = reason
        details = etree.SubElement(fault, f"{{{namespace}}}Detail")
    else:
        etree.SubElement(fault, "faultcode").text = code
        etree.SubElement(fault, "faultstring").text = reason
        details = etree.SubElement(fault, "detail")
    details.append(detail)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def anomaly_fault(
    version: str, culprit: Culprit, reason: str, anomalies: Iterable[Anomaly]
) -> bytes:
    """A Fault whose Detail is a `listeAnomalie` of `anomalies`."""
    return soap_fault(version, culprit, reason, add_anomaly_list(None, anomalies))

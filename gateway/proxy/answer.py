"""What the gateway answers by itself, and the headers every proxied exchange gets.

A blocked exchange, one that cannot go through, and a refused request are answered in the shape
the SI already handles from the SNE: a SOAP Fault of the request's SOAP version on a SOAP route
(a refusal, made before the body is read, always as an anomaly document), an `interfaceNuu`
anomaly document otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.decide import overall_conformance
from gateway.proxy.headers import RawHeaders
from gateway.proxy.verdict import Verdict, gateway_reports
from gateway.report.anomaly import anomaly_document, report_anomalies
from gateway.report.soap_fault import Culprit, anomaly_fault, fault_content_type, fault_status
from gateway.routing.route import Direction

XML_CONTENT_TYPE = b"application/xml; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    content_type: bytes


def blocked(direction: Direction, verdict: Verdict, version: str) -> Answer:
    """The answer replacing a blocked request (client's fault) or response (server's)."""
    culprit: Culprit = "client" if direction == "request" else "server"
    if verdict.soap_version:
        count = sum(report.violation_count for report in verdict.reports)
        reason = f"Message non conforme bloqué par sne-gateway ({direction}, {count} anomalie(s))."
        return Answer(
            fault_status(verdict.soap_version, culprit),
            anomaly_fault(verdict.soap_version, culprit, reason, report_anomalies(verdict.reports)),
            fault_content_type(verdict.soap_version).encode(),
        )
    return Answer(
        422 if direction == "request" else 502,
        anomaly_document(report_anomalies(verdict.reports), version),
        XML_CONTENT_TYPE,
    )


#: On a SOAP route, who is at fault when the exchange cannot go through, and the Fault's Reason:
#: French (`xml:lang="fr"`), as in the SNE's own Faults; the cause, in the same words as the
#: logs, is in its Detail.
FAULTS: dict[str, tuple[Culprit, str]] = {
    "upstream.unreachable": ("server", "La plateforme SNE est injoignable depuis sne-gateway."),
    "upstream.timeout": ("server", "La plateforme SNE n'a pas répondu à temps à sne-gateway."),
    "upstream.invalid": (
        "server",
        "La réponse de la plateforme SNE est invalide ou interrompue ; la requête a pu être "
        "traitée.",
    ),
    "client.timeout": (
        "client",
        "La requête n'est pas parvenue en entier à sne-gateway dans le délai imparti.",
    ),
}


def failed(status: int, code: str, reason: str, soap_version: str | None, version: str) -> Answer:
    """The answer when the exchange cannot go through (`code`: the upstream is unreachable or
    too slow, the client too slow; `reason`: why): a SOAP Fault if the request was SOAP, else
    an anomaly document."""
    culprit, fault_reason = FAULTS[code]
    reports = gateway_reports("request" if culprit == "client" else "upstream", code, reason)
    if soap_version:
        return Answer(
            status,
            anomaly_fault(soap_version, culprit, fault_reason, report_anomalies(reports)),
            fault_content_type(soap_version).encode(),
        )
    return Answer(status, anomaly_document(report_anomalies(reports), version), XML_CONTENT_TYPE)


def refused(status: int, reason: str, version: str) -> Answer:
    """The answer to a request the gateway refuses (`gateway.refused`)."""
    reports = gateway_reports("request", "gateway.refused", reason)
    return Answer(status, anomaly_document(report_anomalies(reports), version), XML_CONTENT_TYPE)


def conformance_headers(
    request_id: str, verdicts: Mapping[Direction, Verdict], streaming: bool = False
) -> RawHeaders:
    """`X-Request-ID`, `X-Conformance` (overall and per direction) and `X-Conformance-Schema`;
    an export's (`streaming`), sent before its members are validated, say
    `X-Conformance: streaming`."""
    if streaming:
        return [(b"x-request-id", request_id.encode("latin-1")), (b"x-conformance", b"streaming")]
    overall = overall_conformance(verdict.decision for verdict in verdicts.values())
    headers = [
        (b"x-request-id", request_id.encode("latin-1")),
        (b"x-conformance", overall.encode()),
    ]
    for direction, verdict in verdicts.items():
        headers.append(
            (f"x-conformance-{direction}".encode(), verdict.decision.conformance.encode())
        )
    labels = dict.fromkeys(
        report.schema
        for verdict in verdicts.values()
        for report in verdict.reports
        if report.schema
    )
    if labels:
        # Labels come from file names: whatever is not latin-1 cannot go in a header.
        headers.append(
            (b"x-conformance-schema", ", ".join(labels).encode("latin-1", errors="replace"))
        )
    return headers

"""What the simulator receives on its REST interface: parsed by the engine's hardened parser,
validated by the engine, and refused (HTTP 400) with the engine's anomaly document, the same
one the gateway answers when it blocks."""

from __future__ import annotations

from lxml import etree

from gateway.limits import DEFAULT_LIMITS
from gateway.parse import DocumentRejected, parse_xml
from gateway.report.anomaly import anomaly_document, report_anomalies
from gateway.rules import NO_RULES
from gateway.schema import Schema
from gateway.simulator import clock
from gateway.simulator.answer import Answer, xml_answer
from gateway.validate import validate_element
from gateway.violation import DocumentReport

SOURCE = "body"


def read_document(body: bytes, schema: Schema) -> tuple[etree._Element | None, DocumentReport]:
    """The parsed body (None when it is not well-formed XML) and its report against `schema`."""
    try:
        root = parse_xml(body, DEFAULT_LIMITS)
    except DocumentRejected as rejected:
        return None, DocumentReport(SOURCE, schema.label, (rejected.violation,))
    # The SNE checks its XSD, not yet the business rules it announced.
    return root, validate_element(root, body, schema, source=SOURCE, rules=NO_RULES)


def refusal(report: DocumentReport, version: str) -> Answer:
    return xml_answer(anomaly_document(report_anomalies([report]), version, clock.now()), 400)

"""Blocked exchanges answered in the SNE's own error shape, which every SI already handles.

The body is an `interfaceNuu` document whose `listeAnomalie/anomalie` entries carry `code`,
`propriete` (the path) and `message` (with line and column), valid against the `anomalies`
schema of the shipped set. The SNE limits `code` to 10 characters, so it holds the code's short
form from `gateway.violation.CODES` (`XSD05`) and a `complement nom="violation"` holds the full
one (`xsd.pattern`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from lxml import etree

from gateway.names import NUU
from gateway.violation import CODES, DocumentReport, Violation

ANOMALY_FILE_TYPE = "ANO"
_PROPERTY_MAX = 255
_MESSAGE_MAX = 512
_COMPLEMENT_MAX = 255


def _short_code(code: str) -> str:
    """The registered short code; a code from outside the registry is clipped to fit."""
    known = CODES.get(code)
    return known.short if known else code[:10]


def _clip(text: str, limit: int, keep_end: bool = False) -> str:
    if len(text) <= limit:
        return text
    return "…" + text[-(limit - 1) :] if keep_end else text[: limit - 1] + "…"


def anomaly_message(violation: Violation, source: str) -> str:
    """`[xsd.facet] fichierDemande line 12, column 9: <nuu:nom> is …`"""
    where = " ".join(part for part in (source, violation.position) if part)
    return _clip(f"[{violation.code}] {where}: {violation.message}", _MESSAGE_MAX)


def _violations(reports: Sequence[DocumentReport]) -> Iterator[tuple[DocumentReport, Violation]]:
    for report in reports:
        for violation in report.violations:
            yield report, violation


def anomaly_list(reports: Sequence[DocumentReport]) -> etree._Element:
    """`<listeAnomalie>` with one `<anomalie>` per violation of the invalid reports."""
    anomalies = etree.Element(f"{{{NUU}}}listeAnomalie", nsmap={None: NUU})
    for report, violation in _violations(reports):
        anomaly = etree.SubElement(
            anomalies, f"{{{NUU}}}anomalie", code=_short_code(violation.code)
        )
        if violation.path:
            anomaly.set("propriete", _clip(violation.path, _PROPERTY_MAX, keep_end=True))
        complements = {
            "violation": violation.code,
            "document": report.source,
            "schema": report.schema,
            "ligne": violation.line,
            "colonne": violation.column,
        }
        for name, value in complements.items():
            if value is not None:
                complement = etree.SubElement(anomaly, f"{{{NUU}}}complement", nom=name)
                complement.text = _clip(str(value), _COMPLEMENT_MAX)
        message = etree.SubElement(anomaly, f"{{{NUU}}}message")
        message.text = anomaly_message(violation, report.source)
    return anomalies


def anomaly_document(reports: Sequence[DocumentReport], version: str) -> bytes:
    """A whole `interfaceNuu` anomaly document for the interface `version` (e.g. "13.34")."""
    root = etree.Element(f"{{{NUU}}}interfaceNuu", nsmap={None: NUU}, versionInterface=version)
    entete = etree.SubElement(root, f"{{{NUU}}}entete")
    etree.SubElement(entete, f"{{{NUU}}}typeFichier").text = ANOMALY_FILE_TYPE
    etree.SubElement(entete, f"{{{NUU}}}dateFichier").text = (
        datetime.now(UTC).replace(microsecond=0).isoformat()
    )
    root.append(anomaly_list(reports))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

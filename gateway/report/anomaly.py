"""Anomalies in the SNE's own error shape, which every SI already handles: the gateway's
blocked exchanges and refusals, and the simulator's answers, are built here alike.

An `interfaceNuu` document whose `listeAnomalie/anomalie` entries carry `code`, `propriete`
(the path), `complement`s and a `message`, valid against the `anomalies` schema of the shipped
set (the same list is a SOAP Fault's Detail, `gateway.report.soap_fault`). The SNE limits `code`
to 10 characters, so an engine violation's holds the code's short form from
`gateway.violation.CODES` (`XSD05`) and a `complement nom="violation"` holds the full one
(`xsd.pattern`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from gateway.names import NUU
from gateway.violation import CODES, DocumentReport, Violation

ANOMALY_FILE_TYPE = "ANO"
_PROPERTY_MAX = 255
_MESSAGE_MAX = 512
_COMPLEMENT_MAX = 255


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One `<anomalie>`: its `code` (the SNE's kind, `DRM001`, 10 characters at most), its
    `message`, the property at fault, and `complements` (name, value)."""

    code: str
    message: str
    propriete: str | None = None
    complements: tuple[tuple[str, object], ...] = ()


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
    return f"[{violation.code}] {where}: {violation.message}"


def report_anomalies(reports: Sequence[DocumentReport]) -> list[Anomaly]:
    """One anomaly per violation of the engine's `reports`."""
    return [
        Anomaly(
            _short_code(violation.code),
            anomaly_message(violation, report.source),
            violation.path,
            (
                ("violation", violation.code),
                ("document", report.source),
                ("schema", report.schema),
                ("ligne", violation.line),
                ("colonne", violation.column),
            ),
        )
        for report in reports
        for violation in report.violations
    ]


def add_anomaly_list(parent: etree._Element | None, anomalies: Iterable[Anomaly]) -> etree._Element:
    """`<listeAnomalie>` with one `<anomalie>` per anomaly, appended to `parent` (a document of
    the SNE's namespace), or on its own when `parent` is None. Texts are clipped to the
    lengths the schema allows."""
    tag = f"{{{NUU}}}listeAnomalie"
    listed = (
        etree.Element(tag, nsmap={None: NUU}) if parent is None else etree.SubElement(parent, tag)
    )
    for anomaly in anomalies:
        element = etree.SubElement(listed, f"{{{NUU}}}anomalie", code=anomaly.code)
        if anomaly.propriete:
            element.set("propriete", _clip(anomaly.propriete, _PROPERTY_MAX, keep_end=True))
        for name, value in anomaly.complements:
            if value is not None:
                complement = etree.SubElement(element, f"{{{NUU}}}complement", nom=name)
                complement.text = _clip(str(value), _COMPLEMENT_MAX)
        etree.SubElement(element, f"{{{NUU}}}message").text = _clip(anomaly.message, _MESSAGE_MAX)
    return listed


def anomaly_document(
    anomalies: Iterable[Anomaly], version: str, at: datetime | None = None
) -> bytes:
    """A whole `interfaceNuu` anomaly document for the interface `version` (e.g. "13.34"),
    produced `at` (by default now; the simulator's answers say its steerable clock)."""
    root = etree.Element(f"{{{NUU}}}interfaceNuu", nsmap={None: NUU}, versionInterface=version)
    entete = etree.SubElement(root, f"{{{NUU}}}entete")
    etree.SubElement(entete, f"{{{NUU}}}typeFichier").text = ANOMALY_FILE_TYPE
    etree.SubElement(entete, f"{{{NUU}}}dateFichier").text = (
        (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0).isoformat()
    )
    add_anomaly_list(root, anomalies)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

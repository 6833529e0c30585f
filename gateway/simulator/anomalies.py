"""The simulator's own refusals, in the SNE's shape: an `interfaceNuu` whose `listeAnomalie`
holds anomalies with the SNE's kind of codes (`DRM001`), valid against the `anomalies` schema.

Schema violations of what it receives are reported with the engine's reports instead
(`gateway.report.anomaly.anomaly_document`), exactly as the gateway reports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.simulator.nuu_document import add, interface_root, serialize

FILE_TYPE = "ANO"


@dataclass(frozen=True, slots=True)
class Anomaly:
    """`code` (10 characters at most), `message` (512), and the property at fault if any."""

    code: str
    message: str
    propriete: str | None = None


def add_anomalies(parent: etree._Element, anomalies: list[Anomaly]) -> etree._Element:
    """Append `<listeAnomalie>` with one `<anomalie>` per anomaly."""
    liste = add(parent, "listeAnomalie")
    for anomaly in anomalies:
        element = add(liste, "anomalie", code=anomaly.code)
        if anomaly.propriete:
            element.set("propriete", anomaly.propriete)
        add(element, "message", anomaly.message)
    return liste


def anomalies_document(version: str, *anomalies: Anomaly) -> bytes:
    root = interface_root(version, FILE_TYPE)
    add_anomalies(root, list(anomalies))
    return serialize(root)

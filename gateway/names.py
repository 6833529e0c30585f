"""How element names are shown in paths and messages, the same way everywhere.

SNE documents declare their namespace with whatever prefix the producer chose (often none), so
reports use fixed prefixes for the namespaces of the interface and Clark notation
(`{uri}local`) for any other, whatever the document itself wrote.
"""

from __future__ import annotations

NUU = "http://nuu.application.i2/"
WS = "http://ws.metier.nuu.application.i2/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
XOP = "http://www.w3.org/2004/08/xop/include"

PREFIXES: dict[str, str] = {
    NUU: "nuu",
    WS: "ws",
    SOAP11: "soap",
    SOAP12: "env",
    XOP: "xop",
}


def display_name(clark: str) -> str:
    """`{http://nuu.application.i2/}nom` → `nuu:nom`; no namespace → `nom`."""
    if not clark.startswith("{"):
        return clark
    uri, _, local = clark[1:].partition("}")
    prefix = PREFIXES.get(uri)
    return f"{prefix}:{local}" if prefix else clark

"""File names as the gateway shows them. A name that is not UTF-8 (a delivery unzipped from
Windows, "Données.xsd" in Latin-1) reaches Python with its undecodable bytes as surrogates,
which fail when printed, written into XML (JUnit) or sent as JSON: they are shown escaped."""

from __future__ import annotations

import os


def printable(path: str | os.PathLike[str]) -> str:
    """`path`, its bytes that are not UTF-8 escaped (`Donn\\xe9es.xsd`)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")

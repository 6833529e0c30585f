"""The seam between extractors and the engine: one document found in a message or input."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.violation import Violation


@dataclass(frozen=True, slots=True)
class Document:
    """A document to validate.

    `source` names it for people (`export.tgz!CERFA/0001.xml`, `fichierDemande`). `schema` is the
    schema name the context asks for, or None to select one from the document. `problem` is set,
    and `data` empty, when the document could not be extracted (too large, bad base64, a missing
    MIME part): the problem is then the document's only violation.
    """

    source: str
    data: bytes = b""
    schema: str | None = None
    problem: Violation | None = None

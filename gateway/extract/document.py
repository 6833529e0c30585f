"""The seam between extractors and the engine: one document found in a message or input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.violation import Violation

#: A schema name, names of candidate schemas, or None for every schema of the version.
SchemaChoice = str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Document:
    """A document to validate.

    `source` names it for people (`export.tgz!CERFA/0001.xml`, `fichierDemande`). `schema` is the
    schema name the context asks for, several names to select among, or None to select among
    all the schemas of the version. `problem` is set,
    and `data` empty, when the document could not be extracted (too large, bad base64, a missing
    MIME part): the problem is then the document's only violation. `element` is set when the
    extractor already parsed the document (a SOAP Body's payload): it is validated as is, and
    `data` is then the whole message its lines and columns refer to. `xop_content` pairs the
    elements of such a payload whose `xop:Include` was taken out with the attachment bytes it
    stood for: the validator puts their base64 back where the schema could reject it.
    """

    source: str
    data: bytes = b""
    schema: SchemaChoice = None
    problem: Violation | None = None
    element: Any = None
    xop_content: tuple[tuple[Any, bytes], ...] = ()

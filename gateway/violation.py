"""What the engine finds wrong with a document, and the report it returns.

A `Violation` is the one object that travels from the engine to the proxy's answer, the logs,
the CLI and the diff report. Its `code` is stable (tools and CI rely on it); its `message` is for
people and never carries element values unless the caller asked for them explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Every violation code, with what it means; `docs/violations.md` lists each (a test checks).
CODES: dict[str, str] = {
    "xml.malformed": "The document is not well-formed XML.",
    "xml.dtd-forbidden": "The document has a DOCTYPE; DTDs and entities are refused.",
    "limits.size": "The document is larger than the configured maximum size.",
    "limits.depth": "The document nests elements deeper than the configured maximum.",
    "xsd.unexpected-element": "An element is not allowed at this place (or as the root).",
    "xsd.missing-element": "A required child element is missing.",
    "xsd.facet": "A value breaks a length, range or digits facet.",
    "xsd.enumeration": "A value is not one of the values the schema enumerates.",
    "xsd.pattern": "A value does not match the pattern of its type.",
    "xsd.type": "A value is not valid for its type, or text appears where it may not.",
    "xsd.attribute": "An attribute is not allowed, or a required attribute is missing.",
    "xsd.invalid": "The document breaks another rule of the schema.",
    "schema.not-found": "No schema of the catalog applies to this document.",
    "archive.corrupt": "The archive is not a readable gzip-compressed tar file.",
    "archive.truncated": "The archive ends or breaks in the middle; later members are missing.",
    "mime.malformed": "A multipart/related (MTOM) message cannot be split into its parts.",
    "mime.truncated": "A multipart/related (MTOM) message ends before its closing boundary.",
    "xop.missing-part": "An xop:Include refers to a MIME part the message does not carry.",
    "soap.not-envelope": "The body of a SOAP exchange is not a SOAP 1.1 or 1.2 envelope.",
    "soap.no-payload": "The SOAP Body is empty.",
    "soap.bad-base64": "An element meant to carry a base64 document holds invalid base64.",
    "validation.failed": "The gateway could not validate the exchange (an internal error).",
    "gateway.refused": "The request is refused: CONNECT, an absolute-form target or a bad path.",
    "upstream.unreachable": "The SNE platform cannot be reached (HTTP 502).",
    "upstream.timeout": "The SNE platform did not answer in time (HTTP 504).",
}


@dataclass(frozen=True, slots=True)
class Violation:
    """One thing wrong with a document.

    `path` is an XPath to the offending node with prefixes from `gateway.names`
    (`/nuu:interfaceNuu/nuu:demande/nuu:demandeLogement/nuu:numGuichet`); `line` and
    `column` are 1-based positions in the document, `None` where they do not apply.
    """

    code: str
    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "path": self.path,
        }

    @property
    def position(self) -> str:
        """`line 12, column 7`, or the empty string when the position is unknown."""
        if self.line is None:
            return ""
        if self.column is None:
            return f"line {self.line}"
        return f"line {self.line}, column {self.column}"


@dataclass(frozen=True, slots=True)
class DocumentReport:
    """The verdict on one document.

    `schema` is `name@version` of the schema that judged it (`None` when none applied).
    `omitted` counts violations beyond the cap set by `Limits.max_violations`.
    `candidates` lists the schemas tried when the schema was selected automatically.
    """

    source: str
    schema: str | None
    violations: tuple[Violation, ...] = ()
    omitted: int = 0
    candidates: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        return not self.violations

    @property
    def violation_count(self) -> int:
        return len(self.violations) + self.omitted

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "source": self.source,
            "schema": self.schema,
            "valid": self.valid,
            "violations": [violation.to_dict() for violation in self.violations],
        }
        if self.omitted:
            result["omitted"] = self.omitted
        if self.candidates:
            result["candidates"] = list(self.candidates)
        return result

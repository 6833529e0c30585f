"""What the engine finds wrong with a document, and the report it returns.

A `Violation` is the one object that travels from the engine to the proxy's answer, the logs,
the CLI and the diff report. Its `code` is stable (tools and CI rely on it); its `message` is for
people and never carries element values unless the caller asked for them explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Code:
    """A violation code's short form (for the SNE's `anomalie/@code`, 10 characters at most)
    and what it means."""

    short: str
    meaning: str


#: Every violation code; `docs/violations.md` documents each (a test checks).
CODES: dict[str, Code] = {
    "xml.malformed": Code("XML01", "The document is not well-formed XML."),
    "xml.dtd-forbidden": Code(
        "XML02", "The document has a DOCTYPE; DTDs and entities are refused."
    ),
    "limits.size": Code(
        "LIM01",
        "The document is larger than the configured maximum size, or one of its texts than "
        "libxml2's 10 MB.",
    ),
    "limits.depth": Code(
        "LIM02", "The document nests elements deeper than the configured maximum."
    ),
    "xsd.unexpected-element": Code(
        "XSD01", "An element is not allowed at this place (or as the root)."
    ),
    "xsd.missing-element": Code("XSD02", "A required child element is missing."),
    "xsd.facet": Code("XSD03", "A value breaks a length, range or digits facet."),
    "xsd.enumeration": Code("XSD04", "A value is not one of the values the schema enumerates."),
    "xsd.pattern": Code("XSD05", "A value does not match the pattern of its type."),
    "xsd.type": Code(
        "XSD06", "A value is not valid for its type, or text appears where it may not."
    ),
    "xsd.attribute": Code(
        "XSD07", "An attribute is not allowed, or a required attribute is missing."
    ),
    "xsd.invalid": Code("XSD99", "The document breaks another rule of the schema."),
    "schema.not-found": Code("SCH01", "No schema of the catalog applies to this document."),
    "archive.corrupt": Code(
        "ARC01",
        "The archive is not a readable gzip-compressed tar file, or has a header refused "
        "(damaged, sparse, oversized).",
    ),
    "archive.truncated": Code(
        "ARC02", "The archive ends or breaks in the middle; later members are missing."
    ),
    "archive.link": Code(
        "ARC03",
        "An export member named .xml is a link: extracted, it reads as its target, which is "
        "not validated as that member.",
    ),
    "archive.unsafe-name": Code(
        "ARC04",
        "An export member's name would extract elsewhere than it reads (absolute, a '..' "
        "segment, a trailing space or dot, a backslash, a character or device name Windows "
        "reads otherwise), or a link points outside the extraction directory.",
    ),
    "mime.malformed": Code(
        "MIM01",
        "A multipart/related (MTOM) message cannot be split into its parts, or receivers could "
        "split it differently (root part, headers, Content-IDs).",
    ),
    "mime.truncated": Code(
        "MIM02", "A multipart/related (MTOM) message ends before its closing boundary."
    ),
    "xop.missing-part": Code(
        "MIM03", "An xop:Include refers to a MIME part the message does not carry."
    ),
    "soap.not-envelope": Code(
        "SOA01", "The body of a SOAP exchange is not a SOAP 1.1 or 1.2 envelope."
    ),
    "soap.no-payload": Code("SOA02", "The SOAP Body is empty."),
    "soap.bad-base64": Code(
        "SOA03", "An element meant to carry a base64 document holds invalid base64."
    ),
    "soap.extra-payload": Code(
        "SOA04", "The SOAP envelope has more than one Body, or its Body more than one payload."
    ),
    "xop.repeated-part": Code(
        "MIM04",
        "Several xop:Include elements refer to the same MIME part, or one element holds several.",
    ),
    "validation.failed": Code(
        "GTW01", "The gateway could not validate the exchange (an internal error)."
    ),
    "gateway.refused": Code(
        "GTW02",
        "The request is refused: CONNECT or TRACE, an absolute-form target, `OPTIONS *`, a "
        "missing, doubled or bad Host, doubled Content-Type, Content-Encoding or action, a bad "
        "path, or a body with a method its path's routes do not list.",
    ),
    "upstream.unreachable": Code(
        "GTW03", "The SNE platform cannot be reached; the request was not sent (HTTP 502)."
    ),
    "http.content-encoding": Code(
        "GTW05", "A body's Content-Encoding cannot be decoded, so it was not validated."
    ),
    "upstream.timeout": Code("GTW04", "The SNE platform did not answer in time (HTTP 504)."),
    "client.timeout": Code(
        "GTW06", "The client stopped sending its request before the end (HTTP 408)."
    ),
    "upstream.invalid": Code(
        "GTW07",
        "The SNE platform's answer is not valid HTTP, or broke off, or there was none once the "
        "request was sent: it may have been processed (HTTP 502).",
    ),
    "http.charset": Code(
        "GTW08",
        "The Content-Type's charset names no known encoding, or not the one the document declares.",
    ),
    "rule.pays": Code(
        "PAY01",
        "A pays is not a country name of INSEE's COG (a suggestion when one name is 95 % similar).",
    ),
    "rule.pays-code": Code("PAY02", "A pays holds a country code instead of a name."),
    "rule.pays-france": Code("PAY03", "A pays of a foreign address names France."),
    "rule.pays-overseas": Code(
        "PAY04", "A pays of a foreign address names a French overseas department or collectivity."
    ),
    "rule.pj-page-range": Code("PJ01", "A PJ content's pageDebut is after its pageFin."),
    "rule.pj-page-overlap": Code("PJ02", "Two contents of one PJ share a page."),
    "rule.pj-page-order": Code("PJ03", "The contents of a PJ are not listed in page order."),
    "rule.pj-annee": Code("PJ04", "A PJ content's annee is after the year of the piece's deposit."),
    "rule.pj-page-beyond": Code("PJ05", "A PJ content ends past the piece's nombrePages."),
}
#: Violations meaning an input could not be read, rather than a document found invalid.
UNREADABLE_CODES = frozenset({"archive.corrupt", "archive.truncated"})


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


class ViolationError(Exception):
    """Raised where reading stops on a defect; `violation` says what, where and why."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.message)
        self.violation = violation


@dataclass(frozen=True, slots=True)
class DocumentReport:
    """The verdict on one document.

    `schema` is `name@version` of the schema that judged it (`None` when none applied).
    `omitted` counts violations beyond the cap set by `Limits.max_violations`.
    `candidates` lists the schemas tried when the schema was selected automatically and
    identity did not decide; `note` says how the schema was chosen when the document's declared
    version had none of its own.
    """

    source: str
    schema: str | None
    violations: tuple[Violation, ...] = ()
    omitted: int = 0
    candidates: tuple[str, ...] = field(default=())
    note: str | None = None

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
        if self.note:
            result["note"] = self.note
        return result

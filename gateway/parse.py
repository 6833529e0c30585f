"""Hardened XML parsing: the only way documents enter the engine.

No DTD is loaded or accepted, no entity is expanded, nothing is fetched from the network or
the file system, and size and depth are bounded, so hostile input (billion laughs, external
entities, 100,000-deep nesting, a 2 GB body) ends in a violation, never in a hang, a crash or a
file read.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from lxml import etree

from gateway.limits import LIBXML2_MAX_DEPTH, Limits
from gateway.syntax_error import syntax_message
from gateway.violation import Violation, ViolationError


class DocumentRejected(ViolationError):
    """The document cannot be validated; `violation` says why."""


class _RefuseEverything(etree.Resolver):
    """Answers every external reference with nothing: a second lock behind load_dtd=False."""

    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        return self.resolve_string("", context)


_local = threading.local()


def _new_parser(remove_blank_text: bool) -> etree.XMLParser:
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        attribute_defaults=False,
        collect_ids=False,
        remove_blank_text=remove_blank_text,
    )
    parser.resolvers.add(_RefuseEverything())
    return parser


def _parser(data: bytes) -> etree.XMLParser:
    # lxml parsers keep per-parse state, so each thread gets its own. Whitespace between
    # elements is dropped while parsing (no SNE schema has mixed content, and the validator
    # ignores it anyway): a quarter fewer nodes to build and to walk. But libxml2 also drops
    # whitespace-only text beside a comment, a processing instruction or a CDATA section,
    # which is part of a value for the receiver (`<codePostal>   <!---->38400</codePostal>` is
    # "   38400" for Xerces): such documents are parsed without that shortcut.
    if _keeps_blanks(data):
        parser = getattr(_local, "exact_parser", None)
        if parser is None:
            parser = _local.exact_parser = _new_parser(remove_blank_text=False)
        return parser
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _new_parser(remove_blank_text=True)
    return parser


_XML_DECLARATION = re.compile(rb"<\?xml[ \t\r\n][^>]*?\?>")
_DECLARED_ENCODING = re.compile(rb"""encoding[ \t\r\n]*=[ \t\r\n]*["']([^"']*)""")
#: Encodings in which a comment, a CDATA section or a processing instruction is spelled in the
#: bytes the scan below looks for.
_ASCII_ENCODINGS = re.compile(
    rb"utf-?8|(?:us-)?ascii|iso[-_]?8859-\d+|latin-?1|windows-125\d|cp125\d", re.IGNORECASE
)


def _keeps_blanks(data: bytes) -> bool:
    """Whether `data` must be parsed with its whitespace-only text kept: from its root element
    on, it holds a comment, a CDATA section or a processing instruction, or it is in an
    encoding where this byte scan cannot tell (UTF-16, EBCDIC, a declared UTF-7...)."""
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    start = _SPACE.match(data, bom).end()  # type: ignore[union-attr]
    if data[start : start + 1] != b"<" or data[start + 1 : start + 2] in (b"", b"\x00"):
        return True
    declaration = _XML_DECLARATION.match(data, start)
    if declaration is not None:
        encoding = _DECLARED_ENCODING.search(declaration.group())
        if encoding is not None and not _ASCII_ENCODINGS.fullmatch(encoding.group(1)):
            return True
    # Comments and processing instructions before the root element hold no value.
    prolog_end = _prolog_end(data, start)
    if prolog_end is None:
        return True
    # A comment and a CDATA section begin with "<!", a processing instruction with "<?". The
    # rare "!" and "?" are looked for, not "<", which begins every tag: this scan runs on every
    # document and must cost next to nothing (docs/benchmarks.md).
    for mark in (b"!", b"?"):
        position = data.find(mark, prolog_end)
        while position >= 0:
            if data[position - 1 : position] == b"<":
                return True
            position = data.find(mark, position + 1)
    return False


#: libxml2's bound on a single text node, name, attribute value or comment outside its huge
#: mode (XML_MAX_TEXT_LENGTH), and how its messages say one was passed.
LIBXML2_MAX_NODE_BYTES = 10_000_000
LIBXML2_NODE_LIMIT_SIGNS = ("Resource limit exceeded", "too big found")
_SPACE = re.compile(rb"[ \t\r\n]*")
_POSITION_SUFFIX = re.compile(r"(, line \d+, column \d+)+$")
#: How a document's first bytes say it is in UTF-16 or UTF-32, with or without a byte-order
#: mark (XML 1.0, appendix F); the four-byte forms first, as FF FE begins both LE marks.
_WIDE_ENCODINGS = (
    (b"\x00\x00\xfe\xff", "utf-32be"),
    (b"\xff\xfe\x00\x00", "utf-32le"),
    (b"\x00\x00\x00<", "utf-32be"),
    (b"<\x00\x00\x00", "utf-32le"),
    (b"\xfe\xff", "utf-16"),
    (b"\xff\xfe", "utf-16"),
    (b"\x00<", "utf-16be"),
    (b"<\x00", "utf-16le"),
)
#: Every mark above begins with one of these bytes or has NUL as its second byte: a quick test
#: that spares most documents the loop.
_WIDE_FIRST_BYTES = (b"\x00", b"\xfe", b"\xff")


def _prolog_end(data: bytes, position: int) -> int | None:
    """Where the prolog's declaration, comments and processing instructions give way (to a
    DOCTYPE or the root element), from `position`; None when one of them never ends. Linear
    in the prolog's size."""
    while True:
        position = _SPACE.match(data, position).end()  # type: ignore[union-attr]
        if data.startswith(b"<?", position):
            end, closing = data.find(b"?>", position + 2), 2
        elif data.startswith(b"<!--", position):
            end, closing = data.find(b"-->", position + 4), 3
        else:
            return position
        if end < 0:
            return None
        position = end + closing


def _doctype_position(data: bytes) -> tuple[int, int] | None:
    """Line and column of a DOCTYPE in the prolog, found without parsing (and so without
    letting libxml2 read the internal subset), in any encoding. Linear in the prolog's size."""
    if data[:1] in _WIDE_FIRST_BYTES or data[1:2] == b"\x00":
        for mark, encoding in _WIDE_ENCODINGS:
            if data.startswith(mark):
                data = data[: 1 << 20].decode(encoding, errors="replace").encode("utf-8")
                break
    position = _prolog_end(data, 3 if data.startswith(b"\xef\xbb\xbf") else 0)
    if position is None or not data.startswith(b"<!DOCTYPE", position):
        return None
    return line_and_column(data, position)


def syntax_error_message(error: etree.XMLSyntaxError) -> str:
    """libxml2's message proper: its first line, without the position lxml appends (reports
    carry it separately). The lines after it can quote the document (`CData section not
    finished` is followed by the section's text), which stays out of reports and logs."""
    return _POSITION_SUFFIX.sub("", str(error.msg)).split("\n", 1)[0].rstrip()


def line_and_column(data: bytes, offset: int) -> tuple[int, int]:
    """The line and column of byte `offset` in a document of one byte per character."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def declared_encoding(data: bytes) -> bytes | None:
    """The encoding the document's XML declaration names, if it begins with one that does."""
    declaration = _XML_DECLARATION.match(data)
    declared = declaration and _DECLARED_ENCODING.search(declaration.group())
    return declared.group(1) if declared else None


@lru_cache(maxsize=8)
def _deeper_than(depth: int) -> etree.XPath:
    return etree.XPath("boolean(" + "/*" * (depth + 1) + ")")


def _dtd_forbidden(line: int | None, column: int | None) -> DocumentRejected:
    return DocumentRejected(
        Violation(
            code="xml.dtd-forbidden",
            message="The document has a DOCTYPE declaration; DTDs and entities are refused "
            "(SNE documents never use them). Remove the DOCTYPE.",
            line=line,
            column=column,
        )
    )


def _too_deep(limits: Limits, line: int | None, column: int | None) -> DocumentRejected:
    return DocumentRejected(
        Violation(
            code="limits.depth",
            message=f"Elements are nested more than {limits.max_depth} levels deep; "
            "the document is refused.",
            line=line,
            column=column,
        )
    )


def parse_xml(data: bytes, limits: Limits, show_values: bool = False) -> etree._Element:
    """Parse `data` into an element tree, or raise `DocumentRejected` with the violation (whose
    message quotes none of the document's text unless `show_values`)."""
    if len(data) > limits.max_bytes:
        raise DocumentRejected(too_large(limits))
    doctype = _doctype_position(data)
    if doctype is not None:
        raise _dtd_forbidden(*doctype)
    try:
        root = etree.fromstring(data, _parser(data))
    except etree.XMLSyntaxError as error:
        line, column = error.position
        if "Excessive depth" in str(error.msg):
            raise _too_deep(limits, line, column) from None
        if any(sign in str(error.msg) for sign in LIBXML2_NODE_LIMIT_SIGNS):
            detail = syntax_error_message(error).split(", try XML_PARSE_HUGE")[0].strip()
            # `PI name too big found` names a processing instruction's target.
            said = syntax_message(error.code, detail, show_values)
            raise DocumentRejected(
                Violation(
                    code="limits.size",
                    message="One text, name, attribute or comment of the document is larger "
                    f"than libxml2's limit of {LIBXML2_MAX_NODE_BYTES:,} bytes ({said}); the "
                    "document is refused. A document this large is sent as an MTOM attachment "
                    "rather than as inline base64.",
                    line=line or None,
                    column=column or None,
                )
            ) from None
        raise DocumentRejected(
            Violation(
                code="xml.malformed",
                message="Not well-formed XML: "
                f"{syntax_message(error.code, syntax_error_message(error), show_values)}.",
                line=line or None,
                column=column or None,
            )
        ) from None
    if root.getroottree().docinfo.doctype:
        raise _dtd_forbidden(None, None)
    if limits.max_depth < LIBXML2_MAX_DEPTH and _deeper_than(limits.max_depth)(root):
        raise _too_deep(limits, None, None)
    return root


def too_large(limits: Limits) -> Violation:
    """The violation for a document over `limits.max_bytes`, also used by readers that stop
    reading a stream at the limit."""
    return Violation(
        code="limits.size",
        message=f"The document is larger than {limits.max_bytes:,} bytes; it is refused "
        "without being read further.",
    )

"""What an HTTP message's headers say about its body, read as the SNE's Apache CXF reads them.

- The media type and parameters of a Content-Type (`content_type_parameters`).
- The charset (`charset_of`, `read_with_charset`): where CXF finds it, and which charsets the
  gateway and the SNE read alike; a document is read as its receiver reads it, or refused
  (`http.charset`) where receivers could read it differently.
- The SOAP version and action the headers announce (`announced_soap_version`,
  `content_type_action`, `soap_action`): for routing, and to answer a message that cannot be
  parsed in the SOAP version its sender speaks.
- The Content-Encoding (`decoded_body`): gzip and deflate undone, bounded, as a receiver does.

Plain functions of strings and bytes, shared by the extractors and the proxy.
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from gateway.parse import DocumentRejected, declared_encoding, line_and_column
from gateway.violation import Violation

SOAP12_TYPE = "application/soap+xml"
#: Members of a gzip body decoded (each one copies the rest of the body: a body of 20-byte
#: empty members would take minutes); a client sends one.
MAX_GZIP_MEMBERS = 4

_PARAMETER = re.compile(r';\s*([\w.\-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')


@lru_cache(maxsize=256)
def content_type_parameters(value: str) -> tuple[str, Mapping[str, str]]:
    """`multipart/related; boundary="b"; start="<r>"` → (`multipart/related`, parameters).
    Cached: a client sends the same few content types again and again."""
    media_type = value.split(";", 1)[0].strip().lower()
    parameters = {}
    for name, raw in _PARAMETER.findall(value):
        if raw.startswith('"'):
            raw = raw[1:-1]
            if "\\" in raw:
                raw = re.sub(r"\\(.)", r"\1", raw)
        parameters[name.lower()] = raw
    return media_type, MappingProxyType(parameters)


def announced_soap_version(content_type: str, soap_action_header: str | None) -> str | None:
    """The SOAP version the HTTP headers announce, for answering a message that cannot be
    parsed: SOAP 1.2's media type, or SOAP 1.1's SOAPAction header."""
    media_type, parameters = content_type_parameters(content_type)
    start_info = content_type_parameters(parameters.get("start-info", ""))[0]
    if SOAP12_TYPE in (media_type, parameters.get("type"), start_info):
        return "1.2"
    if soap_action_header is not None or start_info == "text/xml":
        return "1.1"
    return None


def content_type_action(content_type: str) -> str | None:
    """The action a SOAP 1.2 Content-Type carries: its `action` parameter or, in MTOM, the one
    inside `start-info` (`start-info="application/soap+xml; action=\\"urn:op\\""`, as in the
    MTOM specification's example)."""
    parameters = content_type_parameters(content_type)[1]
    if "action" in parameters or "start-info" not in parameters:
        return parameters.get("action")
    return content_type_parameters(parameters["start-info"])[1].get("action")


def soap_action(header_action: str | None, content_type: str) -> str | None:
    """The SOAP action as the SNE's CXF reads it: the Content-Type's for SOAP 1.2 (a SOAPAction
    header is then ignored), else the SOAPAction header, in double or single quotes."""
    if announced_soap_version(content_type, None) == "1.2":
        action = content_type_action(content_type)
    else:
        action = header_action
    return action.strip().strip("\"'") if action is not None else None


#: The charsets both the gateway (Python's codecs) and the SNE (Java's `Charset.forName`) know
#: by these names, read alike. Others are refused rather than guessed at: Java and Python each
#: know names the other does not (`utf-7`, `latin-1`, `windows-31j`), and a label from a client
#: is never handed to `codecs.lookup`, whose cache would keep every one.
_SHARED_CHARSETS = re.compile(
    r"utf-?8|utf-(?:16|32)(?:be|le)?|(?:us-)?ascii|iso[-_]?8859[-_](?:1[35]?|[2-9])|latin1"
    r"|windows-125[0-8]|cp125[0-8]",
    re.IGNORECASE,
)
#: Byte-order marks and the byte order each says; the four-byte ones first.
_BYTE_ORDER_MARKS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
#: Where a Content-Type names its charset, in any spelling a servlet container accepts.
_CHARSET_PARAMETER = re.compile(r"charset\s*=", re.IGNORECASE)


def _encoding_name(label: str) -> str | None:
    """The codec a charset or an encoding declaration names, as one spelling; None when it is
    not one of `_SHARED_CHARSETS`."""
    return codecs.lookup(label).name if _SHARED_CHARSETS.fullmatch(label) else None


def _charset_refused(message: str) -> DocumentRejected:
    return DocumentRejected(Violation(code="http.charset", message=message))


def charset_of(content_type: str) -> str | None:
    """The charset a Content-Type names, read as the SNE's CXF reads it
    (`HttpHeaderHelper.findCharset`): from the first `charset=` anywhere in the value (in that
    case, even inside another parameter) to the next `;`, without quotes. Named more than once,
    or spelled otherwise (`Charset=`, `charset =`, which CXF misses and its servlet container
    may read), receivers could take different ones: refused (`http.charset`)."""
    named = _CHARSET_PARAMETER.findall(content_type)
    if not named:
        return None
    if named != ["charset="]:
        raise _charset_refused(
            "The Content-Type names a charset more than once, or spells it other than "
            "'charset='; receivers could read different ones. Name it once, as 'charset='."
        )
    return content_type.split("charset=", 1)[1].split(";", 1)[0].replace('"', "").strip()


def read_with_charset(data: bytes, charset: str | None) -> bytes:
    """The document as its receiver reads it when the Content-Type names `charset` (RFC 7303
    makes that parameter authoritative, and the SNE's Apache CXF decodes with it): re-encoded
    in UTF-8 when the document declares no encoding of its own. Refused (`http.charset`) where
    receivers could read it differently: a charset not in `_SHARED_CHARSETS`, or one that
    disagrees with the document's declaration or byte-order mark; UTF-16 and UTF-32 only with a
    byte-order mark of the charset's byte order (Java and Python read a document without one in
    opposite orders)."""
    if charset is None:
        return data
    shown = charset[:40]
    wanted = _encoding_name(charset)
    if wanted is None:
        raise _charset_refused(
            f"The Content-Type's charset {shown!r} is not one the gateway reads as the SNE "
            "does (UTF-8, UTF-16, UTF-32, US-ASCII, ISO-8859-n, windows-125n); send UTF-8."
        )
    mark = next((order for bom, order in _BYTE_ORDER_MARKS if data.startswith(bom)), None)
    if mark is not None or wanted.startswith(("utf-16", "utf-32")):
        if mark is None or wanted not in (mark, mark[:-3]):
            raise _charset_refused(
                f"The Content-Type's charset {shown!r} does not agree with the document's "
                f"byte-order mark ({mark or 'none'}), and receivers would read it differently; "
                "send UTF-8 (in UTF-16 or UTF-32, with a byte-order mark of the charset's "
                "byte order)."
            )
        return data
    if data[:1] == b"\x00" or data[1:2] == b"\x00":
        raise _charset_refused(
            f"The document's first bytes are UTF-16 or UTF-32, not {shown!r} as the "
            "Content-Type's charset says; send UTF-8."
        )
    declared = declared_encoding(data)
    if declared is not None:
        label = declared.decode("ascii", errors="replace")
        declared_name = _encoding_name(label)
        if declared_name != wanted:
            # A label that is no charset's name may be anything the document holds: not quoted.
            named = f"({label!r})" if declared_name else "(not one the gateway reads)"
            raise _charset_refused(
                f"The Content-Type's charset {shown!r} and the encoding the document declares "
                f"{named} differ, and receivers read it differently (the SNE follows the "
                "charset); make them the same."
            )
        return data
    if wanted == "utf-8":
        return data
    try:
        return data.decode(wanted).encode("utf-8")
    except UnicodeDecodeError as error:
        line, column = line_and_column(data, error.start)  # one byte per character here
        raise DocumentRejected(
            Violation(
                code="xml.malformed",
                message=f"Not well-formed XML: the document is not valid {shown!r} (the "
                "Content-Type's charset).",
                line=line,
                column=column,
            )
        ) from None


def decoded_body(body: bytes, encoding: str | None, limit: int, raw_deflate: bool) -> bytes | None:
    """The body without its Content-Encoding (gzip, deflate), bounded; None if undecodable.
    Every gzip member is decoded (a receiver reads them all), up to `MAX_GZIP_MEMBERS`, and a
    stream cut short or followed by anything but gzip's zero padding is undecodable: what is
    validated is what the receiver reads. `deflate` is zlib's format (RFC 9110, 8.4.1.2); with
    `raw_deflate`, a body that does not begin with a zlib header is read as deflate's raw
    stream, which browsers, curl and httpx read too. The header alone decides, as in browsers:
    trying the raw stream after a failed zlib one could validate another document than the one
    a receiver reads (a zlib stream, then bytes that make the whole a raw stream)."""
    if not encoding or encoding == "identity" or not body:
        return body
    encoding = encoding.lower()
    if encoding == "gzip":
        return _inflated(body, 16 + zlib.MAX_WBITS, MAX_GZIP_MEMBERS, limit)
    if encoding != "deflate":
        return None
    if raw_deflate and not _zlib_header(body):
        return _inflated(body, -zlib.MAX_WBITS, 1, limit)
    return _inflated(body, zlib.MAX_WBITS, 1, limit)


def _zlib_header(body: bytes) -> bool:
    """Whether `body` begins as zlib's format does (RFC 1950, 2.2): deflate with a window of at
    most 32 KiB, a check over both bytes, no preset dictionary."""
    return (
        len(body) >= 2
        and body[0] & 0x0F == 8
        and body[0] >> 4 <= 7
        and (body[0] << 8 | body[1]) % 31 == 0
        and not body[1] & 0x20
    )


def _inflated(body: bytes, wbits: int, members: int, limit: int) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    rest = body
    try:
        for _ in range(members):
            decompressor = zlib.decompressobj(wbits)
            parts.append(decompressor.decompress(rest, limit + 1 - size))
            size += len(parts[-1])
            if size > limit:
                break  # too large: the caller says so
            if not decompressor.eof:
                return None
            rest = decompressor.unused_data
            if not rest or (rest[0] == 0 and rest.count(0) == len(rest)):
                break
        else:
            return None
    except zlib.error:
        return None
    return b"".join(parts)

"""MTOM/XOP messages: `multipart/related` bodies whose root part is a SOAP envelope and whose
other parts are the binary attachments its `xop:Include href="cid:..."` elements point to.

This is how the SNE's DemandeLogement service carries the business document. The parser is
strict where a wrong guess would validate the wrong bytes (boundaries, the root part, the
Content-IDs) and reports every defect as a violation, never as an exception.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from gateway.extract.content_id import CXF_DEFAULT_CONTENT_ID, content_id
from gateway.extract.document import Document
from gateway.extract.extractor import BufferedExtractor, Extraction, Message
from gateway.extract.xml_body import read_xml_body
from gateway.http_metadata import announced_soap_version, content_type_parameters
from gateway.violation import Violation, ViolationError


class MultipartError(ViolationError):
    """The multipart message cannot be split: `violation` says why."""


def _malformed(reason: str) -> MultipartError:
    return MultipartError(
        Violation("mime.malformed", f"Malformed multipart/related message: {reason}.")
    )


def _truncated(reason: str) -> MultipartError:
    return MultipartError(
        Violation("mime.truncated", f"Truncated multipart/related message: {reason}.")
    )


#: A header name quoted in a message: a short token (anything else could be the document).
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,39}")


@dataclass(slots=True)
class Part:
    headers: dict[str, str]
    content: bytes


@dataclass(slots=True)
class Multipart:
    """The root part (the SOAP envelope) and the attachments by Content-ID."""

    root: Part
    attachments: dict[str, bytes]


_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_WHITESPACE = re.compile(rb"\s+")


def _headers_and_content(body: bytes, start: int, end: int) -> Part:
    """The part of `body` from `start` to `end`, its headers read as CXF reads them."""
    split = _BLANK_LINE.search(body, start, end)
    if split is None:
        if body[start:end].strip():
            raise _malformed("a part has no blank line between its headers and its content")
        return Part({}, b"")
    headers: dict[str, str] = {}
    lines = body[start : split.start()].decode("latin-1").split("\n")
    for number, line in enumerate(lines, 1):
        # A CR before a line's LF is its end; the last line's end was the blank line's start,
        # so a CR left there is a lone one.
        if line[-1:] == "\r" and number < len(lines):
            line = line[:-1]
        # Receivers differ on each of these (CXF joins a folded line to the one before, drops a
        # lone CR, files 'Name :' apart from 'Name:', keeps a header's first value): what the
        # gateway reads might not be what the SNE reads.
        if line[:1] in (" ", "\t"):
            raise _malformed(
                f"line {number} of a part's headers is folded (begins with a space or a tab)"
            )
        if "\r" in line:
            raise _malformed(f"line {number} of a part's headers holds a lone carriage return")
        name, colon, value = line.partition(":")
        if not colon:
            # The line is not quoted: it may well be the document, and values stay out.
            raise _malformed(
                f"line {number} of a part's headers has no colon (headers are 'Name: value' "
                "lines, then a blank line before the content)"
            )
        if name[-1:] in (" ", "\t"):
            raise _malformed(f"line {number} of a part's headers has a space before its colon")
        key = name.lower()
        if key in headers:
            raise _malformed(
                f"a part has two {name} headers"
                if _TOKEN.fullmatch(name)
                else "a part has two headers of one name"
            )
        # As CXF reads a value: without the blanks after the colon, with those at its end.
        headers[key] = value.lstrip(" \t")
    content = body[split.end() : end]
    encoding = headers.get("content-transfer-encoding", "binary").lower()
    if encoding == "base64":
        try:
            content = base64.b64decode(_WHITESPACE.sub(b"", content), validate=True)
        except binascii.Error:
            raise _malformed("a base64-encoded part is not valid base64") from None
    elif encoding not in ("binary", "8bit", "7bit"):
        raise _malformed(f"unsupported Content-Transfer-Encoding '{encoding}'")
    return Part(headers, content)


def parse_multipart(body: bytes, content_type: str) -> Multipart:
    """Split an MTOM message; raise `MultipartError` with a `mime.*` violation."""
    _, parameters = content_type_parameters(content_type)
    boundary = parameters.get("boundary")
    if not boundary:
        raise _malformed("the Content-Type has no boundary parameter")
    delimiter = b"--" + boundary.encode("latin-1")
    next_delimiter = b"\n" + delimiter
    position = body.find(delimiter)
    if position < 0:
        raise _malformed("the boundary announced in the Content-Type never appears")
    parts: list[Part] = []
    while True:
        position += len(delimiter)
        if body.startswith(b"--", position):
            break
        line_end = body.find(b"\n", position)
        if line_end < 0:
            raise _truncated("the message ends right after a boundary")
        following = body.find(next_delimiter, line_end)
        if following < 0:
            raise _truncated("the last part has no closing boundary")
        content_end = following - 1 if body[following - 1 : following] == b"\r" else following
        parts.append(_headers_and_content(body, line_end + 1, content_end))
        position = following + 1
    if not parts:
        raise _malformed("the message has no part")
    # The root is the first part: CXF (`AttachmentDeserializer.initializeRootMessage`) reads
    # it whatever the start parameter says, other receivers follow the parameter.
    root = parts[0]
    by_id: dict[str, Part] = {}
    for part in parts:
        raw = part.headers.get("content-id")
        if raw is None:
            if part is root:
                continue
            # CXF files an attachment without Content-ID under its default identifier, which
            # an Include can name.
            raw = f"<{CXF_DEFAULT_CONTENT_ID}>"
        try:
            identifier = content_id(raw)
        except ValueError:
            raise _malformed(
                "a Content-ID has a '%' not followed by two hexadecimal digits"
            ) from None
        if identifier in by_id:
            # Receivers differ on which one an Include means: the one validated might not
            # be the one used.
            raise _malformed(f"two parts have the Content-ID <{identifier}>")
        by_id[identifier] = part
    start = parameters.get("start")
    if start:
        try:
            named = by_id.get(content_id(start))
        except ValueError:
            named = None
        if named is None:
            raise _malformed(f"no part has the Content-ID {start} named by the start parameter")
        if named is not root:
            raise _malformed(
                f"the start parameter names {start}, which is not the first part; it must name "
                "the first part, as receivers differ on which one is the root"
            )
    attachments = {
        identifier: part.content for identifier, part in by_id.items() if part is not root
    }
    return Multipart(root, attachments)


def _extract(message: Message) -> Extraction:
    try:
        multipart = parse_multipart(message.body, message.content_type)
    except MultipartError as error:
        rule = message.rule
        return Extraction(
            (Document("multipart", schema=rule.wrapper or rule.schema, problem=error.violation),),
            announced_soap_version(message.content_type, message.soap_action_header),
        )
    root = multipart.root
    return read_xml_body(
        message,
        root.content,
        envelope=True,
        attachments=multipart.attachments,
        root_part_type=root.headers.get("content-type", ""),
    )


MTOM = BufferedExtractor(
    name="mtom", media_types=frozenset({"multipart/related"}), extract=_extract
)

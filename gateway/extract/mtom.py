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
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from urllib.parse import unquote_plus

from gateway.violation import Violation, ViolationError

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


def content_id(value: str) -> str:
    """A Content-ID header or a `cid:` URL reduced to the bare identifier both name, decoded
    as the SNE's receiver (Apache CXF's `AttachmentUtil.cleanContentId`, Java's URLDecoder)
    decodes both: what the gateway resolves is the part the SNE would."""
    value = value.strip().strip("<> \t")
    if value.lower().startswith("cid:"):
        value = value[4:]
    return unquote_plus(value)


@dataclass(frozen=True, slots=True)
class Part:
    headers: dict[str, str]
    content: bytes


@dataclass(frozen=True, slots=True)
class Multipart:
    """The root part (the SOAP envelope) and the attachments by Content-ID."""

    root: Part
    attachments: dict[str, bytes]


def _headers_and_content(part: bytes) -> Part:
    split = re.search(rb"\r?\n\r?\n", part)
    if split is None:
        if part.strip():
            raise _malformed("a part has no blank line between its headers and its content")
        return Part({}, b"")
    headers = {}
    for number, line in enumerate(re.split(rb"\r?\n", part[: split.start()]), start=1):
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            # The line is not quoted: it may well be the document, and values stay out.
            raise _malformed(
                f"line {number} of a part's headers has no colon (headers are 'Name: value' "
                "lines, then a blank line before the content)"
            )
        headers[name.strip().lower()] = value.strip()
    content = part[split.end() :]
    encoding = headers.get("content-transfer-encoding", "binary").lower()
    if encoding == "base64":
        try:
            content = base64.b64decode(re.sub(rb"\s+", b"", content), validate=True)
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
        following = body.find(b"\n" + delimiter, line_end)
        if following < 0:
            raise _truncated("the last part has no closing boundary")
        content_end = following - 1 if body[following - 1 : following] == b"\r" else following
        parts.append(_headers_and_content(body[line_end + 1 : content_end]))
        position = following + 1
    if not parts:
        raise _malformed("the message has no part")
    start = parameters.get("start")
    by_id: dict[str, Part] = {}
    for part in parts:
        if "content-id" in part.headers:
            identifier = content_id(part.headers["content-id"])
            if identifier in by_id:
                # Receivers differ on which one an Include means: the one validated might not
                # be the one used.
                raise _malformed(f"two parts have the Content-ID <{identifier}>")
            by_id[identifier] = part
    if start:
        root = by_id.get(content_id(start))
        if root is None:
            raise _malformed(f"no part has the Content-ID {start} named by the start parameter")
    else:
        root = parts[0]
    attachments = {
        identifier: part.content for identifier, part in by_id.items() if part is not root
    }
    return Multipart(root, attachments)

"""Content-IDs as the SNE's Apache CXF reads them: a MIME part's `Content-ID` header, and the
`href` of an `xop:Include` that names a part, reduced to the identifier the receiver files and
looks the part up under. Where CXF's reading differs from a plain one, CXF's is the one that
decides which bytes the SNE uses, so it is the one the gateway validates."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

#: The identifier CXF gives a part that has no Content-ID header (`AttachmentUtil`).
CXF_DEFAULT_CONTENT_ID = "root.message@cxf.apache.org"
_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _url_decode(value: str) -> str:
    """Java's `URLDecoder.decode(value, "UTF-8")`: '+' is a space; a '%' not followed by two
    hex digits makes it throw (a ValueError here), where `unquote_plus` would keep it."""
    if "%" not in value and "+" not in value:
        return value  # most identifiers: nothing to decode
    if _ESCAPE.search(value):
        raise ValueError("an incomplete or invalid %-escape")
    return unquote_plus(value, errors="replace")


def content_id(value: str) -> str:
    """A Content-ID header reduced to the identifier the SNE's receiver files the part under,
    exactly as Apache CXF's `AttachmentUtil.cleanContentId` does: a leading '<' takes the first
    and the last character away (whatever the last is), then a `cid:` prefix (case-sensitive)
    goes, then the rest is URL-decoded. Raises ValueError where Java's URLDecoder throws."""
    if value.startswith("<"):
        value = value[1:-1]
    if value.startswith("cid:"):
        value = value[4:]
    return _url_decode(value)


def href_content_id(href: str) -> str | None:
    """The Content-ID an `xop:Include href` names, as CXF resolves it
    (`AttachmentUtil.getAttachmentDataSource`): after `cid:` the rest is URL-decoded; any other
    href is looked up as it stands (a URL with `://` is fetched, never a part: None). None too
    where the receiver cannot decode it; either way no part is found."""
    if href.startswith("cid:"):
        try:
            return _url_decode(href[4:])
        except ValueError:
            return None
    return None if "://" in href else href

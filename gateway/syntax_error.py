"""libxml2's well-formedness errors, said without the document's text.

Most of libxml2's messages name markup at most (`Opening and ending tag mismatch: nom line 17
and demandeur`), but some quote what the document holds: an undefined entity's name
(`MARTIN&DUPONT;` gives `Entity 'DUPONT' not defined`), the encoding or version the XML
declaration names, a namespace declaration's value, a processing instruction's target. Those
kinds are said again here without it; the caller adds libxml2's own words only when the user
asked for values (`--show-values`, `capture_values`). The kinds were found by reading every
message of libxml2's parser that inserts a string: the others insert element or attribute
names, or the DTD's (which the parser never reads).
"""

from __future__ import annotations

import re

from lxml import etree

_TYPES = etree.ErrorTypes
_UNDEFINED_ENTITY = (
    "an entity reference (&name;) names an entity the document does not define; SNE "
    "documents use none: write a literal & as &amp;"
)
_UNSUPPORTED_ENCODING = "the XML declaration names an encoding the gateway cannot read; send UTF-8"
_NAMESPACE_URI = "a namespace declaration (xmlns) holds a value that is not a valid URI"
#: What the kinds of error that quote the document say instead, by libxml2's error code.
WITHOUT_DOCUMENT_TEXT: dict[int, str] = {
    _TYPES.ERR_UNDECLARED_ENTITY: _UNDEFINED_ENTITY,
    _TYPES.WAR_UNDECLARED_ENTITY: _UNDEFINED_ENTITY,
    _TYPES.ERR_UNSUPPORTED_ENCODING: _UNSUPPORTED_ENCODING,
    _TYPES.ERR_UNKNOWN_ENCODING: _UNSUPPORTED_ENCODING,
    _TYPES.ERR_UNKNOWN_VERSION: "the XML declaration names a version other than 1.0",
    _TYPES.WAR_UNKNOWN_VERSION: "the XML declaration names a version other than 1.0",
    _TYPES.WAR_NS_URI: _NAMESPACE_URI,
    _TYPES.WAR_NS_URI_RELATIVE: _NAMESPACE_URI,
    _TYPES.ERR_PI_NOT_FINISHED: "a processing instruction (<?...?>) never ends",
    _TYPES.NS_ERR_COLON: "a processing instruction's target holds a colon",
}

#: Kinds whose code others share, told by their words: (libxml2's message, what to say).
_QUOTING_MESSAGES = (
    (
        re.compile(r"ParsePI: PI .* space expected$", re.S),
        "a processing instruction's target is not followed by a space",
    ),
    (re.compile(r"PI .* too big found$", re.S), "a processing instruction is too long"),
)


def syntax_message(code: int, message: str, show_values: bool = False) -> str:
    """What libxml2's error `code` says, its `message` being libxml2's own (its first line,
    as `gateway.parse.syntax_error_message` gives it): without the document's text, unless
    `show_values` (libxml2's words then follow, text and all)."""
    rewritten = next(
        (said for words, said in _QUOTING_MESSAGES if words.match(message)),
        WITHOUT_DOCUMENT_TEXT.get(code),
    )
    if rewritten is None:
        return message
    return f"{rewritten} ({message})" if show_values else rewritten

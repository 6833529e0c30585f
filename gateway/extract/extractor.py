"""What an extractor is: a name (the one a route's `extract` gives), the media types it is
chosen for, and how it finds the documents of a body, buffered whole or as it streams.

    >>> XML.accepts("application/soap+xml")
    True
    >>> XML.extract(Message(body, "text/xml", rule, limits)).documents

The built-in extractors are registered in `gateway.extract.message`; a new one is a module
defining its `Extractor`, plus one line there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, ClassVar

from gateway.extract.document import Document, SchemaChoice
from gateway.limits import Limits
from gateway.routing.route import DirectionRule


@dataclass(frozen=True, slots=True)
class Message:
    """A body to extract documents from, with what its headers and its route say about it.
    A SOAP Fault passes unvalidated unless not `faults_pass` (a request's: its client sends
    none); a document that is not XML says why without quoting its text unless `show_values`."""

    body: bytes
    content_type: str
    rule: DirectionRule
    limits: Limits
    soap_action_header: str | None = None
    show_values: bool = False
    faults_pass: bool = True


@dataclass(frozen=True, slots=True)
class Extraction:
    """The documents a message carries. `soap_version` is set for SOAP messages (a blocked
    exchange is answered with a Fault of that version); `fault` when the message is a SOAP
    Fault, which passes unvalidated."""

    documents: tuple[Document, ...]
    soap_version: str | None = None
    fault: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Extractor:
    """`name`, and the media types (exact, or by `media_type_suffix`) it is chosen for when the
    route does not force one; none: only when forced."""

    name: str
    media_types: frozenset[str] = frozenset()
    media_type_suffix: str | None = None
    #: Whether it reads the body as it streams rather than buffered whole.
    streaming: ClassVar[bool]

    def accepts(self, media_type: str) -> bool:
        return media_type in self.media_types or (
            self.media_type_suffix is not None and media_type.endswith(self.media_type_suffix)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BufferedExtractor(Extractor):
    """Reads a whole body (bounded by `max_body_bytes`)."""

    extract: Callable[[Message], Extraction]
    streaming: ClassVar[bool] = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamingExtractor(Extractor):
    """Reads a body as it streams: `documents(stream, name, limits, schema)` yields each
    document as soon as it is read, from a file-like `stream` fed by the proxy."""

    documents: Callable[[IO[bytes], str, Limits, SchemaChoice], Iterator[Document]]
    streaming: ClassVar[bool] = True

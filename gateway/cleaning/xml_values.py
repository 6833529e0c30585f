"""The `pays` values of XML documents, directories and TGZ exports, for data cleaning.

Every element whose local name is `pays`, in any namespace (an editor's own XML as well as the
SNE's), read with the engine's hardened parser. A document that cannot be read (not XML, a
DOCTYPE, over the size limit, a broken archive) is counted and named, and the others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from gateway.inputs import iter_inputs
from gateway.limits import Limits
from gateway.parse import DocumentRejected, parse_xml

PAYS_ANYWHERE = "{*}pays"


@dataclass
class XmlReading:
    """What reading the documents gave besides values: how many, and those it could not read
    (their source and why)."""

    documents: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)


def pays_values(
    paths: Sequence[str],
    limits: Limits,
    reading: XmlReading,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[str, str]]:
    """Each `pays` value with where it is (`source:line`); `progress` gets the number of
    documents read. Raise `gateway.inputs.InputError` for a path that cannot be read."""
    for document in iter_inputs(paths, limits):
        reading.documents += 1
        if progress is not None:
            progress(reading.documents)
        if document.problem is not None:
            reading.unreadable.append((document.source, document.problem.message))
            continue
        try:
            root = parse_xml(document.data, limits)
        except DocumentRejected as rejected:
            reading.unreadable.append((document.source, rejected.violation.message))
            continue
        for element in root.iter(PAYS_ANYWHERE):
            if len(element) == 0:
                yield element.text or "", f"{document.source}:{element.sourceline}"

"""A catalog schema read again by xmlschema, whose component model the diff walks.

libxml2 (which validates) does not expose compiled components; xmlschema does: effective
content models, derived facets, resolved references. It reads the same local files, never the
network (`allow="local"`: a remote location is an error, as it is for the catalog).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xmlschema
from xmlschema.extras.wsdl import Wsdl11Document

from gateway.diff.locate import SourceIndex, url_path
from gateway.schema import CatalogError, Schema


@dataclass(frozen=True, eq=False)
class Components:
    """The xmlschema schema of `schema` (a catalog schema) and where its components lie."""

    schema: Schema
    xsd: Any
    sources: SourceIndex

    def global_element(self, name: str) -> Any:
        """The global element declaration named `name` (Clark notation), or None."""
        return self.xsd.maps.elements.get(name)


def _reason(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error)
    return message.strip().splitlines()[0]


def load_components(schema: Schema, folder: Path) -> Components:
    """Build `schema` with xmlschema; file names in sources are shown relative to `folder`.
    Raises `CatalogError` when xmlschema refuses what libxml2 accepted."""
    options: dict[str, Any] = {"allow": "local", "defuse": "always"}
    try:
        if schema.entry.suffix.lower() == ".wsdl":
            xsd = Wsdl11Document(str(schema.entry), **options).schema
        else:
            xsd = xmlschema.XMLSchema10(str(schema.entry), **options)
    except (xmlschema.XMLSchemaException, OSError, SyntaxError) as error:
        raise CatalogError(
            f"xmlschema cannot read the schema: {_reason(error)}",
            getattr(error, "url", None) or schema.entry,
            getattr(error, "sourceline", None),
        ) from None
    sources = SourceIndex(schema.entry, folder)
    files = set(schema.files)
    for built in xsd.maps.iter_schemas():
        # Inline WSDL schemas have no URL; the XSD meta-schemas are not the user's files.
        if built.url is None or url_path(built.url, schema.entry) in files:
            sources.add(built.url, built.source.root)
    return Components(schema, xsd, sources)

"""A catalog schema read again by xmlschema, whose component model the diff walks.

libxml2 (which validates) does not expose compiled components; xmlschema does: effective
content models, derived facets, resolved references. It reads the same local files, never the
network (`allow="local"`: a remote location is an error, as it is for the catalog).

The catalog has already compiled every schema with libxml2, which refuses a file that breaks
the rules of XSD. So xmlschema does not check the files against the XSD meta-schema again
(two thirds of its loading time): they are loaded without it, then built strictly, so that a
component xmlschema cannot build is still an error. Entities are only defused where a file
has a DOCTYPE (the catalog's parse says so): expat reads the others as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xmlschema
from lxml import etree
from xmlschema import XMLResource

from gateway.diff.locate import SourceIndex, url_path
from gateway.schema import CatalogError, Schema

_WSDL = "{http://schemas.xmlsoap.org/wsdl/}"
_XS = "{http://www.w3.org/2001/XMLSchema}"


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


def _has_doctype(schema: Schema) -> bool:
    """Whether a file of `schema` declares a DOCTYPE (which could define entities)."""
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    for data in schema.sources.contents.values():
        try:
            if etree.fromstring(data, parser).getroottree().docinfo.doctype:
                return True
        except etree.XMLSyntaxError:
            return True  # the catalog read it; whatever it is, defuse it
    return False


def _unbuilt(schema: Schema, options: dict[str, Any]) -> Any:
    """The schema loaded (its files read, includes and imports followed) but not built."""
    if schema.entry.suffix.lower() != ".wsdl":
        return xmlschema.XMLSchema10(str(schema.entry), **options)
    # A WSDL's types are its inline schemas; the rest of the WSDL is not compared.
    wsdl = XMLResource(str(schema.entry), allow=options["allow"], defuse=options["defuse"])
    inline = list(wsdl.root.iterfind(f"{_WSDL}types/{_XS}schema"))
    if not inline:
        raise CatalogError("the WSDL has no xs:schema in its wsdl:types section", schema.entry)
    first = xmlschema.XMLSchema10(wsdl.subresource(inline[0]), **options)
    for other in inline[1:]:
        xmlschema.XMLSchema10(wsdl.subresource(other), global_maps=first.maps, **options)
    return first


def load_components(schema: Schema, folder: Path) -> Components:
    """Build `schema` with xmlschema; file names in sources are shown relative to `folder`.
    Raises `CatalogError` when xmlschema refuses what libxml2 accepted."""
    options: dict[str, Any] = {
        "allow": "local",
        "defuse": "always" if _has_doctype(schema) else "never",
        "validation": "skip",
        "build": False,
    }
    try:
        xsd = _unbuilt(schema, options)
        for loaded in xsd.maps.iter_schemas():
            if loaded.meta_schema is not None:  # the meta-schemas themselves are prebuilt
                loaded.validation = "strict"
        xsd.build()
    except (xmlschema.XMLSchemaException, OSError, SyntaxError) as error:
        raise CatalogError(
            f"xmlschema cannot read the schema: {_reason(error)}",
            getattr(error, "url", None) or schema.entry,
            getattr(error, "sourceline", None),
        ) from None
    sources = SourceIndex(schema.entry, folder)
    files = set(schema.files)
    for built in xsd.maps.iter_schemas():
        # Inline WSDL schemas have the WSDL's URL; the XSD meta-schemas are not the user's files.
        if built.url is None or url_path(built.url, schema.entry) in files:
            sources.add(built.url, built.source.root)
    return Components(schema, xsd, sources)

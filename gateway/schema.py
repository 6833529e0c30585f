"""One compiled schema: an entry `.xsd` or `.wsdl` file and everything it includes.

Compiling walks the include/import graph first, on local files only: a remote `schemaLocation`
is an error naming the file and line, never a download. libxml2 then compiles the entry once;
the compiled object serves every validation until the next catalog load.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

from gateway.parse import syntax_error_message

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"

_SCHEMA_REFERENCES = {f"{{{XS}}}{name}" for name in ("include", "import", "redefine", "override")}
_CHAMELEON_REFERENCES = {f"{{{XS}}}{name}" for name in ("include", "redefine", "override")}
_WSDL_IMPORT = f"{{{WSDL}}}import"
_GLOBAL_ELEMENT = f"{{{XS}}}element"
_INLINE_SCHEMAS = f"{{{WSDL}}}types/{{{XS}}}schema"


class CatalogError(Exception):
    """An XSD set that cannot be used: says which file, which line and why."""

    def __init__(
        self, reason: str, file: Path | str | None = None, line: int | None = None
    ) -> None:
        self.reason = reason
        self.file = str(file) if file is not None else None
        self.line = line
        where = f"{self.file}:{line}: " if file is not None and line else ""
        if file is not None and not line:
            where = f"{self.file}: "
        super().__init__(f"{where}{reason}")


def _schema_file_parser() -> etree.XMLParser:
    # Schema files may carry a DOCTYPE (the W3C's own do); it is neither loaded nor expanded.
    return etree.XMLParser(
        resolve_entities=False, load_dtd=False, no_network=True, remove_comments=False
    )


def _read_schema_file(path: Path) -> etree._ElementTree:
    try:
        return etree.parse(str(path), _schema_file_parser())
    except OSError as error:
        raise CatalogError(f"cannot read the file: {error}", path) from None
    except etree.XMLSyntaxError as error:
        raise CatalogError(
            f"not well-formed XML: {syntax_error_message(error)}", path, error.lineno
        ) from None


def _local_target(referrer: Path, element: etree._Element, location: str) -> Path:
    parts = urlsplit(location)
    if parts.scheme in ("http", "https", "ftp") or location.startswith("//"):
        raise CatalogError(
            f"remote schemaLocation '{location}' is never fetched: download that file beside "
            f"{referrer.name} and point schemaLocation at it by a relative path",
            referrer,
            element.sourceline,
        )
    relative = unquote(parts.path) if parts.scheme == "file" else unquote(location)
    target = (referrer.parent / relative).resolve()
    if not target.is_file():
        kind = etree.QName(element).localname
        raise CatalogError(
            f"{kind} of '{location}' failed: {target} does not exist", referrer, element.sourceline
        )
    return target


@dataclass(frozen=True, slots=True)
class SchemaSources:
    """The local files a schema is made of, and the global elements they declare."""

    files: tuple[Path, ...]
    roots: frozenset[str]


def _is_wsdl(document: etree._ElementTree) -> bool:
    return document.getroot().tag == f"{{{WSDL}}}definitions"


def read_sources(entry: Path, document: etree._ElementTree | None = None) -> SchemaSources:
    """Walk the include/import graph from `entry`, refusing remote and missing references."""
    entry = entry.resolve()
    if document is None:
        document = _read_schema_file(entry)
    if _is_wsdl(document):
        start = [
            (schema, schema.get("targetNamespace")) for schema in document.iterfind(_INLINE_SCHEMAS)
        ]
        for wsdl_import in document.iter(_WSDL_IMPORT):
            if location := wsdl_import.get("location"):
                _local_target(entry, wsdl_import, location)
    else:
        start = [(document.getroot(), document.getroot().get("targetNamespace"))]
    files = [entry]
    roots: set[str] = set()
    pending = [(entry, schema, namespace) for schema, namespace in start]
    seen = {(entry, namespace) for _, namespace in start}
    while pending:
        path, schema, namespace = pending.pop()
        prefix = f"{{{namespace}}}" if namespace else ""
        roots.update(
            prefix + element.get("name", "") for element in schema.iterchildren(_GLOBAL_ELEMENT)
        )
        for reference in schema.iterchildren(*_SCHEMA_REFERENCES):
            location = reference.get("schemaLocation")
            if not location:
                continue
            target = _local_target(path, reference, location)
            root = _read_schema_file(target).getroot()
            target_namespace = root.get("targetNamespace")
            if reference.tag in _CHAMELEON_REFERENCES and target_namespace is None:
                target_namespace = namespace
            if (target, target_namespace) in seen:
                continue
            seen.add((target, target_namespace))
            if target not in files:
                files.append(target)
            pending.append((target, root, target_namespace))
    return SchemaSources(tuple(files), frozenset(roots))


def _compile(document: etree._ElementTree | etree._Element, entry: Path) -> etree.XMLSchema:
    try:
        return etree.XMLSchema(document)
    except etree.XMLSchemaParseError as error:
        first = error.error_log[0] if error.error_log else None
        if first is None:
            raise CatalogError(f"the schema does not compile: {error}", entry) from None
        raise CatalogError(
            f"the schema does not compile: {first.message}", first.filename or entry, first.line
        ) from None


def _standalone(schema: etree._Element, entry: Path) -> etree._Element:
    """An inline WSDL schema as its own document, keeping its namespace declarations, base
    URL (for relative includes) and line numbers (for error messages)."""
    copy = etree.Element(schema.tag, attrib=dict(schema.attrib), nsmap=schema.nsmap)
    copy.extend(list(schema))
    copy.sourceline = schema.sourceline
    copy.getroottree().docinfo.URL = str(entry)
    return copy


class _InlineSchemas(etree.Resolver):
    def __init__(self, documents: dict[str, bytes], base_url: str) -> None:
        super().__init__()
        self.documents = documents
        self.base_url = base_url

    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        # libxml2 hands over the location made absolute against the WSDL's URL.
        name = system_url.rsplit("/", 1)[-1]
        if name in self.documents:
            return self.resolve_string(self.documents[name], context, base_url=self.base_url)
        return None


def _compile_wsdl(document: etree._ElementTree, entry: Path) -> etree.XMLSchema:
    inline = list(document.iterfind(_INLINE_SCHEMAS))
    if not inline:
        raise CatalogError("the WSDL has no xs:schema in its wsdl:types section", entry)
    if len(inline) == 1:
        return _compile(_standalone(inline[0], entry), entry)
    # Several inline schemas import each other by namespace: compile them together through a
    # driver schema that imports each one from memory.
    parser = _schema_file_parser()
    documents = {
        f"__wsdl-inline-{index}__.xsd": etree.tostring(_standalone(schema, entry))
        for index, schema in enumerate(inline)
    }
    parser.resolvers.add(_InlineSchemas(documents, str(entry)))
    imports = "".join(
        f'<xs:import namespace="{schema.get("targetNamespace", "")}" schemaLocation="{name}"/>'
        for name, schema in zip(documents, inline, strict=True)
    )
    driver = etree.fromstring(
        f'<xs:schema xmlns:xs="{XS}">{imports}</xs:schema>'.encode(), parser, base_url=str(entry)
    )
    return _compile(driver, entry)


@dataclass(frozen=True, eq=False)
class Schema:
    """A compiled schema of a catalog version, ready to validate documents.

    `roots` holds the Clark names of the global elements a document may start with.
    """

    name: str
    version: str
    entry: Path
    files: tuple[Path, ...]
    roots: frozenset[str]
    title: str = ""
    compiled: etree.XMLSchema = field(repr=False, default=None)  # type: ignore[assignment]
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def errors(self, root: etree._Element) -> list[etree._LogEntry]:
        """libxml2's validation errors for `root`; empty when it is valid."""
        # The error log lives on the compiled schema: one validation at a time reads it.
        with self._lock:
            if self.compiled.validate(root):
                return []
            return list(self.compiled.error_log)


def compile_schema(name: str, version: str, entry: Path, title: str = "") -> Schema:
    """Compile the `.xsd` or `.wsdl` file `entry` with its includes; raise `CatalogError`."""
    entry = entry.resolve()
    document = _read_schema_file(entry)
    sources = read_sources(entry, document)
    compiled = _compile_wsdl(document, entry) if _is_wsdl(document) else _compile(document, entry)
    return Schema(name, version, entry, sources.files, sources.roots, title, compiled)

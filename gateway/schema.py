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

from gateway.filenames import printable
from gateway.identity import Identity, read_identity
from gateway.parse import syntax_error_message

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"

_SCHEMA_REFERENCES = {f"{{{XS}}}{name}" for name in ("include", "import", "redefine", "override")}
_CHAMELEON_REFERENCES = {f"{{{XS}}}{name}" for name in ("include", "redefine", "override")}
_WSDL_IMPORT = f"{{{WSDL}}}import"
_ELEMENT = f"{{{XS}}}element"
_INLINE_SCHEMAS = f"{{{WSDL}}}types/{{{XS}}}schema"
_SIMPLE_TYPE = f"{{{XS}}}simpleType"
_RESTRICTION = f"{{{XS}}}restriction"
_ANNOTATION = f"{{{XS}}}annotation"
_REDEFINE = f"{{{XS}}}redefine"
_IDENTITY_CONSTRAINTS = tuple(f"{{{XS}}}{name}" for name in ("key", "unique", "keyref"))
_BASE64 = (XS, "base64Binary")


class CatalogError(Exception):
    """An XSD set that cannot be used: says which file, which line and why."""

    def __init__(
        self, reason: str, file: Path | str | None = None, line: int | None = None
    ) -> None:
        self.reason = reason
        self.file = printable(file) if file is not None else None
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


def lines_as_lf(data: bytes) -> bytes:
    """`data` with its line ends (CRLF, or CR alone as old Mac files have) made LF, as an XML
    parser reads them anyway (XML 1.0, 2.11): libxml2 counts lines by LF only, so a file with
    CR-only line ends would otherwise put every position on line 1. UTF-16 files are left as
    they are (a CR is two bytes there)."""
    if b"\r" not in data or data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]:
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def read_schema_file(path: Path) -> bytes:
    """A schema file's bytes as the gateway compiles them (line ends made LF: see
    `lines_as_lf`), or a `CatalogError` naming the file."""
    try:
        return lines_as_lf(path.read_bytes())
    except OSError as error:
        raise CatalogError(f"cannot read the file: {error.strerror or error}", path) from None


def _parse_schema_file(data: bytes, path: Path, parser: etree.XMLParser) -> etree._ElementTree:
    try:
        str(path).encode()
    except UnicodeEncodeError:
        raise CatalogError(
            "the file name is not UTF-8, which libxml2 needs to resolve the schema's includes: "
            "rename the file (and the schemaLocation that names it)",
            path,
        ) from None
    try:
        return etree.fromstring(data, parser, base_url=str(path)).getroottree()
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
    """The local files a schema is made of (their bytes as read, by absolute path), the
    global elements they declare, and `free_base64`: the local names of the elements whose
    every declaration is a base64Binary without facets nor fixed value, where any base64 text is
    valid (an MTOM wrapper is validated without inlining its attachments there)."""

    contents: dict[str, bytes]
    roots: frozenset[str]
    free_base64: frozenset[str]

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(map(Path, self.contents))


def _is_wsdl(document: etree._ElementTree) -> bool:
    return document.getroot().tag == f"{{{WSDL}}}definitions"


def _qname(element: etree._Element, value: str, chameleon: str | None) -> tuple[str | None, str]:
    """A QName attribute value as (namespace, local name). An unprefixed name without a default
    namespace has no namespace, except in a schema document without a targetNamespace, where it
    takes the namespace of the schema including it (`chameleon`)."""
    prefix, _, local = value.rpartition(":")
    uri = element.nsmap.get(prefix or None)
    return (uri if uri is not None or prefix else chameleon), local


class _Base64Declarations:
    """What `SchemaSources.free_base64` is computed from, gathered schema document by document.
    Whatever this reading cannot follow makes an element not free, never free."""

    def __init__(self) -> None:
        # Named simple types: (namespace, name) → the base they restrict, or None when they
        # add facets, are not a plain restriction, or are defined more than once (xs:redefine).
        self.simple_types: dict[tuple[str | None, str], tuple[str | None, str] | None] = {}
        self.element_types: dict[str, list[tuple[str | None, str] | None]] = {}
        # A key, unique or keyref may compare an element's value: then no value can be left out.
        self.identity_constraints = False

    def add(self, schema: etree._Element, namespace: str | None) -> None:
        chameleon = namespace if schema.get("targetNamespace") is None else None
        for simple_type in schema.iter(_SIMPLE_TYPE):
            name = simple_type.get("name")
            if not name:
                continue
            content = [child for child in simple_type if child.tag != _ANNOTATION]
            restriction = content[0] if len(content) == 1 else None
            base = None
            if (
                restriction is not None
                and restriction.tag == _RESTRICTION
                and all(child.tag == _ANNOTATION for child in restriction)
                and simple_type.getparent().tag != _REDEFINE
                and (namespace, name) not in self.simple_types
            ):
                base = _qname(restriction, restriction.get("base", ""), chameleon)
            self.simple_types[namespace, name] = base
        for element in schema.iter(_ELEMENT):
            if name := element.get("name"):
                type_name = element.get("type")
                self.element_types.setdefault(name, []).append(
                    _qname(element, type_name, chameleon)
                    if type_name and element.get("fixed") is None
                    else None
                )
        if next(schema.iter(*_IDENTITY_CONSTRAINTS), None) is not None:
            self.identity_constraints = True

    def free(self) -> frozenset[str]:
        if self.identity_constraints:
            return frozenset()
        free_types: set[tuple[str | None, str]] = {_BASE64}
        # Plain restrictions of a free type are free: follow the chains until none joins.
        while (
            joined := {name for name, base in self.simple_types.items() if base in free_types}
            - free_types
        ):
            free_types |= joined
        return frozenset(
            name
            for name, types in self.element_types.items()
            if all(type_name in free_types for type_name in types)
        )


def read_sources(entry: Path) -> SchemaSources:
    """Read the include/import graph from `entry`, refusing remote and missing references."""
    entry = entry.resolve()
    parser = _schema_file_parser()
    contents = {str(entry): read_schema_file(entry)}
    document = _parse_schema_file(contents[str(entry)], entry, parser)
    if _is_wsdl(document):
        start = [
            (schema, schema.get("targetNamespace")) for schema in document.iterfind(_INLINE_SCHEMAS)
        ]
        for wsdl_import in document.iter(_WSDL_IMPORT):
            if location := wsdl_import.get("location"):
                _local_target(entry, wsdl_import, location)
    else:
        start = [(document.getroot(), document.getroot().get("targetNamespace"))]
    roots: set[str] = set()
    base64 = _Base64Declarations()
    pending = [(entry, schema, namespace) for schema, namespace in start]
    seen = {(entry, namespace) for _, namespace in start}
    while pending:
        path, schema, namespace = pending.pop()
        prefix = f"{{{namespace}}}" if namespace else ""
        base64.add(schema, namespace)
        roots.update(prefix + element.get("name", "") for element in schema.iterchildren(_ELEMENT))
        for reference in schema.iterchildren(*_SCHEMA_REFERENCES):
            location = reference.get("schemaLocation")
            if not location:
                continue
            target = _local_target(path, reference, location)
            if str(target) not in contents:
                contents[str(target)] = read_schema_file(target)
            root = _parse_schema_file(contents[str(target)], target, parser).getroot()
            target_namespace = root.get("targetNamespace")
            if reference.tag in _CHAMELEON_REFERENCES and target_namespace is None:
                target_namespace = namespace
            if (target, target_namespace) in seen:
                continue
            seen.add((target, target_namespace))
            pending.append((target, root, target_namespace))
    return SchemaSources(contents, frozenset(roots), base64.free())


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


def _standalone(schema: etree._Element, entry: Path, parser: etree.XMLParser) -> etree._Element:
    """An inline WSDL schema as its own document, keeping its namespace declarations, base
    URL (for relative includes), line numbers (for error messages) and `parser` (whose
    resolver serves the included files)."""
    copy = parser.makeelement(schema.tag, attrib=dict(schema.attrib), nsmap=schema.nsmap)
    copy.extend(list(schema))
    copy.sourceline = schema.sourceline
    copy.getroottree().docinfo.URL = str(entry)
    return copy


class _FromMemory(etree.Resolver):
    """Serves schema files from the bytes read once at load time, so that every compilation
    of a schema, in any thread, sees exactly the files of that load."""

    def __init__(self, contents: dict[str, bytes]) -> None:
        super().__init__()
        self.contents = contents

    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        # libxml2 hands over the location made absolute against the including file.
        path = unquote(urlsplit(system_url).path) if system_url.startswith("file:") else system_url
        data = self.contents.get(path)
        if data is None:
            return None
        return self.resolve_string(data, context, base_url=path)


def _compile_wsdl(
    document: etree._ElementTree, entry: Path, parser: etree.XMLParser, contents: dict[str, bytes]
) -> etree.XMLSchema:
    inline = list(document.iterfind(_INLINE_SCHEMAS))
    if not inline:
        raise CatalogError("the WSDL has no xs:schema in its wsdl:types section", entry)
    if len(inline) == 1:
        return _compile(_standalone(inline[0], entry, parser), entry)
    # Several inline schemas import each other by namespace: compile them together through a
    # driver schema that imports each one, served from memory beside the WSDL.
    names = [str(entry.parent / f"__wsdl-inline-{index}__.xsd") for index in range(len(inline))]
    for name, schema in zip(names, inline, strict=True):
        contents[name] = etree.tostring(_standalone(schema, entry, parser))
    imports = "".join(
        f'<xs:import namespace="{schema.get("targetNamespace", "")}" schemaLocation="{name}"/>'
        for name, schema in zip(names, inline, strict=True)
    )
    driver = etree.fromstring(
        f'<xs:schema xmlns:xs="{XS}">{imports}</xs:schema>'.encode(), parser, base_url=str(entry)
    )
    return _compile(driver, entry)


def _compile_from_memory(entry: Path, contents: dict[str, bytes]) -> etree.XMLSchema:
    """Compile `entry` from the files of `contents` only."""
    contents = dict(contents)
    parser = _schema_file_parser()
    parser.resolvers.add(_FromMemory(contents))
    document = _parse_schema_file(contents[str(entry)], entry, parser)
    if _is_wsdl(document):
        return _compile_wsdl(document, entry, parser, contents)
    return _compile(document, entry)


@dataclass(frozen=True, eq=False)
class Schema:
    """A compiled schema of a catalog version, ready to validate documents.

    `roots` holds the Clark names of the global elements a document may start with;
    `identity` what else tells its documents apart (see `gateway.identity`), and `accepts`
    the `versionInterface` values it is for: those it lists, else the version its file name
    carries in a delivery, else None (any).
    Validation reads the error log of the compiled object, so each thread validates with its
    own copy: the one compiled at load goes to the first thread that asks, the others compile
    theirs (once per thread) from the files as read at load time, never from the disk as it is
    now.
    """

    name: str
    version: str
    entry: Path
    sources: SchemaSources = field(repr=False)
    title: str = ""
    identity: Identity = field(default=Identity({}, None), repr=False)
    accepts: frozenset[str] | None = None
    _spare: list[etree.XMLSchema] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def files(self) -> tuple[Path, ...]:
        return self.sources.files

    @property
    def roots(self) -> frozenset[str]:
        return self.sources.roots

    def _validator(self) -> etree.XMLSchema:
        validator = getattr(self._local, "validator", None)
        if validator is None:
            with self._lock:
                validator = self._spare.pop() if self._spare else None
            if validator is None:
                validator = _compile_from_memory(self.entry, self.sources.contents)
            self._local.validator = validator
        return validator

    def errors(self, root: etree._Element) -> list[etree._LogEntry]:
        """libxml2's validation errors for `root`; empty when it is valid."""
        validator = self._validator()
        if validator.validate(root):
            return []
        return list(validator.error_log)


def compile_schema(
    name: str, version: str, entry: Path, title: str = "", file_version: str | None = None
) -> Schema:
    """Compile the `.xsd` or `.wsdl` file `entry` with its includes; raise `CatalogError`.
    `file_version` is the version a delivery's file name gives the entry, if any."""
    entry = entry.resolve()
    sources = read_sources(entry)
    compiled = _compile_from_memory(entry, sources.contents)
    identity = read_identity(sources.contents, sources.roots)
    accepts = identity.versions
    if accepts is None and file_version is not None:
        accepts = frozenset({file_version})
    return Schema(
        name, version, entry, sources, title, identity=identity, accepts=accepts, _spare=[compiled]
    )

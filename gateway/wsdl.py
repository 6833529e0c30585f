"""The SOAP services a WSDL describes: for each, where it listens (`soap:address`), its
operations (SOAP action, the Body's payload element each way) and the base64Binary elements of
those payloads that carry business documents.

Which base64 elements carry documents is not said by the WSDL's structure: certificates and PDF
attestations travel the same way. An element is taken for a document when its
`xmime:expectedContentTypes` names an XML type, or else when its name starts with `fichier`, as
every document element of the SNE's services does (`fichierDemande`, `fichierEvenements`...)
and no other does (`certificat`, `attestation`).

What this reading cannot follow (a port naming a binding the file lacks, an operation without a
message) is a warning naming the file and line, and leaves that part out; the WSDL still
validates payloads as a schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from gateway.schema import CatalogError
from gateway.schema_outline import BASE64, Outline, resolve

WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP_BINDINGS = {
    "http://schemas.xmlsoap.org/wsdl/soap/": "1.1",
    "http://schemas.xmlsoap.org/wsdl/soap12/": "1.2",
}
XMIME = "http://www.w3.org/2005/05/xmlmime"
_EXPECTED_CONTENT_TYPES = f"{{{XMIME}}}expectedContentTypes"
DOCUMENT_PREFIX = "fichier"


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation: its SOAP action (None when the WSDL gives none), the Clark names of its
    request and response payload elements, and its documentation."""

    name: str
    soap_action: str | None
    request: str | None
    response: str | None
    documentation: str = ""


@dataclass(frozen=True, slots=True)
class Service:
    """One SOAP port of a WSDL: the service's name, its address and the address's path,
    its operations, and the elements carrying documents in requests and responses."""

    name: str
    file: Path
    address: str | None
    soap_version: str
    operations: tuple[Operation, ...]
    documents: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def path(self) -> str | None:
        """The address's path (`/nuu/services/DemandeLogement/`), None without an address."""
        if not self.address:
            return None
        return urlsplit(self.address).path or "/"


@dataclass(frozen=True, slots=True)
class Reading:
    """The services of a WSDL, and what could not be read in it."""

    services: tuple[Service, ...]
    warnings: tuple[str, ...] = ()


def _definitions(path: Path, contents: Mapping[str, bytes]) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    try:
        return etree.fromstring(contents[str(path)], parser, base_url=str(path))
    except etree.XMLSyntaxError as error:
        raise CatalogError(f"not well-formed XML: {error.msg}", path, error.lineno) from None


def _by_name(root: etree._Element, kind: str) -> dict[str, etree._Element]:
    return {item.get("name", ""): item for item in root.iterchildren(f"{{{WSDL}}}{kind}")}


def _soap(element: etree._Element, name: str) -> etree._Element | None:
    return next(
        (
            child
            for child in element
            if etree.QName(child).namespace in SOAP_BINDINGS
            and etree.QName(child).localname == name
        ),
        None,
    )


class _Reader:
    def __init__(self, path: Path, contents: Mapping[str, bytes]) -> None:
        self.path = path
        self.root = _definitions(path, contents)
        self.outline = Outline(contents)
        self.messages = _by_name(self.root, "message")
        self.port_types = _by_name(self.root, "portType")
        self.bindings = _by_name(self.root, "binding")
        self.warnings: list[str] = []

    def warn(self, element: etree._Element, what: str) -> None:
        self.warnings.append(f"{self.path.name}:{element.sourceline}: {what}")

    def payload(self, operation: etree._Element, direction: str) -> str | None:
        io = operation.find(f"{{{WSDL}}}{direction}")
        if io is None:
            return None
        message = self.messages.get(resolve(io, io.get("message", ""))[1])
        if message is None:
            self.warn(io, f"the message {io.get('message')!r} is not defined in the file")
            return None
        part = next((p for p in message.iterchildren(f"{{{WSDL}}}part") if p.get("element")), None)
        if part is None:
            return None
        namespace, local = resolve(part, part.get("element", ""))
        return f"{{{namespace}}}{local}" if namespace else local

    def documents(self, payloads: list[str | None]) -> tuple[str, ...]:
        found: dict[str, None] = {}
        for payload in payloads:
            declaration = self.outline.element(payload) if payload else None
            if declaration is None:
                continue
            for child in self.outline.child_elements(declaration):
                name = child.get("name", "")
                expected = child.get(_EXPECTED_CONTENT_TYPES, "")
                is_document = "xml" in expected.lower() or name.lower().startswith(DOCUMENT_PREFIX)
                if is_document and self.outline.simple_base(child) == BASE64:
                    found[name] = None
        return tuple(found)

    def operations(self, binding: etree._Element) -> tuple[Operation, ...] | None:
        port_type = self.port_types.get(resolve(binding, binding.get("type", ""))[1])
        if port_type is None:
            self.warn(binding, f"the portType {binding.get('type')!r} is not defined in the file")
            return None
        abstract = {op.get("name"): op for op in port_type.iterchildren(f"{{{WSDL}}}operation")}
        operations = []
        for bound in binding.iterchildren(f"{{{WSDL}}}operation"):
            name = bound.get("name", "")
            operation = abstract.get(name)
            if operation is None:
                self.warn(bound, f"the operation {name!r} is not in the portType")
                continue
            soap_operation = _soap(bound, "operation")
            action = soap_operation.get("soapAction") if soap_operation is not None else None
            documentation = operation.findtext(f"{{{WSDL}}}documentation") or ""
            operations.append(
                Operation(
                    name,
                    action or None,
                    self.payload(operation, "input"),
                    self.payload(operation, "output"),
                    " ".join(documentation.split()),
                )
            )
        return tuple(operations)

    def services(self) -> tuple[Service, ...]:
        services = []
        for service in self.root.iterchildren(f"{{{WSDL}}}service"):
            for port in service.iterchildren(f"{{{WSDL}}}port"):
                binding = self.bindings.get(resolve(port, port.get("binding", ""))[1])
                if binding is None:
                    self.warn(
                        port, f"the binding {port.get('binding')!r} is not defined in the file"
                    )
                    continue
                soap_binding = _soap(binding, "binding")
                if soap_binding is None:
                    continue  # an HTTP or other binding: not a SOAP service
                operations = self.operations(binding)
                if operations is None:
                    continue
                address = _soap(port, "address")
                documents = {
                    "request": self.documents([op.request for op in operations]),
                    "response": self.documents([op.response for op in operations]),
                }
                services.append(
                    Service(
                        service.get("name", ""),
                        self.path,
                        address.get("location") if address is not None else None,
                        SOAP_BINDINGS[etree.QName(soap_binding).namespace or ""],
                        operations,
                        documents,
                    )
                )
        return tuple(services)


def read_wsdl(path: Path, contents: Mapping[str, bytes]) -> Reading:
    """The SOAP services of the WSDL `path`, read from `contents` (the bytes of the WSDL and
    of the schema files it includes, by absolute path, as `gateway.schema` read them)."""
    reader = _Reader(path, contents)
    services = reader.services()
    return Reading(services, tuple(reader.warnings))

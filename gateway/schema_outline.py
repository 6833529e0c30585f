"""What a schema's files declare, read without compiling them: the declaration of a global
element, the elements its content may start with, the values an attribute may take, and the
base64Binary elements below it.

libxml2 compiles schemas but shows none of their components; xmlschema shows them but takes a
tenth of a second or more per schema to build them. Identifying documents and reading WSDLs need
a few look-ups by name in the files already read, so they are done here on lxml trees.
Components are found by namespace and local name (a file without a targetNamespace, included
as a chameleon, answers for any namespace); whatever this reading cannot follow (a reference to
a missing component, a recursive type) ends the walk there rather than failing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
_SCHEMA = f"{{{XS}}}schema"
_KINDS = ("element", "complexType", "simpleType", "group", "attributeGroup", "attribute")
_MODEL_GROUPS = {f"{{{XS}}}{name}" for name in ("sequence", "choice", "all")}
_DERIVATIONS = {f"{{{XS}}}{name}" for name in ("extension", "restriction")}
_CONTENTS = {f"{{{XS}}}{name}" for name in ("complexContent", "simpleContent")}
BASE64 = (XS, "base64Binary")

QName = tuple[str | None, str]


def _tag(name: str) -> str:
    return f"{{{XS}}}{name}"


@dataclass(frozen=True, slots=True)
class Start:
    """The elements a content model may start with, and whether it may be empty."""

    names: frozenset[str]
    optional: bool


class Outline:
    """The named components of a schema's files (`contents`: bytes by path, as read once)."""

    def __init__(self, contents: Mapping[str, bytes]) -> None:
        self._components: dict[tuple[str, str], list[tuple[str | None, etree._Element]]] = {}
        parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
        for path, data in contents.items():
            try:
                root = etree.fromstring(data, parser, base_url=path)
            except etree.XMLSyntaxError:
                continue  # the compiler reports it, with its file and line
            schemas = [root] if root.tag == _SCHEMA else list(root.iter(_SCHEMA))
            for schema in schemas:
                namespace = schema.get("targetNamespace")
                for child in schema:
                    if not isinstance(child.tag, str) or not child.tag.startswith(f"{{{XS}}}"):
                        continue
                    kind = etree.QName(child).localname
                    if kind in _KINDS and (name := child.get("name")):
                        self._components.setdefault((kind, name), []).append((namespace, child))

    def find(self, kind: str, name: QName) -> etree._Element | None:
        """The global `kind` component named `name`; a chameleon one when no namespace fits."""
        namespace, local = name
        found = self._components.get((kind, local), [])
        exact = next((decl for ns, decl in found if ns == namespace), None)
        return exact if exact is not None else next((d for ns, d in found if ns is None), None)

    def element(self, clark: str) -> etree._Element | None:
        """The global element declaration of a Clark name (`{uri}local`)."""
        uri, _, local = clark[1:].partition("}") if clark.startswith("{") else ("", "", clark)
        return self.find("element", (uri or None, local))

    # -- content models ---------------------------------------------------------------------

    def _type_of(self, declaration: etree._Element, kind: str) -> etree._Element | None:
        inline = declaration.find(_tag(kind))
        if inline is not None:
            return inline
        type_name = declaration.get("type")
        return self.find(kind, resolve(declaration, type_name)) if type_name else None

    def _model(self, complex_type: etree._Element, seen: set[int]) -> list[etree._Element]:
        """The particles of a complex type, in order: a base type's before an extension's."""
        if id(complex_type) in seen:
            return []
        seen = seen | {id(complex_type)}
        particles: list[etree._Element] = []
        for child in complex_type:
            if child.tag in _MODEL_GROUPS or child.tag == _tag("group"):
                particles.append(child)
            elif child.tag in _CONTENTS:
                for derivation in child:
                    if derivation.tag not in _DERIVATIONS:
                        continue
                    if derivation.tag == _tag("extension") and (base := derivation.get("base")):
                        base_type = self.find("complexType", resolve(derivation, base))
                        if base_type is not None:
                            particles += self._model(base_type, seen)
                    particles += [
                        p for p in derivation if p.tag in _MODEL_GROUPS or p.tag == _tag("group")
                    ]
        return particles

    def _group(self, reference: etree._Element) -> etree._Element | None:
        ref = reference.get("ref")
        group = self.find("group", resolve(reference, ref)) if ref else reference
        if group is None:
            return None
        return next((c for c in group if c.tag in _MODEL_GROUPS), None)

    def _start(self, particle: etree._Element, skip: str | None, seen: set[int]) -> Start:
        optional = particle.get("minOccurs") == "0"
        if particle.tag == _tag("element"):
            name = particle.get("name") or resolve(particle, particle.get("ref", ""))[1]
            if name == skip:
                return Start(frozenset(), True)
            return Start(frozenset({name}), optional)
        if particle.tag == _tag("group"):
            group = self._group(particle)
            if group is None or id(group) in seen:
                return Start(frozenset(), True)
            inner = self._start(group, skip, seen | {id(group)})
            return Start(inner.names, inner.optional or optional)
        children = [
            c for c in particle if c.tag in (*_MODEL_GROUPS, _tag("group"), _tag("element"))
        ]
        if particle.tag == _tag("sequence"):
            return self._sequence_start(children, skip, seen, optional)
        starts = [self._start(child, skip, seen) for child in children]
        names = frozenset().union(*(s.names for s in starts))
        if particle.tag == _tag("choice"):
            return Start(names, optional or not starts or any(s.optional for s in starts))
        return Start(names, optional or all(s.optional for s in starts))  # xs:all

    def _sequence_start(
        self, children: list[etree._Element], skip: str | None, seen: set[int], optional: bool
    ) -> Start:
        names: set[str] = set()
        for child in children:
            start = self._start(child, skip, seen)
            names |= start.names
            if not start.optional:
                return Start(frozenset(names), optional)
        return Start(frozenset(names), True)

    def first_children(self, declaration: etree._Element, skip: str | None = None) -> Start:
        """The local names of the children an element of `declaration` may start with, the
        element named `skip` (a header such as `entete`) passed over."""
        complex_type = self._type_of(declaration, "complexType")
        if complex_type is None:
            return Start(frozenset(), True)
        sequence = [p for p in self._model(complex_type, set()) if isinstance(p.tag, str)]
        return self._sequence_start(sequence, skip, set(), False)

    def child_elements(
        self, declaration: etree._Element, seen: frozenset[int] = frozenset()
    ) -> Iterator[etree._Element]:
        """Every element declaration below `declaration`, at any depth (each type once)."""
        complex_type = self._type_of(declaration, "complexType")
        if complex_type is None or id(complex_type) in seen:
            return
        seen = seen | {id(complex_type)}
        pending = list(self._model(complex_type, set()))
        while pending:
            particle = pending.pop(0)
            if particle.tag == _tag("element"):
                target = particle
                if ref := particle.get("ref"):
                    target = self.find("element", resolve(particle, ref))
                    if target is None:
                        continue
                yield target
                yield from self.child_elements(target, seen)
            elif particle.tag == _tag("group"):
                if (group := self._group(particle)) is not None:
                    pending.append(group)
            elif particle.tag in _MODEL_GROUPS:
                pending += list(particle)

    # -- simple values ----------------------------------------------------------------------

    def _derivation(self, node: etree._Element) -> etree._Element | None:
        """A simple or complex type's restriction or extension (of its simple content)."""
        for child in node:
            if child.tag in _DERIVATIONS:
                return child
            if child.tag in _CONTENTS:
                return next((d for d in child if d.tag in _DERIVATIONS), None)
        return None

    def simple_base(self, declaration: etree._Element) -> QName | None:
        """The built-in type an element's or attribute's value derives from, through named
        simple types, the simple content of complex types and their extensions (None when
        there is none this reading can follow: a list, a union, element-only content)."""
        current = declaration.find(_tag("simpleType"))
        if current is None:
            current = declaration.find(_tag("complexType"))
        type_name = declaration.get("type")
        name = resolve(declaration, type_name) if current is None and type_name else None
        for _ in range(32):  # a chain of derivations; a loop would be a broken schema
            if name is not None:
                if name[0] == XS:
                    return name
                current = self.find("simpleType", name)
                if current is None:
                    current = self.find("complexType", name)
            if current is None:
                return None
            derivation = self._derivation(current)
            if derivation is None:
                return None
            base = derivation.get("base")
            name = resolve(derivation, base) if base else None
            current = None if base else derivation.find(_tag("simpleType"))
        return None

    def enumeration(self, declaration: etree._Element) -> frozenset[str] | None:
        """The values an attribute or element declaration allows when they are listed: its
        `fixed` value, else the enumeration of its type or of the nearest type it restricts
        that has one; None when any value of a pattern or base type goes."""
        if (fixed := declaration.get("fixed")) is not None:
            return frozenset({fixed})
        current = self._type_of(declaration, "simpleType")
        for _ in range(32):
            if current is None:
                return None
            restriction = current.find(_tag("restriction"))
            if restriction is None:
                return None
            values = [e.get("value", "") for e in restriction.iter(_tag("enumeration"))]
            if values:
                return frozenset(values)
            base = restriction.get("base")
            inline = restriction.find(_tag("simpleType"))
            current = (
                inline
                if inline is not None
                else (self.find("simpleType", resolve(restriction, base)) if base else None)
            )
        return None

    def attribute(self, declaration: etree._Element, name: str) -> etree._Element | None:
        """The declaration of the attribute `name` (local) of an element's complex type."""
        complex_type = self._type_of(declaration, "complexType")
        pending = [complex_type] if complex_type is not None else []
        seen: set[int] = set()
        while pending:
            node = pending.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            for child in node:
                if child.tag == _tag("attribute"):
                    if child.get("name") == name:
                        return child
                    ref = child.get("ref")
                    if ref and resolve(child, ref)[1] == name:
                        return self.find("attribute", resolve(child, ref)) or child
                elif child.tag == _tag("attributeGroup") and (ref := child.get("ref")):
                    if (group := self.find("attributeGroup", resolve(child, ref))) is not None:
                        pending.append(group)
                elif child.tag in _CONTENTS or child.tag in _DERIVATIONS:
                    pending.append(child)
                    base = child.get("base")
                    if base and (b := self.find("complexType", resolve(child, base))) is not None:
                        pending.append(b)
        return None


def resolve(element: etree._Element, value: str) -> QName:
    """A QName attribute value as (namespace, local name), by the namespaces in scope."""
    prefix, _, local = value.rpartition(":")
    return element.nsmap.get(prefix or None), local

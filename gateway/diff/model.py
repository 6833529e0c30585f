"""The element-path tree of a global element, built from xmlschema's compiled components.

Each node is an element at a path (`interfaceNuu/demande/demandeLogement/numGuichet`) with
what a document there may hold: its occurrences, its value space or its content model, its
attributes. Files, type names and declaration order are gone: two schema sets laid out
differently but accepting the same documents give equal trees.

A type that is already being expanded on the path (a recursive type) is not expanded again:
the node is marked `cut = "recursive"`. Nesting is bounded as well (`cut = "depth"`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xmlschema.validators import XsdAnyElement, XsdGroup

from gateway.diff.components import Components
from gateway.diff.locate import Source, SourceIndex
from gateway.diff.values import SimpleValue, simple_value, type_label

#: Deeper than any SNE document (they stay under 15 levels) by a wide margin.
MAX_DEPTH = 48


def occurs_text(minimum: int, maximum: int | None) -> str:
    """`0..1`, `1..unbounded`."""
    return f"{minimum}..{'unbounded' if maximum is None else maximum}"


@dataclass(frozen=True, slots=True)
class Wildcard:
    """An `xs:any` or `xs:anyAttribute`: the namespaces it accepts and how it validates."""

    namespaces: frozenset[str] | None  # None: any namespace not excluded
    excluded: frozenset[str]
    process_contents: str

    def accepts(self, namespace: str) -> bool:
        """Whether a name in `namespace` is accepted without a declaration of its own (only
        `lax` and `skip` wildcards do: `strict` needs a global declaration)."""
        if self.process_contents == "strict" or namespace in self.excluded:
            return False
        return self.namespaces is None or namespace in self.namespaces

    def __str__(self) -> str:
        if self.namespaces is None:
            scope = "any namespace" + (
                f" but {', '.join(sorted(n or '(no namespace)' for n in self.excluded))}"
                if self.excluded
                else ""
            )
        else:
            scope = ", ".join(sorted(n or "(no namespace)" for n in self.namespaces))
        return f"{scope}, {self.process_contents}"


def wildcard(component: Any) -> Wildcard:
    """The `Wildcard` of an xmlschema `XsdAnyElement` or `XsdAnyAttribute`."""
    namespaces = set(component.namespace)
    excluded = set(component.not_namespace or ())
    if "##any" in namespaces or excluded:
        return Wildcard(None, frozenset(excluded), component.process_contents)
    if "##other" in namespaces:
        return Wildcard(
            None, frozenset({component.target_namespace, ""}), component.process_contents
        )
    return Wildcard(frozenset(namespaces), frozenset(), component.process_contents)


@dataclass(frozen=True, slots=True)
class Leaf:
    """An element in a content model, by local name (its node holds the rest)."""

    name: str


@dataclass(frozen=True, slots=True)
class AnyElement:
    """An element wildcard in a content model."""

    wildcard: Wildcard
    min_occurs: int
    max_occurs: int | None


@dataclass(frozen=True, slots=True)
class Group:
    """A sequence, choice or all, with its occurrences and items."""

    kind: str
    min_occurs: int
    max_occurs: int | None
    items: tuple[Particle, ...]


Particle = Leaf | AnyElement | Group


@dataclass(frozen=True, slots=True)
class AttributeNode:
    name: str  # Clark notation
    use: str  # "required" or "optional"
    value: SimpleValue
    fixed: str | None
    default: str | None
    source: Source | None = field(default=None, compare=False)

    @property
    def local_name(self) -> str:
        return self.name.rpartition("}")[2]

    @property
    def namespace(self) -> str:
        return self.name[1:].partition("}")[0] if self.name.startswith("{") else ""


@dataclass(frozen=True, eq=False, slots=True)
class ElementNode:
    """An element at `path`.

    `presence` says whether every valid parent holds it: `required`; `optional` (minOccurs 0,
    or one alternative of a choice); `conditional` (required, but inside an optional group or
    inside a sequence that is one branch of a choice). `simple` is the value space of simple
    content; `content` the model of element content (None for simple content), whose elements
    are `children`. `cut` is set where expansion stopped.
    """

    name: str  # Clark notation
    path: str
    min_occurs: int
    max_occurs: int | None
    presence: str
    nillable: bool
    fixed: str | None
    default: str | None
    type_name: str | None
    simple: SimpleValue | None
    content: Particle | None
    mixed: bool
    children: tuple[ElementNode, ...]
    attributes: tuple[AttributeNode, ...]
    attribute_wildcard: Wildcard | None
    cut: str | None = None
    source: Source | None = None
    type_source: Source | None = None

    @property
    def local_name(self) -> str:
        return self.name.rpartition("}")[2]

    @property
    def namespace(self) -> str:
        return self.name[1:].partition("}")[0] if self.name.startswith("{") else ""

    @property
    def occurs(self) -> str:
        return occurs_text(self.min_occurs, self.max_occurs)


@dataclass(frozen=True, slots=True)
class _Context:
    """Where an element sits in its parent's content model, for its `presence`."""

    optional: bool = False  # inside a group that may be absent or a branch of a choice
    alternative: bool = False  # directly one alternative of a choice


class _Builder:
    def __init__(self, sources: SourceIndex) -> None:
        self.sources = sources

    def element(
        self, component: Any, parent_path: str, context: _Context, ancestors: tuple[int, ...]
    ) -> ElementNode:
        path = f"{parent_path}/{component.local_name}" if parent_path else component.local_name
        xsd_type = component.type
        min_occurs = component.min_occurs
        if min_occurs == 0 or context.alternative:
            presence = "optional"
        elif context.optional:
            presence = "conditional"
        else:
            presence = "required"
        simple = content = attribute_wildcard = cut = None
        children: tuple[ElementNode, ...] = ()
        attributes: tuple[AttributeNode, ...] = ()
        mixed = False
        if xsd_type.is_simple():
            simple = simple_value(xsd_type, self.sources)
        else:
            attributes, attribute_wildcard = self.attributes(xsd_type)
            mixed = xsd_type.mixed
            if xsd_type.has_simple_content():
                simple = simple_value(xsd_type.content, self.sources)
            elif id(xsd_type) in ancestors:
                cut = "recursive"
            elif len(ancestors) >= MAX_DEPTH:
                cut = "depth"
            else:
                found: dict[str, ElementNode] = {}
                content = self.group(
                    xsd_type.content, path, _Context(), (*ancestors, id(xsd_type)), found
                )
                children = tuple(found.values())
        return ElementNode(
            name=component.name,
            path=path,
            min_occurs=min_occurs,
            max_occurs=component.max_occurs,
            presence=presence,
            nillable=bool(component.nillable),
            fixed=component.fixed,
            default=component.default,
            type_name=type_label(xsd_type),
            simple=simple,
            content=content,
            mixed=mixed,
            children=children,
            attributes=attributes,
            attribute_wildcard=attribute_wildcard,
            cut=cut,
            source=self.sources.source(component),
            type_source=self.sources.source(xsd_type),
        )

    def group(
        self,
        group: Any,
        path: str,
        context: _Context,
        ancestors: tuple[int, ...],
        found: dict[str, ElementNode],
    ) -> Group:
        items = [item for item in group if item.max_occurs != 0]
        is_choice = group.model == "choice" and len(items) > 1
        inner_optional = context.optional or group.min_occurs == 0
        particles: list[Particle] = []
        for item in items:
            if isinstance(item, XsdGroup):
                branch = _Context(optional=inner_optional or is_choice)
                particles.append(self.group(item, path, branch, ancestors, found))
            elif isinstance(item, XsdAnyElement):
                particles.append(AnyElement(wildcard(item), item.min_occurs, item.max_occurs))
            else:
                # The same name twice in one content model: the first declaration stands for
                # both (XSD requires them to have the same type).
                if item.local_name not in found:
                    found[item.local_name] = self.element(
                        item, path, _Context(inner_optional, is_choice), ancestors
                    )
                particles.append(Leaf(item.local_name))
        return Group(group.model, group.min_occurs, group.max_occurs, tuple(particles))

    def attributes(self, xsd_type: Any) -> tuple[tuple[AttributeNode, ...], Wildcard | None]:
        nodes = []
        any_attribute = None
        for name, attribute in xsd_type.attributes.items():
            if name is None:
                any_attribute = wildcard(attribute)
                continue
            if attribute.use == "prohibited":
                continue
            nodes.append(
                AttributeNode(
                    name=attribute.name,
                    use=attribute.use,
                    value=simple_value(attribute.type, self.sources),
                    fixed=attribute.fixed,
                    default=attribute.default,
                    source=self.sources.source(attribute),
                )
            )
        return tuple(nodes), any_attribute


def element_trees(components: Components) -> dict[str, ElementNode]:
    """The tree of each global element a document of `components.schema` may start with."""
    builder = _Builder(components.sources)
    trees = {}
    for name in sorted(components.schema.roots):
        element = components.global_element(name)
        if element is not None:
            trees[name] = builder.element(element, "", _Context(), ())
    return trees

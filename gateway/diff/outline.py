"""An added or removed element shown whole: its attributes and children, to a bounded depth.

An element added with a type name only (`informationTraitement`, `0..1,
informationTraitementType`) says little; its outline says what a document may now carry
there: `accordTransmission 1..1 xs:boolean`, `dateTraitement 0..1 xs:date`...
"""

from __future__ import annotations

from gateway.diff.change import Outline
from gateway.diff.model import ElementNode
from gateway.diff.value_changes import type_name

#: Levels of children shown below the element added or removed.
MAX_DEPTH = 3
#: Children shown per element; the others are counted.
MAX_CHILDREN = 40


def _type(node: ElementNode) -> str | None:
    if node.type_name:
        return node.type_name
    return type_name(node.simple) if node.simple is not None else None


_NOTES = {
    "optional": "one alternative of a choice",
    "conditional": "inside a choice or an optional group",
}


def structure(node: ElementNode) -> Outline | None:
    """The outline of an element with attributes or element content; None for a simple
    element, which its declaration (occurrences and type) already says all about."""
    if node.attributes or node.children or node.cut:
        return outline(node)
    return None


def outline(node: ElementNode, depth: int = 0) -> Outline:
    """The outline of `node` and what it holds, `MAX_DEPTH` levels down."""
    attributes = tuple(
        Outline(
            attribute.local_name,
            "1..1" if attribute.use == "required" else "0..1",
            type_name(attribute.value),
        )
        for attribute in node.attributes
    )
    note = _NOTES.get(node.presence, "") if node.min_occurs > 0 else ""
    cut = ""
    children: tuple[Outline, ...] = ()
    if node.cut == "recursive":
        cut = "recursive: its content is shown where its type first appears"
    elif node.children and depth >= MAX_DEPTH:
        count = len(node.children)
        cut = f"{count} child element{'s' if count > 1 else ''} deeper than {MAX_DEPTH} levels"
    else:
        children = tuple(outline(child, depth + 1) for child in node.children[:MAX_CHILDREN])
        if len(node.children) > MAX_CHILDREN:
            cut = f"{len(node.children) - MAX_CHILDREN} more child elements not shown"
    return Outline(node.local_name, node.occurs, _type(node), note, attributes, children, cut)

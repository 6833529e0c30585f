"""Which changes a sample document's verdict depends on, read from the document's content.

libxml2 stops at the first error of a content model, so a document holding three new elements
reports one. The document itself says more: it holds an element a change added (it depends on
that change), a count of children a change no longer allows, a value whose new type refuses it.
For a document valid under OLD and refused by NEW (a break for producers), a change concerns it
when the document holds something OLD accepts and NEW refuses there; for a document refused by
OLD (consumers), the reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lxml import etree

from gateway.diff.change import Bounds, Change
from gateway.diff.judge import PRODUCERS

_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_VALUE_KINDS = frozenset(
    {"type-changed", "facet-changed", "pattern-changed", "enumeration-changed"}
)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class DocumentIndex:
    """The elements of a document by path (`interfaceNuu/demande/numGuichet`: local names)."""

    def __init__(self, root: etree._Element) -> None:
        self.root = _local(root.tag)
        self.elements: dict[str, list[etree._Element]] = {}
        stack = [(root, self.root)]
        while stack:
            element, path = stack.pop()
            self.elements.setdefault(path, []).append(element)
            for child in element.iterchildren(etree.Element):
                stack.append((child, f"{path}/{_local(child.tag)}"))

    def at(self, path: str) -> list[etree._Element]:
        return self.elements.get(path, [])

    def paths(self) -> set[str]:
        return set(self.elements)


def _attribute(element: etree._Element, name: str) -> str | None:
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


def _children(element: etree._Element, name: str) -> int:
    return sum(_local(child.tag) == name for child in element.iterchildren(etree.Element))


def _has_text(element: etree._Element) -> bool:
    texts = [element.text, *(child.tail for child in element.iterchildren())]
    return any(text and text.strip() for text in texts)


def _fits(count: int, bounds: Bounds) -> bool:
    low, high = bounds
    return count >= low and (high is None or count <= high)


def _values(index: DocumentIndex, path: str) -> Iterator[str]:
    """The values at `path`: an element's text (unless nil), or an attribute's value."""
    element_path, _, attribute = path.partition("/@")
    for element in index.at(element_path):
        if attribute:
            value = _attribute(element, attribute)
            if value is not None:
                yield value
        elif element.get(_XSI_NIL) not in ("true", "1"):
            yield element.text or ""


def _lacking(index: DocumentIndex, path: str) -> bool:
    """Whether an element at the parent of `path` lacks what `path` names (a child element or
    an attribute)."""
    parent, _, name = path.rpartition("/")
    if name.startswith("@"):
        return any(_attribute(element, name[1:]) is None for element in index.at(parent))
    return any(_children(element, name) == 0 for element in index.at(parent))


def _holds(index: DocumentIndex, path: str) -> bool:
    return any(True for _ in _values(index, path)) if "/@" in path else bool(index.at(path))


def _concerns_at(change: Change, path: str, index: DocumentIndex, producers: bool) -> bool:
    """Whether the document, at `path`, holds what one version accepts and the other refuses
    (`producers`: OLD accepts it)."""
    kind = change.kind
    if kind in ("root-added", "root-removed"):
        return index.root == path
    if kind in ("element-added", "attribute-added"):
        # Added: NEW's documents may hold it (consumers) or must (producers, when required).
        return _lacking(index, path) if producers else _holds(index, path)
    if kind in ("element-removed", "attribute-removed"):
        return _holds(index, path) if producers else _lacking(index, path)
    if kind == "attribute-use-changed":
        return _lacking(index, path)
    if kind == "occurs-changed" and change.bounds is not None:
        passing, failing = change.bounds if producers else change.bounds[::-1]
        parent, _, name = path.rpartition("/")
        return any(
            _fits(count, passing) and not _fits(count, failing)
            for count in (_children(element, name) for element in index.at(parent))
        )
    if kind == "nillable-changed":
        return any(element.get(_XSI_NIL) in ("true", "1") for element in index.at(path))
    if kind == "default-changed":
        return False  # a default changes what a document means, not whether it is valid
    if kind == "content-model-changed":
        # Whether a sequence of children fits a content model is libxml2's to say: the change
        # is linked through the violations at its path (`gateway.diff.evidence`).
        return False
    if (
        kind == "type-changed"
        and change.effects[0] in ("narrowed", "widened")
        and not any(change.values)
    ):
        # Mixed content allowed or not: what matters is text between the children.
        return any(_has_text(element) for element in index.at(path))
    old, new = change.values
    if kind in _VALUE_KINDS and old is not None and new is not None:
        keeps: Callable[[str], bool] | None = (old if producers else new).accepts
        refuses: Callable[[str], bool] | None = (new if producers else old).accepts
        if keeps is not None and refuses is not None:
            return any(keeps(value) and not refuses(value) for value in _values(index, path))
    return _holds(index, path)


def concerns(change: Change, index: DocumentIndex, audience: str) -> bool:
    """Whether `change` is one the verdict of a document (in `index`) that breaks `audience`
    depends on, at any of the paths where it shows."""
    producers = audience == PRODUCERS
    return any(_concerns_at(change, path, index, producers) for path in change.paths)

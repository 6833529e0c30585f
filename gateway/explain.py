"""libxml2's validation errors turned into violations people can act on.

libxml2 says `Element '{http://nuu.application.i2/}nom': [facet 'maxLength'] The value has a
length of '60'; this exceeds the allowed maximum length of '50'.` at a positional path such as
`/*/*[2]/*[1]`. A violation says `<nuu:nom> is 60 characters long; at most 50 are allowed
(maxLength).` at `/nuu:interfaceNuu/nuu:demande/nuu:nom`, with a stable code and a column.
Each kind of libxml2 message has its rewrite (`gateway.rewrites`); element values (names,
incomes, social-security numbers) only appear when the caller asks.

One fault is one violation: the messages libxml2 gives about one value (its length and its
pattern, an item and its list) are joined; those that follow from a fault already reported (the
value of an element whose content is wrong, the abstract type of an element whose xsi:type is
wrong) are left out. Where libxml2 reports a required child missing in the middle of a sequence
as the next child being unexpected (`Expected is ( X )`), the document is checked again with an
empty X put in (at most `MAX_RECHECKS` times, documents up to 4 MiB): if the next child is then
accepted, the violation is `xsd.missing-element` at the parent. Runs only for invalid
documents, never on the hot path of a valid one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lxml import etree

from gateway.names import display_name
from gateway.rewrites import reword
from gateway.violation import Violation
from gateway.wording import (
    CONTENT,
    TYPE_SUBSTITUTION,
    VALUE,
    Said,
    expected_names,
    listed_as_is,
    shown_name,
)

_SUBJECT = re.compile(
    r"Element '(?P<element>[^']+)'(?:, attribute '(?P<attribute>[^']+)')?: ", re.S
)
#: Checks a copy of the validated element again (the schema's `errors`).
Recheck = Callable[[etree._Element], list[etree._LogEntry]]
#: Times a document is checked again, to tell a missing element from an unexpected one: each
#: check costs one validation of the document, so documents over `MAX_RECHECK_BYTES` are not.
MAX_RECHECKS = 8
MAX_RECHECK_BYTES = 4 * 1024 * 1024
#: Elements of libxml2's `Expected is ( ... )` tried in turn as the missing one.
MAX_CANDIDATES = 6


class _Positions:
    """Each element's position among its same-named siblings, counted once per parent and name:
    the paths of the faults in a long list of siblings would otherwise count them again for
    each (quadratic). For a tree that does not change meanwhile."""

    def __init__(self) -> None:
        self.counted: dict[tuple[etree._Element, object], dict[etree._Element, int]] = {}

    def of(self, node: etree._Element, parent: etree._Element) -> tuple[int, int]:
        """`node`'s position among its siblings of its name (from 1), and how many they are."""
        positions = self.counted.get((parent, node.tag))
        if positions is None:
            siblings = parent.iterchildren(node.tag)
            positions = {sibling: index for index, sibling in enumerate(siblings, 1)}
            self.counted[parent, node.tag] = positions
        return positions[node], len(positions)


def element_path(element: etree._Element, positions: _Positions | None = None) -> str:
    """The XPath of `element`, with a position only where same-named siblings exist
    (`positions` counts them once for many paths of one tree)."""
    positions = positions or _Positions()
    steps = []
    node: etree._Element | None = element
    while node is not None:
        parent = node.getparent()
        step = display_name(node.tag)
        if parent is not None:
            position, siblings = positions.of(node, parent)
            if siblings > 1:
                step += f"[{position}]"
        steps.append(step)
        node = parent
    return "/" + "/".join(reversed(steps))


class _Lines:
    """Start offsets of the document's lines, built once for all its violations, and the
    columns found on them, each found once: a line may hold thousands of faulty elements (a
    long list written on one line), whose columns are the same search on the same text."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.starts = [0, *(match.end() for match in re.finditer(b"\n", data))]
        self.found: dict[tuple[int, str, str | None], int | None] = {}

    def column(
        self, line: int, element: etree._Element | None, attribute: str | None
    ) -> int | None:
        if element is None or not 1 <= line <= len(self.starts):
            return None
        local = etree.QName(element).localname
        tag = f"<{element.prefix}:{local}" if element.prefix else f"<{local}"
        key = (line, tag, attribute)
        if key not in self.found:
            self.found[key] = self._search(line, tag, attribute)
        return self.found[key]

    def _search(self, line: int, tag: str, attribute: str | None) -> int | None:
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.data)
        text = self.data[start:end].decode("utf-8", errors="replace")
        found = re.search(re.escape(tag) + r"(?=[\s/>])", text)
        if not found:
            return None
        if attribute:
            name = attribute.rpartition(":")[2].rpartition("}")[2]
            on_attribute = re.compile(r"\s((?:[\w.\-]+:)?" + re.escape(name) + r")\s*=")
            if in_tag := on_attribute.search(text, found.end()):
                return in_tag.start(1) + 1
        return found.start() + 1


_STEP = re.compile(r"(?P<name>[^/\[]+)(?:\[(?P<position>\d+)\])?")


class _Children:
    """The element children of each element, all or of one name, listed once: each error in a
    long list of siblings names its own (`contenuPiece[19999]`), and listing them again for each
    error made a long list's errors quadratic. For a tree that does not change meanwhile."""

    def __init__(self) -> None:
        self.lists: dict[tuple[etree._Element, str], list[etree._Element]] = {}

    def of(self, node: etree._Element, name: str) -> list[etree._Element]:
        """`node`'s element children named `name` as libxml2 writes it (`*`: all of them)."""
        listed = self.lists.get((node, name))
        if listed is None:
            listed = [child for child in node.iterchildren() if isinstance(child.tag, str)]
            if name != "*":
                prefix, _, local = name.rpartition(":")
                listed = [
                    child
                    for child in listed
                    if etree.QName(child).localname == local
                    and (child.prefix or "") == prefix
                    and (prefix or etree.QName(child).namespace is None)
                ]
            self.lists[node, name] = listed
        return listed


def _node_at(
    validated: etree._Element, path: str | None, children: _Children | None = None
) -> etree._Element | None:
    """The element at libxml2's path, which starts at the validated element (libxml2 validates
    a copy when that element is not its document's root). libxml2 writes a step as
    `prefix:name[k]` (k-th sibling of that name and prefix), `name[k]` (no namespace), or `*[k]`
    (k-th element child) where the namespace is a default one, which XPath cannot name.
    `children` lists each element's children once for every path looked up in an unchanged
    tree."""
    if not path or not path.startswith("/"):
        return None
    children = children or _Children()
    node = validated
    for step in path.split("/")[2:]:
        match = _STEP.fullmatch(step)
        if match is None:
            return None
        named = children.of(node, match["name"])
        position = int(match["position"] or 1)
        if len(named) < position:
            return None
        node = named[position - 1]
    return node


@dataclass
class _Fault:
    """One fault: the first message about it and the clauses of the others about the same
    value; `node` is the element it is about (in the validated tree)."""

    entry: etree._LogEntry
    said: Said
    node: etree._Element | None
    clauses: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, str | None]:
        return self.entry.line, self.entry.path

    def message(self) -> str:
        if not self.clauses:
            return self.said.message
        return self.said.message.rstrip(".") + "".join(f", and {c}" for c in self.clauses) + "."


def _follows(fault: _Fault, said: Said) -> bool:
    """Whether `said`, about the same element as `fault`, adds nothing to it: a consequence,
    or another message about the same value."""
    if said.about == VALUE and fault.said.about == CONTENT and said.attribute is None:
        return True  # the value of an element whose content is wrong
    if said.kind == "abstract-type" and fault.said.attribute == "xsi:type":
        return True  # the declared type stands because the xsi:type does not
    return (
        said.about == VALUE and fault.said.about == VALUE and said.attribute == fault.said.attribute
    )


def _lengths(node: etree._Element | None, attribute: str | None) -> frozenset[int] | None:
    """The length in characters of the value libxml2 speaks of, as written and with its
    whitespace collapsed (types normalise it before counting)."""
    if node is None:
        return None
    if attribute is None:
        text = node.text or ""
    else:
        local = attribute.rpartition(":")[2].rpartition("}")[2]
        text = next((v for k, v in node.attrib.items() if k.rpartition("}")[2] == local), "")
    return frozenset({len(text), len(" ".join(text.split()))})


def _faults(
    entries: Iterable[etree._LogEntry], validated: etree._Element, show_values: bool
) -> list[_Fault]:
    faults: list[_Fault] = []
    last: dict[tuple[int, str | None], _Fault] = {}
    children = _Children()
    for entry in entries:
        subject = _SUBJECT.match(entry.message)
        element = shown_name(subject["element"]) if subject else "?"
        attribute = shown_name(subject["attribute"]) if subject and subject["attribute"] else None
        reason = entry.message[subject.end() :] if subject else entry.message
        node = _node_at(validated, entry.path, children)
        said = reword(
            entry.type_name, reason, element, attribute, show_values, _lengths(node, attribute)
        )
        previous = last.get((entry.line, entry.path))
        if previous is not None and _follows(previous, said):
            joined = said.about == VALUE and previous.said.about == VALUE and said.clause
            if joined and said.kind != "datatype-list-or-union":
                previous.clauses.append(said.clause)
            continue
        fault = _Fault(entry, said, node)
        faults.append(fault)
        if said.about in (VALUE, CONTENT, TYPE_SUBSTITUTION) or said.attribute == "xsi:type":
            last[fault.key] = fault
    return faults


class _MissingChild:
    """Tells a required child missing before an element from that element being unexpected,
    by checking a copy of the document with the expected child put in."""

    def __init__(self, validated: etree._Element, recheck: Recheck) -> None:
        self.validated = validated
        self.recheck = recheck
        self.left = MAX_RECHECKS

    def accepted_with(self, path: str, candidate: str) -> bool:
        """Whether the element at libxml2's `path` is accepted once an empty `candidate` is
        put before it (the other errors do not matter). The candidate goes into the validated
        tree itself, and out again, rather than into a copy of the whole document."""
        self.left -= 1
        target = _node_at(self.validated, path)
        if target is None or (parent := target.getparent()) is None:
            return False
        inserted = etree.Element(candidate)
        parent.insert(parent.index(target), inserted)
        try:
            errors = self.recheck(self.validated)
            children = _Children()
            return not any(
                _node_at(self.validated, error.path, children) is target
                and error.type_name == "SCHEMAV_ELEMENT_CONTENT"
                for error in errors
            )
        finally:
            parent.remove(inserted)

    def missing(self, fault: _Fault, reason_names: list[str]) -> list[str]:
        """The expected children whose absence is the fault (empty: it is not that)."""
        node, path = fault.node, fault.entry.path
        if node is None or node.getparent() is None or not path:
            return []
        later = {child.tag for child in node.itersiblings() if isinstance(child.tag, str)}
        found = []
        for candidate in reason_names[:MAX_CANDIDATES]:
            if candidate in later or candidate == node.tag or self.left <= 0:
                continue  # present further on: an order problem, not a missing child
            if self.accepted_with(path, candidate):
                found.append(candidate)
        return found


def violations_from_log(
    entries: Iterable[etree._LogEntry],
    validated: etree._Element,
    data: bytes,
    *,
    show_values: bool = False,
    limit: int | None = 100,
    recheck: Recheck | None = None,
) -> list[Violation]:
    """Translate libxml2's log for `validated` (parsed from `data`) into at most `limit`
    violations, one per fault. With `recheck` (the schema's check of an element), a required
    child missing before another is told apart from that other being unexpected."""
    lines = _Lines(data)
    children = None
    if recheck is not None and len(data) <= MAX_RECHECK_BYTES:
        children = _MissingChild(validated, recheck)
    violations: list[Violation] = []
    seen: set[tuple[str | None, str]] = set()
    positions = _Positions()
    for fault in _faults(entries, validated, show_values):
        code, message, node, line = fault.said.code, fault.message(), fault.node, fault.entry.line
        about = fault.said.attribute
        if fault.said.kind == "not-expected" and children is not None and node is not None:
            names = expected_names(fault.entry.message)
            if lacking := children.missing(fault, names):
                parent = node.getparent()
                shown = [f"<{shown_name(name)}>" for name in lacking]
                either = shown[0] if len(shown) == 1 else "one of " + listed_as_is(shown)
                message = (
                    f"<{display_name(parent.tag)}> lacks {either}, required before "
                    f"<{display_name(node.tag)}>."
                )
                code, node, about, line = "xsd.missing-element", parent, None, parent.sourceline
        path = element_path(node, positions) if node is not None else None
        if path is not None and about:
            path += f"/@{about}"
        if (path, message) in seen:
            continue
        seen.add((path, message))
        violations.append(
            Violation(
                code=code,
                message=message,
                line=line or None,
                column=lines.column(line, node, about),
                path=path,
            )
        )
        if limit is not None and len(violations) == limit:
            break
    return violations

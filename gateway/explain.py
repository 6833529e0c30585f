"""libxml2's validation errors turned into violations people can act on.

libxml2 says `Element '{http://nuu.application.i2/}nom': [facet 'maxLength'] The value has a
length of '60'; this exceeds the allowed maximum length of '50'.` at a positional path such as
`/*/*[2]/*[1]`. A violation says `<nuu:nom> is 60 characters long; at most 50 are allowed
(maxLength).` at `/nuu:interfaceNuu/nuu:demande/nuu:nom`, with a stable code and a column.
Element values (names, incomes, social-security numbers) only appear when the caller asks.
Runs only for invalid documents, never on the hot path of a valid one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lxml import etree

from gateway.names import display_name
from gateway.violation import Violation

_CODE_BY_TYPE = {
    "SCHEMAV_CVC_ELT_1": "xsd.unexpected-element",
    "SCHEMAV_CVC_PATTERN_VALID": "xsd.pattern",
    "SCHEMAV_CVC_ENUMERATION_VALID": "xsd.enumeration",
    **dict.fromkeys(
        (
            f"SCHEMAV_CVC_{facet}_VALID"
            for facet in (
                "LENGTH",
                "MINLENGTH",
                "MAXLENGTH",
                "MININCLUSIVE",
                "MAXINCLUSIVE",
                "MINEXCLUSIVE",
                "MAXEXCLUSIVE",
                "TOTALDIGITS",
                "FRACTIONDIGITS",
            )
        ),
        "xsd.facet",
    ),
}
_CODE_BY_TYPE_PREFIX = (
    ("SCHEMAV_CVC_DATATYPE_VALID", "xsd.type"),
    ("SCHEMAV_CVC_TYPE_", "xsd.type"),
    ("SCHEMAV_CVC_COMPLEX_TYPE_2", "xsd.type"),
    ("SCHEMAV_CVC_ELT_", "xsd.type"),
    ("SCHEMAV_CVC_COMPLEX_TYPE_3", "xsd.attribute"),
    ("SCHEMAV_CVC_COMPLEX_TYPE_4", "xsd.attribute"),
    ("SCHEMAV_CVC_ATTRIBUTE", "xsd.attribute"),
    ("SCHEMAV_CVC_AU", "xsd.attribute"),
)

_SUBJECT = re.compile(
    r"Element '(?P<element>[^']+)'(?:, attribute '(?P<attribute>[^']+)')?: ", re.S
)
_EXPECTED = re.compile(r"Expected is (?:one of )?\( (?P<names>.*) \)\.$", re.S)
_CLARK = re.compile(r"(\{[^}]*\}[\w.\-]+|[\w.\-]+)")


def _code(entry: etree._LogEntry, reason: str) -> str:
    if entry.type_name == "SCHEMAV_ELEMENT_CONTENT":
        if reason.startswith("Missing child"):
            return "xsd.missing-element"
        if "not expected" in reason:
            return "xsd.unexpected-element"
        return "xsd.type"
    if code := _CODE_BY_TYPE.get(entry.type_name):
        return code
    for prefix, code in _CODE_BY_TYPE_PREFIX:
        if entry.type_name.startswith(prefix):
            return code
    return "xsd.invalid"


def _expected(reason: str) -> str:
    match = _EXPECTED.search(reason)
    if not match:
        return ""
    names = [display_name(name) for name in _CLARK.findall(match["names"])]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"; expected: {listed}"


@dataclass(frozen=True, slots=True)
class _Facet:
    """How to read one libxml2 facet message and say it again without the value."""

    pattern: re.Pattern[str]
    render: Callable[[dict[str, str], str], str]


def _facet(pattern: str, render: Callable[[dict[str, str], str], str]) -> _Facet:
    return _Facet(re.compile(pattern, re.S), render)


_FACETS = {
    "length": _facet(
        r"The value has a length of '(?P<n>\d+)'; this differs from the allowed length of '(?P<limit>\d+)'",
        lambda m, s: (
            f"{s} is {m['n']} characters long; exactly {m['limit']} are required (length)."
        ),
    ),
    "minLength": _facet(
        r"The value has a length of '(?P<n>\d+)'; this underruns the allowed minimum length of '(?P<limit>\d+)'",
        lambda m, s: (
            f"{s} is {m['n']} characters long; at least {m['limit']} are required (minLength)."
        ),
    ),
    "maxLength": _facet(
        r"The value has a length of '(?P<n>\d+)'; this exceeds the allowed maximum length of '(?P<limit>\d+)'",
        lambda m, s: (
            f"{s} is {m['n']} characters long; at most {m['limit']} are allowed (maxLength)."
        ),
    ),
    "pattern": _facet(
        r"The value '(?P<value>.*)' is not accepted by the pattern '(?P<limit>.*)'\.$",
        lambda m, s: f"{s}: the value{m['shown']} does not match the pattern {m['limit']}.",
    ),
    "enumeration": _facet(
        r"The value '(?P<value>.*)' is not an element of the set \{(?P<limit>.*)\}\.$",
        lambda m, s: (
            f"{s}: the value{m['shown']} is not one of the allowed values "
            f"{m['limit'].replace(chr(39), '')}."
        ),
    ),
    "minInclusive": _facet(
        r"The value '(?P<value>.*)' is less than the minimum value allowed \('(?P<limit>.*)'\)\.$",
        lambda m, s: (
            f"{s}: the value{m['shown']} is below the minimum {m['limit']} (minInclusive)."
        ),
    ),
    "maxInclusive": _facet(
        r"The value '(?P<value>.*)' is greater than the maximum value allowed \('(?P<limit>.*)'\)\.$",
        lambda m, s: (
            f"{s}: the value{m['shown']} is above the maximum {m['limit']} (maxInclusive)."
        ),
    ),
    "minExclusive": _facet(
        r"The value '(?P<value>.*)' must be greater than '(?P<limit>.*)'\.$",
        lambda m, s: (
            f"{s}: the value{m['shown']} must be greater than {m['limit']} (minExclusive)."
        ),
    ),
    "maxExclusive": _facet(
        r"The value '(?P<value>.*)' must be less than '(?P<limit>.*)'\.$",
        lambda m, s: f"{s}: the value{m['shown']} must be less than {m['limit']} (maxExclusive).",
    ),
    "totalDigits": _facet(
        r"The value '(?P<value>.*)' has more digits than are allowed \('(?P<limit>.*)'\)\.$",
        lambda m, s: f"{s}: the value{m['shown']} has more than {m['limit']} digits (totalDigits).",
    ),
    "fractionDigits": _facet(
        r"The value '(?P<value>.*)' has more fractional digits than are allowed \('(?P<limit>.*)'\)\.$",
        lambda m, s: (
            f"{s}: the value{m['shown']} has more than {m['limit']} decimals (fractionDigits)."
        ),
    ),
}
_FACET = re.compile(r"\[facet '(?P<facet>\w+)'\] (?P<detail>.*)", re.S)
_BAD_VALUE = re.compile(
    r"'(?P<value>.*)' is not a valid value of the (?P<kind>(?:local )?(?:atomic|list|union) type)"
    r"(?: '(?P<type>[^']+)')?\.$",
    re.S,
)
_ATTRIBUTE_NOT_ALLOWED = re.compile(r"The attribute '(?P<name>[^']+)' is not allowed\.")
_ATTRIBUTE_MISSING = re.compile(r"The attribute '(?P<name>[^']+)' is required but missing\.")
_FIXED = re.compile(
    r"The actual value '(?P<value>.*)' does not match the fixed value constraint '(?P<fixed>.*)'\.$",
    re.S,
)
_ANY_QUOTED_VALUE = re.compile(r"(?:The (?:actual )?value )?'[^']*'(?= is| does| must| has)")
#: Messages that quote the document's text without saying "value": what they say instead.
_XSI_TYPE_UNRESOLVED = re.compile(
    r"The QName value '(?P<value>.*)' of the xsi:type attribute does not resolve to a type "
    r"definition\.$",
    re.S,
)
_QNAME_UNBOUND = re.compile(
    r"The QName value '(?P<value>.*)' has no corresponding namespace declaration in scope\.$",
    re.S,
)
_KEY_DUPLICATE = re.compile(
    r"Duplicate key-sequence \[(?P<value>.*)\] in (?P<kind>\w+) identity-constraint "
    r"'(?P<name>[^']*)'\.$",
    re.S,
)
_KEYREF_UNMATCHED = re.compile(
    r"No match found for key-sequence \[(?P<value>.*)\] of keyref '(?P<name>[^']*)'\.$", re.S
)
#: From the first quote to the last: whatever libxml2 quoted, a value containing quotes too.
_QUOTED = re.compile(r"'.*'", re.S)


def _with_value(match: re.Match[str], show_values: bool) -> dict[str, str]:
    """The match's groups, plus `shown`: the quoted value when values may be shown."""
    groups = match.groupdict(default="")
    groups["shown"] = f" '{groups['value']}'" if show_values and "value" in groups else ""
    return groups


def _message(
    reason: str, code: str, element: str, attribute: str | None, show_values: bool
) -> tuple[str, str | None]:
    """The message, and the attribute the violation is about (if any)."""
    subject = f"Attribute '{attribute}' of <{element}>" if attribute else f"<{element}>"
    if facet := _FACET.match(reason):
        known = _FACETS.get(facet["facet"])
        detail = known.pattern.search(facet["detail"]) if known else None
        if known and detail:
            return known.render(_with_value(detail, show_values), subject), attribute
    if bad := _BAD_VALUE.match(reason):
        shown = _with_value(bad, show_values)["shown"]
        type_name = display_name(bad["type"]) if bad["type"] else "its type"
        return f"{subject}: the value{shown} is not a valid {type_name}.", attribute
    if code == "xsd.unexpected-element":
        if "global declaration" in reason:
            return f"<{element}> is not a root element this schema declares.", None
        return f"<{element}> is not expected here{_expected(reason)}.", None
    if code == "xsd.missing-element":
        return f"<{element}> is missing a required child element{_expected(reason)}.", None
    if match := _ATTRIBUTE_NOT_ALLOWED.match(reason):
        name = display_name(match["name"])
        return f"Attribute '{name}' is not allowed on <{element}>.", name
    if match := _ATTRIBUTE_MISSING.match(reason):
        name = display_name(match["name"])
        return f"<{element}> lacks its required attribute '{name}'.", name
    if "content type is 'element-only'" in reason:
        return f"<{element}> may only contain elements, not text.", attribute
    if "content type is empty" in reason:
        return f"<{element}> must be empty.", attribute
    if fixed := _FIXED.match(reason):
        shown = _with_value(fixed, show_values)["shown"]
        return (
            f"{subject}: the value{shown} differs from the fixed value {fixed['fixed']}.",
            attribute,
        )
    if xsi_type := _XSI_TYPE_UNRESOLVED.match(reason):
        shown = _with_value(xsi_type, show_values)["shown"]
        return f"{subject}: the type{shown} it names is not one the schema defines.", attribute
    if unbound := _QNAME_UNBOUND.match(reason):
        shown = _with_value(unbound, show_values)["shown"]
        return (
            f"{subject}: the value{shown} is a prefixed name whose prefix no namespace "
            "declaration binds.",
            attribute,
        )
    if duplicate := _KEY_DUPLICATE.match(reason):
        shown = f" [{duplicate['value']}]" if show_values else ""
        return (
            f"{subject}: the value{shown} is already used; the {duplicate['kind']} "
            f"constraint '{duplicate['name']}' allows it once.",
            attribute,
        )
    if unmatched := _KEYREF_UNMATCHED.match(reason):
        shown = f" [{unmatched['value']}]" if show_values else ""
        return (
            f"{subject}: the value{shown} matches no key the keyref '{unmatched['name']}' "
            "refers to.",
            attribute,
        )
    if not show_values:
        # A message of another kind: nothing it quoted may be the document's text.
        reason = _QUOTED.sub("…", _ANY_QUOTED_VALUE.sub("The value", reason))
    return f"{subject}: {reason}", attribute


def element_path(element: etree._Element) -> str:
    """The XPath of `element`, with a position only where same-named siblings exist."""
    steps = []
    node: etree._Element | None = element
    while node is not None:
        parent = node.getparent()
        step = display_name(node.tag)
        if parent is not None:
            siblings = list(parent.iterchildren(node.tag))
            if len(siblings) > 1:
                step += f"[{siblings.index(node) + 1}]"
        steps.append(step)
        node = parent
    return "/" + "/".join(reversed(steps))


class _Lines:
    """Start offsets of the document's lines, built once for all its violations."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.starts = [0, *(match.end() for match in re.finditer(b"\n", data))]

    def column(
        self, line: int, element: etree._Element | None, attribute: str | None
    ) -> int | None:
        if element is None or not 1 <= line <= len(self.starts):
            return None
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.data)
        text = self.data[start:end].decode("utf-8", errors="replace")
        local = etree.QName(element).localname
        tag = f"<{element.prefix}:{local}" if element.prefix else f"<{local}"
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


def _node_at(validated: etree._Element, path: str | None) -> etree._Element | None:
    """The element at libxml2's path, which starts at the validated element (libxml2 validates
    a copy when that element is not its document's root). libxml2 writes a step as
    `prefix:name[k]` (k-th sibling of that name and prefix), `name[k]` (no namespace), or `*[k]`
    (k-th element child) where the namespace is a default one, which XPath cannot name."""
    if not path or not path.startswith("/"):
        return None
    node = validated
    for step in path.split("/")[2:]:
        match = _STEP.fullmatch(step)
        if match is None:
            return None
        name, position = match["name"], int(match["position"] or 1)
        children = [child for child in node.iterchildren() if isinstance(child.tag, str)]
        if name != "*":
            prefix, _, local = name.rpartition(":")
            children = [
                child
                for child in children
                if etree.QName(child).localname == local
                and (child.prefix or "") == prefix
                and (prefix or etree.QName(child).namespace is None)
            ]
        if len(children) < position:
            return None
        node = children[position - 1]
    return node


def violations_from_log(
    entries: Iterable[etree._LogEntry],
    validated: etree._Element,
    data: bytes,
    *,
    show_values: bool = False,
    limit: int = 100,
) -> list[Violation]:
    """Translate libxml2's log for `validated` (parsed from `data`) into at most `limit`
    distinct violations."""
    lines = _Lines(data)
    violations: list[Violation] = []
    seen: set[tuple[str | None, str]] = set()
    for entry in entries:
        subject = _SUBJECT.match(entry.message)
        element_name = display_name(subject["element"]) if subject else "?"
        attribute = display_name(subject["attribute"]) if subject and subject["attribute"] else None
        reason = entry.message[subject.end() :] if subject else entry.message
        code = _code(entry, reason)
        message, about = _message(reason, code, element_name, attribute, show_values)
        element = _node_at(validated, entry.path)
        path = element_path(element) if element is not None else None
        if path is not None and about:
            path += f"/@{about}"
        if (path, message) in seen:
            continue
        seen.add((path, message))
        violations.append(
            Violation(
                code=code,
                message=message,
                line=entry.line or None,
                column=lines.column(entry.line, element, about),
                path=path,
            )
        )
        if len(violations) == limit:
            break
    return violations

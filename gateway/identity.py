"""What identifies the documents of a schema, and a document's own identity.

SNE schemas share their namespace and root element (`interfaceNuu`): what tells an application
from an event list is the first element after the header `entete` (`demande`,
`listeEvenement`, `criteresRecherche`, ...), and what tells interface versions apart is the
root's `versionInterface`. A schema's identity is read from its files once per load: for each
global element, the elements a document may start with after `entete`; and the
`versionInterface` values the schema lists (a `fixed` value or an enumeration; a pattern lists
none). A delivery names versions in its file names too (`InterfaceNuu_v0201.xsd`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from gateway.schema_outline import Outline

#: The attribute of the root that declares the interface version.
VERSION_ATTRIBUTE = "versionInterface"
#: The header element that comes before the business element in every SNE document.
HEADER = "entete"
#: `_v0201`, `_V0200`, `_v02.01` in a file name (without its suffix): the SNE's way.
_FILE_VERSION = re.compile(r"_[vV](\d{2})\.?(\d{2})(?=$|[_.\- ])")


@dataclass(frozen=True, slots=True)
class Identity:
    """`business`: for each global element (Clark name), the local names of the elements a
    document of it may start with, `entete` passed over (empty: the element says nothing more
    than its name). `versions`: the `versionInterface` values the schema lists, None when it
    takes any."""

    business: Mapping[str, frozenset[str]]
    versions: frozenset[str] | None

    def matches(self, root: str, business: str | None) -> bool:
        """Whether a document whose root is `root` and whose business element is `business`
        belongs to this schema."""
        names = self.business.get(root)
        if names is None:
            return False
        return not names or business in names


def read_identity(contents: Mapping[str, bytes], roots: frozenset[str]) -> Identity:
    """The identity of a schema made of the files `contents`, whose global elements are
    `roots`."""
    outline = Outline(contents)
    business: dict[str, frozenset[str]] = {}
    versions: set[str] = set()
    listed = False
    for root in roots:
        declaration = outline.element(root)
        if declaration is None:
            business[root] = frozenset()
            continue
        business[root] = outline.first_children(declaration, skip=HEADER).names
        attribute = outline.attribute(declaration, VERSION_ATTRIBUTE)
        if attribute is not None and (values := outline.enumeration(attribute)) is not None:
            versions |= values
            listed = True
    return Identity(business, frozenset(versions) if listed else None)


def version_in_file_name(stem: str) -> tuple[str, str] | None:
    """(`02.01`, `InterfaceNuu`) for `InterfaceNuu_v0201`; None when the name has no version."""
    found = _FILE_VERSION.search(stem)
    if found is None:
        return None
    name = (stem[: found.start()] + stem[found.end() :]).strip("_") or stem
    return f"{found[1]}.{found[2]}", name


def business_element(root: etree._Element) -> str | None:
    """The local name of a document's business element: its root's first child element that
    is not `entete`."""
    for child in root:
        if isinstance(child.tag, str):
            local = child.tag.rpartition("}")[2]
            if local != HEADER:
                return local
    return None

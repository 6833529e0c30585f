"""The frame every SNE business document shares: the `interfaceNuu` root with its
`versionInterface`, the `entete`, elements in the interface's namespace, and serialization.

Builders append elements in the order their schema's sequences declare, so each module that
builds a document reads top to bottom like its XSD.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lxml import etree

from gateway.names import NUU
from gateway.simulator import clock

#: `nuu:modifie` is a global attribute: it needs a prefix, the default namespace does not
#: apply to attributes.
NSMAP = {None: NUU, "nuu": NUU}
MODIFIE = f"{{{NUU}}}modifie"
#: The first version whose schemas carry the 13.34 additions (see xsd/13.34/CHANGES.md).
ADDITIONS_13_34 = (13, 34)


def nuu(local_name: str) -> str:
    """The Clark name of an element of the interface's namespace."""
    return f"{{{NUU}}}{local_name}"


def add(
    parent: etree._Element, local_name: str, text: object = None, **attributes: str
) -> etree._Element:
    """Append `<local_name>` (text and attributes optional) to `parent` and return it."""
    element = etree.SubElement(parent, nuu(local_name), attributes)
    if text is not None:
        element.text = str(text)
    return element


def add_code(parent: etree._Element, local_name: str, code: str) -> etree._Element:
    """A code-list value, carried as the `code` attribute of an empty element."""
    return add(parent, local_name, code=code)


def timestamp(moment: datetime | None = None) -> str:
    """An xs:dateTime to the second, in UTC (by default, the simulator's now)."""
    moment = moment or clock.now()
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def interface_root(version: str, file_type: str, guichet: str | None = None) -> etree._Element:
    """`<interfaceNuu versionInterface=…><entete>…</entete>`, produced now."""
    root = etree.Element(nuu("interfaceNuu"), nsmap=NSMAP, versionInterface=version)
    entete = add(root, "entete")
    add(entete, "typeFichier", file_type)
    add(entete, "dateFichier", timestamp())
    if guichet is not None:
        add(entete, "codeGuichet", guichet)
    return root


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def version_key(version: str) -> tuple[int, ...]:
    """`13.34` → (13, 34); a label that is not a version number sorts as the newest."""
    if re.fullmatch(r"\d+(\.\d+)+", version):
        return tuple(int(part) for part in version.split("."))
    return (99999,)


def has_13_34_additions(version: str) -> bool:
    return version_key(version) >= ADDITIONS_13_34

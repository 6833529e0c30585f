"""One difference between the OLD and NEW schema at an element (or attribute) path.

`kind` is stable (CI and tickets rely on it); `effects` says which way it goes (a facet
`tightened` or `relaxed`, an element added as `optional` or `required`...) and is what
`gateway.diff.judge` turns into verdicts. `old` and `new` are short descriptions for people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.diff.locate import Source

if TYPE_CHECKING:
    # Only annotations: the diff's values module loads xmlschema, which every command would
    # then import (gateway.cli.diff reads the audiences from gateway.diff.judge).
    from gateway.diff.values import SimpleValue

#: Every change kind, with what it means; `docs/diff.md` lists each (a test checks).
KINDS: dict[str, str] = {
    "root-added": "A global element (a possible document root) appears.",
    "root-removed": "A global element (a possible document root) disappears.",
    "element-added": "An element appears at a path.",
    "element-removed": "An element disappears from a path.",
    "occurs-changed": "An element's minOccurs or maxOccurs changes.",
    "type-changed": "The kind of value or content changes: a built-in type narrowed, widened "
    "or unrelated, simple content becoming element content, mixed content allowed or not.",
    "facet-changed": "A length, minLength, maxLength, min/max Inclusive/Exclusive, totalDigits, "
    "fractionDigits or whiteSpace facet is added, removed or changed.",
    "pattern-changed": "The patterns a value must match change, and with them the values it "
    "accepts.",
    "enumeration-changed": "The enumerated values change (values added or removed, or the list "
    "itself added or dropped).",
    "attribute-added": "An attribute appears on an element.",
    "attribute-removed": "An attribute disappears from an element.",
    "attribute-use-changed": "An attribute becomes required or optional.",
    "content-model-changed": "The structure of an element's content changes: sequence order, "
    "choice branches, sequence/choice, group occurrences, element or attribute wildcards.",
    "nillable-changed": "An element becomes nillable or stops being so.",
    "fixed-changed": "The fixed value of an element or attribute is added, removed or changed.",
    "default-changed": "The default value of an element or attribute is added, removed or changed.",
    "namespace-changed": "An element or attribute keeps its name but changes namespace.",
}


@dataclass(frozen=True, slots=True)
class Decision:
    """How the values NEW accepts relate to OLD's, decided over the constraints `covers`
    (`pattern`, `enumeration`, facet names) taken together: `narrowed`, `widened`,
    `incomparable`, `undecided` (or `equal`, which reports nothing). `dropped` is a value OLD
    accepts and NEW refuses, `gained` the reverse; `reason` says what could not be decided."""

    relation: str
    covers: tuple[str, ...]
    dropped: str | None = None
    gained: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Outline:
    """An element added or removed, shown whole: its name, occurrences and type, where it may
    be left out though its minOccurs says otherwise (`note`: one alternative of a choice,
    inside an optional group), its attributes and its child elements, to a bounded depth
    (`cut` says where and why the outline stops)."""

    name: str
    occurs: str
    type: str | None
    note: str = ""
    attributes: tuple[Outline, ...] = ()
    children: tuple[Outline, ...] = ()
    cut: str = ""

    def to_dict(self) -> dict[str, object]:
        result: dict[str, object] = {"name": self.name, "occurs": self.occurs, "type": self.type}
        for name, value in (("note", self.note), ("cut", self.cut)):
            if value:
                result[name] = value
        if self.attributes:
            result["attributes"] = [attribute.to_dict() for attribute in self.attributes]
        if self.children:
            result["children"] = [child.to_dict() for child in self.children]
        return result

    def __str__(self) -> str:
        """`commune 1..1, communeType (one alternative of a choice); attributes: code
        (required), modifie`."""
        text = f"{self.name} {self.occurs}" + (f", {self.type}" if self.type else "")
        notes = [note for note in (self.note, self.cut) if note]
        if notes:
            text += f" ({'; '.join(notes)})"
        if self.attributes:
            shown = ", ".join(
                attribute.name + (" (required)" if attribute.occurs == "1..1" else "")
                for attribute in self.attributes
            )
            text += f"; attributes: {shown}"
        return text


Bounds = tuple[int, int | None]


@dataclass(frozen=True, slots=True)
class Change:
    """What differs at `path` (`interfaceNuu/entete/dateFichier`, `.../civilite/@code`).

    `subject` names the component in sentences (`<civilite>`, `attribute 'code' of
    <civilite>`); `detail` adds what a sentence needs (the facet, the values added).
    `source` is where NEW declares it (OLD for a removal). `decision` holds the example values
    (and what could not be decided) of a change decided on the values it accepts. `uses` lists
    every path where the same cause (one declaration, changed one way) shows, `path` first;
    `outline` shows an added or removed element whole.

    For telling which documents a change concerns (`gateway.diff.dependence`): `values` are
    the OLD and NEW value spaces of a value change, `bounds` the OLD and NEW occurrences of an
    element whose occurrences changed.
    """

    kind: str
    path: str
    effects: tuple[str, ...]
    subject: str
    old: str | None
    new: str | None
    source: Source | None
    detail: str = ""
    decision: Decision | None = None
    uses: tuple[str, ...] = ()
    outline: Outline | None = None
    values: tuple[SimpleValue | None, SimpleValue | None] = field(
        default=(None, None), compare=False, repr=False
    )
    bounds: tuple[Bounds, Bounds] | None = field(default=None, compare=False, repr=False)

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path where the change shows (`path` first)."""
        return self.uses or (self.path,)

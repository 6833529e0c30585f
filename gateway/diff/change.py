"""One difference between the OLD and NEW schema at an element (or attribute) path.

`kind` is stable (CI and tickets rely on it); `effects` says which way it goes (a facet
`tightened` or `relaxed`, an element added as `optional` or `required`...) and is what
`gateway.diff.judge` turns into verdicts. `old` and `new` are short descriptions for people.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.diff.locate import Source

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
    "pattern-changed": "The patterns a value must match change.",
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
class Change:
    """What differs at `path` (`interfaceNuu/entete/dateFichier`, `.../civilite/@code`).

    `subject` names the component in sentences (`<civilite>`, `attribute 'code' of
    <civilite>`); `detail` adds what a sentence needs (the facet, the values added).
    `source` is where NEW declares it (OLD for a removal).
    """

    kind: str
    path: str
    effects: tuple[str, ...]
    subject: str
    old: str | None
    new: str | None
    source: Source | None
    detail: str = ""

"""Which schema of NEW continues which schema of OLD.

By name first (`demande` and `demande`). Deliveries often suffix file names with the version
(`NUU_Demande_13.33.xsd`, `NUU_Demande_13.34.xsd`), so names and entry files are then compared
without their version; and when a single schema is left on each side, they are the pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.catalog import SchemaNotFound, SchemaSet
from gateway.schema import Schema

_VERSION_TOKEN = re.compile(r"[-_. ]*v?\d+(?:[._]\d+)+")


@dataclass(frozen=True, slots=True)
class SchemaPair:
    """A schema in OLD and its continuation in NEW; one side is None when it has none."""

    old: Schema | None
    new: Schema | None

    @property
    def label(self) -> str:
        """`demande`, or `old-name → new-name` when the names differ."""
        names = [schema.name for schema in (self.old, self.new) if schema is not None]
        return names[0] if len(set(names)) == 1 else " → ".join(names)

    def names(self) -> set[str]:
        return {schema.name for schema in (self.old, self.new) if schema is not None}


def _keys(schema: Schema) -> set[str]:
    return {_VERSION_TOKEN.sub("", text).lower() for text in (schema.name, schema.entry.stem)}


def pair_schemas(old: SchemaSet, new: SchemaSet, only: str | None = None) -> list[SchemaPair]:
    """Every schema of `old` and `new`, paired, in NEW's order then OLD's leftovers; only the
    pair with a schema named `only` when given (`SchemaNotFound` when there is none)."""
    left = dict(old.schemas)
    pairs: dict[str, SchemaPair] = {}
    unpaired_new = []
    for name, schema in new.schemas.items():
        if name in left:
            pairs[name] = SchemaPair(left.pop(name), schema)
        else:
            unpaired_new.append(schema)
    for schema in list(unpaired_new):
        matches = [o for o in left.values() if _keys(o) & _keys(schema)]
        rivals = [n for n in unpaired_new if matches and _keys(n) & _keys(matches[0])]
        if len(matches) == 1 and len(rivals) == 1:
            pairs[schema.name] = SchemaPair(left.pop(matches[0].name), schema)
            unpaired_new.remove(schema)
    if len(unpaired_new) == 1 and len(left) == 1:
        schema = unpaired_new.pop()
        pairs[schema.name] = SchemaPair(left.popitem()[1], schema)
    for schema in unpaired_new:
        pairs[schema.name] = SchemaPair(None, schema)
    ordered = [pairs[name] for name in new.schemas]
    ordered += [SchemaPair(schema, None) for schema in left.values()]
    if only is None:
        return ordered
    chosen = [pair for pair in ordered if only in pair.names()]
    if not chosen:
        known = ", ".join(sorted({name for pair in ordered for name in pair.names()}))
        raise SchemaNotFound(f"no schema named '{only}' in either set (known: {known})")
    return chosen

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


def _by_name(old: SchemaSet, new: SchemaSet) -> list[SchemaPair]:
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
    return [pairs[name] for name in new.schemas] + [SchemaPair(s, None) for s in left.values()]


def _entry_file(schema_set: SchemaSet) -> Schema | None:
    """The schema of a set given as one entry file, None for a set given as a directory."""
    if schema_set.source.is_file():
        return next(iter(schema_set.schemas.values()))
    return None


def pair_schemas(old: SchemaSet, new: SchemaSet, only: str | None = None) -> list[SchemaPair]:
    """Every schema of `old` and `new`, paired, in NEW's order then OLD's leftovers.

    A set given as one entry file is compared with its counterpart only, not with the other
    schemas of the other side. `only` keeps the pair with a schema of that name, and pairs an
    entry file with it whatever the file's name. Raises `SchemaNotFound` when `only` names no
    schema, or when an entry file continues no schema of the other side by name.
    """
    pairs = _by_name(old, new)
    old_entry, new_entry = _entry_file(old), _entry_file(new)
    names = sorted({name for pair in pairs for name in pair.names()})
    if only is not None:
        chosen = [pair for pair in pairs if only in pair.names()]
        if not chosen:
            raise SchemaNotFound(
                f"no schema named '{only}' in either set (known: {', '.join(names)})"
            )
        pair = chosen[0]
        if pair.old is None and old_entry is not None:
            return [SchemaPair(old_entry, pair.new)]
        if pair.new is None and new_entry is not None:
            return [SchemaPair(pair.old, new_entry)]
        return chosen
    if old_entry is None and new_entry is None:
        return pairs
    compared = [pair for pair in pairs if pair.old is not None and pair.new is not None]
    if not compared:
        entry = old_entry or new_entry
        raise SchemaNotFound(
            f"{entry.entry.name} continues no schema of the other side by name: say which "  # type: ignore[union-attr]
            f"with --schema NAME (known: {', '.join(names)})"
        )
    return compared

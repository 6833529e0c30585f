"""OLD or NEW as the user names it: a version of the catalog, a directory, or an entry file.

An existing path is loaded as a catalog (a version directory, a manifest-less delivery folder,
or a single `.xsd`/`.wsdl` entry with its includes); anything else is a version label of the
catalog (`13.33`). The label used in sentences is the version when it is known, else a version
found in the file or folder name, else `OLD` or `NEW`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.catalog import SchemaNotFound, SchemaSet, load_catalog
from gateway.schema import CatalogError

#: The version label `gateway.catalog` gives a set it found no version for.
UNVERSIONED = "custom"
_VERSION_IN_NAME = re.compile(r"(?<![\d.])\d+(?:[._]\d+)+(?![\d.])")


@dataclass(frozen=True, slots=True)
class Side:
    """OLD or NEW: the `argument` given, the schema set it names, and its `label` in
    sentences (`13.33`, or `OLD`)."""

    argument: str
    label: str
    schema_set: SchemaSet

    @property
    def version(self) -> str | None:
        """The set's version, None for a delivery or file that declares none."""
        version = self.schema_set.version
        return None if version == UNVERSIONED else version

    @property
    def title(self) -> str:
        """How the report's title names this side: its version, else the path as given."""
        return self.argument if self.label in ("OLD", "NEW") else self.label

    @property
    def description(self) -> str:
        """`version 13.34, 12 schemas`, or `1 schema` for a set without a version."""
        count = len(self.schema_set.schemas)
        schemas = f"{count} schema{'' if count == 1 else 's'}"
        return f"version {self.version}, {schemas}" if self.version else schemas

    @property
    def folder(self) -> Path:
        """What the set's file names are shown relative to."""
        source = self.schema_set.source
        return source if source.is_dir() else source.parent

    def to_dict(self) -> dict[str, Any]:
        return {
            "argument": self.argument,
            "label": self.label,
            "version": self.version,
            "path": str(self.schema_set.source),
            "schemas": list(self.schema_set.schemas),
        }


def _schema_set(argument: str, catalog: Path) -> SchemaSet:
    path = Path(argument)
    if path.exists():
        loaded = load_catalog(path)
        if len(loaded.versions) > 1:
            known = ", ".join(loaded.versions)
            if loaded.side_by_side:
                *_, before, last = loaded.versions
                raise SchemaNotFound(
                    f"{argument} holds several versions side by side ({known}): give two of "
                    f"them with the folder as --xsd (diff {before} {last} --xsd {argument})"
                )
            raise SchemaNotFound(
                f"{argument} holds several versions ({known}): name one of its version "
                "directories, or give the version alone"
            )
        return loaded.latest
    if path.suffix.lower() in (".xsd", ".wsdl") or "/" in argument:
        raise CatalogError("no such file or directory", argument)
    return load_catalog(catalog).version(argument)


def _version_in(name: str) -> str | None:
    found = _VERSION_IN_NAME.search(name)
    return found[0].replace("_", ".") if found else None


def _label(schema_set: SchemaSet) -> str | None:
    """The set's version, else one that the file name or its two nearest folders carry
    (`NUU_Demande_13.34.xsd`, `livraison-13.34/`, `13.34/wsdl/`), else the one that all its
    entry files' names carry."""
    if schema_set.version != UNVERSIONED:
        return schema_set.version
    source = schema_set.source
    folder = source.parent if source.is_file() else source
    names = [source.stem] if source.is_file() else []
    for name in [*names, folder.name, folder.parent.name]:
        if found := _version_in(name):
            return found
    versions = {_version_in(schema.entry.stem) for schema in schema_set.schemas.values()}
    return versions.pop() if len(versions) == 1 else None


def open_sides(old: str, new: str, catalog: Path) -> tuple[Side, Side]:
    """Load OLD and NEW; `catalog` serves arguments that are version labels. Raises
    `CatalogError` or `SchemaNotFound` with a message for people."""
    old_set, new_set = _schema_set(old, catalog), _schema_set(new, catalog)
    old_label, new_label = _label(old_set), _label(new_set)
    if old_label is None or new_label is None or old_label == new_label:
        old_label, new_label = "OLD", "NEW"
    return Side(old, old_label, old_set), Side(new, new_label, new_set)

"""The versions of a delivery folder: entry files that are versions of the same interface,
side by side, as the GIP SNE delivers them (`InterfaceNuu_v0200.xsd`, `InterfaceNuu_v0201.xsd`).

An entry's version is the one its file name carries (`_v0201`), else the one value its schema
lists for `versionInterface`; its name is the file name without that version
(`InterfaceNuu`). Each version of the catalog holds, for each name, the newest entry up to that
version, and every entry without a version. When no entry has a version, the folder is one
version, as before: its label is the folder's name when that is a version, else `custom`, and
its schemas are named after their files.

Two entries of one version with the same identity (the same root and business elements, see
`gateway.identity`) and the same `versionInterface` would judge the same documents: the newest
file (by modification time) judges them, the other stays available by name, and a warning says
so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from gateway.identity import version_in_file_name
from gateway.names import display_name
from gateway.schema import Schema, compile_schema

_VERSION = re.compile(r"\d+(\.\d+)+")


def version_key(label: str) -> tuple[int, tuple[int, ...], str]:
    """Orders version labels: numbered ones by their numbers, after any other."""
    if _VERSION.fullmatch(label):
        return (1, tuple(int(part) for part in label.split(".")), label)
    return (0, (), label)


@dataclass(frozen=True, slots=True)
class Layout:
    """The schemas of each version by name, oldest version first; the schemas of each version
    kept out of selection; what the user should know."""

    versions: dict[str, dict[str, Schema]]
    shadowed: dict[str, frozenset[Schema]]
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    schema: Schema
    name: str
    version: str | None


def _entry(path: Path, label: str) -> _Entry:
    named = version_in_file_name(path.stem)
    file_version, name = named if named else (None, path.stem)
    schema = compile_schema(path.stem, label, path, file_version=file_version)
    listed = schema.identity.versions
    version = file_version or (next(iter(listed)) if listed and len(listed) == 1 else None)
    return _Entry(schema, name if file_version else path.stem, version)


def _names(entries: list[_Entry]) -> list[str]:
    """Each entry's name: without its version, unless that makes two entries of one version
    (or a versioned and an unversioned one) share it; then the file's."""
    taken: dict[str, set[str | None]] = {}
    clashes: set[str] = set()
    for entry in entries:
        versions = taken.setdefault(entry.name, set())
        if entry.version in versions or (versions and (entry.version is None or None in versions)):
            clashes.add(entry.name)
        versions.add(entry.version)
    return [e.schema.name if e.name in clashes else e.name for e in entries]


def _identity_key(schema: Schema) -> frozenset[tuple[str, str | None]]:
    return frozenset(
        (root, business)
        for root, names in schema.identity.business.items()
        for business in (names or {None})
    )


def _describe(schema: Schema) -> str:
    keys = sorted(_identity_key(schema), key=lambda key: (key[0], key[1] or ""))
    root, business = keys[0]
    shown = display_name(root) + (f"/{business}" if business else "")
    return shown + (f" and {len(keys) - 1} other element(s)" if len(keys) > 1 else "")


def _same_documents(one: Schema, other: Schema) -> bool:
    if _identity_key(one) != _identity_key(other):
        return False
    if one.accepts is None or other.accepts is None:
        return one.accepts is None and other.accepts is None
    return bool(one.accepts & other.accepts)


def _shadowed(
    schemas: Sequence[Schema], version: str
) -> tuple[frozenset[Schema], dict[tuple[str, ...], str]]:
    """The schemas a newer file of the same identity and version replaces in selection, and
    the warnings saying so, by the files concerned."""
    shadowed: set[Schema] = set()
    warnings: dict[tuple[str, ...], str] = {}
    for schema in schemas:
        rivals = [s for s in schemas if s is not schema and _same_documents(s, schema)]
        if not rivals or schema in shadowed:
            continue
        group = sorted([schema, *rivals], key=lambda s: (s.entry.stat().st_mtime, s.entry.name))
        newest, older = group[-1], group[:-1]
        shadowed.update(older)
        files = ", ".join(s.entry.name for s in older)
        names = " or ".join(f"'{s.name}'" for s in older)
        warnings[tuple(s.entry.name for s in group)] = (
            f"{files} and {newest.entry.name} are both for {_describe(newest)} in version "
            f"{version}: documents are judged by {newest.entry.name}, the newest file. To "
            f"judge them by the other, name it ({names}: validate --schema, or a route's "
            "schema), or take it out of the folder."
        )
    return frozenset(shadowed), warnings


def versions_side_by_side(entries: Sequence[Path], label: str) -> Layout:
    """Compile the entry files `entries` and lay them out in versions; `label` is the version
    of a folder whose entries carry none."""
    compiled = [_entry(path, label) for path in entries]
    names = _names(compiled)
    labels = sorted({e.version for e in compiled if e.version}, key=version_key)
    if not labels:
        alone = {e.schema.name: e.schema for e in compiled}
        shadowed, said = _shadowed(list(alone.values()), label)
        return Layout({label: alone}, {label: shadowed}, tuple(said.values()))
    versioned = {
        id(e): replace(e.schema, name=name, version=e.version)
        for e, name in zip(compiled, names, strict=True)
        if e.version
    }
    versions: dict[str, dict[str, Schema]] = {}
    shadowed_by_version: dict[str, frozenset[Schema]] = {}
    warnings: dict[tuple[str, ...], str] = {}
    for version in labels:
        newest: dict[str, _Entry] = {}
        for entry, name in zip(compiled, names, strict=True):
            if entry.version is None or version_key(entry.version) > version_key(version):
                continue
            held = newest.get(name)
            if held is None or version_key(held.version or "") < version_key(entry.version):
                newest[name] = entry
        schemas: dict[str, Schema] = {}
        for entry, name in zip(compiled, names, strict=True):
            if entry.version is None:
                schemas[name] = replace(entry.schema, name=name, version=version)
            elif newest.get(name) is entry:
                schemas[name] = versioned[id(entry)]
        versions[version] = schemas
        shadowed_by_version[version], found = _shadowed(list(schemas.values()), version)
        warnings = {**found, **warnings}  # said once, for the oldest version concerned
    return Layout(versions, shadowed_by_version, tuple(warnings.values()))

"""The catalog: every schema of every interface-contract version, compiled once per load.

A catalog comes from one of:

- a catalog directory whose sub-directories are versions (`xsd/13.33/`, `xsd/13.34/`), each
  with a `manifest.toml` naming its schemas and their entry files;
- one version directory with its `manifest.toml`;
- a directory of `.xsd`/`.wsdl` files without a manifest, as the SNE delivers them: every file
  that no other file includes or imports is an entry, named after its file;
- a single entry `.xsd` or `.wsdl` file, its includes and imports resolved relative to it.

In a delivery, entry files that carry a version (`InterfaceNuu_v0200.xsd`,
`InterfaceNuu_v0201.xsd`, or a schema listing one `versionInterface` value) are versions side
by side of the same interface: each version of the catalog holds the newest file of each name
up to it, plus the files without a version. Versions side by side are interface versions the
SNE accepts together, so unless one is chosen a document is judged by the one it declares
(`gateway.select`); versions in manifest sub-directories are successive contract deliveries,
of which one is in service.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from gateway.delivery_versions import version_key, versions_side_by_side
from gateway.rules import RuleSet, shipped_rules
from gateway.schema import CatalogError, Schema, compile_schema, read_sources

#: What an installed wheel carries inside the package (hatch_build.py); a clone, an editable
#: install and the Docker image (installed in place at /app) have none of it.
PACKAGED = Path(__file__).resolve().parent / "shipped"
#: The XSD set shipped with the project: the wheel's, else the repository's `xsd/`. Either way
#: the shipped gateway.toml sits beside it (`SHIPPED_CONFIG` in gateway/config.py).
SHIPPED_XSD = PACKAGED / "xsd" if (PACKAGED / "xsd").is_dir() else PACKAGED.parent.parent / "xsd"
MANIFEST = "manifest.toml"
SCHEMA_SUFFIXES = (".xsd", ".wsdl")
_VERSION = re.compile(r"\d+(\.\d+)+")
_MANIFEST_KEYS = {"version", "schemas"}
_SCHEMA_KEYS = {"entry", "title"}


class SchemaNotFound(KeyError):
    """A schema or version name that the catalog does not have."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class SchemaSet:
    """The schemas of one interface-contract version, in manifest order.

    `siblings` are the schemas of the other versions side by side in the same delivery, which
    a document declaring their version is judged by (none when a version was chosen);
    `shadowed` the schemas kept out of selection because a newer file has the same identity
    and version (still there by name); `unresolved` the names routes give that this set
    lacks: documents asking for one of them are selected by identity among all. `rules` are
    the business rules that documents judged by them must also follow (`gateway.rules`): the
    shipped ones unless the set was loaded with others (`gateway.reload`, `validate
    --referential`)."""

    version: str
    source: Path
    schemas: dict[str, Schema]
    siblings: tuple[Schema, ...] = ()
    shadowed: frozenset[Schema] = frozenset()
    unresolved: frozenset[str] = frozenset()
    rules: RuleSet = field(default_factory=shipped_rules, compare=False, repr=False)

    @cached_property
    def by_root(self) -> dict[str, tuple[Schema, ...]]:
        """The schemas that may judge a document, by its root's Clark name: this version's,
        then its siblings."""
        index: dict[str, list[Schema]] = {}
        for schema in (*self.schemas.values(), *self.siblings):
            if schema not in self.shadowed:
                for root in schema.roots:
                    index.setdefault(root, []).append(schema)
        return {root: tuple(schemas) for root, schemas in index.items()}

    @cached_property
    def sibling_names(self) -> frozenset[str]:
        """The names that stand for schemas of several versions here."""
        return frozenset(schema.name for schema in self.siblings)

    def named(self, names: tuple[str, ...]) -> SchemaSet:
        """The schemas named `names` (with their siblings of the same names), to select among;
        raise `SchemaNotFound` for a name this version lacks."""
        return replace(
            self,
            schemas={name: self.schema(name) for name in names},
            siblings=tuple(s for s in self.siblings if s.name in names),
        )

    def schema(self, name: str) -> Schema:
        try:
            return self.schemas[name]
        except KeyError:
            known = ", ".join(self.schemas) or "none"
            raise SchemaNotFound(
                f"no schema named '{name}' in version {self.version} (known: {known})"
            ) from None

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(
            dict.fromkeys(file for schema in self.schemas.values() for file in schema.files)
        )


@dataclass(frozen=True)
class Catalog:
    """Every version loaded from `source`, oldest first. `side_by_side` when the versions are
    files of one delivery folder; `warnings` says what the load had to decide (two files
    for the same documents)."""

    source: Path
    versions: dict[str, SchemaSet]
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    side_by_side: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def latest(self) -> SchemaSet:
        return next(reversed(self.versions.values()))

    @cached_property
    def _unpinned(self) -> SchemaSet:
        latest = self.latest
        if not self.side_by_side:
            return latest
        # A file without a version is in every version: the latest's copy stands for it.
        in_latest = {schema.entry for schema in latest.schemas.values()}
        siblings = {
            schema: None
            for schema_set in reversed(self.versions.values())
            for schema in schema_set.schemas.values()
            if schema.entry not in in_latest
        }
        shadowed = frozenset().union(*(s.shadowed for s in self.versions.values()))
        return replace(latest, siblings=tuple(siblings), shadowed=shadowed)

    def version(self, label: str | None = None) -> SchemaSet:
        """The version named `label`; when `label` is None, the newest, along with the other
        versions side by side in a delivery (a document is then judged by the version it
        declares)."""
        if label is None:
            return self._unpinned
        try:
            return self.versions[label]
        except KeyError:
            known = ", ".join(self.versions)
            raise SchemaNotFound(
                f"no version '{label}' in the catalog {self.source} (known: {known})"
            ) from None

    def schema(self, name: str, version: str | None = None) -> Schema:
        return self.version(version).schema(name)

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(dict.fromkeys(f for schemas in self.versions.values() for f in schemas.files))


def _read_manifest(path: Path) -> dict[str, object]:
    try:
        manifest = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"line (\d+)", str(error))
        raise CatalogError(f"invalid TOML: {error}", path, int(line[1]) if line else None) from None
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogError(f"cannot read the manifest: {error}", path) from None
    if unknown := set(manifest) - _MANIFEST_KEYS:
        raise CatalogError(f"unknown key(s) {sorted(unknown)}; allowed: version, schemas", path)
    return manifest


def _load_manifest_version(directory: Path) -> SchemaSet:
    manifest_path = directory / MANIFEST
    manifest = _read_manifest(manifest_path)
    version = manifest.get("version", directory.name)
    if not isinstance(version, str) or not version:
        raise CatalogError("'version' must be a non-empty string such as \"13.34\"", manifest_path)
    declared = manifest.get("schemas")
    if not isinstance(declared, dict) or not declared:
        raise CatalogError(
            "the manifest names no schema: add a [schemas.NAME] table with an 'entry' key",
            manifest_path,
        )
    schemas: dict[str, Schema] = {}
    for name, settings in declared.items():
        if not isinstance(settings, dict) or not isinstance(settings.get("entry"), str):
            raise CatalogError(
                f"[schemas.{name}] needs an 'entry' key: the path of its .xsd or .wsdl file",
                manifest_path,
            )
        if unknown := set(settings) - _SCHEMA_KEYS:
            raise CatalogError(
                f"[schemas.{name}]: unknown key(s) {sorted(unknown)}; allowed: entry, title",
                manifest_path,
            )
        entry = directory / settings["entry"]
        if not entry.is_file():
            raise CatalogError(
                f"[schemas.{name}] entry '{settings['entry']}' does not exist in {directory}",
                manifest_path,
            )
        schemas[name] = compile_schema(name, version, entry, str(settings.get("title", "")))
    return SchemaSet(version, directory, schemas)


def _unmanifested_label(path: Path) -> str:
    directory = path if path.is_dir() else path.parent
    return directory.name if _VERSION.fullmatch(directory.name) else "custom"


def _load_delivery(directory: Path) -> Catalog:
    files = sorted(
        p for p in directory.rglob("*") if p.suffix.lower() in SCHEMA_SUFFIXES and p.is_file()
    )
    if not files:
        raise CatalogError(
            f"no {MANIFEST}, no version sub-directory and no .xsd/.wsdl file here", directory
        )
    referenced = {
        file for path in files for file in read_sources(path).files if file != path.resolve()
    }
    entries = [path for path in files if path.resolve() not in referenced]
    stems: set[str] = set()
    for entry in entries:
        if entry.stem in stems:
            raise CatalogError(
                f"two entry files are named '{entry.stem}': rename one or add a {MANIFEST}", entry
            )
        stems.add(entry.stem)
    layout = versions_side_by_side(entries, _unmanifested_label(directory))
    versions = {
        label: SchemaSet(
            label, directory, schemas, shadowed=layout.shadowed.get(label, frozenset())
        )
        for label, schemas in layout.versions.items()
    }
    return Catalog(directory, versions, side_by_side=len(versions) > 1, warnings=layout.warnings)


def load_catalog(source: Path | str) -> Catalog:
    """Load and compile every schema under `source`; raise `CatalogError` if any is broken."""
    source = Path(source)
    if not source.exists():
        raise CatalogError("no such file or directory", source)
    if source.is_file():
        if source.suffix.lower() not in SCHEMA_SUFFIXES:
            raise CatalogError(
                "expected a directory, or an entry file ending in .xsd or .wsdl", source
            )
        layout = versions_side_by_side([source], _unmanifested_label(source))
        [(version, schemas)] = layout.versions.items()
        return Catalog(source, {version: SchemaSet(version, source, schemas)})
    if (source / MANIFEST).is_file():
        schema_set = _load_manifest_version(source)
        return Catalog(source, {schema_set.version: schema_set})
    version_directories = [d for d in source.iterdir() if (d / MANIFEST).is_file()]
    if not version_directories:
        return _load_delivery(source)
    sets = [_load_manifest_version(directory) for directory in version_directories]
    sets.sort(key=lambda schema_set: version_key(schema_set.version))
    versions: dict[str, SchemaSet] = {}
    for schema_set in sets:
        if schema_set.version in versions:
            raise CatalogError(
                f"version {schema_set.version} is declared twice", schema_set.source / MANIFEST
            )
        versions[schema_set.version] = schema_set
    return Catalog(source, versions)

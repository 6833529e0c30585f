"""The catalog: every schema of every interface-contract version, compiled once per load.

A catalog comes from one of:

- a catalog directory whose sub-directories are versions (`xsd/13.33/`, `xsd/13.34/`), each
  with a `manifest.toml` naming its schemas and their entry files;
- one version directory with its `manifest.toml`;
- a directory of `.xsd`/`.wsdl` files without a manifest, as the SNE delivers them: every file
  that no other file includes or imports is an entry, named after its file;
- a single entry `.xsd` or `.wsdl` file, its includes and imports resolved relative to it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

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


def _version_key(label: str) -> tuple[int, tuple[int, ...], str]:
    if _VERSION.fullmatch(label):
        return (1, tuple(int(part) for part in label.split(".")), label)
    return (0, (), label)


class SchemaNotFound(KeyError):
    """A schema or version name that the catalog does not have."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class SchemaSet:
    """The schemas of one interface-contract version, in manifest order, and the business
    rules that documents judged by them must also follow (`gateway.rules`): the shipped ones
    unless the set was loaded with others (`gateway.reload`, `validate --referential`)."""

    version: str
    source: Path
    schemas: dict[str, Schema]
    rules: RuleSet = field(default_factory=shipped_rules, compare=False, repr=False)

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
    """Every version loaded from `source`, oldest first."""

    source: Path
    versions: dict[str, SchemaSet]
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def latest(self) -> SchemaSet:
        return next(reversed(self.versions.values()))

    def version(self, label: str | None = None) -> SchemaSet:
        """The version named `label`, or the newest when `label` is None."""
        if label is None:
            return self.latest
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


def _load_delivery(directory: Path) -> SchemaSet:
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
    version = _unmanifested_label(directory)
    schemas: dict[str, Schema] = {}
    for entry in entries:
        if entry.stem in schemas:
            raise CatalogError(
                f"two entry files are named '{entry.stem}': rename one or add a {MANIFEST}", entry
            )
        schemas[entry.stem] = compile_schema(entry.stem, version, entry)
    return SchemaSet(version, directory, schemas)


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
        version = _unmanifested_label(source)
        schema = compile_schema(source.stem, version, source)
        return Catalog(source, {version: SchemaSet(version, source, {source.stem: schema})})
    if (source / MANIFEST).is_file():
        schema_set = _load_manifest_version(source)
        return Catalog(source, {schema_set.version: schema_set})
    version_directories = [d for d in source.iterdir() if (d / MANIFEST).is_file()]
    if not version_directories:
        schema_set = _load_delivery(source)
        return Catalog(source, {schema_set.version: schema_set})
    sets = [_load_manifest_version(directory) for directory in version_directories]
    sets.sort(key=lambda schema_set: _version_key(schema_set.version))
    versions: dict[str, SchemaSet] = {}
    for schema_set in sets:
        if schema_set.version in versions:
            raise CatalogError(
                f"version {schema_set.version} is declared twice", schema_set.source / MANIFEST
            )
        versions[schema_set.version] = schema_set
    return Catalog(source, versions)

"""The XSD set in service, and its hot reload.

The proxy validates against `SchemaHolder.current`: the catalog version chosen in the
settings, plus any schema file a route names directly, with the routes fitted to that set
(`gateway.routing.delivery`) and the business rules in service with their country referential
(`SchemaSet.rules`). When files change under the watched directories (or the referential file
changes), a new set is compiled in a worker thread beside the old one and swapped in (one
reference assignment), routes and all, only if it compiles and its referential reads as a COG
export.
Exchanges in flight keep the set they started with. A broken set leaves the last good one in
service and is reported in the logs and by `/_gateway/health` until a fixed file recovers it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from watchfiles import Change, awatch

from gateway.catalog import SCHEMA_SUFFIXES, Catalog, SchemaNotFound, SchemaSet, load_catalog
from gateway.config import Settings
from gateway.routing.delivery import WsdlService, fit_routes
from gateway.routing.route import DIRECTIONS, Route
from gateway.routing.router import first_route
from gateway.rules import ReferentialError, RuleSet, actions, load_rules
from gateway.schema import CatalogError, compile_schema

WATCHED_SUFFIXES = (*SCHEMA_SUFFIXES, ".toml")
WATCH_RETRY_SECONDS = 1.0
#: A watch that keeps failing (a watch limit reached) is retried less and less often.
WATCH_RETRY_MAX_SECONDS = 60.0
#: Files that keep changing (a long copy) are reloaded at least this often, in milliseconds.
BATCH_MAX_MS = 1600
log = structlog.get_logger("gateway.reload")


@dataclass(frozen=True, slots=True)
class LoadedSchemas:
    """One compiled set: the catalog, the version the gateway validates against (with the
    schema files routes name directly, keyed by their path), the routes in service for it
    (`gateway.routing.delivery`: the configured ones fitted to the set, then its WSDLs'), and
    what the load had to decide, to say at start."""

    catalog: Catalog
    schema_set: SchemaSet
    loaded_at: datetime
    routes: tuple[Route, ...] = ()
    services: tuple[WsdlService, ...] = ()
    warnings: tuple[str, ...] = ()

    def route_for(self, method: str, path: str, soap_action: str | None) -> Route | None:
        """The first route in service matching the exchange."""
        return first_route(self.routes, method, path, soap_action)


@dataclass(frozen=True, slots=True)
class ReloadFailure:
    error: CatalogError
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.error.file,
            "line": self.error.line,
            "reason": self.error.reason,
            "at": self.at.isoformat(),
        }


def _route_schema_files(settings: Settings) -> list[str]:
    names = (
        name
        for route in settings.routes
        for direction in DIRECTIONS
        for name in route.rule(direction).schema_names
    )
    return sorted({name for name in names if name.lower().endswith(SCHEMA_SUFFIXES)})


def load_rules_in_service(settings: Settings) -> RuleSet:
    """The rules the settings leave on, with their referential. Raise `CatalogError` naming
    the referential's file and line when it is not a COG export."""
    off = [name for name, action in actions(settings.rules).items() if action == "off"]
    try:
        return load_rules(settings.referential, off)
    except ReferentialError as error:
        raise CatalogError(error.reason, error.file, error.line) from None


def load_schemas(settings: Settings) -> LoadedSchemas:
    """Compile the catalog and the routes' schema files, fit the routes to them, and load the
    rules' referential. Raise `CatalogError` (a referential that is not a COG export is one); a
    schema a route names that the set lacks is a warning (its documents are selected by
    identity), not an error: a delivery as received must be enough."""
    rules = load_rules_in_service(settings)
    catalog = load_catalog(settings.xsd)
    try:
        version = catalog.version(settings.version)
    except SchemaNotFound as missing:
        raise CatalogError(str(missing), settings.xsd) from None
    schemas = dict(version.schemas)
    for path in _route_schema_files(settings):
        schemas[path] = compile_schema(Path(path).stem, version.version, Path(path))
    with_files = replace(version, schemas=schemas, rules=rules)
    fitted = fit_routes(settings.routes, with_files)
    schema_set = replace(with_files, unresolved=frozenset(fitted.unresolved))
    return LoadedSchemas(
        catalog,
        schema_set,
        datetime.now(UTC),
        fitted.routes,
        fitted.services,
        (*catalog.warnings, *fitted.warnings),
    )


class SchemaHolder:
    """The set in service; `current` is replaced whole, never mutated. `logger` says its
    reloads (the next XSD set's holder binds `xsd_set="shadow"` to its events)."""

    def __init__(self, settings: Settings, logger: Any = log) -> None:
        self.settings = settings
        self.log = logger
        self.current = load_schemas(settings)
        self.failure: ReloadFailure | None = None
        self.reloads = 0
        #: Consecutive failures of the file watch, which space its retries.
        self.watch_failures = 0

    def _roots(self) -> list[Path]:
        """The directories whose schema files, or referential, are in service."""
        xsd = self.settings.xsd.resolve()
        roots = {xsd if xsd.is_dir() else xsd.parent}
        roots.update(Path(p).resolve().parent for p in _route_schema_files(self.settings))
        if self.settings.referential is not None:
            roots.add(self.settings.referential.resolve().parent)
        return sorted(roots)

    async def reload(self) -> bool:
        """Compile the files as they are now; swap them in if they compile."""
        try:
            loaded = await asyncio.to_thread(load_schemas, self.settings)
        except CatalogError as error:
            self.failure = ReloadFailure(error, datetime.now(UTC))
            self.log.error(
                "xsd.reload.failed",
                file=error.file,
                line=error.line,
                reason=error.reason,
                kept_version=self.current.schema_set.version,
                kept_since=self.current.loaded_at.isoformat(),
            )
            return False
        said = set(self.current.warnings)
        self.current = loaded
        self.failure = None
        self.reloads += 1
        self.log.info(
            "xsd.reload.done",
            version=loaded.schema_set.version,
            schemas=len(loaded.schema_set.schemas),
            referential=str(self.settings.referential or "shipped"),
            reloads=self.reloads,
        )
        for warning in loaded.warnings:
            if warning not in said:
                self.log.warning("xsd.warning", reason=warning)
        return True

    async def watch(self, debounce_ms: int, stop: asyncio.Event | None = None) -> None:
        """Reload on every debounced batch of changes to schema files, until `stop` is set. A
        failing watch (a directory gone, a watch limit reached, a file name that is not UTF-8)
        is logged, then the watch re-armed, less often while it keeps failing, and the files
        reloaded (a change it could not report, or made before it is back, must not go
        unseen): the set in service stays, and so does the gateway."""
        while stop is None or not stop.is_set():
            try:
                await self._watch_once(debounce_ms, stop)
            except Exception as error:
                self.watch_failures += 1
                delay = min(
                    WATCH_RETRY_SECONDS * 2 ** (self.watch_failures - 1), WATCH_RETRY_MAX_SECONDS
                )
                # watchfiles wraps its errors in a group: the first one says what happened.
                cause = error.exceptions[0] if isinstance(error, ExceptionGroup) else error
                self.log.error("xsd.watch.failed", reason=str(cause), retry_in_s=delay)
                await asyncio.sleep(delay)
                # Just before the watch is re-armed: what changed meanwhile is in.
                await self.reload()

    async def _watch_once(self, debounce_ms: int, stop: asyncio.Event | None) -> None:
        roots = self._roots()
        referential = self.settings.referential
        referential_path = str(referential.resolve()) if referential is not None else None

        def relevant(change: Change, path: str) -> bool:
            if path == referential_path:
                return True
            if path in map(str, roots):
                return True  # a directory replaced as a whole (a new delivery moved in place)
            under = any(Path(path).is_relative_to(root) for root in roots)
            return under and path.lower().endswith(WATCHED_SUFFIXES)

        # The parents are watched, not the directories themselves: a watch on a directory
        # dies with it when a new delivery replaces it (`rm -r xsd && mv xsd.new xsd`).
        async for changes in awatch(
            *sorted({root.parent for root in roots}),
            watch_filter=relevant,
            # watchfiles hands a batch over once a step passes with no new file changed (its
            # `debounce` only caps how long a batch may keep growing).
            step=max(debounce_ms, 1),
            debounce=max(debounce_ms, BATCH_MAX_MS),
            stop_event=stop,
        ):
            self.watch_failures = 0
            self.log.info("xsd.change", files=sorted({Path(path).name for _, path in changes}))
            await self.reload()

"""The next XSD set: `shadow_xsd` (and `shadow_version`), loaded like the set in service and
hot-reloaded beside it by a holder of its own (`gateway.reload.SchemaHolder`): compiled
atomically, the last good set kept when a reload fails, its events marked `xsd_set="shadow"`.
The routes and business rules are the configuration's, as for the set in service."""

from __future__ import annotations

from dataclasses import replace

import structlog

from gateway.config import Settings
from gateway.reload import SchemaHolder


def next_schemas(settings: Settings) -> SchemaHolder | None:
    """The next set, compiled now (raise `CatalogError`); None when none is configured."""
    if settings.shadow_xsd is None:
        return None
    return SchemaHolder(
        replace(settings, xsd=settings.shadow_xsd, version=settings.shadow_version),
        structlog.get_logger("gateway.reload").bind(xsd_set="shadow"),
    )

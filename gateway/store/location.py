"""Where the store is: `sqlite:///relative/path.db`, `sqlite:////absolute/path.db` (as
SQLAlchemy and most tools write SQLite URLs), `postgresql://user:password@host:port/database`,
or `off`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

OFF = "off"
#: Under the working directory of `serve` (and of `report`, which reads it by default).
DEFAULT_STORE = "sqlite:///sne-gateway-store.db"
SQLITE_PREFIX = "sqlite:///"
POSTGRESQL_SCHEMES = ("postgresql", "postgres")


class StoreLocationError(ValueError):
    """A `store` value that names no store."""


@dataclass(frozen=True, slots=True)
class StoreLocation:
    kind: Literal["sqlite", "postgresql"]
    #: The SQLite file, or the PostgreSQL connection URL (password included).
    target: str

    @property
    def path(self) -> Path:
        return Path(self.target)

    def shown(self) -> str:
        """The location for logs and messages: a PostgreSQL password is masked."""
        if self.kind == "sqlite":
            return os.path.abspath(self.target)
        return _masked(self.target)


def parse_store(value: str, base: Path | None = None) -> StoreLocation | None:
    """The store `value` names (None for `off`); a relative SQLite path starts from `base`
    (the configuration file's directory), else from the working directory."""
    text = value.strip()
    if text.lower() == OFF:
        return None
    if text.startswith(SQLITE_PREFIX):
        path = Path(text[len(SQLITE_PREFIX) :])
        if not path.name:
            raise StoreLocationError(
                f"{value!r} names no file: write sqlite:///relative/path.db or "
                "sqlite:////absolute/path.db"
            )
        if not path.is_absolute() and base is not None:
            path = base / path
        return StoreLocation("sqlite", str(path))
    scheme = text.partition("://")[0].lower()
    if scheme in POSTGRESQL_SCHEMES:
        parts = urlsplit(text)
        if not parts.hostname and "host=" not in parts.query:
            raise StoreLocationError(
                f"{StoreLocation('postgresql', text).shown()!r} names no host: write "
                "postgresql://user:password@host:5432/database"
            )
        return StoreLocation("postgresql", text)
    raise StoreLocationError(
        f"must be sqlite:///PATH, postgresql://USER:PASSWORD@HOST:PORT/DATABASE or off, "
        f"not {_masked(text)!r}"
    )


def _masked(text: str) -> str:
    """`text` with what could be a password (between `://user:` and `@`) masked."""
    return re.sub(r"(://[^/@:]*:)[^/]*@", r"\1***@", text)

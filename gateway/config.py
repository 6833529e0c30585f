"""The gateway's settings, loaded from `gateway.toml`, `SNE_GATEWAY_*` variables and flags.

Precedence, highest first: command-line flags, environment variables, the file, defaults (so a
container's variables change a shipped file's values). Each source is read through the
declared schema (`gateway.config_schema`); a bad value fails at start with where it was set
(the file and the key, the variable, or the flag) and why. Every key is documented with its
default in `docs/configuration.md` (a test checks the document against the schema).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import msgspec

from gateway.allocator import AUTO
from gateway.catalog import SCHEMA_SUFFIXES, SHIPPED_XSD
from gateway.config_schema import (
    MEANINGS,
    ConfigFile,
    DirectionTable,
    GatewayTable,
    PolicyTable,
    RouteTable,
    RulesTable,
    TlsTable,
    given,
    problem,
    spelled_booleans,
)
from gateway.limits import LIBXML2_MAX_DEPTH, Limits
from gateway.routing.route import NO_RULE, Direction, DirectionRule, Policy, Route, policy_for
from gateway.routing.router import first_route
from gateway.rules import RULES, logged_codes
from gateway.store.location import DEFAULT_STORE, SQLITE_PREFIX, parse_store

ENVIRONMENT_PREFIX = "SNE_GATEWAY_"
T = TypeVar("T", bound=msgspec.Struct)
#: The configuration shipped with the project: routes for every SNE endpoint.
SHIPPED_CONFIG = SHIPPED_XSD.parent / "gateway.toml"

DEFAULT_POLICIES: dict[str, dict[Direction, Policy]] = {
    "ecole": {"request": "block", "response": "log"},
    "recette": {"request": "block", "response": "log"},
    "prod": {"request": "log", "response": "log"},
}


class ConfigError(Exception):
    """A configuration that cannot be used: the file, the key and why."""

    def __init__(self, reason: str, key: str | None = None, file: Path | None = None) -> None:
        self.reason, self.key, self.file = reason, key, file
        where = ": ".join(part for part in (str(file) if file else None, key) if part)
        super().__init__(f"{where}: {reason}" if where else reason)


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """Upstream TLS: a CA bundle to trust, and a client certificate for mutual TLS."""

    ca_bundle: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    verify: bool = True


@dataclass(frozen=True)
class Settings:
    env: str = "recette"
    upstream: str | None = None
    xsd: Path = SHIPPED_XSD
    version: str | None = None
    #: A COG country export to use instead of the shipped one (`gateway.rules.referential`).
    referential: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    allocator: str = AUTO
    fail_closed: bool = True
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    client_timeout: float = 60.0
    max_body_bytes: int = 32 * 1024 * 1024
    max_buffered_bytes: int = 256 * 1024 * 1024
    max_document_bytes: int = 32 * 1024 * 1024
    max_depth: int = LIBXML2_MAX_DEPTH
    max_violations: int = 100
    capture_values: bool = False
    #: Set, every `/_gateway/` endpoint but health and ready needs it as a Bearer token.
    admin_token: str | None = field(default=None, repr=False)
    #: The request header naming the client (a TLS front's client certificate subject).
    client_header: str | None = None
    #: The next XSD set, validated against off the client's path (`gateway.shadow`).
    shadow_xsd: Path | None = None
    shadow_version: str | None = None
    #: When an answer says how the next XSD set judges its exchange (`X-Conformance-Next`).
    conformance_next: str = "off"
    shadow_queue_mb: int = 64
    #: GDM usage advisories (`gateway.advice`), on the calls to this path.
    gdm_advice: bool = True
    gdm_path: str = "/v1.0/gdm/mouvements"
    log_format: str = "auto"
    log_level: str = "info"
    reload: bool = True
    reload_debounce_ms: int = 400
    store: str = DEFAULT_STORE
    store_retention_days: int = 90
    store_max_mb: int = 1024
    tls: TlsSettings = TlsSettings()
    policies: dict[str, dict[Direction, Policy]] = field(
        default_factory=lambda: {env: dict(p) for env, p in DEFAULT_POLICIES.items()}
    )
    routes: tuple[Route, ...] = ()
    #: The [rules] table: an action per business rule, where it is not the rule's default.
    rules: dict[str, str] = field(default_factory=dict)
    source: Path | None = None
    #: The [gateway] keys given by the file, a variable or the overrides (flags, and what
    #: `serve` sets itself), rather than left to their defaults.
    chosen: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def limits(self) -> Limits:
        return Limits(self.max_document_bytes, self.max_depth, self.max_violations)

    def policy(self, direction: Direction, route: Route | None) -> Policy:
        """The policy for `direction` in this environment, a route's override first."""
        return policy_for(self.policies[self.env], direction, route)

    @cached_property
    def rule_actions(self) -> Mapping[str, Policy]:
        """The action of the violations that do not follow the policy, by code (`decide`)."""
        return logged_codes(self.rules)

    def route_for(self, method: str, path: str, soap_action: str | None) -> Route | None:
        """The first configured route matching the exchange, in file order (the proxy looks
        in the routes in service, `gateway.reload.LoadedSchemas.route_for`)."""
        return first_route(self.routes, method, path, soap_action)


#: Where a value was set: by a flag, a variable, or the file.
Source = Literal["flag", "variable", "file"]


def _key_namer(
    source: Source, values: Mapping[str, Any], table: str = ""
) -> Callable[[list[Any]], str]:
    """How a source names the key at some steps in its `values`: `--port`, `$SNE_GATEWAY_PORT`,
    `$SNE_GATEWAY_TLS_VERIFY`, `gateway.port`, `routes[0] (getNumUnique).path`."""

    def flag(steps: list[Any]) -> str:
        return "--" + ".".join(map(str, steps)).replace("_", "-")

    def variable(steps: list[Any]) -> str:
        return f"${ENVIRONMENT_PREFIX}{table}{'_'.join(map(str, steps)).upper()}"

    def in_file(steps: list[Any]) -> str:
        key = ""
        for index, step in enumerate(steps):
            if isinstance(step, int):
                key += f"[{step}]"
                if steps[:index] == ["routes"]:
                    key += _route_name(values, step)
            else:
                key += f".{step}" if key else step
        return key

    return {"flag": flag, "variable": variable, "file": in_file}[source]


def _route_name(document: Mapping[str, Any], index: int) -> str:
    """` (name)` of the file's route at `index`, when it has a usable one."""
    routes = document.get("routes")
    table = routes[index] if isinstance(routes, list) and index < len(routes) else None
    name = table.get("name") if isinstance(table, dict) else None
    return f" ({name})" if isinstance(name, str) and name else ""


def _read(
    values: Mapping[str, Any],
    table: type[T],
    source: Source,
    file: Path | None = None,
    prefix: str = "",
) -> T:
    """`values` read as `table`; raise `ConfigError` naming the key where `source` set it."""
    try:
        return msgspec.convert(spelled_booleans(values, table), table, strict=False)
    except msgspec.ValidationError as error:
        key, reason = problem(error, values, table, _key_namer(source, values, prefix))
        raise ConfigError(reason, key, file if source == "file" else None) from None


def _relative(path: Path, file: Path | None) -> Path:
    return path if path.is_absolute() or file is None else file.parent / path


def _schema_reference(name: str, file: Path | None) -> str:
    """A catalog schema name as is; a schema file path relative to the configuration file."""
    if not name.lower().endswith(SCHEMA_SUFFIXES):
        return name
    return str(_relative(Path(name), file))


@dataclass
class _Layer:
    """The [gateway] and [gateway.tls] keys one source sets, and how it names them."""

    source: Source
    gateway: dict[str, Any]
    tls: dict[str, Any]
    file: Path | None = None

    def key(self, name: str, table: str = "") -> str:
        """How this source names the key `name` of `[gateway]` (or of its sub-`table`)."""
        if self.source == "file":
            return _key_namer("file", {})(["gateway", *([table] if table else []), name])
        return _key_namer(self.source, {}, f"{table.upper()}_" if table else "")([name])

    def meanings(self) -> None:
        """Give each value its meaning; raise `ConfigError` naming the key."""
        for name, value in self.gateway.items():
            if name in MEANINGS:
                try:
                    self.gateway[name] = MEANINGS[name](value)
                except ValueError as error:
                    raise ConfigError(str(error), self.key(name), self.file) from None
        for name in ("ca_bundle", "client_cert", "client_key"):
            if name in self.tls:
                self.tls[name] = Path(self.tls[name])
        if self.source == "file":
            for name in ("xsd", "referential", "shadow_xsd"):
                if name in self.gateway:
                    self.gateway[name] = _relative(self.gateway[name], self.file)
            if "store" in self.gateway and self.file is not None:
                # A relative SQLite path in the file starts from the file's directory.
                location = parse_store(self.gateway["store"], self.file.parent)
                if location is not None and location.kind == "sqlite":
                    self.gateway["store"] = SQLITE_PREFIX + str(location.path)
            for name in ("ca_bundle", "client_cert", "client_key"):
                if name in self.tls:
                    self.tls[name] = _relative(self.tls[name], self.file)


def _from_environment(environ: Mapping[str, str]) -> tuple[_Layer, dict[str, Any]]:
    """What the `SNE_GATEWAY_*` variables set: [gateway] and [gateway.tls], and [rules]."""

    def variables(table: str, keys: Iterable[str]) -> dict[str, str]:
        names = {key: f"{ENVIRONMENT_PREFIX}{table}{key.upper()}" for key in keys}
        return {key: environ[name] for key, name in names.items() if name in environ}

    gateway = _read(variables("", GatewayTable.KEYS), GatewayTable, "variable")
    tls = _read(variables("TLS_", TlsTable.__struct_fields__), TlsTable, "variable", prefix="TLS_")
    rules = _read(variables("RULES_", RULES), RulesTable, "variable", prefix="RULES_")
    return _Layer("variable", given(gateway), given(tls)), given(rules)


def _from_file(file: Path | None) -> tuple[_Layer, ConfigFile]:
    """What `file` sets, read as the schema declares it."""
    if file is None:
        return _Layer("file", {}, {}), ConfigFile()
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read the file: {error.strerror or error}", None, file) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"invalid TOML: {error}", None, file) from None
    read = _read(document, ConfigFile, "file", file)
    gateway = given(read.gateway)
    tls = gateway.pop("tls", TlsTable())
    return _Layer("file", gateway, given(tls), file), read


def _direction_rule(table: DirectionTable | None, file: Path | None) -> DirectionRule:
    if table is None:
        return NO_RULE
    schema: str | tuple[str, ...] | None
    if isinstance(table.schema, list):
        schema = tuple(_schema_reference(name, file) for name in table.schema) or None
    else:
        schema = _schema_reference(table.schema, file) if table.schema is not None else None
    return DirectionRule(
        schema,
        _schema_reference(table.wrapper, file) if table.wrapper is not None else None,
        tuple(table.embedded),
        table.extract,
        cast(Policy | None, table.policy),
    )


def _routes(tables: list[RouteTable], file: Path | None) -> tuple[Route, ...]:
    return tuple(
        Route(
            name=table.name,
            path=table.path,
            methods=tuple(method.upper() for method in table.methods),
            soap_action=table.soap_action,
            request=_direction_rule(table.request, file),
            response=_direction_rule(table.response, file),
        )
        for table in tables
    )


def _policies(table: PolicyTable) -> dict[str, dict[Direction, Policy]]:
    policies = {env: dict(policy) for env, policy in DEFAULT_POLICIES.items()}
    for env, directions in given(table).items():
        policies[env].update(cast(dict[Direction, Policy], given(directions)))
    return policies


def _xsd_problem(xsd: Path) -> str | None:
    """Why `xsd` cannot be the XSD catalog, or None when it exists."""
    try:
        xsd.stat()
    except (FileNotFoundError, NotADirectoryError):
        return (
            f"{xsd}: no such file or directory; give the XSD catalog directory or one entry "
            ".xsd/.wsdl file"
        )
    except OSError as error:
        return f"{xsd}: {error.strerror or error}"
    return None


def _where(name: str, layers: Sequence[_Layer], table: str = "") -> _Layer | None:
    """The layer whose value of `name` is in service: the first, by precedence, to set it."""
    return next(
        (layer for layer in layers if name in (layer.tls if table else layer.gateway)), None
    )


def _check_xsd(gateway: Mapping[str, Any], layers: Sequence[_Layer]) -> None:
    xsd = gateway.get("xsd", SHIPPED_XSD)
    if (reason := _xsd_problem(xsd)) is None:
        return
    layer = _where("xsd", layers)
    if layer is None:
        raise ConfigError(
            f"the shipped XSD set ({xsd}) is not installed here: set xsd in the "
            f"configuration file, ${ENVIRONMENT_PREFIX}XSD or --xsd",
            "xsd",
        )
    if layer.source == "file":
        reason += " (a relative path starts from the configuration file's directory)"
    raise ConfigError(reason, layer.key("xsd"), layer.file)


def _check_next_xsd(gateway: Mapping[str, Any], layers: Sequence[_Layer]) -> None:
    """The next XSD set (`shadow_xsd`), when one is given, must exist as the set in service
    must."""
    if "shadow_xsd" not in gateway or (reason := _xsd_problem(gateway["shadow_xsd"])) is None:
        return
    layer = _where("shadow_xsd", layers)
    assert layer is not None  # the key is set
    reason = reason.replace("the XSD catalog", "the next XSD set")
    if layer.source == "file":
        reason += " (a relative path starts from the configuration file's directory)"
    raise ConfigError(reason, layer.key("shadow_xsd"), layer.file)


def _check_buffer_budget(gateway: Mapping[str, Any], layers: Sequence[_Layer]) -> None:
    """A worker's buffers must have room for one body of `max_body_bytes`: else such a body
    could never be validated, even by an idle worker. The error names where
    `max_buffered_bytes` was lowered, or else where `max_body_bytes` was raised above it."""
    body = gateway.get("max_body_bytes", Settings.max_body_bytes)
    budget = gateway.get("max_buffered_bytes", Settings.max_buffered_bytes)
    if budget >= body:
        return
    # A budget left at its default (the shipped file states it) is not what the user changed:
    # then the error names where max_body_bytes was raised above it.
    lowered = "max_buffered_bytes" in gateway and budget != Settings.max_buffered_bytes
    name = "max_buffered_bytes" if lowered else "max_body_bytes"
    layer = _where(name, layers)
    assert layer is not None  # one of the two was changed, or the defaults would agree
    raise ConfigError(
        f"max_buffered_bytes ({budget:,}) is below max_body_bytes ({body:,}): a body of "
        "max_body_bytes could never be validated; set max_buffered_bytes to at least "
        "max_body_bytes",
        layer.key(name),
        layer.file,
    )


def load_settings(
    file: Path | None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """`overrides` (command-line flags by key, as given) over the `SNE_GATEWAY_*` variables of
    `environ` over `file` (if any) over the defaults. Raise `ConfigError`."""
    in_file, document = _from_file(file)
    variables, rules = _from_environment(os.environ if environ is None else environ)
    flags = _Layer("flag", given(_read(overrides or {}, GatewayTable, "flag")), {})
    layers = (flags, variables, in_file)
    for layer in layers:
        layer.meanings()
    gateway = {**in_file.gateway, **variables.gateway, **flags.gateway}
    tls = {**in_file.tls, **variables.tls}
    _check_xsd(gateway, layers)
    _check_next_xsd(gateway, layers)
    if tls.get("client_key") and not tls.get("client_cert"):
        keyed = _where("client_key", layers, "tls")
        assert keyed is not None  # the key is set
        raise ConfigError(
            "a client_key needs its client_cert", keyed.key("client_key", "tls"), keyed.file
        )
    _check_buffer_budget(gateway, layers)
    return replace(
        Settings(),
        **gateway,
        tls=TlsSettings(**tls),
        policies=_policies(document.policy),
        routes=_routes(document.routes, file),
        rules={**given(document.rules), **rules},
        source=file,
        chosen=frozenset(gateway),
    )

"""The gateway's configuration: `gateway.toml`, `SNE_GATEWAY_*` variables and defaults.

Precedence, highest first: command-line flags, the file, environment variables, defaults.
Every key is documented with its default in `docs/configuration.md`; a test checks that the
document and `GATEWAY_KEYS` agree. A bad file fails at start with the file, the key and why.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from gateway.allocator import AUTO, SYSTEM
from gateway.catalog import SCHEMA_SUFFIXES, SHIPPED_XSD
from gateway.limits import LIBXML2_MAX_DEPTH, Limits
from gateway.rules import RULE_ACTIONS, RULES, logged_codes
from gateway.store.location import DEFAULT_STORE, SQLITE_PREFIX, StoreLocationError, parse_store

Policy = Literal["block", "log", "off"]
Direction = Literal["request", "response"]
ENVIRONMENTS = ("ecole", "recette", "prod")
POLICIES = ("block", "log", "off")
DIRECTIONS: tuple[Direction, ...] = ("request", "response")
EXTRACTORS = ("xml", "soap", "mtom", "tgz")
LOG_FORMATS = ("auto", "json", "console")
#: When an answer says how the next XSD set judges its exchange (`X-Conformance-Next`).
CONFORMANCE_NEXT = ("off", "asked", "always")
ENVIRONMENT_PREFIX = "SNE_GATEWAY_"
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
class DirectionRule:
    """What to validate in one direction of a route.

    `schema`: the business schema (a catalog name, or a path to an .xsd/.wsdl file) for the
    body, or for each base64 document in `embedded` (none: the schema the document's identity
    selects, see `gateway.select`); `wrapper`: the schema of a SOAP Body's
    payload; `extract`: force an extractor instead of choosing by content type; `policy`:
    override the environment's policy for this route and direction. `schema` may list several
    names (`["drm-ressources", "anomalies"]`): the document is judged by the one it fits."""

    @property
    def schema_names(self) -> tuple[str, ...]:
        """Every schema this rule names, the wrapper included."""
        names = (self.schema,) if isinstance(self.schema, str) else self.schema or ()
        return (*names, self.wrapper) if self.wrapper else names

    schema: str | tuple[str, ...] | None = None
    wrapper: str | None = None
    embedded: tuple[str, ...] = ()
    extract: str | None = None
    policy: Policy | None = None


def _glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Paths are matched in their canonical form, without a trailing slash
    (`gateway.proxy.target`): so is the glob, whose last segment, when it may be empty (`/*`,
    `/**`), may then be missing (`/svc/*` matches `/svc/`, which is matched as `/svc`). Without
    case, as servlet containers on case-insensitive file systems, and proxies in front of
    them, may serve a path (a route's path in another case is that route)."""
    pattern = pattern.rstrip("/") or "/"
    tail = ""
    for ending, optional in (("/**", "(?:/.*)?"), ("/*", "(?:/[^/]*)?")):
        if pattern.endswith(ending):
            pattern, tail = pattern[: -len(ending)], optional
            break
    parts = re.split(r"(\*\*|\*|\?)", pattern)
    translated = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile(
        "".join(translated.get(part, re.escape(part)) for part in parts) + tail, re.IGNORECASE
    )


@dataclass(frozen=True, slots=True)
class Route:
    """A family of exchanges: `path` is a glob (`*` within a segment, `**` across)."""

    name: str
    path: str
    methods: tuple[str, ...] = ()
    soap_action: str | None = None
    request: DirectionRule = DirectionRule()
    response: DirectionRule = DirectionRule()
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", _glob_to_regex(self.path))

    def matches(self, method: str, path: str, soap_action: str | None) -> bool:
        return (
            (not self.methods or method in self.methods)
            and (self.soap_action is None or self.soap_action == soap_action)
            and self.pattern.fullmatch(path) is not None
        )

    def rule(self, direction: Direction) -> DirectionRule:
        return self.request if direction == "request" else self.response


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
    log_format: str = "auto"
    log_level: str = "info"
    reload: bool = True
    reload_debounce_ms: int = 400
    store: str = DEFAULT_STORE
    store_retention_days: int = 90
    store_max_mb: int = 1024
    client_header: str | None = None
    #: The next XSD set, validated against off the client's path (`gateway.shadow`).
    shadow_xsd: Path | None = None
    shadow_version: str | None = None
    conformance_next: str = "off"
    shadow_queue_mb: int = 64
    #: GDM usage advisories (`gateway.advice`), on the calls to this path.
    gdm_advice: bool = True
    gdm_path: str = "/v1.0/gdm/mouvements"
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
        override = route.rule(direction).policy if route else None
        return override or self.policies[self.env][direction]

    @cached_property
    def rule_actions(self) -> Mapping[str, Policy]:
        """The action of the violations that do not follow the policy, by code (`decide`)."""
        return logged_codes(self.rules)

    def route_for(self, method: str, path: str, soap_action: str | None) -> Route | None:
        """The first configured route matching the exchange, in file order (the proxy looks
        in the routes in service, `gateway.reload.LoadedSchemas.route_for`)."""
        return first_route(self.routes, method, path, soap_action)


def first_route(
    routes: tuple[Route, ...], method: str, path: str, soap_action: str | None
) -> Route | None:
    """The first of `routes` matching the exchange."""
    return next((r for r in routes if r.matches(method, path, soap_action)), None)


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}, not {value!r}")
        return str(value)

    return check


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (
        "1",
        "true",
        "yes",
        "on",
        "0",
        "false",
        "no",
        "off",
    ):
        return value.lower() in ("1", "true", "yes", "on")
    raise ValueError(f"must be true or false, not {value!r}")


def _number(kind: type, minimum: float, maximum: float | None = None) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"must be a number, not {value!r}")
        try:
            number = kind(value)
        except ValueError:
            raise ValueError(f"must be a number, not {value!r}") from None
        if number < minimum:
            raise ValueError(f"must be at least {minimum}, not {number}")
        if maximum is not None and number > maximum:
            raise ValueError(f"must be at most {maximum}, not {number}")
        return number

    return check


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"must be a non-empty string, not {value!r}")
    return value


def _upstream(value: Any) -> str:
    text = _text(value).rstrip("/")
    if not re.fullmatch(r"https?://[^/?#@\s]+(/[^?#\s]*)?", text):
        raise ValueError(
            f"must be an http:// or https:// URL without query or credentials, not {value!r}"
        )
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - reading it checks the port's range
    except ValueError:
        raise ValueError(f"the port of {value!r} is not a number from 0 to 65535") from None
    try:
        (parts.hostname or "").encode("idna")
    except UnicodeError:
        raise ValueError(
            f"the host of {value!r} is not a valid name (an empty label, or one over 63 characters)"
        ) from None
    return text


def _store(value: Any) -> str:
    text = _text(value)
    try:
        parse_store(text)
    except StoreLocationError as error:
        raise ValueError(str(error)) from None
    return text


def _header_name(value: Any) -> str:
    text = _text(value)
    if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", text):
        raise ValueError(f"must be an HTTP header name, not {value!r}")
    return text.lower()


def _absolute_path(value: Any) -> str:
    text = _text(value)
    if not text.startswith("/"):
        raise ValueError(f"must be a path starting with /, not {value!r}")
    return text


def _allocator(value: Any) -> str:
    text = _text(value)
    if text in (AUTO, SYSTEM) or (Path(text).is_absolute() and Path(text).is_file()):
        return text
    raise ValueError(
        f"must be auto, system or the absolute path of a shared library, not {value!r}"
    )


#: Every key of the [gateway] table, with how to read it (environment variables are strings).
GATEWAY_KEYS: dict[str, Callable[[Any], Any]] = {
    "env": _choice(ENVIRONMENTS),
    "upstream": _upstream,
    "xsd": lambda value: Path(_text(value)),
    "version": _text,
    "referential": lambda value: Path(_text(value)),
    "host": _text,
    "port": _number(int, 0, 65535),
    "workers": _number(int, 1),
    "allocator": _allocator,
    "fail_closed": _boolean,
    "connect_timeout": _number(float, 0.001),
    "read_timeout": _number(float, 0.001),
    "client_timeout": _number(float, 0.001),
    "max_body_bytes": _number(int, 1),
    "max_buffered_bytes": _number(int, 1),
    "max_document_bytes": _number(int, 1),
    "max_depth": _number(int, 1, LIBXML2_MAX_DEPTH),
    "max_violations": _number(int, 1),
    "capture_values": _boolean,
    "admin_token": _text,
    "log_format": _choice(LOG_FORMATS),
    "log_level": _choice(("debug", "info", "warning", "error")),
    "reload": _boolean,
    "reload_debounce_ms": _number(int, 0),
    "store": _store,
    "store_retention_days": _number(int, 1),
    "store_max_mb": _number(int, 1),
    "client_header": _header_name,
    "shadow_xsd": lambda value: Path(_text(value)),
    "shadow_version": _text,
    "conformance_next": _choice(CONFORMANCE_NEXT),
    "shadow_queue_mb": _number(int, 1),
    "gdm_advice": _boolean,
    "gdm_path": _absolute_path,
}
TLS_KEYS: dict[str, Callable[[Any], Any]] = {
    "ca_bundle": lambda value: Path(_text(value)),
    "client_cert": lambda value: Path(_text(value)),
    "client_key": lambda value: Path(_text(value)),
    "verify": _boolean,
}
#: Every key of the [rules] table: a business rule's name, and what its violations do.
RULES_KEYS: dict[str, Callable[[Any], Any]] = {name: _choice(RULE_ACTIONS) for name in RULES}
_RULE_KEYS = {"schema", "wrapper", "embedded", "extract", "policy"}
_ROUTE_KEYS = {"name", "path", "methods", "soap_action", "request", "response"}


def _read(
    table: Mapping[str, Any],
    readers: Mapping[str, Callable[[Any], Any]],
    prefix: str,
    file: Path | None,
    upper: bool = False,
) -> dict[str, Any]:
    values = {}
    for key, value in table.items():
        shown = prefix + (key.upper() if upper else key)
        if key not in readers:
            raise ConfigError(f"unknown key; known keys: {', '.join(readers)}", shown, file)
        try:
            values[key] = readers[key](value)
        except ValueError as error:
            raise ConfigError(str(error), shown, file) from None
    return values


def _relative(path: Path, file: Path | None) -> Path:
    return path if path.is_absolute() or file is None else file.parent / path


def _schema_reference(name: str, file: Path | None) -> str:
    """A catalog schema name as is; a schema file path relative to the configuration file."""
    if not name.lower().endswith(SCHEMA_SUFFIXES):
        return name
    return str(_relative(Path(name), file))


def _rule(value: Any, key: str, file: Path | None) -> DirectionRule:
    if value is None:
        return DirectionRule()
    if not isinstance(value, dict):
        raise ConfigError('must be a table such as { schema = "demande" }', key, file)
    if unknown := set(value) - _RULE_KEYS:
        raise ConfigError(
            f"unknown key(s) {sorted(unknown)}; known: {sorted(_RULE_KEYS)}", key, file
        )
    embedded = value.get("embedded", [])
    if not isinstance(embedded, list) or not all(isinstance(e, str) and e for e in embedded):
        raise ConfigError("must be a list of element names", f"{key}.embedded", file)
    try:
        extract = _choice(EXTRACTORS)(value["extract"]) if "extract" in value else None
        policy = _choice(POLICIES)(value["policy"]) if "policy" in value else None
        wrapper = _schema_reference(_text(value["wrapper"]), file) if "wrapper" in value else None
        schema = value.get("schema")
        if isinstance(schema, list):
            schema = tuple(_schema_reference(_text(name), file) for name in schema) or None
        elif schema is not None:
            schema = _schema_reference(_text(schema), file)
    except ValueError as error:
        raise ConfigError(str(error), key, file) from None
    return DirectionRule(schema, wrapper, tuple(embedded), extract, policy)  # type: ignore[arg-type]


def _routes(value: Any, file: Path | None) -> tuple[Route, ...]:
    if not isinstance(value, list):
        raise ConfigError("must be an array of tables ([[routes]])", "routes", file)
    routes = []
    for index, table in enumerate(value):
        key = f"routes[{index}]"
        if not isinstance(table, dict):
            raise ConfigError("must be a table", key, file)
        try:
            name = _text(table.get("name"))
        except ValueError as error:
            raise ConfigError(str(error), f"{key}.name", file) from None
        key = f"routes[{index}] ({name})"
        if unknown := set(table) - _ROUTE_KEYS:
            raise ConfigError(
                f"unknown key(s) {sorted(unknown)}; known: {sorted(_ROUTE_KEYS)}", key, file
            )
        path = table.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ConfigError("must be a path glob starting with /", f"{key}.path", file)
        methods = table.get("methods", [])
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            raise ConfigError("must be a list of HTTP methods", f"{key}.methods", file)
        action = table.get("soap_action")
        if action is not None and not isinstance(action, str):
            raise ConfigError("must be a string", f"{key}.soap_action", file)
        routes.append(
            Route(
                name=name,
                path=path,
                methods=tuple(m.upper() for m in methods),
                soap_action=action,
                request=_rule(table.get("request"), f"{key}.request", file),
                response=_rule(table.get("response"), f"{key}.response", file),
            )
        )
    return tuple(routes)


def _policies(value: Any, file: Path | None) -> dict[str, dict[Direction, Policy]]:
    policies = {env: dict(policy) for env, policy in DEFAULT_POLICIES.items()}
    if not isinstance(value, dict):
        raise ConfigError("must be a table of [policy.ENV] tables", "policy", file)
    for env, table in value.items():
        if env not in ENVIRONMENTS:
            raise ConfigError(
                f"unknown environment; known: {', '.join(ENVIRONMENTS)}", f"policy.{env}", file
            )
        if not isinstance(table, dict):
            raise ConfigError("must be a table with request and response", f"policy.{env}", file)
        for direction, policy in table.items():
            if direction not in DIRECTIONS:
                raise ConfigError(
                    "unknown key; known: request, response", f"policy.{env}.{direction}", file
                )
            try:
                policies[env][direction] = cast(Policy, _choice(POLICIES)(policy))
            except ValueError as error:
                raise ConfigError(str(error), f"policy.{env}.{direction}", file) from None
    return policies


def _from_environment(
    environ: Mapping[str, str],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    gateway = {
        key: environ[ENVIRONMENT_PREFIX + key.upper()]
        for key in GATEWAY_KEYS
        if ENVIRONMENT_PREFIX + key.upper() in environ
    }
    tls = {
        key: environ[f"{ENVIRONMENT_PREFIX}TLS_{key.upper()}"]
        for key in TLS_KEYS
        if f"{ENVIRONMENT_PREFIX}TLS_{key.upper()}" in environ
    }
    rules = {
        key: environ[f"{ENVIRONMENT_PREFIX}RULES_{key.upper()}"]
        for key in RULES_KEYS
        if f"{ENVIRONMENT_PREFIX}RULES_{key.upper()}" in environ
    }
    return (
        _read(gateway, GATEWAY_KEYS, f"${ENVIRONMENT_PREFIX}", None, upper=True),
        _read(tls, TLS_KEYS, f"${ENVIRONMENT_PREFIX}TLS_", None, upper=True),
        _read(rules, RULES_KEYS, f"${ENVIRONMENT_PREFIX}RULES_", None, upper=True),
    )


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


def _check_buffer_budget(
    gateway: Mapping[str, Any],
    from_file: Mapping[str, Any],
    from_flags: Mapping[str, Any],
    file: Path | None,
) -> None:
    """A worker's buffers must have room for one body of `max_body_bytes`: else such a body
    could never be validated, even by an idle worker. The error names where
    `max_buffered_bytes` was set, or else where `max_body_bytes` was raised above it."""
    body = gateway.get("max_body_bytes", Settings.max_body_bytes)
    budget = gateway.get("max_buffered_bytes", Settings.max_buffered_bytes)
    if budget >= body:
        return
    key = "max_buffered_bytes" if "max_buffered_bytes" in gateway else "max_body_bytes"
    if key in from_flags:
        where, in_file = f"--{key}", None
    elif key in from_file:
        where, in_file = f"gateway.{key}", file
    else:
        where, in_file = f"${ENVIRONMENT_PREFIX}{key.upper()}", None
    raise ConfigError(
        f"max_buffered_bytes ({budget:,}) is below max_body_bytes ({body:,}): a body of "
        "max_body_bytes could never be validated; set max_buffered_bytes to at least "
        "max_body_bytes",
        where,
        in_file,
    )


def load_settings(
    file: Path | None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read `file` (if any) over the `SNE_GATEWAY_*` variables of `environ` over the defaults,
    then apply `overrides` (command-line flags by key, as given). Raise `ConfigError`."""
    gateway, tls, rules = _from_environment(os.environ if environ is None else environ)
    document: dict[str, Any] = {}
    if file is not None:
        try:
            document = tomllib.loads(file.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(
                f"cannot read the file: {error.strerror or error}", None, file
            ) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"invalid TOML: {error}", None, file) from None
    if unknown := set(document) - {"gateway", "policy", "routes", "rules"}:
        raise ConfigError(
            f"unknown table(s) {sorted(unknown)}; known: gateway, policy, routes, rules", None, file
        )
    table = dict(document.get("gateway", {}))
    tls_table = table.pop("tls", {})
    from_file = _read(table, GATEWAY_KEYS, "gateway.", file)
    for key in ("xsd", "referential", "shadow_xsd"):
        if key in from_file:
            from_file[key] = _relative(from_file[key], file)
    if "store" in from_file and file is not None:
        # A relative SQLite path in the file starts from the file's directory.
        location = parse_store(from_file["store"], file.parent)
        if location is not None and location.kind == "sqlite":
            from_file["store"] = SQLITE_PREFIX + str(location.path)
    gateway.update(from_file)
    if not isinstance(tls_table, dict):
        raise ConfigError("must be a table", "gateway.tls", file)
    tls.update(_read(tls_table, TLS_KEYS, "gateway.tls.", file))
    from_flags = _read(overrides or {}, GATEWAY_KEYS, "--", None)
    gateway.update(from_flags)
    xsd = gateway.get("xsd", SHIPPED_XSD)
    if problem := _xsd_problem(xsd):
        if "xsd" not in gateway:
            raise ConfigError(
                f"the shipped XSD set ({xsd}) is not installed here: set xsd in the "
                f"configuration file, ${ENVIRONMENT_PREFIX}XSD or --xsd",
                "xsd",
            )
        if "xsd" in from_flags:
            raise ConfigError(problem, "--xsd")
        if "xsd" in from_file:
            raise ConfigError(
                f"{problem} (a relative path starts from the configuration file's directory)",
                "gateway.xsd",
                file,
            )
        raise ConfigError(problem, f"${ENVIRONMENT_PREFIX}XSD")
    if "shadow_xsd" in gateway and (problem := _xsd_problem(gateway["shadow_xsd"])):
        where = (
            ("--shadow-xsd", None)
            if "shadow_xsd" in from_flags
            else ("gateway.shadow_xsd", file)
            if "shadow_xsd" in from_file
            else (f"${ENVIRONMENT_PREFIX}SHADOW_XSD", None)
        )
        raise ConfigError(problem.replace("the XSD catalog", "the next XSD set"), *where)
    for key in ("ca_bundle", "client_cert", "client_key"):
        if key in tls_table:
            tls[key] = _relative(tls[key], file)
    if tls.get("client_key") and not tls.get("client_cert"):
        raise ConfigError("a client_key needs its client_cert", "gateway.tls.client_key", file)
    _check_buffer_budget(gateway, from_file, from_flags, file)
    rules_table = document.get("rules", {})
    if not isinstance(rules_table, dict):
        raise ConfigError('must be a table such as { pays = "log" }', "rules", file)
    rules.update(_read(rules_table, RULES_KEYS, "rules.", file))
    return replace(
        Settings(),
        **gateway,
        tls=TlsSettings(**tls),
        policies=_policies(document.get("policy", {}), file),
        routes=_routes(document.get("routes", []), file),
        rules=rules,
        source=file,
        chosen=frozenset(gateway),
    )

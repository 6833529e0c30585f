"""The configuration's schema: each table of `gateway.toml` declared as a msgspec Struct, its
keys' types and bounds, what some values mean beyond their type (`MEANINGS`: the upstream's
URL, the allocator), and what a bad value is told (`expected`). `gateway.config` reads the
file, the `SNE_GATEWAY_*` variables and the command line's flags through these declarations,
and says a bad value with where it was set (`problem`):

    gateway.toml: gateway.port: must be at most 65535, not 65536
    $SNE_GATEWAY_ENV: must be one of ecole, recette, prod, not 'staging'

A key left out is `UNSET`, so that each source gives only what it sets, and the sources can be
laid over each other (`gateway.config` says in which order). Every key of `GatewayTable` and
`TlsTable` is documented with its default in `docs/configuration.md` (a test checks).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeAlias
from urllib.parse import urlsplit

import msgspec
import msgspec.inspect as inspect
from msgspec import UNSET, Meta, Struct, UnsetType, defstruct

from gateway.allocator import AUTO, SYSTEM
from gateway.extract.message import EXTRACTORS
from gateway.limits import LIBXML2_MAX_DEPTH
from gateway.routing.route import ENVIRONMENTS, POLICIES
from gateway.rules import RULE_ACTIONS, RULES
from gateway.store.location import parse_store

LOG_FORMATS = ("auto", "json", "console")
LOG_LEVELS = ("debug", "info", "warning", "error")
#: When an answer says how the next XSD set judges its exchange (`X-Conformance-Next`).
CONFORMANCE_NEXT = ("off", "asked", "always")
#: How a boolean may be spelled (an environment variable is text), and what it means.
BOOLEANS = {"1": True, "true": True, "yes": True, "on": True} | {
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def _expected(text: str) -> Meta:
    """What a value of the key must be, as its error says it (`must be ...`)."""
    return Meta(extra={"expected": text})


def _one_of(values: Sequence[str]) -> Any:
    """One of `values`, said in their order."""
    return Annotated[Literal[tuple(values)], _expected(f"one of {', '.join(values)}")]


if TYPE_CHECKING:
    Environment: TypeAlias = str
    ExtractorName: TypeAlias = str
    RuleAction: TypeAlias = str
    PolicyName: TypeAlias = str
    LogFormat: TypeAlias = str
    LogLevel: TypeAlias = str
    ConformanceNext: TypeAlias = str
else:
    Environment = _one_of(ENVIRONMENTS)
    # The registered extractors and the rules' actions, whatever they are.
    ExtractorName = _one_of(tuple(EXTRACTORS))
    RuleAction = _one_of(RULE_ACTIONS)
    PolicyName = _one_of(POLICIES)
    LogFormat = _one_of(LOG_FORMATS)
    LogLevel = _one_of(LOG_LEVELS)
    ConformanceNext = _one_of(CONFORMANCE_NEXT)


Text = Annotated[str, Meta(min_length=1), _expected("a non-empty string")]
Number = Annotated[int, _expected("a number")]
Seconds = Annotated[float, Meta(ge=0.001)]
Count = Annotated[int, Meta(ge=1)]
HeaderName = Annotated[
    str, Meta(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"), _expected("an HTTP header name")
]


class TlsTable(Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """`[gateway.tls]`: the upstream's TLS."""

    ca_bundle: Text | UnsetType = UNSET
    client_cert: Text | UnsetType = UNSET
    client_key: Text | UnsetType = UNSET
    verify: bool | UnsetType = UNSET


class GatewayTable(Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """`[gateway]`: the keys a flag or a `SNE_GATEWAY_<KEY>` variable may also give."""

    env: Environment | UnsetType = UNSET
    upstream: Text | UnsetType = UNSET
    xsd: Text | UnsetType = UNSET
    version: Text | UnsetType = UNSET
    referential: Text | UnsetType = UNSET
    host: Text | UnsetType = UNSET
    port: Annotated[int, Meta(ge=0, le=65535)] | UnsetType = UNSET
    workers: Count | UnsetType = UNSET
    allocator: Text | UnsetType = UNSET
    fail_closed: bool | UnsetType = UNSET
    connect_timeout: Seconds | UnsetType = UNSET
    read_timeout: Seconds | UnsetType = UNSET
    client_timeout: Seconds | UnsetType = UNSET
    max_body_bytes: Count | UnsetType = UNSET
    max_buffered_bytes: Count | UnsetType = UNSET
    max_document_bytes: Count | UnsetType = UNSET
    max_depth: Annotated[int, Meta(ge=1, le=LIBXML2_MAX_DEPTH)] | UnsetType = UNSET
    max_violations: Count | UnsetType = UNSET
    capture_values: bool | UnsetType = UNSET
    admin_token: Text | UnsetType = UNSET
    client_header: HeaderName | UnsetType = UNSET
    log_format: LogFormat | UnsetType = UNSET
    log_level: LogLevel | UnsetType = UNSET
    reload: bool | UnsetType = UNSET
    reload_debounce_ms: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    store: Text | UnsetType = UNSET
    store_retention_days: Count | UnsetType = UNSET
    store_max_mb: Count | UnsetType = UNSET
    shadow_xsd: Text | UnsetType = UNSET
    shadow_version: Text | UnsetType = UNSET
    conformance_next: ConformanceNext | UnsetType = UNSET
    shadow_queue_mb: Count | UnsetType = UNSET
    gdm_advice: bool | UnsetType = UNSET
    gdm_path: (
        Annotated[str, Meta(pattern="^/"), _expected("a path starting with /")] | UnsetType
    ) = UNSET
    #: Only in the file (its variables are `SNE_GATEWAY_TLS_<KEY>`).
    tls: Annotated[TlsTable, _expected("a table")] | UnsetType = UNSET

    #: The keys of `[gateway]` proper (`tls` is a table of its own).
    KEYS: ClassVar[tuple[str, ...]]


GatewayTable.KEYS = tuple(name for name in GatewayTable.__struct_fields__ if name != "tls")

#: `[rules]`: an action per business rule (`gateway.rules`), whatever rules there are.
RulesTable: type[Struct] = defstruct(
    "RulesTable",
    [(name, RuleAction | UnsetType, UNSET) for name in RULES],
    forbid_unknown_fields=True,
    kw_only=True,
    frozen=True,
)


class DirectionTable(Struct, forbid_unknown_fields=True, frozen=True):
    """A route's `request` or `response`."""

    schema: Annotated[Text | list[Text], _expected("a schema name, or a list of them")] | None = (
        None
    )
    wrapper: Text | None = None
    embedded: Annotated[list[Text], _expected("a list of element names")] = []
    extract: ExtractorName | None = None
    policy: PolicyName | None = None


Rule = Annotated[DirectionTable, _expected('a table such as { schema = "demande" }')]


class RouteTable(Struct, forbid_unknown_fields=True, frozen=True):
    """`[[routes]]`."""

    name: Text
    path: Annotated[str, Meta(pattern="^/"), _expected("a path glob starting with /")]
    methods: Annotated[list[str], _expected("a list of HTTP methods")] = []
    soap_action: Annotated[str, _expected("a string")] | None = None
    request: Rule | None = None
    response: Rule | None = None


class DirectionPolicies(Struct, forbid_unknown_fields=True, frozen=True):
    """`[policy.ENV]`."""

    request: PolicyName | UnsetType = UNSET
    response: PolicyName | UnsetType = UNSET


Policies = Annotated[DirectionPolicies, _expected("a table with request and response")]


class PolicyTable(Struct, forbid_unknown_fields=True, frozen=True):
    """`[policy]`: a table per environment."""

    ecole: Policies | UnsetType = UNSET
    recette: Policies | UnsetType = UNSET
    prod: Policies | UnsetType = UNSET


class ConfigFile(Struct, forbid_unknown_fields=True, frozen=True):
    """`gateway.toml` as a whole."""

    gateway: Annotated[GatewayTable, _expected("a table")] = GatewayTable()
    policy: Annotated[PolicyTable, _expected("a table of [policy.ENV] tables")] = PolicyTable()
    routes: Annotated[list[RouteTable], _expected("an array of tables ([[routes]])")] = []
    rules: Annotated[RulesTable, _expected('a table such as { pays = "log" }')] = (  # type: ignore[valid-type]
        RulesTable()
    )


def given(table: Struct) -> dict[str, Any]:
    """The keys `table` sets, with their values."""
    return {
        name: value
        for name in table.__struct_fields__
        if (value := getattr(table, name)) is not UNSET
    }


def spelled_booleans(values: Mapping[str, Any], table: type[Struct]) -> dict[str, Any]:
    """`values` with the booleans of `table` and of its tables (`[gateway.tls]`) given as text
    (`yes`, `off`...) made booleans."""
    fields = {field.name: field.type for field in inspect.type_info(table).fields}  # type: ignore[attr-defined]
    spelled = {}
    for name, value in values.items():
        kind = fields.get(name)
        if isinstance(kind, inspect.Metadata):
            kind = kind.type
        if isinstance(kind, inspect.BoolType) and isinstance(value, str):
            value = BOOLEANS.get(value.lower(), value)
        elif isinstance(kind, inspect.StructType) and isinstance(value, Mapping):
            value = spelled_booleans(value, kind.cls)
        spelled[name] = value
    return spelled


def _upstream(value: str) -> str:
    """The upstream as given, without a trailing slash; raise ValueError when it is not an
    http:// or https:// URL a connection can be made to by its spelling."""
    text = value.rstrip("/")
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


def _allocator(value: str) -> str:
    if value in (AUTO, SYSTEM) or (Path(value).is_absolute() and Path(value).is_file()):
        return value
    raise ValueError(
        f"must be auto, system or the absolute path of a shared library, not {value!r}"
    )


def _store(value: str) -> str:
    """The store as given, once it names one (`gateway.store.location`)."""
    parse_store(value)  # its StoreLocationError is a ValueError that says why
    return value


#: What a key's value becomes once its type is right, where there is more to it.
MEANINGS: dict[str, Callable[[Any], Any]] = {
    "upstream": _upstream,
    "allocator": _allocator,
    "store": _store,
    "xsd": Path,
    "referential": Path,
    "shadow_xsd": Path,
    "client_header": str.lower,
}


# -- what a bad value is told -----------------------------------------------------------------

_AT = re.compile(r"^(?P<what>.*?)(?: - at `(?P<path>[^`]*)`)?$", re.DOTALL)
_STEP = re.compile(r"\.(\w+)|\[(\d+)\]")
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<name>[^`]*)`")
_MISSING = re.compile(r"Object missing required field `(?P<name>[^`]*)`")


def _steps(path: str) -> list[str | int]:
    return [name if name else int(index) for name, index in _STEP.findall(path)]


def _unwrap(info: Any) -> tuple[Any, str | None]:
    """A type without its metadata and its None or UNSET alternatives, and its `expected`."""
    expected = None
    while True:
        if isinstance(info, inspect.Metadata):
            expected = (info.extra or {}).get("expected", expected)
            info = info.type
        elif isinstance(info, inspect.UnionType):
            kept = [t for t in info.types if not isinstance(t, inspect.NoneType)]
            if len(kept) != 1:
                return info, expected
            info = kept[0]
        else:
            return info, expected


def _walk(info: Any, value: Any, steps: Sequence[str | int]) -> tuple[Any, str | None, Any]:
    """The type, its `expected` and the value at `steps` from `info` and `value`."""
    expected = None
    for step in steps:
        info, expected = _unwrap(info)
        if isinstance(info, inspect.StructType):
            info = next(field.type for field in info.fields if field.name == step)
        elif isinstance(info, inspect.ListType):
            info = info.item_type
        elif isinstance(info, inspect.UnionType):  # a name or a list of names: the list's item
            info = next(t for t in info.types if isinstance(t, inspect.ListType)).item_type
        if isinstance(value, Mapping):
            value = value.get(step)
        else:
            value = value[step] if isinstance(value, list) and isinstance(step, int) else None
    info, own = _unwrap(info)
    return info, own or expected, value


def _reason(info: Any, expected: str | None, value: Any) -> str:
    if isinstance(info, inspect.IntType | inspect.FloatType):
        try:
            number = float(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None:
            return f"must be a number, not {value!r}"
        if not math.isfinite(number):
            return f"must be a finite number, not {value}"
        if isinstance(info, inspect.IntType):
            if not number.is_integer():
                return f"must be a whole number, not {value}"
            number = int(number)
        low = info.ge if info.ge is not None else info.gt
        if low is not None and number < low:
            return f"must be at least {low}, not {number}"
        high = info.le if info.le is not None else info.lt
        if high is not None and number > high:
            return f"must be at most {high}, not {number}"
        return f"must be {expected or 'a number'}, not {value!r}"
    if isinstance(info, inspect.LiteralType):
        return f"must be {expected}, not {value!r}"
    if isinstance(info, inspect.BoolType):
        return f"must be true or false, not {value!r}"
    if isinstance(info, inspect.StructType | inspect.ListType | inspect.DictType):
        return f"must be {expected or 'a table'}"
    return f"must be {expected or 'a non-empty string'}, not {value!r}"


def problem(
    error: msgspec.ValidationError,
    values: Mapping[str, Any],
    table: type[Struct],
    key_of: Any,
) -> tuple[str | None, str]:
    """What is wrong with `values` read as `table`: the key, as `key_of(steps)` names the key
    at those steps (None: the whole), and why."""
    match = _AT.match(str(error))
    assert match is not None  # the pattern matches any text
    what, steps = match["what"], _steps(match["path"] or "$")
    info = inspect.type_info(table)
    if unknown := _UNKNOWN.match(what):
        owner, _, _ = _walk(info, values, steps)
        known = [field.name for field in owner.fields]
        return _unknown(owner.cls, steps, unknown["name"], known, key_of)
    if missing := _MISSING.match(what):
        steps = [*steps, missing["name"]]
    field_type, expected, value = _walk(info, values, steps)
    return key_of(steps), _reason(field_type, expected, value)


def _unknown(
    owner: type, steps: list[str | int], name: str, known: list[str], key_of: Any
) -> tuple[str | None, str]:
    """How an unknown key is said, table by table."""
    if owner is ConfigFile:
        return None, f"unknown table(s) {[name]}; known: {', '.join(known)}"
    if owner is PolicyTable:
        return key_of([*steps, name]), f"unknown environment; known: {', '.join(known)}"
    if owner in (RouteTable, DirectionTable):
        return key_of(steps), f"unknown key(s) {[name]}; known: {sorted(known)}"
    if owner is GatewayTable:
        known = list(GatewayTable.KEYS)
    return key_of([*steps, name]), f"unknown key; known keys: {', '.join(known)}"

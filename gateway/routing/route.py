"""Routes: a family of exchanges (a path glob, methods, a SOAP action) and what to validate in
each direction of them, with the policy that applies.

    >>> route = Route("drm", "/v1.0/drm/ressources/**", methods=("POST",))
    >>> route.matches("POST", "/v1.0/drm/ressources", None)
    True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Policy = Literal["block", "log", "off"]
Direction = Literal["request", "response"]
POLICIES: tuple[Policy, ...] = ("block", "log", "off")
#: The environments a gateway serves in, each with its policies.
ENVIRONMENTS = ("ecole", "recette", "prod")
DIRECTIONS: tuple[Direction, ...] = ("request", "response")


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


#: The rule of a direction no route names: validate by content type, schema by identity.
NO_RULE = DirectionRule()


def glob_pattern(pattern: str) -> re.Pattern[str]:
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
    request: DirectionRule = NO_RULE
    response: DirectionRule = NO_RULE
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", glob_pattern(self.path))

    def matches(self, method: str, path: str, soap_action: str | None) -> bool:
        return (
            (not self.methods or method in self.methods)
            and (self.soap_action is None or self.soap_action == soap_action)
            and self.pattern.fullmatch(path) is not None
        )

    def rule(self, direction: Direction) -> DirectionRule:
        return self.request if direction == "request" else self.response


def policy_for(
    policies: Mapping[Direction, Policy], direction: Direction, route: Route | None
) -> Policy:
    """The policy for `direction`: the route's override, else the environment's (`policies`)."""
    override = route.rule(direction).policy if route else None
    return override or policies[direction]

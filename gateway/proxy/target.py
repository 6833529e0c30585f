"""The request path, made canonical once, so that what is validated is what is forwarded.

Routes decide what to validate, and the upstream resolves the same path its own way: if the
two disagreed, `/nuu-ws/services/%44emandeLogement` or `/x/../nuu-ws/services/DemandeLogement`
would reach the DemandeLogement service without its route's checks. So the gateway forwards
the canonical form (RFC 3986: escapes of unreserved characters decoded, dot-segments removed,
empty segments collapsed) and matches routes on it too, without `;parameters` (such as a
`;jsessionid`) and without a trailing slash. Escapes of `! $ & ' ( ) * , : ; = @` are decoded
as well, by choice: proxies and URL libraries on the way may decode them (yarl does), so that
`DemandeLogement%3Bx` reaches the server as `DemandeLogement;x`, the service with a
parameter; the gateway forwards that spelling itself, and routes it to the service's checks.
A path that climbs above the root, hides a `/` or `\\` in an escape, or has a dot-segment
with parameters (`..;`, which Java servers resolve as `..`) or a segment of parameters only
(`/;x/`, which they drop), is refused. What a URL may not hold as it is (a space, `"`, `<`, `>`,
`` ` ``, `{`, `}`, a byte over 127...) is escaped (`%60`), as httpx would escape it on the way
out: what is matched and validated is byte for byte what the upstream receives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
#: Unreserved characters, and the sub-delimiters, ':' and '@' that yarl decodes in a path.
_DECODED = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*,:;=@"
)
_HIDDEN_SEPARATORS = frozenset({"2F", "5C", "00"})
#: What a path may not hold as it is (all but RFC 3986's pchar, `/` and the escapes' `%`): it
#: is escaped, as httpx escapes it when it sends the request.
_UNSAFE = re.compile(r"[^A-Za-z0-9\-._~!$&'()*,:;=@/%]")


class PathRefused(ValueError):
    """A path the gateway will not forward; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    """`forwarded`: the canonical path sent upstream; `routed`: what routes match."""

    forwarded: str
    routed: str


def _decode(match: re.Match[str]) -> str:
    character = chr(int(match[1], 16))
    if character in _DECODED:
        return character
    if match[1].upper() in _HIDDEN_SEPARATORS:
        raise PathRefused(f"the path hides a separator or NUL in the escape %{match[1]}")
    return f"%{match[1].upper()}"


def _escape(match: re.Match[str]) -> str:
    return f"%{ord(match[0]):02X}"  # a byte: the path was read as latin-1


def canonical_target(raw_path: str) -> Target:
    """The canonical form of an origin-form path; raise `PathRefused`."""
    if not raw_path.startswith("/") or raw_path.startswith("//"):
        raise PathRefused("the path must start with a single '/'")
    if "\\" in raw_path:
        raise PathRefused("the path holds a backslash")
    decoded = _UNSAFE.sub(_escape, _ESCAPE.sub(_decode, raw_path))
    segments: list[str] = []
    for segment in decoded.split("/")[1:]:
        name = segment.split(";", 1)[0]
        if name in (".", "..") and segment not in (".", ".."):
            raise PathRefused(f"the path has a dot-segment with parameters ('{segment}')")
        if not name and segment:
            # Java servers drop it whole, which would join its neighbours.
            raise PathRefused(f"the path has a segment of parameters only ('{segment}')")
        if segment == "..":
            if not segments:
                raise PathRefused("the path climbs above the root with '..'")
            segments.pop()
        elif segment not in (".", ""):
            segments.append(segment)
    trailing = decoded.endswith(("/", "/.", "/..")) and bool(segments)
    forwarded = "/" + "/".join(segments) + ("/" if trailing else "")
    routed = "/" + "/".join(segment.split(";", 1)[0] for segment in segments)
    return Target(forwarded, routed)

"""The client's `Host` header: a host name (or an IP address) and an optional port, or refused.

The gateway never connects to it (the upstream is configured), but it goes on to the upstream as
`X-Forwarded-Host`, which the SNE's stack may use to build absolute URLs (a WSDL's address, a
redirect): a value such as `user@evil.example`, `%65vil.example` or `a..b` would reach it
there. Every request but HTTP/1.0's must carry exactly one (RFC 9112, 3.2; an `HTTP/2.0`
request line in HTTP/1.1's syntax included).
"""

from __future__ import annotations

import ipaddress
import re

from gateway.proxy.headers import RawHeaders

#: A DNS label (underscores allowed: internal names use them), and the name as a whole.
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
MAX_NAME_LENGTH = 253
_PORT = re.compile(r"[0-9]{1,5}")


def _valid_name(name: str) -> bool:
    name = name.removesuffix(".")  # a fully qualified name's final dot
    return 0 < len(name) <= MAX_NAME_LENGTH and all(
        _LABEL.fullmatch(label) for label in name.split(".")
    )


def _valid_host(value: str) -> bool:
    """`host[:port]`: a host name, an IPv4 address, or an IPv6 address in brackets."""
    if value.startswith("["):
        address, bracket, after = value[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            return False
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            return False
        colon, port = after[:1], after[1:]
    else:
        address, colon, port = value.partition(":")
        if not _valid_name(address):
            return False
    return not colon or (_PORT.fullmatch(port) is not None and 0 < int(port) <= 65535)


def host_refusal(headers: RawHeaders, http_version: str | None) -> str | None:
    """Why the request's `Host` headers are refused, or None."""
    hosts = [value for name, value in headers if name == b"host"]
    if http_version != "1.0" and len(hosts) != 1:
        return "A request must carry exactly one Host header (RFC 9112, 3.2)."
    if len(hosts) > 1:
        return "The request carries more than one Host header."
    if hosts and not _valid_host(hosts[0].decode("latin-1")):
        return "The Host header is not a host name or address with an optional port."
    return None

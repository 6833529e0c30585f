"""What the gateway reads of a request before its body: plain data taken from the ASGI scope
once, which admission, routing, the upstream call and the exchange's record all read.

    >>> head = RequestHead.from_scope(scope)
    >>> head.routed_path, head.soap_action, head.request_id
    ('/nuu-ws/services/DemandeLogement', 'http://ws.metier.nuu.application.i2/getNumUnique', '…')
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any, cast

from litestar.types import HTTPScope

from gateway.http_metadata import announced_soap_version, soap_action
from gateway.proxy.headers import RawHeaders, header
from gateway.proxy.target import PathRefused, canonical_target

#: A client's X-Request-ID is kept when it is this (it goes into headers and every log event).
CLIENT_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")
#: A client identity is kept up to this length (a certificate's subject fits).
MAX_CLIENT_LENGTH = 256


@dataclass(frozen=True, slots=True)
class RequestHead:
    """A request's line and headers, read once."""

    method: str
    headers: RawHeaders
    #: The canonical path forwarded upstream, and the one routes match (`gateway.proxy.target`);
    #: both the path as sent when it is refused, `path_refusal` saying why.
    path: str
    routed_path: str
    path_refusal: str | None
    query: bytes
    #: The client's X-Request-ID when it is a usable one, else a new one.
    request_id: str
    content_type: str
    #: The SOAPAction header as sent: with the Content-Type, it says the SOAP version.
    soap_action_header: str | None
    #: The SOAP action as the SNE's CXF reads it (`gateway.http_metadata.soap_action`).
    soap_action: str | None
    #: The raw request target, as the protocol (`gateway.proxy.protocol`) keeps it.
    target: bytes | None
    http_version: str | None
    scheme: str
    #: The peer's address, and the TLS client certificate's subject when the listener asked
    #: for one (ASGI's TLS extension).
    peer: str | None
    tls_subject: str | None
    #: When the request arrived: `time.time()`, and `time.perf_counter()` to time it by.
    arrived_at: float
    arrived: float

    @classmethod
    def from_scope(cls, scope: HTTPScope) -> RequestHead:
        headers = list(scope["headers"])
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        try:
            target = canonical_target(raw_path)
            path, routed, refusal = target.forwarded, target.routed, None
        except PathRefused as refused:
            path = routed = raw_path
            refusal = f"The request path is refused: {refused}."
        client_id = header(headers, b"x-request-id")
        content_type = header(headers, b"content-type") or ""
        soap_action_header = header(headers, b"soapaction")
        extensions = cast(dict[str, Any], scope.get("extensions") or {})
        peer = scope.get("client")
        return cls(
            method=scope["method"],
            headers=headers,
            path=path,
            routed_path=routed,
            path_refusal=refusal,
            query=scope.get("query_string", b""),
            request_id=(
                client_id
                if client_id is not None and CLIENT_REQUEST_ID.fullmatch(client_id)
                else os.urandom(16).hex()
            ),
            content_type=content_type,
            soap_action_header=soap_action_header,
            soap_action=soap_action(soap_action_header, content_type),
            target=extensions.get("request_target"),
            http_version=scope.get("http_version"),
            scheme=scope.get("scheme", "http"),
            peer=peer[0] if peer else None,
            tls_subject=(extensions.get("tls") or {}).get("client_cert_name"),
            arrived_at=time.time(),
            arrived=time.perf_counter(),
        )

    @property
    def announced_soap_version(self) -> str | None:
        """The SOAP version the headers announce, to answer a body that was not read in it."""
        return announced_soap_version(self.content_type, self.soap_action_header)

    def header(self, name: bytes) -> str | None:
        """The first value of header `name` (lower-case)."""
        return header(self.headers, name)

    def client(self, client_header: str | None) -> str | None:
        """Who sent the request: the TLS client certificate's subject, else the value of
        `client_header` (as a front that terminates TLS passes the subject on), else the peer's
        address."""
        if self.tls_subject:
            return self.tls_subject[:MAX_CLIENT_LENGTH]
        if client_header is not None and (value := self.header(client_header.encode("latin-1"))):
            return value[:MAX_CLIENT_LENGTH]
        return self.peer

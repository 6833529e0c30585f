"""Admission in process: what the gateway refuses before reading a body, from a request's line
and headers alone (`gateway.proxy.admission`), in the order the refusals are tried."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import SHIPPED_CONFIG, load_settings
from gateway.proxy.admission import refusal
from gateway.proxy.request import RequestHead

DRM = b"/v1.0/drm/ressources"
SETTINGS = load_settings(SHIPPED_CONFIG, environ={})
PROD = load_settings(SHIPPED_CONFIG, {"env": "prod"}, environ={})


def head(
    method: str = "POST",
    target: bytes = DRM,
    headers: list[tuple[bytes, bytes]] | None = None,
    http_version: str = "1.1",
) -> RequestHead:
    path = target if target.startswith(b"/") else b"/"
    scope = {
        "type": "http",
        "method": method,
        "path": path.decode("latin-1"),
        "raw_path": path,
        "query_string": b"",
        "headers": [(b"host", b"gateway.test")] if headers is None else headers,
        "http_version": http_version,
        "client": ("192.0.2.7", 40000),
        "extensions": {"request_target": target},
    }
    return RequestHead.from_scope(scope)  # type: ignore[arg-type]


def refused(request: RequestHead, settings=SETTINGS) -> tuple[int, str, dict[bytes, bytes]] | None:
    route = settings.route_for(request.method, request.routed_path, request.soap_action)
    found = refusal(request, route, settings.routes, settings)
    return None if found is None else (found.status, found.reason, dict(found.headers))


HOST = (b"host", b"gateway.test")
BODY = (b"content-length", b"12")


def test_an_ordinary_request_is_admitted() -> None:
    assert refused(head(headers=[HOST, BODY, (b"content-type", b"application/xml")])) is None


@pytest.mark.parametrize("method", ["CONNECT", "TRACE"])
def test_connect_and_trace_are_refused(method: str) -> None:
    status, reason, _ = refused(head(method))  # type: ignore[misc]
    assert status == 405 and reason.startswith(f"The method {method} is refused")


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        (b"*", "The request target '*' (OPTIONS *) is refused"),
        (b"http://elsewhere.example/x", "Absolute-form request targets are refused"),
    ],
)
def test_targets_other_than_a_path_are_refused(target: bytes, reason: str) -> None:
    status, said, _ = refused(head("OPTIONS", target))  # type: ignore[misc]
    assert status == 400 and said.startswith(reason)


@pytest.mark.parametrize(
    ("headers", "http_version", "reason"),
    [
        ([], "1.1", "exactly one Host header"),
        ([HOST, HOST], "1.1", "exactly one Host header"),
        ([HOST, HOST], "1.0", "more than one Host header"),
        ([(b"host", b"user@evil.example")], "1.1", "not a host name or address"),
        ([(b"host", b"a..b")], "1.1", "not a host name or address"),
        ([(b"host", b"[::1]:99999")], "1.1", "not a host name or address"),
    ],
)
def test_a_bad_host_is_refused(headers, http_version: str, reason: str) -> None:
    status, said, _ = refused(head(headers=headers, http_version=http_version))  # type: ignore[misc]
    assert status == 400 and reason in said


def test_http_1_0_needs_no_host() -> None:
    assert refused(head("GET", b"/v1.0/exports/1", headers=[], http_version="1.0")) is None


@pytest.mark.parametrize("name", [b"content-type", b"content-encoding"])
def test_a_doubled_header_the_gateway_validates_by_is_refused(name: bytes) -> None:
    request = head(headers=[HOST, (name, b"application/xml"), (name, b"application/xml")])
    assert refused(request) == (
        400,
        f"The request has 2 {name.decode()} headers; send one.",
        {},
    )


def test_an_action_named_twice_is_refused() -> None:
    content_type = b'application/soap+xml; action="a"; x-action="b"'
    status, said, _ = refused(head(headers=[HOST, (b"content-type", content_type)]))  # type: ignore[misc]
    assert status == 400 and "names an action more than once" in said


@pytest.mark.parametrize(
    "target", [b"/x/../../etc", b"/x/%2F/y", b"/x/..;/y", b"/;x/y", b"/x\\y", b"//x"]
)
def test_a_path_the_gateway_will_not_forward_is_refused(target: bytes) -> None:
    status, said, _ = refused(head("GET", target))  # type: ignore[misc]
    assert status == 400 and said.startswith("The request path is refused: ")


def test_a_method_the_routes_of_its_path_do_not_list_is_refused_where_requests_block() -> None:
    request = head("PUT", DRM, headers=[HOST, BODY, (b"content-type", b"text/plain")])
    status, said, headers = refused(request)  # type: ignore[misc]
    assert (status, headers) == (405, {b"allow": b"POST"})
    assert said.startswith("The method PUT is not one this path's routes take (POST)")
    # Without a body there is nothing to check; where requests are only logged, it goes on.
    assert refused(head("PUT", DRM)) is None
    assert refused(request, PROD) is None


def test_a_request_refused_for_its_host_is_400_even_with_an_unlisted_method() -> None:
    request = head("PUT", DRM, headers=[BODY])
    assert refused(request)[0] == 400  # type: ignore[index]


def test_trace_with_a_body_on_a_route_path_says_the_methods_it_takes() -> None:
    status, _, headers = refused(head("TRACE", DRM, headers=[HOST, BODY]))  # type: ignore[misc]
    assert (status, headers) == (405, {b"allow": b"POST"})


@pytest.mark.parametrize(
    "target",
    [
        b"/_gateway/health",
        b"/_gateway/nothing",
        b"/%5Fgateway/metrics",
        b"/_GATEWAY/x",
        b"/x/../_gateway",
    ],
)
def test_the_reserved_prefix_is_refused_in_every_spelling(target: bytes) -> None:
    status, said, _ = refused(head("GET", target))  # type: ignore[misc]
    assert (status, said) == (
        404,
        "The path is under /_gateway/, reserved to the gateway's endpoints.",
    )


def test_a_request_id_is_kept_when_it_is_visible_ascii() -> None:
    kept = head(headers=[HOST, (b"x-request-id", b"client-1")])
    assert kept.request_id == "client-1"
    replaced = head(headers=[HOST, (b"x-request-id", b"has space")])
    assert replaced.request_id != "has space" and len(replaced.request_id) == 32


def test_the_client_is_the_tls_subject_else_the_configured_header_else_the_peer(
    tmp_path: Path,
) -> None:
    request = head(headers=[HOST, (b"x-client-dn", b"CN=editeur")])
    assert request.client(None) == "192.0.2.7"
    assert request.client("x-client-dn") == "CN=editeur"
    assert request.client("x-absent") == "192.0.2.7"
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [HOST],
        "extensions": {"tls": {"client_cert_name": "CN=mutual"}},
    }
    assert RequestHead.from_scope(scope).client("x-client-dn") == "CN=mutual"  # type: ignore[arg-type]

"""Error classification in process: each way the upstream can fail becomes one
`UpstreamFailure` (code, status, reason), decided where the transport is called; the reason
never quotes the upstream's address or what it sent (`gateway.proxy.upstream_failure`)."""

from __future__ import annotations

import ssl

import aiohttp
import httpx
import pytest
from aiohttp.client_reqrep import ConnectionKey

from gateway.proxy.upstream_failure import answer_failure, invalid_answer, request_failure

ADDRESS = "sne-recette.internal:8443"


def mapped(error: httpx.TransportError, cause: BaseException | None) -> httpx.TransportError:
    """`error` as httpx-aiohttp raises it, from the aiohttp error `cause`."""
    error.__cause__ = cause
    return error


def refused_connection() -> aiohttp.ClientConnectorError:
    key = ConnectionKey("sne-recette.internal", 8443, True, True, None, None, None)
    return aiohttp.ClientConnectorError(
        key, ConnectionRefusedError(111, f"Connect call failed ('{ADDRESS}')")
    )


@pytest.mark.parametrize(
    ("error", "code", "status", "reason"),
    [
        (
            # httpx-aiohttp maps a refused connection to ConnectTimeout: the cause decides.
            mapped(httpx.ConnectTimeout(f"Cannot connect to {ADDRESS}"), refused_connection()),
            "upstream.unreachable",
            502,
            "The SNE platform cannot be reached (ClientConnectorError).",
        ),
        (
            mapped(httpx.ConnectError("TLS"), ssl.SSLError(1, f"handshake with {ADDRESS}")),
            "upstream.unreachable",
            502,
            "The SNE platform cannot be reached (SSLError).",
        ),
        (
            mapped(httpx.ReadTimeout(""), TimeoutError()),
            "upstream.timeout",
            504,
            "The SNE platform did not answer in time (TimeoutError).",
        ),
        (
            httpx.ConnectTimeout("no cause"),
            "upstream.timeout",
            504,
            "The SNE platform did not answer in time (ConnectTimeout).",
        ),
        (
            mapped(httpx.RemoteProtocolError(""), aiohttp.ServerDisconnectedError()),
            "upstream.invalid",
            502,
            "The SNE platform closed the connection without answering (ServerDisconnectedError); "
            "the request may have been processed.",
        ),
        (
            mapped(
                httpx.RemoteProtocolError("Invalid status line 'HTTP/1.1 2OO'"),
                aiohttp.ClientResponseError(None, (), message="Invalid status line"),  # type: ignore[arg-type]
            ),
            "upstream.invalid",
            502,
            "The SNE platform's answer is not valid HTTP (ClientResponseError).",
        ),
    ],
)
def test_a_failed_request_is_classified_by_its_cause(
    error: httpx.TransportError, code: str, status: int, reason: str
) -> None:
    failure = request_failure(error)
    assert (failure.code, failure.status, failure.reason) == (code, status, reason)
    assert ADDRESS not in failure.reason


def test_the_log_keeps_the_cause_but_never_quotes_an_answer_it_could_not_parse() -> None:
    unreachable = request_failure(mapped(httpx.ConnectError("x"), refused_connection()))
    assert ADDRESS in unreachable.cause
    unparsed = request_failure(
        mapped(
            httpx.RemoteProtocolError("Invalid header 'nom: DUPONT'"),
            aiohttp.ClientResponseError(None, (), message="nom: DUPONT"),  # type: ignore[arg-type]
        )
    )
    assert unparsed.cause == "ClientResponseError"


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (mapped(httpx.ReadTimeout(""), TimeoutError()), "upstream.timeout", 504),
        (mapped(httpx.ReadError(""), aiohttp.ClientPayloadError("x")), "upstream.invalid", 502),
    ],
)
def test_an_answer_broken_off_is_classified(
    error: httpx.TransportError, code: str, status: int
) -> None:
    failure = answer_failure(error)
    assert (failure.code, failure.status) == (code, status)


@pytest.mark.parametrize(
    ("status", "headers", "problem"),
    [
        (101, [], "switched protocols"),
        (600, [], "the status 600, which HTTP does not have"),
        (200, [(b"Content-Type", b"a/b"), (b"content-type", b"c/d")], "2 content-type headers"),
        (200, [(b"content-encoding", b"gzip")] * 2, "2 content-encoding headers"),
        (200, [(b"x-note", b"a\x01b")], "a header value with a control character"),
    ],
)
def test_an_answer_that_cannot_be_passed_on_is_invalid(status: int, headers, problem: str) -> None:
    failure = invalid_answer(status, headers, headers)
    assert failure is not None and (failure.code, failure.status) == ("upstream.invalid", 502)
    assert problem in failure.reason


def test_an_ordinary_answer_passes() -> None:
    headers = [(b"content-type", b"application/xml")]
    assert invalid_answer(200, headers, headers) is None

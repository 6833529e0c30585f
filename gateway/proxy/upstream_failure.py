"""What went wrong with the upstream, classified once, where the transport is called
(`gateway.proxy.upstream`): its code, its HTTP status, what the client is told and what the
log says. Nothing above that call looks at the transport's errors.

- `upstream.unreachable` (502): no connection was made (refused, unresolved, TLS handshake
  refused), so the request was not sent: the SI may send it again.
- `upstream.timeout` (504): the upstream did not answer, or stopped sending, in time.
- `upstream.invalid` (502): the connection was made and the request sent, but no valid answer
  came (not HTTP, broken off, or the connection closed without a word): the request may have
  been processed, and a call that is not idempotent (`getNumUnique`) must not be sent again
  blindly.

What the client is told names the kind of error, never the upstream's address (aiohttp's
messages quote its host and port, and an answer it could not parse): the log event, for the
operator, carries the whole `cause`.
"""

from __future__ import annotations

import re
import ssl

import aiohttp
import httpx

from gateway.proxy.headers import RawHeaders

#: What uvicorn refuses to send in a header value (it would drop the connection unanswered).
INVALID_HEADER_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


class UpstreamFailure(Exception):
    """The upstream could not be reached, was too slow, or answered what cannot be passed on:
    `code` (`upstream.unreachable`, `upstream.timeout`, `upstream.invalid`), the HTTP `status`
    the client gets, `reason` for the client (without the upstream's address) and `cause` for
    the log (the underlying error, in its own words)."""

    def __init__(self, code: str, status: int, reason: str, cause: str | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.status = status
        self.reason = reason
        self.cause = cause if cause is not None else reason


def caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    """Whether `error` or an error it came from is a `kind`."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def timed_out(error: httpx.TransportError) -> bool:
    """Whether the upstream was too slow, rather than unreachable. httpx-aiohttp maps aiohttp's
    errors loosely (a refused connection, or a TLS server hanging up on a missing client
    certificate, become ConnectTimeout), so the underlying error decides when there is one."""
    if error.__cause__ is not None:
        return caused_by(error, TimeoutError)
    return isinstance(error, httpx.TimeoutException)


def _not_connected(error: httpx.TransportError) -> bool:
    """Whether the request never reached the upstream: no connection, or no TLS session."""
    if error.__cause__ is None:
        return isinstance(error, httpx.ConnectError)
    return caused_by(error, aiohttp.ClientConnectorError) or caused_by(error, ssl.SSLError)


def _kind(error: httpx.TransportError) -> str:
    """The underlying error's class: what went wrong, without the words that may quote the
    upstream's address or what it sent."""
    return type(error.__cause__ or error).__name__


def _cause(error: httpx.TransportError) -> str:
    """The underlying error in full, for the log; an answer aiohttp could not parse is named,
    not quoted: aiohttp quotes the bytes it choked on, which may be an application, names and
    all."""
    cause = error.__cause__ or error
    if isinstance(error, httpx.RemoteProtocolError) or not str(cause):
        return type(cause).__name__
    return f"{type(cause).__name__}: {cause}"


def request_failure(error: httpx.TransportError) -> UpstreamFailure:
    """The upstream call failed before an answer's headers came."""
    kind, cause = _kind(error), _cause(error)
    if timed_out(error):
        return UpstreamFailure(
            "upstream.timeout", 504, f"The SNE platform did not answer in time ({kind}).", cause
        )
    if _not_connected(error):
        return UpstreamFailure(
            "upstream.unreachable", 502, f"The SNE platform cannot be reached ({kind}).", cause
        )
    if isinstance(error, httpx.RemoteProtocolError) and not caused_by(
        error, aiohttp.ServerDisconnectedError
    ):
        reason = f"The SNE platform's answer is not valid HTTP ({kind})."
    else:
        reason = (
            f"The SNE platform closed the connection without answering ({kind}); the request "
            "may have been processed."
        )
    return UpstreamFailure("upstream.invalid", 502, reason, cause)


def answer_failure(error: httpx.TransportError) -> UpstreamFailure:
    """The upstream's answer broke off while the gateway read it."""
    kind, cause = _kind(error), _cause(error)
    if timed_out(error):
        return UpstreamFailure(
            "upstream.timeout", 504, f"The SNE platform stopped sending its answer ({kind}).", cause
        )
    return UpstreamFailure(
        "upstream.invalid",
        502,
        f"The SNE platform's answer broke off before its end ({kind}).",
        cause,
    )


def invalid_answer(
    status: int, headers: RawHeaders, passed_on: RawHeaders
) -> UpstreamFailure | None:
    """Why an answer with this `status` and these `headers` (`passed_on`: those the client
    would get) cannot be passed on as it is, if it cannot."""
    if status == 101:
        problem = (
            "The SNE platform switched protocols (HTTP 101), which the gateway never asks for."
        )
    elif not 100 <= status <= 599:
        problem = f"The SNE platform answered with the status {status}, which HTTP does not have."
    else:
        names = [name.lower() for name, _ in headers]
        doubled = next(
            (name for name in (b"content-type", b"content-encoding") if names.count(name) > 1),
            None,
        )
        if doubled is not None:
            problem = (
                f"The SNE platform's answer has {names.count(doubled)} {doubled.decode()} "
                "headers: which one its client would follow is not known."
            )
        elif any(INVALID_HEADER_VALUE.search(value) for _, value in passed_on):
            problem = "The SNE platform's answer has a header value with a control character."
        else:
            return None
    return UpstreamFailure("upstream.invalid", 502, problem)

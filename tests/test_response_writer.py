"""The response writer in process: the ASGI messages of a whole answer, a body passed on with
its own length, a stream, and a stream cut (`gateway.proxy.response_writer`)."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.proxy.answer import Answer
from gateway.proxy.response_writer import ResponseWriter


def written(steps: Any) -> tuple[ResponseWriter, list[dict[str, Any]]]:
    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    writer = ResponseWriter(send)  # type: ignore[arg-type]
    asyncio.run(steps(writer))
    return writer, messages


def test_a_whole_answer_has_its_type_and_length_before_the_other_headers() -> None:
    async def steps(writer: ResponseWriter) -> None:
        answer = Answer(422, b"<a/>", b"application/xml; charset=utf-8")
        await writer.whole(answer, [(b"x-request-id", b"r1")])

    writer, messages = written(steps)
    assert messages == [
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/xml; charset=utf-8"),
                (b"content-length", b"4"),
                (b"x-request-id", b"r1"),
            ],
        },
        {"type": "http.response.body", "body": b"<a/>", "more_body": False},
    ]
    assert (writer.status, writer.finished) == (422, True)


def test_a_buffered_body_gets_its_own_length_then_the_gateway_s_headers() -> None:
    async def steps(writer: ResponseWriter) -> None:
        passed_on = [(b"Content-Length", b"999"), (b"content-type", b"text/xml")]
        await writer.buffered(200, passed_on, b"<doc/>", [(b"x-conformance", b"pass")])

    _, messages = written(steps)
    assert messages[0]["headers"] == [
        (b"content-type", b"text/xml"),
        (b"content-length", b"6"),
        (b"x-conformance", b"pass"),
    ]
    assert messages[1] == {"type": "http.response.body", "body": b"<doc/>", "more_body": False}


def test_a_stream_ends_with_an_empty_last_part() -> None:
    async def steps(writer: ResponseWriter) -> None:
        await writer.start(200, [(b"content-type", b"application/gzip")])
        assert writer.status == 200 and not writer.finished
        await writer.chunk(b"ab")
        await writer.chunk(b"cd")
        await writer.end()

    writer, messages = written(steps)
    assert [m.get("body") for m in messages[1:]] == [b"ab", b"cd", b""]
    assert [m.get("more_body") for m in messages[1:]] == [True, True, False]
    assert writer.finished


def test_a_cut_stream_never_sends_its_end() -> None:
    async def steps(writer: ResponseWriter) -> None:
        await writer.start(200, [])
        await writer.chunk(b"part of an export")

    writer, messages = written(steps)
    assert all(m.get("more_body", True) for m in messages)
    assert not writer.finished

"""`serve` runs its processes with the memory allocator its `allocator` setting names: it starts
itself again, once, with the library preloaded, and says in `gateway.started` which allocator
is in use, falling back to the system's when the library cannot be loaded."""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import queue
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from gateway.allocator import RESTARTED_VARIABLE, allocator_library, in_use, loaded, refused
from tests.servers import serve_command

ROOT = Path(__file__).resolve().parent.parent
#: glibc's asynchronous name lookup library: on every glibc system, and loaded by nothing the
#: gateway runs, so finding it mapped proves the preload.
LIBRARY_DIRECTORIES = (
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
)
LIBANL = next(
    (
        path
        for directory in LIBRARY_DIRECTORIES
        if (path := Path(directory) / "libanl.so.1").is_file()
    ),
    None,
)
needs_libanl = pytest.mark.skipif(LIBANL is None, reason="no glibc libanl.so.1 on this system")


def test_system_preloads_nothing() -> None:
    assert allocator_library("system") is None


def test_a_library_path_is_preloaded_as_given() -> None:
    assert allocator_library("/opt/lib/libjemalloc.so.2") == "/opt/lib/libjemalloc.so.2"


def test_loaded_tells_the_libraries_mapped_into_this_process() -> None:
    assert loaded(etree.__file__)
    assert not loaded("/nowhere/libnothing.so.1")


def test_auto_leaves_an_operators_ld_preload_alone(monkeypatch) -> None:
    monkeypatch.setenv("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")
    assert allocator_library("auto") is None


def test_in_use_names_the_library_serve_restarted_with_only_once_it_is_loaded(
    monkeypatch,
) -> None:
    assert in_use() == "system"
    monkeypatch.setenv(RESTARTED_VARIABLE, "/nowhere/libmimalloc.so.2")
    assert in_use() == "system"
    assert refused() == "/nowhere/libmimalloc.so.2"
    monkeypatch.setenv(RESTARTED_VARIABLE, etree.__file__)
    assert in_use() == Path(etree.__file__).name
    assert refused() is None


def test_in_use_names_an_allocator_the_operator_preloaded(monkeypatch, tmp_path: Path) -> None:
    # A file whose name says "malloc", mapped into this process as a preloaded library would be.
    library = tmp_path / "libtestmalloc.so.1"
    library.write_bytes(b"\0" * 4096)
    with library.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ):
        monkeypatch.setenv("LD_PRELOAD", f"/nowhere/libother.so {library}")
        assert in_use() == "libtestmalloc.so.1"
    monkeypatch.setenv("LD_PRELOAD", "/nowhere/libjemalloc.so.2")
    assert in_use() == "system"


@contextlib.contextmanager
def started_gateway(
    allocator: str, workers: int = 1, config: str | None = None
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """A `serve` subprocess with `allocator`, its pid and its JSON log events up to (and
    including) the `gateway.started` of each of its `workers`; `config`, if given, is the
    configuration file's text, read from a pipe (`--config /dev/stdin`)."""
    piped = ("--config", "/dev/stdin") if config is not None else ()
    command, _ = serve_command(
        "--upstream", "http://127.0.0.1:9", "--workers", str(workers), *piped
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("LD_PRELOAD", RESTARTED_VARIABLE)
    }
    environment |= {"SNE_GATEWAY_ALLOCATOR": allocator, "SNE_GATEWAY_LOG_FORMAT": "json"}
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stderr is not None
    process.stdin.write(config or "")
    process.stdin.close()
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stderr], daemon=True
    ).start()
    events: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + 120
        while sum(event.get("event") == "gateway.started" for event in events) < workers:
            assert process.poll() is None and time.monotonic() < deadline, (
                f"the gateway did not start (exit status {process.poll()}); its lines: {events}"
            )
            with contextlib.suppress(queue.Empty):
                events.append(event_of(lines.get(timeout=1)))
        # A warning, if any, follows the start event.
        with contextlib.suppress(queue.Empty):
            while True:
                events.append(event_of(lines.get(timeout=1)))
        yield process.pid, events
    finally:
        process.terminate()
        process.wait(timeout=30)


def event_of(line: str) -> dict[str, Any]:
    """A JSON log line's event; any other line kept as text, for the failure message."""
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return {"text": line}


def _started(events: list[dict[str, Any]]) -> dict[str, Any]:
    return next(event for event in events if event.get("event") == "gateway.started")


@needs_libanl
def test_serve_restarts_itself_with_the_library_preloaded() -> None:
    with started_gateway(str(LIBANL)) as (pid, events):
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        maps = Path(f"/proc/{pid}/maps").read_text()
    assert f"LD_PRELOAD={LIBANL}".encode() in environ
    assert "libanl" in maps
    assert _started(events)["allocator"] == "libanl.so.1"
    assert not any(event.get("event") == "allocator.not-loaded" for event in events)


@needs_libanl
def test_worker_processes_inherit_the_allocator() -> None:
    with started_gateway(str(LIBANL), workers=2) as (_, events):
        workers = [
            int(match[1])
            for event in events
            if (match := re.fullmatch(r"Started server process \[(\d+)\]", event.get("event", "")))
        ]
        maps = [Path(f"/proc/{pid}/maps").read_text() for pid in workers]
    assert len(workers) == 2
    assert all("libanl" in worker_maps for worker_maps in maps)
    started = [event for event in events if event.get("event") == "gateway.started"]
    assert [event["allocator"] for event in started] == ["libanl.so.1", "libanl.so.1"]


def test_a_library_the_loader_refuses_leaves_the_system_allocator_and_says_so(
    tmp_path: Path,
) -> None:
    not_a_library = tmp_path / "libfake.so"
    not_a_library.write_text("not an ELF file")
    with started_gateway(str(not_a_library)) as (_, events):
        pass
    assert _started(events)["allocator"] == "system"
    warning = next(event for event in events if event.get("event") == "allocator.not-loaded")
    assert warning["library"] == str(not_a_library)
    assert warning["level"] == "warning"


def test_system_starts_without_restarting() -> None:
    with started_gateway("system") as (pid, events):
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert RESTARTED_VARIABLE.encode() not in environ
    assert _started(events)["allocator"] == "system"


@pytest.mark.skipif(
    allocator_library("auto") is None, reason="mimalloc is not installed (libmimalloc2.0)"
)
def test_auto_runs_with_mimalloc_where_the_system_has_it() -> None:
    with started_gateway("auto") as (pid, events):
        maps = Path(f"/proc/{pid}/maps").read_text()
    assert "libmimalloc" in maps
    assert _started(events)["allocator"] == "mimalloc"


@needs_libanl
def test_a_configuration_read_from_a_pipe_is_read_once_without_restarting() -> None:
    with started_gateway(str(LIBANL), config='[gateway]\nenv = "prod"\n') as (pid, events):
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    started = _started(events)
    assert started["env"] == "prod"
    assert started["allocator"] == "system"
    assert RESTARTED_VARIABLE.encode() not in environ

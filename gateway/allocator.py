"""The memory allocator the gateway's processes run with.

libxml2 allocates every node of a parsed tree with malloc and frees them all a few hundred
microseconds later, between the HTTP stack's own allocations. mimalloc serves that pattern
faster than glibc's malloc: a validating worker does more exchanges per second with it
(`docs/benchmarks.md`). mimalloc is a system library (Debian and Ubuntu: `libmimalloc2.0`), not a
Python package, so it is loaded with `LD_PRELOAD`, which only takes effect when a program
starts: `serve` starts itself again with it, once, before doing anything else. Workers spawned
afterwards inherit it.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from pathlib import Path

AUTO = "auto"
SYSTEM = "system"
#: Set on the restarted process: the library it was restarted with, so it is never restarted
#: twice (the dynamic loader only warns when it cannot preload a library).
RESTARTED_VARIABLE = "_SNE_GATEWAY_PRELOADED"


def allocator_library(setting: str) -> str | None:
    """The shared library to preload for the `allocator` setting: `auto` (mimalloc where the
    system has it, unless `LD_PRELOAD` already names libraries: the operator's choice),
    `system` (glibc's malloc) or a library's path. None: nothing to preload."""
    if setting == SYSTEM or not sys.platform.startswith("linux"):
        return None
    if setting == AUTO:
        if os.environ.get("LD_PRELOAD", "").strip():
            return None
        return ctypes.util.find_library("mimalloc")
    return setting


def loaded(library: str) -> bool:
    """Whether `library` (a path or a file name such as `libmimalloc.so.2`) is mapped into this
    process."""
    names = {Path(library).name, Path(os.path.realpath(library)).name}
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return False
    mapped = {Path(line.split()[-1]).name for line in maps.splitlines() if "/" in line}
    return any(file.startswith(name) for file in mapped for name in names)


def restart_with(library: str) -> None:
    """Replace this process with the same command line, `library` preloaded, unless it is
    loaded already or this process is that restart (then return)."""
    if loaded(library) or os.environ.get(RESTARTED_VARIABLE) == library:
        return
    preload = " ".join(filter(None, (library, os.environ.get("LD_PRELOAD"))))
    environment = {**os.environ, "LD_PRELOAD": preload, RESTARTED_VARIABLE: library}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, sys.orig_argv, environment)


def in_use() -> str:
    """What the logs say of the allocator: `mimalloc`, or the file name of the library `serve`
    restarted with or of an allocator the operator preloaded (`*malloc*`), or `system`."""
    preloaded = [
        library
        for library in os.environ.get("LD_PRELOAD", "").split()
        if "malloc" in Path(library).name
    ]
    for library in filter(None, (os.environ.get(RESTARTED_VARIABLE), *preloaded)):
        if loaded(library):
            name = Path(library).name
            return "mimalloc" if name.startswith("libmimalloc") else name
    return SYSTEM


def refused() -> str | None:
    """The library `serve` restarted with, if the dynamic loader refused to preload it."""
    library = os.environ.get(RESTARTED_VARIABLE)
    return library if library and not loaded(library) else None

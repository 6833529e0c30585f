"""Export members whose name would not extract where it reads (`archive.unsafe-name`).

A member is validated under its name; the SI extracts it with GNU tar, 7-Zip, Windows' own
tar or Java's commons-compress. A name that one of them writes elsewhere is refused: an
absolute name (GNU tar strips the `/`, naive extractors write at that very path), a `..`
segment (written outside the extraction directory: "tar-slip"), and what Windows reads
otherwise: a segment ending in a space or a dot (dropped: `evil.xml ` is written as `evil.xml`,
over the member validated under that name), a backslash (a separator there: `a\\..\\..\\x`), a
character it does not allow in a name (`:` opens an alternate data stream), or a device name
(`NUL.xml` writes to no file). So is a link whose target lies outside the extraction directory:
members after it could be written through it. A trailing `/` is not a problem: every tool
drops it.
"""

from __future__ import annotations

import re

#: Control characters and what Windows does not allow in a name.
_WINDOWS_FORBIDDEN = re.compile(r'[\x00-\x1f<>:"|?*]')
#: Device names Windows reserves, whatever the extension (`NUL.xml`, `com1.txt`).
_DEVICE = re.compile(r"(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(?:\..*)?", re.IGNORECASE)
_ADVICE = " An SNE export holds relative names, one folder per entity."


def unsafe_name(name: str) -> str | None:
    """Why member `name` would not extract where it reads, or None."""
    name = name.rstrip("/")
    if name.startswith("/"):
        return (
            "The member's name is absolute: GNU tar writes it under the extraction directory, "
            "other tools at that very path." + _ADVICE
        )
    if "\\" in name:
        return (
            "The member's name holds a backslash, a separator on Windows: extracted there, it "
            "is written under another path than the one validated." + _ADVICE
        )
    segments = name.split("/")
    if ".." in segments:
        return (
            "The member's name has a '..' segment: extracted, it is written outside the "
            "extraction directory." + _ADVICE
        )
    if any(segment.endswith((" ", ".")) and segment not in (".", "") for segment in segments):
        return (
            "The member's name has a segment ending in a space or a dot, which Windows drops: "
            "extracted there, it is written under another name than the one validated." + _ADVICE
        )
    if _WINDOWS_FORBIDDEN.search(name):
        return (
            "The member's name holds a control character or one of < > : \" | ? *, which "
            "Windows does not allow in a name (':' opens an alternate data stream): extracted "
            "there, it is written elsewhere or not at all." + _ADVICE
        )
    if any(_DEVICE.fullmatch(segment) for segment in segments):
        return (
            "The member's name is a device Windows reserves (CON, NUL, COM1...): extracted "
            "there, it is written to no file." + _ADVICE
        )
    return None


def unsafe_link(name: str, target: str, symbolic: bool) -> str | None:
    """Why a link named `name` to `target` would let later members be written outside the
    extraction directory, or None. A hard link's target is a path from that directory, a
    symbolic link's from the link's own."""
    if target.startswith("/") or "\\" in target:
        depth = -1
    else:
        depth = name.rstrip("/").count("/") if symbolic else 0
        for segment in target.split("/"):
            if segment == "..":
                depth -= 1
                if depth < 0:
                    break
            elif segment not in (".", ""):
                depth += 1
    if depth >= 0:
        return None
    return (
        "The member is a link to a path outside the extraction directory: members after it "
        "could be written through it." + _ADVICE
    )

"""The bounds the engine enforces on every document, whatever its source."""

from __future__ import annotations

from dataclasses import dataclass

#: libxml2 refuses deeper documents unless XML_PARSE_HUGE is set, which would also lift its
#: other safety limits, so the engine never allows more.
LIBXML2_MAX_DEPTH = 256
#: Failed documents whose reports a message or an archive keeps (answered and logged); the rest
#: are counted. An export made under another interface version can fail in every member, and a
#: 470 KB SOAP body can carry 10,000 embedded documents.
MAX_FAILED_DOCUMENTS = 100


@dataclass(frozen=True, slots=True)
class Limits:
    """`max_bytes`: largest document accepted (an SNE application is about 15 KB; an export
    member a few MB). `max_depth`: deepest element nesting (SNE documents stay under 15).
    `max_violations`: violations listed per document; the rest are only counted."""

    max_bytes: int = 32 * 1024 * 1024
    max_depth: int = LIBXML2_MAX_DEPTH
    max_violations: int = 100

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1, not {self.max_bytes}")
        if not 1 <= self.max_depth <= LIBXML2_MAX_DEPTH:
            raise ValueError(
                f"max_depth must be between 1 and {LIBXML2_MAX_DEPTH}, not {self.max_depth}"
            )
        if self.max_violations < 1:
            raise ValueError(f"max_violations must be at least 1, not {self.max_violations}")


DEFAULT_LIMITS = Limits()

"""Where a schema component is declared: its file and line.

xmlschema builds its components from ElementTree elements, which carry no line numbers. Each
schema file is parsed once more with lxml and the two trees are walked in step: comments and
processing instructions aside, the n-th element of one is the n-th element of the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from gateway.schema import lines_as_lf


@dataclass(frozen=True, slots=True)
class Source:
    """A declaration's place: `file` relative to the schema set's folder where it lies there."""

    file: str
    line: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line}

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


def url_path(url: str | None, fallback: Path) -> Path:
    """The local file an xmlschema URL names (`fallback` for none or a non-file URL)."""
    if not url:
        return fallback
    parts = urlsplit(url)
    return Path(unquote(parts.path)).resolve() if parts.scheme in ("file", "") else fallback


def _signature(elements: list[Any]) -> list[str]:
    return [element.tag for element in elements]


class SourceIndex:
    """Lines of the elements of the schema files of one compiled schema.

    `entry` stands for the file of schemas that xmlschema built without a URL (the inline
    schemas of a WSDL); `folder` is what file names are shown relative to.
    """

    def __init__(self, entry: Path, folder: Path) -> None:
        self._entry = entry
        self._folder = folder
        self._lines: dict[int, int] = {}
        self._parsed: dict[Path, etree._ElementTree] = {}
        self._shown: dict[str | None, str] = {}

    def add(self, url: str | None, root: Any) -> None:
        """Index the ElementTree subtree `root` that xmlschema read from `url`."""
        path = url_path(url, self._entry)
        document = self._parsed.get(path)
        if document is None:
            parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
            try:
                # Line ends made LF, as the catalog reads the file: a file with CR-only line
                # ends would otherwise have every declaration on line 1.
                data = lines_as_lf(path.read_bytes())
                document = etree.fromstring(data, parser, base_url=str(path)).getroottree()
            except (OSError, etree.XMLSyntaxError):
                return
            self._parsed[path] = document
        try:
            self._shown[url] = path.resolve().relative_to(self._folder.resolve()).as_posix()
        except ValueError:
            self._shown[url] = str(path)
        expected = _signature(list(root.iter()))
        # An inline schema of a WSDL is a subtree of the file: find the matching one.
        for candidate in document.getroot().iter(root.tag):
            elements = list(candidate.iter(etree.Element))
            if _signature(elements) == expected:
                for original, located in zip(root.iter(), elements, strict=True):
                    self._lines[id(original)] = located.sourceline
                return

    def source(self, component: Any) -> Source | None:
        """The file and line of an xmlschema component (None for built-in components)."""
        schema = getattr(component, "schema", None)
        shown = self._shown.get(getattr(schema, "url", None)) if schema is not None else None
        if shown is None:
            return None
        return Source(shown, self._lines.get(id(component.elem)))

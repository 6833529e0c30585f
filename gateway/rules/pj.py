"""`rule.pj-*`: the page metadata of a supporting document (PJ) must describe its file.

Since 13.34 a `pieceJustificative` may say which pages of the uploaded file hold which document
(`listeContenuPiece/contenuPiece`: `pageDebut`, `pageFin`, `typeDocument@code`, `annee`).
The XSD bounds each number; it cannot say that, within one piece:

- `rule.pj-page-range`: a content starts on or before the page it ends on;
- `rule.pj-page-beyond`: a content ends within the file (`nombrePages`, when given);
- `rule.pj-page-overlap`: no page holds two contents;
- `rule.pj-page-order`: contents are listed in page order (readers take the list as the
  file's table of contents, and the SNE's example lists them so);
- `rule.pj-annee`: a content's `annee` is not after the year the piece was deposited
  (`dateDepot`; the document's `entete/dateFichier` where the piece has none): a file cannot
  hold a document of a later year.

Contents are named by their position in the list and their pages, never by the file's name or
what it holds. A page number or year that is not a number is the XSD's to report: the rules
leave that content out. They follow the environment's policy by default: the metadata is
plainly wrong, whatever the SNE enforces.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from gateway.explain import element_path
from gateway.names import NUU
from gateway.rules.rule import Finding, Rule, RuleContext

LISTE = f"{{{NUU}}}listeContenuPiece"
CONTENU = f"{{{NUU}}}contenuPiece"
_NUMBER = re.compile(r"\s*(\d{1,9})\s*")
_YEAR = re.compile(r"\s*(\d{4})-\d\d-\d\d")


def _number(text: str | None) -> int | None:
    match = _NUMBER.fullmatch(text or "")
    return int(match[1]) if match else None


def _year(text: str | None) -> int | None:
    match = _YEAR.match(text or "")
    return int(match[1]) if match else None


@dataclass(frozen=True, slots=True)
class _Content:
    position: int
    element: etree._Element
    first: int
    last: int

    @property
    def pages(self) -> str:
        return (
            f"page {self.first}" if self.first == self.last else f"pages {self.first}-{self.last}"
        )

    def name(self) -> str:
        return f"Content {self.position} ({self.pages})"


class _Piece:
    """One `listeContenuPiece`: its contents' paths are built from the list's, once."""

    def __init__(self, liste: etree._Element, contents: list[etree._Element]) -> None:
        self.liste = liste
        self.many = len(contents) > 1
        self._base: str | None = None

    def path(self, position: int) -> str:
        if self._base is None:
            self._base = element_path(self.liste)
        step = f"nuu:contenuPiece[{position}]" if self.many else "nuu:contenuPiece"
        return f"{self._base}/{step}"

    def finding(self, content: _Content, code: str, message: str) -> Finding:
        return Finding(
            content.element, lambda: (code, message), lambda: self.path(content.position)
        )


def _overlaps(piece: _Piece, contents: list[_Content]) -> Iterator[Finding]:
    """Each content that shares a page with one before it in page order, reported on the one
    listed later of the two."""
    widest: _Content | None = None
    for content in sorted(contents, key=lambda c: (c.first, c.last, c.position)):
        if widest is not None and content.first <= widest.last:
            later, earlier = sorted((content, widest), key=lambda c: c.position, reverse=True)
            shared_last = min(content.last, widest.last)
            shared = (
                f"page {content.first}"
                if shared_last == content.first
                else f"pages {content.first}-{shared_last}"
            )
            yield piece.finding(
                later,
                "rule.pj-page-overlap",
                f"{later.name()} overlaps {earlier.name().lower()} on {shared}: a page "
                "holds one document.",
            )
        if widest is None or content.last > widest.last:
            widest = content


def _years(
    piece_element: etree._Element, contents: list[etree._Element], context: RuleContext
) -> Iterator[Finding]:
    deposited = _year(piece_element.findtext(f"{{{NUU}}}dateDepot"))
    reference = "dateDepot"
    if deposited is None:
        deposited = _year(context.document.findtext(f"{{{NUU}}}entete/{{{NUU}}}dateFichier"))
        reference = "the document's dateFichier"
    if deposited is None:
        return
    for position, element in enumerate(contents, 1):
        annee = element.find(f"{{{NUU}}}annee")
        year = _number(annee.text) if annee is not None else None
        if annee is None or year is None or year <= deposited:
            continue
        if context.show_values:
            message = (
                f"Content {position}'s annee {year} is after {deposited}, the year of "
                f"{reference}: a file cannot hold a document of a later year."
            )
        else:
            message = (
                f"Content {position}'s annee is after the year of {reference}: a file cannot "
                "hold a document of a later year."
            )
        yield Finding(annee, lambda message=message: ("rule.pj-annee", message))


def check(liste: etree._Element, context: RuleContext) -> Iterator[Finding]:
    elements = list(liste.iterchildren(CONTENU))
    piece = _Piece(liste, elements)
    # The list's piece; the list itself when a document is nothing else (the XSD says so).
    parent = liste.getparent()
    piece_element = parent if parent is not None else liste
    pages = _number(piece_element.findtext(f"{{{NUU}}}nombrePages"))
    contents: list[_Content] = []
    for position, element in enumerate(elements, 1):
        first = _number(element.findtext(f"{{{NUU}}}pageDebut"))
        last = _number(element.findtext(f"{{{NUU}}}pageFin"))
        if first is None or last is None:
            continue
        content = _Content(position, element, first, last)
        if first > last:
            yield piece.finding(
                content,
                "rule.pj-page-range",
                f"Content {position} starts on page {first} and ends on page {last}: "
                "pageDebut must not be after pageFin.",
            )
            continue
        if pages is not None and last > pages:
            yield piece.finding(
                content,
                "rule.pj-page-beyond",
                f"{content.name()} ends past the last page of the file: the piece has "
                f"{pages} pages (nombrePages).",
            )
        contents.append(content)
    yield from _overlaps(piece, contents)
    for before, content in itertools.pairwise(contents):
        if content.first < before.first:
            yield piece.finding(
                content,
                "rule.pj-page-order",
                f"{content.name()} is listed after {before.name().lower()}: contents are "
                "listed in page order.",
            )
    yield from _years(piece_element, elements, context)


RULE = Rule(
    name="pj",
    codes=(
        "rule.pj-page-range",
        "rule.pj-page-beyond",
        "rule.pj-page-overlap",
        "rule.pj-page-order",
        "rule.pj-annee",
    ),
    default_action="policy",
    tags=(LISTE,),
    check=check,
)

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
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from lxml import etree

from gateway.explain import element_path
from gateway.names import NUU
from gateway.rules.rule import Finding, Rule, RuleContext

LISTE = f"{{{NUU}}}listeContenuPiece"
CONTENU = f"{{{NUU}}}contenuPiece"
_PAGE_DEBUT = f"{{{NUU}}}pageDebut"
_PAGE_FIN = f"{{{NUU}}}pageFin"
_ANNEE = f"{{{NUU}}}annee"
_NOMBRE_PAGES = f"{{{NUU}}}nombrePages"
_DATE_DEPOT = f"{{{NUU}}}dateDepot"
_YEAR = re.compile(r"\s*(\d{4})-\d\d-\d\d")


def _number(text: str | None) -> int | None:
    """A page or year written as digits (at most 9); None for anything else."""
    digits = (text or "").strip()
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 9 else None


def _year(text: str | None) -> int | None:
    match = _YEAR.match(text or "")
    return int(match[1]) if match else None


class _Content(NamedTuple):
    """A content whose pages are numbers: its position in the list (from 1), its element,
    its pages, and its `annee` element and value (None when absent or not a number)."""

    position: int
    element: etree._Element
    first: int
    last: int
    annee: etree._Element | None
    year: int | None

    @property
    def pages(self) -> str:
        return (
            f"page {self.first}" if self.first == self.last else f"pages {self.first}-{self.last}"
        )

    def name(self) -> str:
        return f"Content {self.position} ({self.pages})"


def _read(content: etree._Element) -> tuple[int | None, int | None, etree._Element | None]:
    """A content's first and last pages and its `annee` element, in one pass over its children
    (this runs for every list of every exchange: `findtext` would parse a path each time, and a
    tag filter build a matcher each time, which costs more than comparing the tags)."""
    first = last = None
    annee = None
    for child in content:
        tag = child.tag
        if tag == _PAGE_DEBUT:
            first = _number(child.text)
        elif tag == _PAGE_FIN:
            last = _number(child.text)
        elif tag == _ANNEE:
            annee = child
    return first, last, annee


def _contents(liste: etree._Element) -> list[_Content]:
    """The contents whose pages are numbers."""
    contents = []
    position = 0
    for element in liste:
        if element.tag != CONTENU:
            continue
        position += 1
        first, last, annee = _read(element)
        if first is not None and last is not None:
            year = None if annee is None else _number(annee.text)
            contents.append(_Content(position, element, first, last, annee, year))
    return contents


def _in_order(liste: etree._Element) -> tuple[int, int | None] | None:
    """When the contents whose pages are numbers are listed in page order, each starting after
    the one before ends: the last page of the last one (0 without any) and the latest `annee`;
    else None. The common case, decided before anything is built for a finding."""
    previous = 0
    latest = None
    for element in liste:
        if element.tag != CONTENU:
            continue
        first, last, annee = _read(element)
        if first is None or last is None:
            continue
        if not previous < first <= last:
            return None
        previous = last
        year = None if annee is None else _number(annee.text)
        if year is not None and (latest is None or year > latest):
            latest = year
    return previous, latest


def _of_the_piece(
    liste: etree._Element, document: etree._Element
) -> tuple[int | None, int | None, str]:
    """The file's page count (`nombrePages`), the year it was deposited and where that year
    comes from: the last `nombrePages` and `dateDepot` of the list's piece, looked for from its
    end (the list comes last in a piece: its first children are not read); the document's
    `dateFichier` when the piece has no date. The piece is the list itself when a document is
    nothing else (the XSD says so)."""
    parent = liste.getparent()
    pages = deposited = None
    pages_found = date_found = False
    for child in parent.iterchildren(reversed=True) if parent is not None else ():
        tag = child.tag
        if tag == _NOMBRE_PAGES and not pages_found:
            pages, pages_found = _number(child.text), True
        elif tag == _DATE_DEPOT and not date_found:
            deposited, date_found = child.text, True
        if pages_found and date_found:
            break
    year = _year(deposited)
    if year is not None:
        return pages, year, "dateDepot"
    dated = _year(document.findtext(f"{{{NUU}}}entete/{{{NUU}}}dateFichier"))
    return pages, dated, "the document's dateFichier"


class _Piece:
    """One `listeContenuPiece` and its piece: the file's page count and deposit year, and the
    contents' paths, built from the list's once, only when a finding needs one."""

    def __init__(self, liste: etree._Element, document: etree._Element) -> None:
        self.liste = liste
        self._base: str | None = None
        self.pages, self.year, self.year_from = _of_the_piece(liste, document)

    def path(self, position: int) -> str:
        if self._base is None:
            self._base = element_path(self.liste)
        many = len(self.liste.findall(CONTENU)) > 1
        step = f"nuu:contenuPiece[{position}]" if many else "nuu:contenuPiece"
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


def _late(piece: _Piece, content: _Content, annee: etree._Element, context: RuleContext) -> Finding:
    if context.show_values:
        message = (
            f"Content {content.position}'s annee {content.year} is after {piece.year}, the "
            f"year of {piece.year_from}: a file cannot hold a document of a later year."
        )
    else:
        message = (
            f"Content {content.position}'s annee is after the year of {piece.year_from}: a "
            "file cannot hold a document of a later year."
        )
    return Finding(annee, lambda: ("rule.pj-annee", message))


def check(liste: etree._Element, context: RuleContext) -> Iterable[Finding]:
    in_order = _in_order(liste)
    if in_order is not None:
        last, latest = in_order
        if not last:
            return ()
        pages, year, _ = _of_the_piece(liste, context.document)
        within = pages is None or last <= pages
        if within and (year is None or latest is None or latest <= year):
            return ()
    return _findings(liste, context)


def _findings(liste: etree._Element, context: RuleContext) -> Iterator[Finding]:
    piece = _Piece(liste, context.document)
    contents = _contents(liste)
    ordered: list[_Content] = []
    for content in contents:
        late = piece.year is not None and content.year is not None and content.year > piece.year
        if late and content.annee is not None:
            yield _late(piece, content, content.annee, context)
        if content.first > content.last:
            yield piece.finding(
                content,
                "rule.pj-page-range",
                f"Content {content.position} starts on page {content.first} and ends on page "
                f"{content.last}: pageDebut must not be after pageFin.",
            )
            continue
        if piece.pages is not None and content.last > piece.pages:
            yield piece.finding(
                content,
                "rule.pj-page-beyond",
                f"{content.name()} ends past the last page of the file: the piece has "
                f"{piece.pages} pages (nombrePages).",
            )
        ordered.append(content)
    yield from _overlaps(piece, ordered)
    for before, content in itertools.pairwise(ordered):
        if content.first < before.first:
            yield piece.finding(
                content,
                "rule.pj-page-order",
                f"{content.name()} is listed after {before.name().lower()}: contents are "
                "listed in page order.",
            )


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

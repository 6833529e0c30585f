"""Faults the simulator injects on purpose: what the gateway exists to catch.

Syntax of `--faults` (and of the `X-Simulator-Fault` request header): comma-separated items
`KIND[=RATE][:DURATION]`. RATE is the probability (0 to 1, default 1) that an answer carries
that fault, drawn independently for each kind; DURATION (`2s`, `500ms`) is for `slow` only.

    empty-adresse=0.2,pj-metadata=0.1,too-long=0.1,unknown-element=0.05,malformed=0.05,slow=0.1:2s,5xx=0.05

Kinds, and what a gateway validating with the right version reports:

- `empty-adresse`: the first applicant's `adressePostale` is emitted empty (the 2025 incident):
  valid under 13.34, `xsd.missing-element` under 13.33 (`xsd.unexpected-element` in a GDM
  feed, where 13.33 has no such element);
- `pj-metadata`: a supporting document carries page metadata (`listeContenuPiece`): valid under
  13.34, `xsd.unexpected-element` under 13.33;
- `too-long`: a field one past its `maxLength` (a name, a label, ...): `xsd.facet`;
- `unknown-element`: an element no schema declares, after the `entete`: `xsd.unexpected-element`;
- `malformed`: the document is cut in the middle: `xml.malformed`;
- `slow`: the answer waits DURATION (default 2s) first: `upstream.timeout` past the gateway's
  `read_timeout`;
- `5xx`: a server error instead of the answer (a SOAP Fault `env:Receiver`, HTTP 500, on the
  SOAP services; an anomaly document, HTTP 503, on the REST interface).

Document faults apply to the business documents of an answer (the MTOM attachment of a SOAP
answer; each member of an export archive) and are skipped where they cannot apply (no
`adressePostale` in a DRM answer). The header replaces `--faults` for the one answer.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from gateway.simulator.demande import TAX_NOTICE, add_page_contents, add_piece, demande_logement
from gateway.simulator.nuu_document import nuu, serialize

EMPTY_ADDRESS = "empty-adresse"
PJ_METADATA = "pj-metadata"
TOO_LONG = "too-long"
UNKNOWN_ELEMENT = "unknown-element"
MALFORMED = "malformed"
SLOW = "slow"
SERVER_ERROR = "5xx"
KINDS = (EMPTY_ADDRESS, PJ_METADATA, TOO_LONG, UNKNOWN_ELEMENT, MALFORMED, SLOW, SERVER_ERROR)
DEFAULT_SLOW_SECONDS = 2.0
HEADER = "X-Simulator-Fault"
#: Fields `too-long` overflows, most telling first, with their maxLength in the shipped set.
#: `entete/codeGuichet` (5) is the fallback: every document has an entete.
OVERFLOWED = (("nom", 50), ("libelle", 255), ("idExport", 36), ("message", 512))
GUICHET_MAX = 5
#: When `pj-metadata` must add a supporting document to an application that has none.
DEPOSITED = datetime(2025, 6, 12, 10, 39, 2, tzinfo=UTC)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s)?")


class FaultSpecError(ValueError):
    """A `--faults` value that cannot be read; the message says which item and why."""


@dataclass(frozen=True)
class FaultSpec:
    """The rate of each fault kind (kinds at rate 0 are left out)."""

    rates: dict[str, float] = field(default_factory=dict)
    slow_seconds: float = DEFAULT_SLOW_SECONDS

    def __str__(self) -> str:
        if not self.rates:
            return "none"
        items = []
        for kind, rate in self.rates.items():
            duration = f":{self.slow_seconds:g}s" if kind == SLOW else ""
            items.append(f"{kind}={rate:g}{duration}")
        return ",".join(items)


NO_FAULTS = FaultSpec()


def _duration(text: str, item: str) -> float:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise FaultSpecError(f"'{item}': the duration must read like 2s or 500ms, not '{text}'")
    value = float(match[1])
    return value / 1000 if match[2] == "ms" else value


def parse_faults(text: str) -> FaultSpec:
    """Read a fault specification (see the module's documentation); raise `FaultSpecError`."""
    rates: dict[str, float] = {}
    slow_seconds = DEFAULT_SLOW_SECONDS
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        head, colon, duration = item.partition(":")
        kind, equals, rate_text = (part.strip() for part in head.partition("="))
        if kind not in KINDS:
            raise FaultSpecError(f"'{item}': unknown fault '{kind}'; known: {', '.join(KINDS)}")
        if kind in rates:
            raise FaultSpecError(f"'{item}': the fault '{kind}' is given twice")
        try:
            rate = float(rate_text) if equals else 1.0
        except ValueError:
            raise FaultSpecError(
                f"'{item}': the rate must be a number, not '{rate_text}'"
            ) from None
        if not 0 <= rate <= 1:
            raise FaultSpecError(f"'{item}': the rate must be between 0 and 1, not {rate:g}")
        if colon:
            if kind != SLOW:
                raise FaultSpecError(f"'{item}': only '{SLOW}' takes a duration")
            slow_seconds = _duration(duration, item)
        if rate > 0:
            rates[kind] = rate
    return FaultSpec(rates, slow_seconds)


# -- document faults: each changes a built document in place, if it applies ----------------


def _empty_postal_address(root: etree._Element) -> None:
    demandeur = next(root.iter(nuu("demandeur")), None)
    if demandeur is None:
        return
    address = demandeur.find(nuu("adressePostale"))
    if address is None:
        # A GDM applicant summary: adressePostale is its last (optional) child since 13.34.
        etree.SubElement(demandeur, nuu("adressePostale"))
    else:
        address.clear()


def _page_metadata(root: etree._Element) -> None:
    logement = demande_logement(root)
    if logement is None:
        return
    piece = logement.find(f"{nuu('listePieceJustificative')}/{nuu('pieceJustificative')}")
    if piece is None:
        # listePieceJustificative is the last child of demandeLogement.
        liste = etree.SubElement(logement, nuu("listePieceJustificative"))
        add_piece(liste, random.Random(0), TAX_NOTICE, "avis-imposition", DEPOSITED, metadata=True)
        return
    if piece.find(nuu("listeContenuPiece")) is None:
        add_page_contents(piece, 2023)


def _overflow(root: etree._Element) -> None:
    for name, maximum in OVERFLOWED:
        element = next(root.iter(nuu(name)), None)
        if element is not None:
            original = element.text or name
            element.text = ((original + " ") * (maximum // (len(original) + 1) + 2))[: maximum + 5]
            return
    entete = root.find(nuu("entete"))
    if entete is None:
        return
    guichet = entete.find(nuu("codeGuichet"))
    if guichet is None:
        guichet = etree.SubElement(entete, nuu("codeGuichet"))
    guichet.text = "38A12" + "X" * GUICHET_MAX


def _unknown_element(root: etree._Element) -> None:
    unknown = etree.Element(nuu("champInconnu"))
    unknown.text = "valeur ajoutée par une version future de l'interface"
    root.insert(1, unknown)


@dataclass(frozen=True)
class FaultDraw:
    """The faults one answer carries."""

    kinds: frozenset[str] = frozenset()
    slow_seconds: float = DEFAULT_SLOW_SECONDS

    @property
    def delay(self) -> float:
        return self.slow_seconds if SLOW in self.kinds else 0.0

    @property
    def server_error(self) -> bool:
        return SERVER_ERROR in self.kinds

    def document(self, root: etree._Element) -> bytes:
        """Serialize a business document with the document faults of this draw applied."""
        if EMPTY_ADDRESS in self.kinds:
            _empty_postal_address(root)
        if PJ_METADATA in self.kinds:
            _page_metadata(root)
        if TOO_LONG in self.kinds:
            _overflow(root)
        if UNKNOWN_ELEMENT in self.kinds:
            _unknown_element(root)
        data = serialize(root)
        return data[: len(data) // 2] if MALFORMED in self.kinds else data


NO_DRAW = FaultDraw()


class FaultInjector:
    """Draws the faults of each answer from the configured rates, with a seeded stream."""

    def __init__(self, spec: FaultSpec, seed: int) -> None:
        self.spec = spec
        self.rng = random.Random(f"{seed}:faults")

    def draw(self, forced: FaultSpec | None = None) -> FaultDraw:
        """The faults of one answer: from `forced` (a request's header) if given, else from
        the configured rates. Rate 1 always draws, whatever the stream."""
        spec = forced if forced is not None else self.spec
        if not spec.rates:
            return NO_DRAW
        kinds = frozenset(kind for kind, rate in spec.rates.items() if self.rng.random() < rate)
        return FaultDraw(kinds, spec.slow_seconds)

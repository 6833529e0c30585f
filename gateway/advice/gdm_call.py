"""One GDM movements call, as the advisories judge it: who, when, the window it asked for
(`depuis`, the communes) and how many movements it got.

What is read, and nothing else: the query's `depuis` (an ISO 8601 time) and `communes` (INSEE
commune codes, `communes=38185,38151` or the parameter repeated), and the answer's
`entete/dateFichier` and number of `listeMouvement/mouvement`. Anything else the query may
carry is never read nor kept; a commune parameter that is not a commune code is left out. A
commune code and a time are not personal data.

The call's time is the SNE's: `depuis` is a moment on the SNE's clock, so a window ends at the
SNE's answer's `dateFichier`, not at the gateway's clock (which may be minutes apart: the very
discrepancy the SNE asks windows to overlap for). Without a `dateFichier` (an answer the
gateway could not read), the gateway's own clock. A time without an offset is the SNE's local
time, France's (Europe/Paris): the SNE's own example asks `depuis=2025-04-28T14:36` of an
answer dated `14:41:07+02:00`. A time outside the years `FIRST_YEAR` to `LAST_YEAR` is not
read: no GDM window is there, and such a value (a hostile `9999-12-31T23:59:59-14:00`) would
overflow what is made of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from lxml import etree

from gateway.limits import DEFAULT_LIMITS
from gateway.parse import DocumentRejected, parse_xml

COMMUNE_CODE = re.compile(r"[0-9][0-9AB][0-9]{3}")
#: Query strings longer than this are not read (a GDM call's is a few hundred characters).
MAX_QUERY = 64 * 1024
#: The SNE's clock, for a time written without an offset.
SNE_ZONE = ZoneInfo("Europe/Paris")
#: The years a time read must fall in.
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True, slots=True)
class GdmCall:
    client: str
    #: The call's time (the SNE's, see above) and when the gateway received it, in
    #: milliseconds since the Unix epoch.
    at_ms: int
    arrived_ms: int
    depuis_ms: int
    #: The communes asked for, sorted; () for all.
    communes: tuple[str, ...]
    #: Movements in the answer; None when the answer could not be read.
    movements: int | None
    request_id: str
    env: str

    def meets(self, other: GdmCall) -> bool:
        """Whether the two calls asked for some commune in common (no commune: all)."""
        if not self.communes or not other.communes:
            return True
        return not set(self.communes).isdisjoint(other.communes)

    @property
    def window_ms(self) -> int:
        return self.at_ms - self.depuis_ms


def read_moment(text: str) -> datetime | None:
    """An ISO 8601 time, in UTC (one without an offset is the SNE's local time); None when it
    is not one, or not between `FIRST_YEAR` and `LAST_YEAR`."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        return None  # before the conversion, which a year 1 or 9999 would overflow
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SNE_ZONE)
    return moment.astimezone(UTC)


def moment_ms(text: str) -> int | None:
    """An ISO 8601 time (`read_moment`) in milliseconds since the Unix epoch."""
    moment = read_moment(text)
    return None if moment is None else int(moment.timestamp() * 1000)


def read_query(query: bytes) -> tuple[int | None, tuple[str, ...]]:
    """The query's `depuis` (None when missing or unreadable) and its commune codes."""
    if len(query) > MAX_QUERY:
        return None, ()
    parameters = parse_qs(query.decode("latin-1"), keep_blank_values=False)
    depuis = parameters.get("depuis", [])
    codes = {
        code.strip()
        for value in parameters.get("communes", [])
        for code in value.split(",")
        if COMMUNE_CODE.fullmatch(code.strip())
    }
    return (moment_ms(depuis[0]) if depuis else None), tuple(sorted(codes))


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def read_answer(data: bytes) -> tuple[int | None, int | None]:
    """The answer's `dateFichier` in milliseconds and its number of movements (each None
    when the answer does not say it)."""
    try:
        root = parse_xml(data, DEFAULT_LIMITS)
    except DocumentRejected:
        return None, None
    produced = None
    movements = None
    for child in root.iterchildren(etree.Element):
        name = _local(child)
        if name == "entete":
            for field in child.iterchildren(etree.Element):
                if _local(field) == "dateFichier" and field.text:
                    produced = moment_ms(field.text)
        elif name == "listeMouvement":
            movements = sum(
                1 for item in child.iterchildren(etree.Element) if _local(item) == "mouvement"
            )
    return produced, movements

"""The country referential in service, and what it says of a value.

A value is **valid** when it is, once normalised (`gateway.rules.normalise`), the short or the
official name of a country or territory of INSEE's COG. Otherwise it is:

- **france-or-overseas** when it names France or one of its overseas departments and
  collectivities (by name, code or a close spelling): such an address is French, not foreign;
- **fixable** when it is the ISO 3166 or COG code of one country (whose name is the
  suggestion), or when exactly one country has a name it matches at `SIMILARITY` % or more
  (rapidfuzz's `fuzz.ratio`, an Indel similarity, on the normalised forms);
- **unfixable** otherwise: empty, no name close enough, or several countries close enough.

`judge` looks the value up (a dictionary look-up: cheap enough for every `pays` element of
every exchange); `verdict` also runs the fuzzy match for a value the look-up does not know,
which the rule stage does only for the violations it reports.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gateway.rules.normalise import normalise

Status = Literal["valid", "fixable", "france-or-overseas", "unfixable"]
STATUSES: tuple[Status, ...] = ("valid", "fixable", "france-or-overseas", "unfixable")
Kind = Literal["foreign", "france", "overseas"]
#: The similarity, in %, from which a close name is a suggestion (the SNE's figure).
SIMILARITY = 95.0
#: Distinct values whose closest names are remembered (the same typos come back).
REMEMBERED = 8192


@dataclass(frozen=True, slots=True)
class Country:
    """One entry: a country or territory of the COG, or France and its overseas parts.
    `codes` holds its ISO 3166 alpha-2, alpha-3 and numeric codes and its COG code."""

    name: str
    kind: Kind = "foreign"
    official_name: str = ""
    other_names: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    #: A current country (INSEE's ACTUAL 1), rather than a territory attached to one.
    current: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(n for n in (self.name, self.official_name, *self.other_names) if n)
        )


@dataclass(frozen=True, slots=True)
class CountryVerdict:
    """What the referential says of a value. `reason`: `name` (valid), `code`, `france`,
    `overseas`, `close` (a single close name), `ambiguous` (several), `unknown`, `empty`.
    `suggestion` is a name of the referential; `score` the similarity of a close one."""

    status: Status
    reason: str
    suggestion: str | None = None
    score: float | None = None
    country: Country | None = None

    @property
    def code(self) -> str | None:
        """The violation code of a value found in a `pays` element; None when it is valid."""
        if self.status == "valid":
            return None
        if self.reason in ("france", "overseas"):
            return f"rule.pays-{self.reason}"
        return "rule.pays-code" if self.reason == "code" else "rule.pays"


def _refused(country: Country, score: float | None = None) -> CountryVerdict:
    """France or an overseas part: refused, by its own code, whatever matched it."""
    return CountryVerdict("france-or-overseas", country.kind, country.name, score, country)


class CountryReferential:
    """The accepted names (`countries` of kind `foreign`) and the refused ones (France and its
    overseas parts), indexed for look-up and fuzzy matching. `source` names the COG file."""

    def __init__(self, countries: Iterable[Country], source: Path | str) -> None:
        self.countries = tuple(countries)
        self.source = Path(source)
        self._by_name: dict[str, Country] = {}
        #: Names as the referential writes them: most values are, and skip the normalising.
        self._as_written: dict[str, Country] = {}
        self._by_code: dict[str, list[Country]] = {}
        # French entries first: a newer COG cannot make an overseas name a foreign one.
        for country in sorted(self.countries, key=lambda c: c.kind == "foreign"):
            for name in country.names:
                self._by_name.setdefault(normalise(name), country)
                self._as_written.setdefault(name, country)
            for code in country.codes:
                self._by_code.setdefault(code.upper(), []).append(country)
        self._choices = list(self._by_name)
        self._closest = functools.lru_cache(maxsize=REMEMBERED)(self._closest_uncached)
        self._accepts = functools.lru_cache(maxsize=REMEMBERED)(self._accepts_uncached)

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to `validate --jobs` workers as its entries, not its caches.
        return (CountryReferential, (self.countries, self.source))

    @property
    def accepted(self) -> int:
        """How many countries and territories a foreign address may name."""
        return sum(country.kind == "foreign" for country in self.countries)

    def judge(self, value: str) -> CountryVerdict:
        """The verdict from look-ups only: a value neither a name nor a code is `unknown`."""
        if not value.strip():
            return CountryVerdict("unfixable", "empty")
        found = self._as_written.get(value.strip()) or self._by_name.get(normalise(value))
        if found is not None:
            if found.kind != "foreign":
                return _refused(found)
            return CountryVerdict("valid", "name", country=found)
        coded = self._by_code.get(value.strip().upper())
        if coded:
            return self._by_its_code(coded)
        return CountryVerdict("unfixable", "unknown")

    def accepts(self, value: str) -> bool:
        """Whether `value` is valid, remembered for the values seen last: documents repeat a
        few country names, and the look-ups build a verdict each time."""
        return self._accepts(value)

    def _accepts_uncached(self, value: str) -> bool:
        return self.judge(value).status == "valid"

    def verdict(self, value: str) -> CountryVerdict:
        """The verdict, with the fuzzy match for a value the look-ups do not know."""
        judged = self.judge(value)
        if judged.reason != "unknown":
            return judged
        normalised = normalise(value)
        return self._closest(normalised) if normalised else judged

    def _by_its_code(self, countries: list[Country]) -> CountryVerdict:
        french = [country for country in countries if country.kind != "foreign"]
        if french:
            return _refused(french[0])
        # An ISO code shared by a country and a territory of it (ES: Espagne and its North
        # African territories) means the country.
        current = [country for country in countries if country.current]
        chosen = current if len(current) == 1 else countries
        if len(chosen) == 1:
            return CountryVerdict("fixable", "code", chosen[0].name, country=chosen[0])
        return CountryVerdict("unfixable", "code")

    def _closest_uncached(self, normalised: str) -> CountryVerdict:
        # Imported on the first value the look-up does not know: most runs never have one, and
        # `validate` starts 25 ms sooner without it.
        from rapidfuzz import fuzz, process

        matches = process.extract(
            normalised, self._choices, scorer=fuzz.ratio, score_cutoff=SIMILARITY, limit=None
        )
        best: dict[int, tuple[float, Country, str]] = {}
        for choice, score, _ in matches:
            country = self._by_name[choice]
            if id(country) not in best or score > best[id(country)][0]:
                best[id(country)] = (score, country, choice)
        if not best:
            return CountryVerdict("unfixable", "unknown")
        if len(best) > 1:
            return CountryVerdict("unfixable", "ambiguous")
        ((score, country, choice),) = best.values()
        if country.kind != "foreign":
            return _refused(country, score)
        name = next(n for n in country.names if normalise(n) == choice)
        return CountryVerdict("fixable", "close", name, score, country)

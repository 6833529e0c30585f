"""How the GDM advisories are said: the SNE's rules as its editors' club of 22 May 2025 worded
them (French, quoted from its slides), what they mean in English, and a sentence for each
advisory from its figures. Plain text, shared by the advisor's log events and the report."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

GAP = "gdm.gap"
NO_OVERLAP = "gdm.no-overlap"
PER_COMMUNE = "gdm.per-commune"
TOO_FREQUENT = "gdm.too-frequent"
ROUND_HOUR = "gdm.round-hour"
WARNING, NOTICE = "warning", "notice"
SEVERITIES = {GAP: WARNING}


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule of the SNE: its title and words (French, as the club's slides say it), and what
    they mean in English."""

    title: str
    sne: str
    english: str


#: The club's recommendations ("Des développements nécessaires pour exploiter tout le
#: potentiel de GDM"), by the advisories that break them.
RULES = {
    TOO_FREQUENT: Rule(
        "1. Soyez à jour",
        "Appelez GDM aussi régulièrement que l'exige le volume des données reçues à chaque "
        "appel par le guichet. Si plus de 5 000 demandes sont reçues par jour, effectuez "
        "jusqu'à un appel chaque heure. En deçà de 5 000 demandes, effectuez jusqu'à deux "
        "appels par jour.",
        "Call GDM as often as the volume received at each call requires: up to once an hour "
        "above 5,000 applications a day, up to twice a day below.",
    ),
    PER_COMMUNE: Rule(
        "2. Évitez la redondance",
        "N'appelez pas commune par commune mais appelez une seule fois avec toutes les "
        "communes (ou aucune). Vous éviterez ainsi de récupérer plusieurs fois une même "
        "demande.",
        "Do not call commune by commune: call once with all the communes (or none), so as not "
        "to fetch the same application several times.",
    ),
    NO_OVERLAP: Rule(
        "3. Évitez les désynchronisations",
        "Afin de pallier une éventuelle discordance dans l'heure système du SNE et de votre "
        "système, appelez GDM avec un léger chevauchement entre deux appels.",
        "To make up for a difference between the SNE's clock and yours, overlap two "
        "consecutive calls' windows slightly (the SNE's example: a call at 15:41 with depuis "
        "14:36 after one at 14:41).",
    ),
    ROUND_HOUR: Rule(
        "4. Soyez différents",
        "N'appelez pas GDM systématiquement à des heures pleines (00:00, 14:00, 08:00, "
        "09:00, etc.).",
        "Do not call GDM at round hours (00:00, 14:00, 08:00, 09:00...): call at start-up, "
        "then every hour or every 12 hours from then.",
    ),
}
#: A gap breaks the overlap rule the worst way: movements may have been missed.
RULES[GAP] = RULES[NO_OVERLAP]


#: The sentence of each advisory, from its figures and the times shown (`depuis`, the
#: previous call's).
_SENTENCES: dict[str, Callable[[Mapping[str, Any], str, str], str]] = {
    GAP: lambda f, depuis, previous: (
        f"depuis {depuis} is {f['gap_minutes']} min after the previous call ({previous}): the "
        "movements in between were asked for by no call and may have been missed"
    ),
    NO_OVERLAP: lambda f, depuis, previous: (
        f"the window overlaps the previous call's ({previous}) by {f['overlap_seconds']} s "
        f"only (depuis {depuis}): overlap by a few minutes"
    ),
    PER_COMMUNE: lambda f, depuis, previous: (
        f"{f['calls']} calls of one commune each within minutes since {previous} "
        f"(communes {', '.join(f['communes'])}): call once with all the communes"
    ),
    TOO_FREQUENT: lambda f, depuis, previous: (
        f"{f['since_previous_minutes']} min after the previous call ({previous}), "
        f"{f['calls_in_period']} calls where the volume (about {f['daily_volume']:,} movements "
        f"a day) justifies {f['allowed']}"
    ),
    ROUND_HOUR: lambda f, depuis, previous: f"called at {f['time']} UTC, a round hour",
}


def sentence(kind: str, figures: Mapping[str, Any], depuis: str, previous: str) -> str:
    """What one advisory found, in English (`depuis` and `previous` as they are to be shown)."""
    return _SENTENCES[kind](figures, depuis, previous)

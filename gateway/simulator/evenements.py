"""The shared events of an application (`evenements` documents): the answer of
`listerEvenementsDemande` and the `EVT/` members of an export."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time

from lxml import etree

from gateway.simulator import fake_data as fake
from gateway.simulator.nuu_document import add, add_code, interface_root, timestamp

FILE_TYPE = "EVT"
EVENT_TYPES = (
    ("RDV", "Rendez-vous d'information au guichet"),
    ("VISITE", "Visite d'un logement"),
    ("PROPOS", "Proposition de logement"),
    ("CALEOL", "Passage en commission d'attribution (CALEOL)"),
    ("COURR", "Courrier envoyé au demandeur"),
    ("PIECE", "Pièce justificative demandée"),
)
FIRST_DAY, LAST_DAY = date(2023, 1, 1), date(2025, 6, 30)


def events_document(version: str, rng: random.Random, num_unique: str) -> etree._Element:
    """`interfaceNuu > entete, listeEvenement` with 0 to 5 events of `num_unique`."""
    root = interface_root(version, FILE_TYPE)
    liste = add(root, "listeEvenement")
    days = sorted(fake.between(rng, FIRST_DAY, LAST_DAY) for _ in range(rng.randint(0, 5)))
    for day in days:
        code, label = rng.choice(EVENT_TYPES)
        evenement = add(liste, "evenement")
        add(evenement, "idEvenement", fake.identifier(rng))
        add(evenement, "numUnique", num_unique)
        add_code(evenement, "typeEvenement", code)
        add(evenement, "dateEvenement", day.isoformat())
        add(evenement, "libelle", label)
        add(evenement, "guichetAuteur", fake.guichet(rng, fake.department_of(num_unique)))
        moment = datetime.combine(day, time(rng.randint(8, 18), rng.randint(0, 59)), UTC)
        add(evenement, "dateSaisie", timestamp(moment))
    return root

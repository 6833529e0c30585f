"""REST `/v1.0/gdm/mouvements`: the movements on applications since `depuis`, optionally for
some communes (`?communes=38185,38151`, or the parameter repeated).

The feed is a pure function of the seed and the clock: each hour of each commune has its own
movements, so overlapping windows (as the SNE recommends) return the same movements twice and
a call for a few communes returns exactly their part of the call for all communes. Without
`communes`, the feed covers the communes of the simulator's table.

A test steers the feed with `X-Simulator-Movements: N`: the answer then holds exactly N
movements, spread evenly over the window (from `depuis` to the simulator's now, which
`X-Simulator-Now` steers too), so that a guichet's volume is whatever the test needs.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

from lxml import etree

from gateway.advice.gdm_call import read_moment
from gateway.report.anomaly import Anomaly, anomaly_document
from gateway.simulator import clock
from gateway.simulator import fake_data as fake
from gateway.simulator.answer import Answer, xml_answer
from gateway.simulator.demande import CREATED_FROM, CREATED_TO, add_address
from gateway.simulator.fake_data import Commune
from gateway.simulator.faults import FaultDraw
from gateway.simulator.nuu_document import (
    add,
    add_code,
    has_13_34_additions,
    interface_root,
    timestamp,
)

FILE_TYPE = "GDM"
#: The longest window the simulator answers (a guichet calls at least twice a day).
MAX_WINDOW = timedelta(days=31)
COMMUNE_CODE = re.compile(r"[0-9][0-9AB][0-9]{3}")
MOVEMENTS_PER_HOUR = (0, 0, 0, 0, 1, 1, 2)
MOVEMENTS_HEADER = "X-Simulator-Movements"
#: The most movements a steered answer holds (about 500 bytes each).
MAX_STEERED_MOVEMENTS = 20_000
#: Movement types, and the entity and property a change of that type touches (if any).
MOVEMENT_TYPES = (
    ("CRE", None, None),
    ("MOD", "CERFA", "demandeur.telPortable"),
    ("MOD", "CERFA", "logementRecherche.loyerMaximum"),
    ("REN", "CERFA", "renouvellement.dateRenouvellement"),
    ("RAD", "CERFA", "radiation.motifRadiation"),
    ("EVT", "EVT", "evenement.typeEvenement"),
    ("PJ", "PJ", "pieceJustificative.typePiece"),
    ("DALO", "DALO", "informationDalo.dateDepotRecours"),
)


def _parameter_anomaly(code: str, message: str, propriete: str, version: str) -> Answer:
    return xml_answer(
        anomaly_document([Anomaly(code, message, propriete)], version, clock.now()), 400
    )


def _parse_depuis(text: str | None) -> datetime | None:
    """`depuis` as the SNE reads it: without an offset, France's local time."""
    return read_moment(text) if text else None


class GdmService:
    def __init__(self, version: str, data: fake.FakeData) -> None:
        self.version = version
        self.data = data
        self.additions = has_13_34_additions(version)

    def mouvements(
        self,
        depuis_text: str | None,
        commune_codes: list[str],
        faults: FaultDraw,
        now: datetime,
        count: int | None = None,
    ) -> Answer:
        """The movements since `depuis_text`; exactly `count` of them when it is given."""
        depuis = _parse_depuis(depuis_text)
        if depuis is None:
            return _parameter_anomaly(
                "GDM001",
                "Le paramètre depuis est obligatoire : une date et heure ISO 8601 "
                "(par exemple 2025-06-12T08:07:00+02:00).",
                "depuis",
                self.version,
            )
        if now - depuis > MAX_WINDOW:
            return _parameter_anomaly(
                "GDM002",
                f"Le paramètre depuis remonte à plus de {MAX_WINDOW.days} jours.",
                "depuis",
                self.version,
            )
        if bad := [code for code in commune_codes if not COMMUNE_CODE.fullmatch(code)]:
            return _parameter_anomaly(
                "GDM003",
                f"Code(s) commune invalide(s) : {', '.join(bad)[:200]} (code INSEE sur 5 caractères).",
                "communes",
                self.version,
            )
        communes = [fake.commune_for_code(code) for code in dict.fromkeys(commune_codes)]
        root = interface_root(self.version, FILE_TYPE)
        parametres = add(root, "parametres")
        add(parametres, "depuis", timestamp(depuis))
        if communes:
            liste = add(parametres, "listeCommune")
            for commune in communes:
                add_code(liste, "commune", commune.code)
        liste_mouvement = add(root, "listeMouvement")
        covered = communes or list(fake.COMMUNES)
        found = (
            self._movements(depuis, now, covered)
            if count is None
            else self._steered(depuis, now, covered, count)
        )
        movements = sorted(found, key=lambda movement: (movement[0], movement[1].code, movement[3]))
        for moment, commune, hour, index in movements:
            self._add_movement(liste_mouvement, moment, commune, hour, index)
        return xml_answer(faults.document(root))

    def _movements(
        self, depuis: datetime, now: datetime, communes: list[Commune]
    ) -> list[tuple[datetime, Commune, int, int]]:
        """(moment, commune, hour, index) of each movement in [depuis, now]."""
        first_hour = int(depuis.timestamp()) // 3600
        last_hour = int(now.timestamp()) // 3600
        found = []
        for hour in range(first_hour, last_hour + 1):
            for commune in communes:
                rng = self.data.rng("gdm", hour, commune.code)
                for index in range(rng.choice(MOVEMENTS_PER_HOUR)):
                    moment = datetime.fromtimestamp(hour * 3600 + rng.randrange(3600), UTC)
                    if depuis <= moment <= now:
                        found.append((moment, commune, hour, index))
        return found

    @staticmethod
    def _steered(
        depuis: datetime, now: datetime, communes: list[Commune], count: int
    ) -> list[tuple[datetime, Commune, int, int]]:
        """`count` movements evenly over [depuis, now], the communes in turn."""
        span = max((now - depuis).total_seconds(), 0.0)
        found = []
        for index in range(count):
            moment = depuis + timedelta(seconds=span * (index + 0.5) / count)
            found.append((moment, communes[index % len(communes)], -1, index))
        return found

    def _add_movement(
        self, liste: etree._Element, moment: datetime, commune: Commune, hour: int, index: int
    ) -> None:
        rng = self.data.rng("gdm", hour, commune.code, index)
        created = fake.between(rng, CREATED_FROM, CREATED_TO)
        kind, entite, propriete = rng.choice(MOVEMENT_TYPES)
        applicant = fake.person(rng)
        mouvement = add(liste, "mouvement")
        add(
            mouvement,
            "numUnique",
            fake.num_unique(commune.department, created, rng.randrange(10**10)),
        )
        add(mouvement, "dateMouvement", timestamp(moment))
        add_code(mouvement, "typeMouvement", kind)
        add(mouvement, "guichet", fake.guichet(rng, commune.department))
        demandeur = add(mouvement, "demandeur")
        add_code(demandeur, "civilite", applicant.civilite)
        add(demandeur, "nom", applicant.nom)
        add(demandeur, "prenom", applicant.prenom)
        add(demandeur, "dateNaissance", applicant.date_naissance.isoformat())
        if self.additions and rng.random() < 0.5:
            # 13.34: the applicant's postal address, emitted empty when unknown.
            known = rng.random() < 0.7
            add_address(demandeur, "adressePostale", fake.address(rng, commune) if known else None)
        if entite is not None and propriete is not None:
            detail = add(mouvement, "detail")
            add(detail, "entite", entite)
            modification = add(detail, "modification")
            add(modification, "propriete", propriete)
            add(modification, "nouvelleValeur", self._new_value(propriete, rng, moment))

    @staticmethod
    def _new_value(propriete: str, rng: random.Random, moment: datetime) -> str:
        if propriete.endswith("telPortable"):
            return fake.phone(rng, mobile=True)
        if propriete.endswith("loyerMaximum"):
            return fake.amount(rng, 350, 900)
        if propriete.startswith(("renouvellement", "informationDalo")):
            return moment.date().isoformat()
        return rng.choice(("ATTRIB", "NONREN", "VISITE", "AVIMP", "RDV"))

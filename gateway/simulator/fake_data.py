"""Deterministic fake data: households, addresses, identifiers. Nobody real.

Every value comes from a `random.Random` seeded by the simulator's `--seed` and a key naming
what is generated (`fake.rng("demande", num_unique)`), so the same key always gives the same
application, whatever was asked before, and another seed gives another population.

What is fake and how: surnames are invented or carry a "-FICTIF"/"-ESSAI" suffix; streets name
fictional places; phone numbers are in ARCEP's ranges reserved for fiction (04 65 71, 06 39 98);
e-mail addresses are at example.org; numUniques, guichets, SIRETs and CAF numbers are random.
Commune codes, postal codes and country names are real public reference data (INSEE), so
documents stay plausible for an SI that checks them.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

MASCULINE_FIRST_NAMES = (
    "Rodolphe", "Timéo", "Noé", "Gabriel", "Raphaël", "Lucas", "Hugo", "Nathan", "Arthur",
    "Jules", "Adam", "Maël", "Sacha", "Amir", "Karim", "Mamadou", "Dorian", "Yanis", "Théo",
    "Bastien", "Kévin", "Éric", "Joël", "Marius",
)  # fmt: skip
FEMININE_FIRST_NAMES = (
    "Léonie", "Élodie", "Jade", "Margaux", "Ginette", "Clémence", "Louise", "Emma", "Chloé",
    "Inès", "Manon", "Camille", "Léa", "Zoé", "Lina", "Alice", "Rose", "Yasmine", "Aïcha",
    "Fatou", "Solène", "Anaïs", "Maëlle", "Océane",
)  # fmt: skip
INVENTED_SURNAMES = (
    "FAUXNOM", "TESTARD", "ESSAYEUSE", "EXEMPLIER", "MAQUETTIN", "BROUILLARDEAU", "FICTIVAL",
    "SIMULON", "PLACEBAUD", "FACTICELLI", "CHIMÉRAUX", "SPÉCIMAN", "ÉBAUCHARD", "CROQUISSE",
    "PASTICHON", "LEURRIER", "MIRAGEON", "PROTOTYPAZ", "DÉMOLAY-TEST", "ESSAIBOIS",
)  # fmt: skip
COMMON_SURNAMES = (
    "MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY",
    "MOREAU", "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX",
    "NGUYEN", "DIALLO", "BENALI", "FONTAINE", "CHEVALIER", "MERCIER",
)  # fmt: skip
FICTIONAL_SUFFIXES = ("-FICTIF", "-ESSAI", "-DEMO")
STREETS = (
    "rue des Essais", "avenue de la Fiction", "impasse du Simulateur", "allée des Maquettes",
    "boulevard de l'Exemple", "place du Bac à Sable", "chemin des Brouillons",
    "quai des Prototypes", "rue du Faux-Semblant", "square de l'École", "cours des Spécimens",
    "rue de la Recette", "avenue des Jeux d'Essai", "passage du Placebo",
)  # fmt: skip
BUILDINGS = ("Les Tilleuls d'Essai", "Résidence Fictive", "Bâtiment Démo", "Les Maquettes")
FOREIGN_ADDRESSES = (
    ("1000", "Bruxelles", "Belgique"),
    ("28001", "Madrid", "Espagne"),
    ("00184", "Rome", "Italie"),
    ("1100-148", "Lisbonne", "Portugal"),
    ("20000", "Casablanca", "Maroc"),
    ("10115", "Berlin", "Allemagne"),
)
PROFESSIONS = (
    "Agent de maintenance", "Aide-soignante", "Employé de commerce", "Auxiliaire de vie",
    "Cariste", "Agent d'entretien", "Assistante maternelle", "Chauffeur livreur",
    "Serveur", "Préparatrice de commandes", "Technicien de surface", "Vendeuse",
)  # fmt: skip
EMPLOYERS = (
    "Société Imaginaire de Services", "Centre Hospitalier de Démonstration",
    "Transports Fictifs et Cie", "Supermarché de l'Exemple", "Association Bac à Sable",
    "Entreprise d'Essai SARL",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Commune:
    """A real commune: INSEE code, one of its postal codes, name."""

    code: str
    postal_code: str
    name: str

    @property
    def department(self) -> str:
        """`38185` → `38`, `2A004` → `2A`, `97411` → `974`."""
        return self.code[:3] if self.code.startswith("97") else self.code[:2]


COMMUNES = (
    Commune("38185", "38000", "Grenoble"),
    Commune("38151", "38130", "Échirolles"),
    Commune("38169", "38600", "Fontaine"),
    Commune("38421", "38400", "Saint-Martin-d'Hères"),
    Commune("38382", "38120", "Saint-Égrève"),
    Commune("38563", "38500", "Voiron"),
    Commune("69123", "69003", "Lyon"),
    Commune("69266", "69100", "Villeurbanne"),
    Commune("75056", "75019", "Paris"),
    Commune("13055", "13013", "Marseille"),
    Commune("31555", "31000", "Toulouse"),
    Commune("33063", "33000", "Bordeaux"),
    Commune("59350", "59000", "Lille"),
    Commune("44109", "44000", "Nantes"),
    Commune("67482", "67000", "Strasbourg"),
    Commune("34172", "34000", "Montpellier"),
    Commune("35238", "35000", "Rennes"),
    Commune("30189", "30000", "Nîmes"),
    Commune("2A004", "20000", "Ajaccio"),
    Commune("97411", "97400", "Saint-Denis"),
)
COMMUNES_BY_CODE = {commune.code: commune for commune in COMMUNES}


@dataclass(frozen=True, slots=True)
class Person:
    civilite: str  # 1 Monsieur, 2 Madame
    nom: str
    prenom: str
    date_naissance: date

    @property
    def mel(self) -> str:
        local = f"{self.prenom}.{self.nom}".lower().replace(" ", "-")
        ascii_local = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
        return f"{ascii_local}@example.org"


@dataclass(frozen=True, slots=True)
class Address:
    numero: str | None
    voie: str
    commune: Commune | None  # None: abroad
    foreign: tuple[str, str, str] | None = None  # postal code, town, country
    appartement: str | None = None
    etage: str | None = None
    batiment: str | None = None


def between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def surname(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(INVENTED_SURNAMES)
    return rng.choice(COMMON_SURNAMES) + rng.choice(FICTIONAL_SUFFIXES)


def person(
    rng: random.Random,
    born_from: date = date(1945, 1, 1),
    born_to: date = date(2004, 12, 31),
    nom: str | None = None,
) -> Person:
    civilite = rng.choice("12")
    first_names = MASCULINE_FIRST_NAMES if civilite == "1" else FEMININE_FIRST_NAMES
    return Person(
        civilite, nom or surname(rng), rng.choice(first_names), between(rng, born_from, born_to)
    )


def commune_in(rng: random.Random, department: str) -> Commune:
    """A commune of `department`: a real one when the table has one, else a code of the right
    shape (the simulator must answer for any department an SI asks about)."""
    known = [commune for commune in COMMUNES if commune.department == department]
    if known:
        return rng.choice(known)
    rest = 5 - len(department)
    code = department + "".join(rng.choice("0123456789") for _ in range(rest))
    postal = (department if department[1:].isdigit() else "20").ljust(5, "0")[:5]
    return Commune(code, postal, f"Commune {code}")


def commune_for_code(code: str) -> Commune:
    known = COMMUNES_BY_CODE.get(code)
    if known is not None:
        return known
    department = code[:3] if code.startswith("97") else code[:2]
    postal = (department if department[1:].isdigit() else "20").ljust(5, "0")[:5]
    return Commune(code, postal, f"Commune {code}")


def address(rng: random.Random, commune: Commune | None = None, abroad: bool = False) -> Address:
    numero = f"{rng.randint(1, 150)}{' bis' if rng.random() < 0.1 else ''}"
    if abroad:
        return Address(numero, rng.choice(STREETS), None, rng.choice(FOREIGN_ADDRESSES))
    flat = rng.random() < 0.5
    return Address(
        numero,
        rng.choice(STREETS),
        commune or rng.choice(COMMUNES),
        appartement=str(rng.randint(1, 120)) if flat else None,
        etage=str(rng.randint(0, 12)) if flat else None,
        batiment=rng.choice(BUILDINGS) if flat and rng.random() < 0.4 else None,
    )


def phone(rng: random.Random, mobile: bool) -> str:
    prefix = "063998" if mobile else "046571"
    return prefix + f"{rng.randrange(10_000):04d}"


def department_code(department: str) -> str:
    """The three characters a numUnique starts with: `38` → `038`, `974` → `974`."""
    return department.rjust(3, "0")


def num_unique(department: str, created: date, sequence: int) -> str:
    """An 18-character numUnique: department, year, month, sequence, key letter (invented)."""
    body = f"{department_code(department)}{created:%y%m}{sequence % 10**10:010d}"
    key = chr(ord("A") + sum(ord(character) for character in body) % 26)
    return body + key


def department_of(num_unique: str) -> str:
    """The department a numUnique starts with: `038…` → `38`, `974…` → `974`."""
    code = num_unique[:3]
    return code if code.startswith("97") else code[1:]


def department_of_guichet(numero: str) -> str:
    """The department a guichet code starts with (`38A12` → `38`); 38 when it has none."""
    match = re.match(r"97[1-6]|2[AB]|\d{2}", numero)
    return match[0] if match else "38"


def guichet(rng: random.Random, department: str) -> str:
    """A guichet code of at most 5 characters, in the department: `38A12`."""
    letter = rng.choice("ABCDE")
    digits = 5 - len(department) - 1
    return department + letter + "".join(rng.choice("0123456789") for _ in range(digits))


def identifier(rng: random.Random) -> str:
    """A UUID-shaped technical identifier (idPiece, idEvenement, idExport)."""
    value = rng.getrandbits(128)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"


def amount(rng: random.Random, low: float, high: float) -> str:
    return f"{rng.uniform(low, high):.2f}"


class FakeData:
    """The simulator's population: one seed, and a random stream per key."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def rng(self, *key: object) -> random.Random:
        # A string seed is hashed with SHA-512 by `random`: stable across runs and platforms.
        return random.Random(":".join((str(self.seed), *(str(part) for part in key))))

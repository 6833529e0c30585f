"""Applications (`demande` documents) as the SNE returns them, built from fake data.

Elements are appended in the order of `xsd/<version>/demande/NUU_DemandeTypes.xsd`. Under 13.34
and later the builder uses what that version added, as the SNE does since: some applicants'
`adressePostale` is empty, some cotitulaires carry one (empty or not), and tax-notice files
carry PJ page metadata. Under 13.33 none of that appears.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from lxml import etree

from gateway.simulator import fake_data as fake
from gateway.simulator.fake_data import Address, Commune, Person
from gateway.simulator.nuu_document import (
    MODIFIE,
    add,
    add_code,
    has_13_34_additions,
    interface_root,
    nuu,
    timestamp,
)

FILE_TYPE = "DEM"
PRECISIONS = (
    "",
    "Ménage hébergé chez un tiers depuis la fin du bail.",
    "Souhaite rester proche de l'école des enfants.",
    "Logement actuel trop petit depuis la naissance du deuxième enfant.",
    "Disponible en semaine après 17 h.",
)
MOTIFS = ("HEBERG", "TROPET", "FUTCOU", "LOYCHE", "INSALU", "DIVORC", "HANDIC", "RAPTRA", "SANSLO")
HOUSING_TYPES = ("C", "T1", "T2", "T3", "T4", "T5", "T6P")
FAMILY_SITUATIONS = ("C", "M", "D", "S", "P", "U", "V")
CONTRACTS = ("CDI", "CDD", "ART", "CHO", "APP", "ETU", "RET", "AUT")
RESOURCES = ("SAL", "RET", "CHO", "PAR", "PINV", "AF", "AAH", "AEEH", "AJPP", "RSA", "AMV", "PAJE")
CURRENT_HOUSING = ("LOCPRI", "LOCHLM", "HEBTIE", "HEBPAR", "PROPRI", "FOYER", "SANSAB")
PIECE_TYPES = (
    ("IDENT", "piece-identite"),
    ("AVIMP", "avis-imposition"),
    ("HEBERG", "attestation-hebergement"),
    ("SALAIR", "bulletins-salaire"),
    ("ATTCAF", "attestation-caf"),
    ("LIVFAM", "livret-famille"),
)
TAX_NOTICE = "AVIMP"
CREATED_FROM, CREATED_TO = date(2019, 1, 1), date(2025, 6, 30)


@dataclass(frozen=True, slots=True)
class ApplicationOptions:
    """What the caller fixes about an application; the rest comes from the random stream."""

    num_unique: str | None = None
    commune: Commune | None = None  # where the household wants to live
    radiated: bool = False


def _ressources(parent: etree._Element, rng: random.Random, name: str, count: int) -> None:
    """`listeRessourceRecue` / `listeRessourceVersee`: up to `count` monthly resources."""
    item = "ressourceRecue" if name == "listeRessourceRecue" else "ressourceVersee"
    liste = add(parent, name)
    natures = ("PAV",) if item == "ressourceVersee" else RESOURCES
    for _ in range(count):
        ressource = add(liste, item)
        add_code(ressource, "natureRessource", rng.choice(natures))
        add(ressource, "montantMensuel", fake.amount(rng, 50, 2400))


def _situation_professionnelle(parent: etree._Element, rng: random.Random, contract: str) -> None:
    situation = add(parent, "situationProfessionnelle")
    add_code(situation, "typeContratTravail", contract)
    if contract in ("CDI", "CDD", "APP"):
        add(situation, "dateDebutContrat", fake.between(rng, date(2010, 1, 1), date(2025, 6, 1)))
        add(situation, "profession", rng.choice(fake.PROFESSIONS))
        add(situation, "employeur", rng.choice(fake.EMPLOYERS))
        add_code(situation, "communeTravail", rng.choice(fake.COMMUNES).code)


def _address_lines(element: etree._Element, where: Address) -> None:
    """The children of an address (`adresseType`, or a non-empty `adressePostaleType`)."""
    add(element, "etranger", "true" if where.commune is None else "false")
    for name, value in (
        ("appartement", where.appartement),
        ("etage", where.etage),
        ("batiment", where.batiment),
        ("numero", where.numero),
    ):
        if value is not None:
            add(element, name, value)
    add(element, "voie", where.voie)
    if where.commune is not None:
        add(element, "codePostal", where.commune.postal_code)
        add_code(element, "commune", where.commune.code)
    elif where.foreign is not None:
        postal_code, town, country = where.foreign
        add(element, "codePostalEtranger", postal_code)
        add(element, "communeEtranger", town)
        add(element, "pays", country)


def add_address(parent: etree._Element, name: str, where: Address | None) -> etree._Element:
    """`<name>` with the address, or empty when `where` is None (13.34's empty adressePostale)."""
    element = add(parent, name)
    if where is not None:
        _address_lines(element, where)
    return element


def _identity(parent: etree._Element, who: Person, rng: random.Random) -> None:
    add_code(parent, "civilite", who.civilite)
    add(parent, "nom", who.nom)
    if who.civilite == "2" and rng.random() < 0.2:
        add(parent, "nomPatronymique", fake.surname(rng))
    add(parent, "prenom", who.prenom)
    add(parent, "dateNaissance", who.date_naissance.isoformat())


def _coordonnees(parent: etree._Element, who: Person, rng: random.Random) -> None:
    if rng.random() < 0.3:
        add(parent, "telDomicile", fake.phone(rng, mobile=False))
    if rng.random() < 0.8:
        mobile = add(parent, "telPortable", fake.phone(rng, mobile=True))
        if rng.random() < 0.1:
            mobile.set(MODIFIE, "true")
    if rng.random() < 0.6:
        add(parent, "mel", who.mel)


def _revenus(parent: etree._Element, rng: random.Random, created: date) -> None:
    revenu = add(parent, "revenuFiscal")
    add(revenu, "anneeReference", created.year - 2)
    add(revenu, "montant", rng.randint(0, 42_000))
    _ressources(parent, rng, "listeRessourceRecue", rng.randint(0, 3))
    _ressources(parent, rng, "listeRessourceVersee", 1 if rng.random() < 0.1 else 0)


class ApplicationBuilder:
    """Builds `interfaceNuu` application documents for one interface version."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.additions = has_13_34_additions(version)

    def document(self, rng: random.Random, options: ApplicationOptions) -> etree._Element:
        commune = options.commune or rng.choice(fake.COMMUNES)
        numero_guichet = fake.guichet(rng, commune.department)
        root = interface_root(self.version, FILE_TYPE, numero_guichet)
        demande = add(root, "demande")
        created = fake.between(rng, CREATED_FROM, CREATED_TO)
        if rng.random() < 0.1:
            self._dalo(demande, rng, created)
        logement = add(demande, "demandeLogement")
        add(logement, "numGuichet", numero_guichet)
        if options.num_unique is not None:
            add(logement, "numUnique", options.num_unique)
        if rng.random() < 0.6:
            add(
                logement,
                "refInterne",
                f"{numero_guichet}-{created.year}-{rng.randrange(10**6):06d}",
            )
        add(logement, "dateCreationDemande", created.isoformat())
        if rng.random() < 0.5:
            add(logement, "renouvellementElec", rng.choice(("true", "false")))
        add(logement, "precision", rng.choice(PRECISIONS))
        if options.num_unique is not None and rng.random() < 0.5:
            self._traitement(logement, rng, created)
        if rng.random() < 0.8:
            self._logement_recherche(logement, rng, commune)
        if rng.random() < 0.7:
            motifs = add(logement, "principauxMotifDemande")
            for motif in rng.sample(MOTIFS, rng.randint(1, 3)):
                add_code(motifs, "motifDemande", motif)
        if rng.random() < 0.04:
            self._association(logement, rng, commune)
        else:
            self._personne_physique(logement, rng, commune, created)
        if rng.random() < 0.3 and created.year < 2025:
            renouvellement = add(logement, "renouvellement")
            renewed = fake.between(
                rng, created + timedelta(days=300), created + timedelta(days=400)
            )
            add(renouvellement, "dateRenouvellement", renewed.isoformat())
            add(renouvellement, "nombreRenouvellement", rng.randint(1, 5))
        if options.radiated:
            radiation = add(logement, "radiation")
            add(radiation, "dateRadiation", fake.between(rng, created, CREATED_TO).isoformat())
            add_code(radiation, "motifRadiation", rng.choice(("ATTRIB", "NONREN", "ABAND")))
        if rng.random() < 0.6:
            self._pieces(logement, rng, created)
        return root

    # -- the parts of an application, in schema order ----------------------------------------

    def _dalo(self, demande: etree._Element, rng: random.Random, created: date) -> None:
        dalo = add(demande, "informationDalo")
        filed = fake.between(rng, created, CREATED_TO)
        add(dalo, "dateDepotRecours", filed.isoformat())
        add(dalo, "numeroDossier", f"DALO-{rng.randrange(10**6):06d}")
        add(dalo, "prioritaireUrgent", rng.choice(("true", "false")))

    def _traitement(self, logement: etree._Element, rng: random.Random, created: date) -> None:
        traitement = add(logement, "informationTraitement")
        add(traitement, "attestationEnvoyee", "true")
        add(traitement, "traitementAutomatique", rng.choice(("true", "false")))
        moment = datetime.combine(created, time(rng.randint(8, 18), rng.randint(0, 59)), UTC)
        add(traitement, "dateTraitement", timestamp(moment))

    def _logement_recherche(
        self, logement: etree._Element, rng: random.Random, commune: Commune
    ) -> None:
        recherche = add(logement, "logementRecherche")
        types = add(recherche, "listeTypeLogement")
        first = rng.randrange(1, len(HOUSING_TYPES) - 1)
        for code in HOUSING_TYPES[first : first + rng.randint(1, 2)]:
            add_code(types, "typeLogement", code)
        if rng.random() < 0.5:
            maximum = add(recherche, "loyerMaximum", fake.amount(rng, 350, 900))
            if rng.random() < 0.2:
                maximum.set(MODIFIE, "true")
        if rng.random() < 0.5:
            add(recherche, "ascenseur", rng.choice(("true", "false")))
        souhaitees = add(recherche, "listeCommuneSouhaitee")
        others = [c for c in fake.COMMUNES if c.department == commune.department and c != commune]
        for wanted in [commune, *rng.sample(others, min(len(others), rng.randint(0, 3)))]:
            add_code(souhaitees, "communeSouhaitee", wanted.code)

    def _association(self, logement: etree._Element, rng: random.Random, commune: Commune) -> None:
        association = add(logement, "association")
        add(
            association, "raisonSociale", f"Association {rng.choice(fake.STREETS).split(' ', 1)[1]}"
        )
        add(association, "siret", f"{rng.randrange(10**14):014d}")
        representant = fake.person(rng)
        add(association, "nomRepresentant", representant.nom)
        add(association, "prenomRepresentant", representant.prenom)
        _coordonnees(association, representant, rng)
        add_address(association, "adresseSiege", fake.address(rng, commune))
        add(association, "nombrePersonnesLogees", rng.randint(1, 30))

    def _postal_address(self, rng: random.Random, commune: Commune) -> Address | None:
        """The applicant's postal address; None (an empty element) for some under 13.34."""
        if self.additions and rng.random() < 0.15:
            return None
        return fake.address(rng, commune, abroad=rng.random() < 0.03)

    def _personne_physique(
        self, logement: etree._Element, rng: random.Random, commune: Commune, created: date
    ) -> None:
        personne = add(logement, "personnePhysique")
        applicant = fake.person(rng)
        demandeur = add(personne, "demandeur")
        _identity(demandeur, applicant, rng)
        add_code(demandeur, "nationalite", rng.choice("1112223"))
        couple = rng.random() < 0.3
        add_code(
            demandeur, "situationFamiliale", rng.choice("MPU" if couple else FAMILY_SITUATIONS)
        )
        _coordonnees(demandeur, applicant, rng)
        if rng.random() < 0.5:
            add(demandeur, "notifSms", rng.choice(("true", "false")))
            add(demandeur, "notifEvt", rng.choice(("true", "false")))
        add_address(demandeur, "adressePostale", self._postal_address(rng, commune))
        _situation_professionnelle(demandeur, rng, rng.choice(CONTRACTS))
        _revenus(demandeur, rng, created)
        if rng.random() < 0.5:
            add(demandeur, "numeroAllocataire", rng.randrange(1, 10**7))
            add_code(demandeur, "regimeAllocataire", rng.choice(("CAF", "MSA")))
        children = rng.choice((0, 0, 1, 2, 3))
        if children:
            charges = add(personne, "listePersonneACharge")
            for _ in range(children):
                child = fake.person(rng, date(2006, 1, 1), date(2024, 12, 31), nom=applicant.nom)
                charge = add(charges, "personneACharge")
                add_code(charge, "civilite", child.civilite)
                add(charge, "nom", child.nom)
                add(charge, "prenom", child.prenom)
                add(charge, "dateNaissance", child.date_naissance.isoformat())
                add_code(charge, "lienParente", "ENF")
        if rng.random() < 0.05:
            naitre = add(personne, "personneANaitre")
            add(naitre, "nombre", 1)
            add(
                naitre,
                "dateNaissancePrevue",
                (created + timedelta(days=rng.randint(30, 200))).isoformat(),
            )
        if couple:
            self._cotitulaire(add(personne, "listeCotitulaire"), rng, commune, created)
        actuel = add(personne, "logementActuel")
        add_code(actuel, "typeLogementActuel", rng.choice(CURRENT_HOUSING))
        if rng.random() < 0.6:
            add_code(actuel, "typeLogement", rng.choice(HOUSING_TYPES[1:5]))
            add(actuel, "nombrePersonnes", 1 + children + (1 if couple else 0))
            add(actuel, "loyer", fake.amount(rng, 0, 1100))

    def _cotitulaire(
        self, liste: etree._Element, rng: random.Random, commune: Commune, created: date
    ) -> None:
        partner = fake.person(rng, date(1945, 1, 1), date(2004, 12, 31))
        cotitulaire = add(liste, "cotitulaire")
        add_code(cotitulaire, "lienDemandeur", rng.choice(("CONJ", "CONCUB", "PACS")))
        _identity(cotitulaire, partner, rng)
        add_code(cotitulaire, "nationalite", rng.choice("1123"))
        _coordonnees(cotitulaire, partner, rng)
        if self.additions and rng.random() < 0.6:
            # 13.34: the SNE sends the cotitulaire's adressePostale, empty when unknown.
            known = rng.random() < 0.5
            add_address(
                cotitulaire, "adressePostale", fake.address(rng, commune) if known else None
            )
        _situation_professionnelle(cotitulaire, rng, rng.choice(CONTRACTS))
        _revenus(cotitulaire, rng, created)

    def _pieces(self, logement: etree._Element, rng: random.Random, created: date) -> None:
        deposits = [
            datetime.combine(fake.between(rng, created, CREATED_TO), time(rng.randint(8, 18)), UTC)
            for _ in range(rng.randint(1, 3))
        ]
        add(logement, "dateDerniereModificationPiece", timestamp(max(deposits)))
        liste = add(logement, "listePieceJustificative")
        for deposited in deposits:
            code, name = rng.choice(PIECE_TYPES)
            add_piece(liste, rng, code, name, deposited, metadata=self.additions)


def add_piece(
    liste: etree._Element,
    rng: random.Random,
    code: str,
    name: str,
    deposited: datetime,
    metadata: bool,
) -> etree._Element:
    """A `pieceJustificative`; with `metadata` (13.34), a tax notice of two years says which
    pages hold which year's notice."""
    piece = add(liste, "pieceJustificative")
    add(piece, "idPiece", fake.identifier(rng))
    add(piece, "nomFichier", f"{name}-{deposited:%Y%m%d}.pdf")
    add_code(piece, "typePiece", code)
    add(piece, "dateDepot", timestamp(deposited))
    two_notices = code == TAX_NOTICE
    add(piece, "nombrePages", 4 if two_notices else rng.randint(1, 6))
    add(piece, "taille", rng.randint(40_000, 2_000_000))
    if metadata and two_notices:
        add_page_contents(piece, deposited.year - 2)
    return piece


def add_page_contents(piece: etree._Element, first_year: int) -> None:
    """`listeContenuPiece` (13.34): pages 1-2 the notice of `first_year`, 3-4 the next one."""
    contents = add(piece, "listeContenuPiece")
    for first_page, year in ((1, first_year), (3, first_year + 1)):
        contenu = add(contents, "contenuPiece")
        add(contenu, "pageDebut", first_page)
        add(contenu, "pageFin", first_page + 1)
        add_code(contenu, "typeDocument", TAX_NOTICE)
        add(contenu, "annee", year)


def demande_logement(root: etree._Element) -> etree._Element | None:
    return root.find(f"{nuu('demande')}/{nuu('demandeLogement')}")

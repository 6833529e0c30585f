"""REST `/v1.0/exports`: ask for a mass export, follow its status, download its XML TGZ.

POST an `export-demande` document: HTTP 202 and an `export-statut` document with the export's
id, `EN_ATTENTE`. The status then moves with time alone: `EN_ATTENTE` for the first third of
the export delay (`--export-delay`), `EN_COURS` until the delay, `PRET` after. On a ready export,
`GET /v1.0/exports/{id}/fichier` streams the archive, generated as it is sent: one member per
application (`--export-size` of them) and entity folder, named like `CERFA/000001.xml`.

Entities and folders: CERFA, DALO and PJ give `CERFA/` (an application carries its DALO appeal
and its supporting documents), EVT gives `EVT/`, DRM gives `DRM/` (`profondeurDrm` months).
CONT, ATTRIB, PRIO and COTA have no schema in the set: an export of only those ends in
`ERREUR`, as the SNE's does for entities not available yet.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree

from gateway.catalog import SchemaSet
from gateway.report.anomaly import Anomaly, add_anomaly_list, anomaly_document
from gateway.simulator import clock
from gateway.simulator import fake_data as fake
from gateway.simulator.answer import Answer, xml_answer
from gateway.simulator.demande import (
    CREATED_FROM,
    CREATED_TO,
    ApplicationBuilder,
    ApplicationOptions,
)
from gateway.simulator.drm import drm_document, last_months
from gateway.simulator.evenements import events_document
from gateway.simulator.export_archive import tgz_chunks
from gateway.simulator.faults import FaultDraw
from gateway.simulator.incoming import read_document, refusal
from gateway.simulator.nuu_document import add, interface_root, nuu, timestamp

FILE_TYPE = "EXPST"
PENDING, RUNNING, READY, FAILED = "EN_ATTENTE", "EN_COURS", "PRET", "ERREUR"
FOLDERS = {"CERFA": "CERFA", "DALO": "CERFA", "PJ": "CERFA", "EVT": "EVT", "DRM": "DRM"}
FOLDER_ORDER = ("CERFA", "EVT", "DRM")
DEFAULT_DRM_DEPTH = 3
#: Exports the simulator remembers; the oldest are forgotten first.
CAPACITY = 10_000
ARCHIVE_TYPE = "application/gzip"


@dataclass(frozen=True)
class ExportJob:
    """One export: what was asked, when, and how long it takes to become ready."""

    id: str
    folders: tuple[str, ...]
    radiated: bool
    departments: tuple[str, ...]
    communes: tuple[str, ...]
    drm_depth: int
    requested_at: datetime
    delay: timedelta
    size: int
    error: Anomaly | None = None

    @property
    def ready_at(self) -> datetime:
        return self.requested_at + self.delay

    def state(self, now: datetime) -> str:
        if self.error is not None:
            return FAILED
        elapsed = now - self.requested_at
        if elapsed >= self.delay:
            return READY
        return PENDING if elapsed < self.delay / 3 else RUNNING

    @property
    def files(self) -> int:
        return self.size * len(self.folders)


def _texts(root: etree._Element, path: str) -> tuple[str, ...]:
    return tuple(element.text or "" for element in root.iterfind(path))


def job_from_request(
    root: etree._Element, identifier: str, now: datetime, delay: timedelta, size: int
) -> ExportJob:
    """The export a valid `export-demande` document asks for."""
    demande = root.find(nuu("demandeExport"))
    assert demande is not None  # the document is valid against export-demande
    entities = _texts(demande, f"{nuu('listeEntite')}/{nuu('entite')}")
    folders = tuple(
        folder for folder in FOLDER_ORDER if folder in {FOLDERS.get(e) for e in entities}
    )
    error = None
    if not folders:
        error = Anomaly(
            "EXP012",
            f"Entité(s) non disponible(s) à l'export : {', '.join(entities)}.",
            "demandeExport.listeEntite",
        )
    depth = demande.findtext(nuu("profondeurDrm"))
    return ExportJob(
        id=identifier,
        folders=folders,
        radiated=demande.findtext(nuu("etat")) == "RADIEE",
        departments=_texts(demande, f"{nuu('listeDepartement')}/{nuu('departement')}"),
        communes=tuple(
            element.get("code", "")
            for element in demande.iterfind(f"{nuu('listeCommune')}/{nuu('commune')}")
        ),
        drm_depth=int(depth) if depth else DEFAULT_DRM_DEPTH,
        requested_at=now,
        delay=delay,
        size=size,
        error=error,
    )


def status_document(version: str, job: ExportJob, now: datetime) -> etree._Element:
    root = interface_root(version, FILE_TYPE)
    statut = add(root, "statutExport")
    state = job.state(now)
    add(statut, "idExport", job.id)
    add(statut, "etat", state)
    add(statut, "dateDemande", timestamp(job.requested_at))
    if state == READY:
        add(statut, "dateMiseADisposition", timestamp(job.ready_at))
        add(statut, "nombreFichiers", job.files)
    if job.error is not None:
        add_anomaly_list(statut, [job.error])
    return root


class ExportService:
    def __init__(self, schema_set: SchemaSet, data: fake.FakeData, size: int, delay: float) -> None:
        self.schema = schema_set.schema("export-demande")
        self.version = schema_set.version
        self.data = data
        self.size = size
        self.delay = timedelta(seconds=delay)
        self.applications = ApplicationBuilder(self.version)
        self._jobs: OrderedDict[str, ExportJob] = OrderedDict()
        self._lock = threading.Lock()
        self._created = 0

    def _remember(self, job: ExportJob) -> None:
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > CAPACITY:
                self._jobs.popitem(last=False)

    def _next_identifier(self) -> str:
        with self._lock:
            self._created += 1
            return fake.identifier(self.data.rng("export", self._created))

    def _unknown(self, identifier: str) -> Answer:
        anomaly = Anomaly("EXP404", f"Aucun export {identifier[:100]} n'est connu.", "idExport")
        return xml_answer(anomaly_document([anomaly], self.version, clock.now()), 404)

    def create(self, body: bytes, faults: FaultDraw, now: datetime) -> Answer:
        root, report = read_document(body, self.schema)
        if root is None or not report.valid:
            return refusal(report, self.version)
        job = job_from_request(root, self._next_identifier(), now, self.delay, self.size)
        self._remember(job)
        return xml_answer(
            faults.document(status_document(self.version, job, now)),
            202,
            Location=f"/v1.0/exports/{job.id}",
        )

    def status(self, identifier: str, faults: FaultDraw, now: datetime) -> Answer:
        job = self._jobs.get(identifier)
        if job is None:
            return self._unknown(identifier)
        return xml_answer(faults.document(status_document(self.version, job, now)))

    def download(self, identifier: str, draw: Callable[[], FaultDraw], now: datetime) -> Answer:
        """The archive of a ready export; `draw` gives the faults of each member."""
        job = self._jobs.get(identifier)
        if job is None:
            return self._unknown(identifier)
        state = job.state(now)
        if state != READY:
            anomaly = Anomaly(
                "EXP409", f"L'export {job.id} n'est pas prêt (état {state}).", "idExport"
            )
            return xml_answer(anomaly_document([anomaly], self.version, clock.now()), 409)
        chunks = tgz_chunks(
            [f"{folder}/" for folder in job.folders],
            self._members(job, draw, now),
            int(job.ready_at.timestamp()),
        )
        disposition = f'attachment; filename="export-{job.id}.tgz"'
        return Answer(200, ARCHIVE_TYPE, chunks, {"Content-Disposition": disposition})

    def _members(
        self, job: ExportJob, draw: Callable[[], FaultDraw], now: datetime
    ) -> Iterator[tuple[str, bytes]]:
        width = max(6, len(str(job.size)))
        months = last_months(now.date(), job.drm_depth)
        for folder in job.folders:
            for index in range(1, job.size + 1):
                rng = self.data.rng("export", job.id, index)
                if job.communes:
                    commune = fake.commune_for_code(rng.choice(job.communes))
                else:
                    commune = fake.commune_in(rng, rng.choice(job.departments))
                created = fake.between(rng, CREATED_FROM, CREATED_TO)
                num_unique = fake.num_unique(commune.department, created, rng.randrange(10**10))
                member_rng = self.data.rng("export", job.id, index, folder)
                if folder == "CERFA":
                    options = ApplicationOptions(num_unique, commune, job.radiated)
                    root = self.applications.document(member_rng, options)
                elif folder == "EVT":
                    root = events_document(self.version, member_rng, num_unique)
                else:
                    root = drm_document(self.version, self.data, [num_unique], months)
                yield f"{folder}/{index:0{width}d}.xml", draw().document(root)

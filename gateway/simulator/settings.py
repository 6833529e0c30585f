"""How one simulator behaves: the options of `sne-gateway simulate`."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.simulator.faults import NO_FAULTS, FaultSpec

DEFAULT_PORT = 8081
DEFAULT_EXPORT_SIZE = 100
DEFAULT_EXPORT_DELAY = 3.0


@dataclass(frozen=True)
class SimulatorSettings:
    """`version`: of the shipped XSD set (None: the newest), the one answers are valid
    against; `other_versions`: more versions served to requests that name one
    (`X-Simulator-Version`); `seed`: of the fake data and of the fault draws; `faults`: rates
    of the injected faults; `export_size`: applications per export archive; `export_delay`:
    seconds before an export is ready."""

    version: str | None = None
    other_versions: tuple[str, ...] = ()
    seed: int = 0
    faults: FaultSpec = NO_FAULTS
    export_size: int = DEFAULT_EXPORT_SIZE
    export_delay: float = DEFAULT_EXPORT_DELAY

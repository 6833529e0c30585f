"""The SNE école simulator: an SNE platform on a laptop, for the gateway's demo and tests.

It answers the interfaces of `sne-interfaces.md` (SOAP DemandeLogement and GestionPartageeEVT,
REST exports, DRM and GDM) with documents built from deterministic fake data and valid against
one version of the shipped XSD set, and injects, on request, the faults the gateway exists to
catch. `sne-gateway simulate` serves it; `sne-gateway serve` starts it when no upstream is
configured. See `docs/simulator.md`.
"""

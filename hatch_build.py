"""Hatch build hook: the wheel carries the shipped XSD set, gateway.toml and the two request
bodies of `serve`'s demo inside the package (`gateway/shipped/`), so that an installed
`sne-gateway` works outside a clone.

Only for the wheel proper: an editable install (a clone, the Docker image's build stage, which
has no xsd/ yet) runs from the sources and finds them in the repository.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: Repository path → path in the wheel.
SHIPPED = {
    "xsd": "gateway/shipped/xsd",
    "gateway.toml": "gateway/shipped/gateway.toml",
    "fixtures/soap/soap12-getNumUnique-request.xml": (
        "gateway/shipped/demo/soap12-getNumUnique-request.xml"
    ),
    "fixtures/invalid/drm-ressources/xsd.pattern--numunique-lowercase-key.xml": (
        "gateway/shipped/demo/xsd.pattern--numunique-lowercase-key.xml"
    ),
}


class ShippedFiles(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "standard":
            build_data["force_include"].update(SHIPPED)

"""Argument types and error output shared by the commands."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gateway.catalog import SHIPPED_XSD

XSD_ENVIRONMENT_VARIABLE = "SNE_GATEWAY_XSD"
REFERENTIAL_ENVIRONMENT_VARIABLE = "SNE_GATEWAY_REFERENTIAL"
USAGE_ERROR = 2


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, not {value}")
    return value


def default_xsd() -> Path:
    """$SNE_GATEWAY_XSD when set, else the XSD set shipped with the project."""
    configured = os.environ.get(XSD_ENVIRONMENT_VARIABLE)
    return Path(configured) if configured else SHIPPED_XSD


def default_referential() -> Path | None:
    """$SNE_GATEWAY_REFERENTIAL when set, else None: the COG country list shipped with the
    project."""
    configured = os.environ.get(REFERENTIAL_ENVIRONMENT_VARIABLE)
    return Path(configured) if configured else None


def fail(message: str) -> int:
    """Print one clear line on stderr and return the usage/I/O error status."""
    print(f"sne-gateway: error: {message}", file=sys.stderr)
    return USAGE_ERROR

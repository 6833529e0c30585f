"""The upgrade report as JSON, for CI: `{"old", "new", "changes", "samples", "summary"}`."""

from __future__ import annotations

import json

from gateway.diff.report import UpgradeReport


def render_json(report: UpgradeReport) -> str:
    """The report as indented JSON; `changes` is `[]` when the sets are equivalent."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"

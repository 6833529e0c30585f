"""Judging documents by the next XSD set: the documents of a body read again as the proxy read
them, validated against the next set without the business rules (a copy made once per load),
and compared with their reports in service (`gateway.shadow.comparison`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace

from gateway.catalog import SchemaSet
from gateway.exchange_tap import CheckedBody
from gateway.extract.document import Document
from gateway.extract.message import extract_documents
from gateway.limits import Limits
from gateway.reload import SchemaHolder
from gateway.rules import NO_RULES
from gateway.shadow.comparison import Comparison, compare
from gateway.violation import DocumentReport


class WithoutRules:
    """The set a holder has in service, and its copy without business rules, made once per
    load (from any thread)."""

    def __init__(self, holder: SchemaHolder) -> None:
        self.holder = holder
        self._lock = threading.Lock()
        self._sets: tuple[SchemaSet, SchemaSet] | None = None

    def sets(self) -> tuple[SchemaSet, SchemaSet]:
        """The set as loaded (what a diff of it is keyed by), and its copy without rules."""
        loaded = self.holder.current.schema_set
        with self._lock:
            if self._sets is None or self._sets[0] is not loaded:
                self._sets = (loaded, replace(loaded, rules=NO_RULES))
            return self._sets


def documents_of(body: CheckedBody, limits: Limits) -> tuple[Document, ...]:
    """The documents of a checked body, read again with the extractor that read it."""
    return extract_documents(
        body.data,
        body.content_type,
        body.rule,
        limits,
        body.extractor,
        body.soap_action_header,
        False,
        faults_pass=body.direction == "response" or body.rule.wrapper is None,
    ).documents


def compared(
    documents: Sequence[Document],
    reports: Sequence[DocumentReport],
    next_set: WithoutRules,
    limits: Limits,
) -> tuple[SchemaSet, Comparison]:
    """The next set as loaded, and how it judges `documents` against their `reports`."""
    loaded, without_rules = next_set.sets()
    return loaded, compare(documents, reports, without_rules, limits)

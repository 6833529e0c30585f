"""The next XSD set's parts, in process: the comparison (schema verdicts only, business rules
and unjudged documents aside), the queue's bound in bytes, the diff computed once per pair of
loaded sets, what the next set's process finds and records, and `X-Conformance-Next` from the
directions judged."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from gateway.catalog import Catalog, load_catalog
from gateway.config import ConfigError, Settings, load_settings
from gateway.extract.document import Document
from gateway.limits import DEFAULT_LIMITS
from gateway.reload import SchemaHolder
from gateway.rules import NO_RULES
from gateway.shadow.child import COMPARED, DIFFERENCE, NextSetChild
from gateway.shadow.comparison import compare
from gateway.shadow.explanation import DiffCache
from gateway.shadow.process import ShadowMetrics, ShadowProcess
from gateway.shadow.tap import NextSetTap
from gateway.shadow.work import ITEM_OVERHEAD, Origin, ShadowQueue, ShadowWork
from gateway.validate import validate_document
from gateway.violation import DocumentReport, Violation
from tests.servers import wait_for

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
ADRESSE = FIXTURES / "valid/13.34/gdm-mouvements/empty-adresse-postale.xml"
ORIGIN = Origin(0, "recette", "r-1", "gdm-mouvements", "response", "127.0.0.1")


class Events:
    """A logger that keeps what it is told."""

    def __init__(self) -> None:
        self.said: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, level: str) -> Any:
        return lambda event, **fields: self.said.append((event, fields))


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog(ROOT / "xsd")


def document() -> Document:
    return Document("gdm.xml", ADRESSE.read_bytes(), "gdm-mouvements")


def test_the_next_set_judges_the_schema_verdict_only(shipped: Catalog) -> None:
    today, upcoming = shipped.version("13.33"), replace(shipped.version("13.34"), rules=NO_RULES)
    report = validate_document(document(), today)
    assert not report.valid
    comparison = compare([document()], [report], upcoming, DEFAULT_LIMITS)
    assert (comparison.documents, comparison.conformance) == (1, "pass")
    (difference,) = comparison.differences
    assert difference.next_valid and difference.failing is report
    # A business rule broken today is no difference, and still fails under the next set.
    ruled = DocumentReport("gdm.xml", "gdm-mouvements@13.34", (Violation("rule.pays", "…"),))
    comparison = compare([document()], [ruled], upcoming, DEFAULT_LIMITS)
    assert (comparison.conformance, comparison.differences) == ("fail", [])
    # A document the gateway could not judge today is not judged again.
    unjudged = DocumentReport("body", None, (Violation("limits.size", "…"),))
    comparison = compare([document()], [unjudged], upcoming, DEFAULT_LIMITS)
    assert (comparison.conformance, comparison.differences) == ("fail", [])
    assert compare([], [], upcoming, DEFAULT_LIMITS).conformance == "skipped"


def test_the_queue_is_bounded_in_bytes_and_counts_documents_dropped() -> None:
    queue = ShadowQueue(max_bytes=3 * ITEM_OVERHEAD)
    report = DocumentReport("x", None)
    small = ShadowWork(ORIGIN, (report,), documents=(Document("x", b"<a/>"),))
    big = ShadowWork(ORIGIN, (report, report), documents=(Document("x", b"x" * 4096),) * 2)
    assert queue.offer(small) and queue.offer(small)
    assert not queue.offer(big)
    assert queue.dropped == 2
    taken = queue.take_all()
    assert taken == [small, small] and queue.held == 2 * small.size
    queue.done(taken[0])
    assert queue.held == small.size  # held until sent on
    assert queue.offer(small) and queue.clear() == 1 and queue.take_all() == []


def test_the_diff_is_computed_once_per_pair_of_sets(shipped: Catalog) -> None:
    cache = DiffCache(Events())
    old, new = shipped.version("13.33"), shipped.version("13.34")
    first = cache.between(old, new)
    assert cache.between(old, new) is first
    assert [c.change.kind for c in first.changes].count("element-added") == 3
    assert cache.between(new, old) is not first


def test_the_next_sets_process_records_each_difference_with_its_explanation() -> None:
    settings = Settings(xsd=ROOT / "xsd", version="13.33")
    events = Events()
    child = NextSetChild(
        settings,
        SchemaHolder(settings),
        SchemaHolder(replace(settings, version="13.34")),
        events,
    )
    (compared, found), (difference, record) = child.handle(
        ShadowWork(
            ORIGIN,
            (validate_document(document(), SchemaHolder(settings).current.schema_set),),
            documents=(document(),),
        )
    )
    assert (compared, found, difference) == (COMPARED, 1, DIFFERENCE)
    assert (record.next, record.audience, record.current_schema, record.next_schema) == (
        "pass",
        "consumers",
        "gdm-mouvements@13.33",
        "gdm-mouvements@13.34",
    )
    assert {v.code for v in record.violations} == {"xsd.unexpected-element"}
    assert [(c.kind, c.path) for c in record.explained_by] == [
        ("element-added", "interfaceNuu/listeMouvement/mouvement/demandeur/adressePostale")
    ]
    assert "13.33 rejects" in record.explained_by[0].why
    (said,) = [fields for event, fields in events.said if event == "shadow.differs"]
    assert said["next"] == "pass" and said["explained_by"][0]["kind"] == "element-added"
    # No value of the document: codes, paths and positions only.
    assert "38185" not in repr(record) and "38185" not in repr(said)


@pytest.mark.parametrize(
    ("judged", "streaming", "header"),
    [
        ({}, False, b"skipped"),
        ({"request": "pass"}, False, b"pass"),
        ({"request": "pass", "response": "fail"}, False, b"fail"),
        ({"request": "pass"}, True, b"streaming"),
    ],
)
def test_x_conformance_next_says_the_directions_judged(
    judged: dict[str, str], streaming: bool, header: bytes
) -> None:
    tap = NextSetTap(None, None, inline=True)  # type: ignore[arg-type]
    tap.conformance.update(judged)
    assert tap.headers(streaming) == [(b"x-conformance-next", header)]
    assert NextSetTap(None, None, inline=False).headers(streaming) == []  # type: ignore[arg-type]


def test_a_next_set_process_that_ends_is_said_and_started_again(tmp_path: Path) -> None:
    settings = Settings(
        xsd=ROOT / "xsd", version="13.33", shadow_xsd=ROOT / "xsd" / "13.34", reload=False
    )
    events = Events()
    registry = CollectorRegistry()
    queue = ShadowQueue(1024 * 1024)
    process = ShadowProcess(settings, queue, ShadowMetrics(registry), events, None)
    today = SchemaHolder(settings).current.schema_set
    work = ShadowWork(ORIGIN, (validate_document(document(), today),), documents=(document(),))

    def compared() -> float:
        return (
            registry.get_sample_value("sne_gateway_shadow_documents_total", {"result": "compared"})
            or 0
        )

    process.start()
    try:
        wait_for(lambda: process.state is not None)
        queue.offer(work)
        wait_for(lambda: compared() == 1)
        assert process._child is not None
        process._child.kill()
        process._child.wait()
        # The work handed over while it is gone is dropped, said, and the process started again.
        queue.offer(work)
        wait_for(lambda: any(event == "shadow.process-ended" for event, _ in events.said))
        queue.offer(work)
        wait_for(lambda: compared() == 2)
    finally:
        process.stop()
    assert (
        registry.get_sample_value("sne_gateway_shadow_documents_total", {"result": "dropped"}) == 1
    )


@pytest.mark.parametrize(
    ("overrides", "environ", "said"),
    [
        ({"shadow_xsd": "/nowhere"}, {}, "--shadow-xsd: /nowhere: no such file or directory"),
        ({}, {"SNE_GATEWAY_SHADOW_XSD": "/nowhere"}, "$SNE_GATEWAY_SHADOW_XSD: /nowhere: no such"),
        ({}, {"SNE_GATEWAY_CONFORMANCE_NEXT": "sometimes"}, "must be one of off, asked, always"),
        ({}, {"SNE_GATEWAY_SHADOW_QUEUE_MB": "0"}, "SHADOW_QUEUE_MB: must be at least 1, not 0"),
        ({}, {"SNE_GATEWAY_GDM_PATH": "gdm"}, "must be a path starting with /, not 'gdm'"),
    ],
)
def test_the_next_set_s_keys_say_where_a_bad_value_was_set(
    overrides: dict[str, Any], environ: dict[str, str], said: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(None, overrides, environ=environ)
    assert said in str(raised.value)
    if "shadow_xsd" in overrides or "SNE_GATEWAY_SHADOW_XSD" in environ:
        assert "give the next XSD set directory" in str(raised.value)


def test_the_next_set_in_the_file_starts_from_the_file_s_directory(tmp_path: Path) -> None:
    file = tmp_path / "gateway.toml"
    file.write_text('[gateway]\nshadow_xsd = "next"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(file, environ={})
    assert str(raised.value).startswith(f"{file}: gateway.shadow_xsd: {tmp_path / 'next'}: no such")
    (tmp_path / "next").mkdir()
    assert load_settings(file, environ={}).shadow_xsd == tmp_path / "next"

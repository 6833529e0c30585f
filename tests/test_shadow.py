"""The next XSD set's parts, in process: the comparison (schema verdicts only, business rules
and unjudged documents aside), the queue's bound in bytes, the diff computed once per pair of
loaded sets, what the next set's process finds and records, and `X-Conformance-Next` from the
directions judged."""

from __future__ import annotations

import shutil
import signal
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

import gateway.shadow.process as process_module
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


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0


def running(
    settings: Settings, queue: ShadowQueue | None = None
) -> tuple[ShadowProcess, CollectorRegistry, Events, ShadowWork]:
    events = Events()
    registry = CollectorRegistry()
    process = ShadowProcess(
        settings, queue or ShadowQueue(1024 * 1024), ShadowMetrics(registry), events, None
    )
    today = SchemaHolder(settings).current.schema_set
    work = ShadowWork(ORIGIN, (validate_document(document(), today),), documents=(document(),))
    process.start()
    return process, registry, events, work


def compared(registry: CollectorRegistry) -> float:
    return sample(registry, "sne_gateway_shadow_documents_total", result="compared")


def test_a_next_set_process_that_ends_is_said_and_started_again() -> None:
    settings = Settings(
        xsd=ROOT / "xsd", version="13.33", shadow_xsd=ROOT / "xsd" / "13.34", reload=False
    )
    process, registry, events, work = running(settings)
    try:
        wait_for(lambda: process.status == "running")
        process.queue.offer(work)
        wait_for(lambda: compared(registry) == 1)
        assert process._child is not None
        process._child.kill()
        # Said, and started again, before any work comes.
        wait_for(lambda: any(event == "shadow.process-ended" for event, _ in events.said))
        wait_for(lambda: process.status == "running")
        process.queue.offer(work)
        wait_for(lambda: compared(registry) == 2)
    finally:
        process.stop()
    assert sample(registry, "sne_gateway_shadow_restarts_total", reason="ended") == 1


def test_documents_dropped_say_why() -> None:
    settings = Settings(xsd=ROOT / "xsd", version="13.33", shadow_xsd=ROOT / "xsd" / "13.34")
    events = Events()
    registry = CollectorRegistry()
    process = ShadowProcess(settings, ShadowQueue(1024), ShadowMetrics(registry), events, None)
    process._lose("process-ended", 2)
    process._count_drops()
    ((event, said),) = events.said
    assert (event, said["cause"]) == ("shadow.dropped", "process-ended")
    assert "ended" in said["reason"] and "slower" not in said["reason"]
    assert sample(registry, "sne_gateway_shadow_documents_total", result="dropped") == 2
    assert process.dropped == 2


def test_a_child_started_on_a_broken_next_set_waits_for_a_good_one(tmp_path: Path) -> None:
    # The worker keeps the last good next set when a reload fails; a child started again
    # meanwhile finds the files broken: it says so, answers work unjudged, and judges again
    # once they compile.
    next_set = tmp_path / "next"
    shutil.copytree(ROOT / "xsd" / "13.34", next_set)
    schema = next_set / "gdm" / "NUU_GdmMouvements.xsd"
    good = schema.read_bytes()
    settings = Settings(xsd=ROOT / "xsd", version="13.33", shadow_xsd=next_set, reload=False)
    process, registry, events, work = running(settings)
    try:
        wait_for(lambda: process.status == "running")
        schema.write_bytes(good[:200])
        assert process._child is not None
        process._child.kill()
        wait_for(lambda: process.status == "without a set")
        assert process.state is not None
        assert process.state["last_reload_error"]["file"].endswith("NUU_GdmMouvements.xsd")
        process.queue.offer(work)
        wait_for(lambda: process.dropped == 1)
        wait_for(lambda: any(event == "shadow.dropped" for event, _ in events.said))
        (dropped,) = [fields for event, fields in events.said if event == "shadow.dropped"]
        assert dropped["cause"] == "without-set"
        schema.write_bytes(good)
        wait_for(lambda: process.status == "running")
        process.queue.offer(work)
        wait_for(lambda: compared(registry) == 1)
    finally:
        process.stop()
    # Started once: the broken set did not end it.
    assert sample(registry, "sne_gateway_shadow_restarts_total", reason="ended") == 1


def test_a_stuck_child_is_found_killed_and_started_again(monkeypatch) -> None:
    settings = Settings(
        xsd=ROOT / "xsd", version="13.33", shadow_xsd=ROOT / "xsd" / "13.34", reload=False
    )
    monkeypatch.setattr(process_module, "STUCK_SECONDS", 3600.0)
    queue = ShadowQueue(1024 * 1024)
    process, registry, events, work = running(settings, queue)
    try:
        wait_for(lambda: process.status == "running")
        assert process._child is not None
        stuck = process._child
        stuck.send_signal(signal.SIGSTOP)
        # More than the pipe holds: the sending thread waits on the stopped child.
        for _ in range(100):
            queue.offer(work)
        wait_for(lambda: not queue._items)
        # Then more than the queue holds: dropped, and counted while the sender waits.
        for _ in range(400):
            queue.offer(work)
        assert queue.dropped > 0
        dropped = lambda: sample(  # noqa: E731
            registry, "sne_gateway_shadow_documents_total", result="dropped"
        )
        wait_for(lambda: dropped() == queue.dropped)
        (said,) = [fields for event, fields in events.said if event == "shadow.dropped"]
        assert said["cause"] == "queue-full"
        # A child that accepts nothing and says nothing for STUCK_SECONDS is killed.
        monkeypatch.setattr(process_module, "STUCK_SECONDS", 1.5)
        wait_for(lambda: any(event == "shadow.process-stuck" for event, _ in events.said))
        wait_for(lambda: stuck.poll() is not None)
        wait_for(lambda: process.status == "running")
        before = compared(registry)
        queue.offer(work)
        wait_for(lambda: compared(registry) > before)
        # At the gateway's stop, a stopped child is killed, not waited for.
        assert process._child is not None
        last = process._child
        last.send_signal(signal.SIGSTOP)
        for _ in range(100):
            queue.offer(work)
    finally:
        process.stop()
    assert last.poll() is not None
    assert not process._sender.is_alive()
    assert sample(registry, "sne_gateway_shadow_restarts_total", reason="stuck") == 1
    assert not [event for event, _ in events.said if event == "shadow.failed"]


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

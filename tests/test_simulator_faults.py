"""`--faults`: its syntax, its draws, and what each document fault does to a valid document,
as the engine judges it in each version."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.simulator import fake_data as fake
from gateway.simulator.demande import ApplicationBuilder, ApplicationOptions
from gateway.simulator.drm import drm_document, last_months
from gateway.simulator.faults import (
    KINDS,
    FaultDraw,
    FaultInjector,
    FaultSpec,
    FaultSpecError,
    parse_faults,
)
from gateway.simulator.gdm import GdmService
from gateway.simulator.nuu_document import serialize
from gateway.validate import validate

EXAMPLE = "empty-adresse=0.2,pj-metadata=0.1,too-long=0.1,unknown-element=0.05,malformed=0.05,slow=0.1:2s,5xx=0.05"


def test_the_documented_example_parses() -> None:
    spec = parse_faults(EXAMPLE)
    assert spec.rates == {
        "empty-adresse": 0.2,
        "pj-metadata": 0.1,
        "too-long": 0.1,
        "unknown-element": 0.05,
        "malformed": 0.05,
        "slow": 0.1,
        "5xx": 0.05,
    }
    assert spec.slow_seconds == 2.0
    assert parse_faults(str(spec)) == spec


@pytest.mark.parametrize(
    ("text", "rates", "slow"),
    [
        ("", {}, 2.0),
        ("too-long", {"too-long": 1.0}, 2.0),
        (" malformed = 0.5 , slow:500ms ", {"malformed": 0.5, "slow": 1.0}, 0.5),
        ("slow=0.2:1.5s,5xx=0", {"slow": 0.2}, 1.5),
        ("slow=1:3", {"slow": 1.0}, 3.0),
    ],
)
def test_items_rates_and_durations(text, rates, slow) -> None:
    spec = parse_faults(text)
    assert spec.rates == rates
    assert spec.slow_seconds == slow


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("too-short=0.1", "unknown fault 'too-short'; known: empty-adresse"),
        ("too-long=2", "between 0 and 1"),
        ("too-long=much", "must be a number"),
        ("too-long:2s", "only 'slow' takes a duration"),
        ("slow=0.1:soon", "like 2s or 500ms"),
        ("5xx=0.1,5xx=0.2", "given twice"),
    ],
)
def test_a_bad_item_is_named_with_the_reason(text, says) -> None:
    with pytest.raises(FaultSpecError, match=says):
        parse_faults(text)


def test_draws_follow_the_rates() -> None:
    injector = FaultInjector(parse_faults("too-long=0.25,5xx=1"), seed=3)
    draws = [injector.draw() for _ in range(4000)]
    assert all(draw.server_error for draw in draws)
    share = sum("too-long" in draw.kinds for draw in draws) / len(draws)
    assert 0.2 < share < 0.3
    assert FaultInjector(FaultSpec(), seed=3).draw().kinds == frozenset()


def test_a_forced_spec_replaces_the_configured_one_for_one_answer() -> None:
    injector = FaultInjector(parse_faults("5xx=1"), seed=0)
    forced = injector.draw(parse_faults("slow:250ms"))
    assert forced.kinds == {"slow"}
    assert forced.delay == 0.25
    assert injector.draw().server_error


def application(version: str):
    """A household (not an association) under `version`, whose adressePostale is complete."""
    builder = ApplicationBuilder(version)
    data = fake.FakeData(0)
    for index in range(100):
        root = builder.document(data.rng("faults", index), ApplicationOptions("03825060000004411G"))
        address = root.find(
            ".//{http://nuu.application.i2/}demandeur/{http://nuu.application.i2/}adressePostale"
        )
        if address is not None and len(address):
            return root
    raise AssertionError("no household found")


def verdict(data: bytes, schema, version: str, catalog) -> list[str]:
    return sorted({v.code for v in validate(data, catalog.schema(schema, version)).violations})


@pytest.mark.parametrize(
    ("kind", "under_13_33", "under_13_34"),
    [
        ("empty-adresse", ["xsd.missing-element"], []),
        ("pj-metadata", ["xsd.unexpected-element"], []),
        ("too-long", ["xsd.facet"], ["xsd.facet"]),
        ("unknown-element", ["xsd.unexpected-element"], ["xsd.unexpected-element"]),
        ("malformed", ["xml.malformed"], ["xml.malformed"]),
    ],
)
def test_each_document_fault_on_an_application(catalog, kind, under_13_33, under_13_34) -> None:
    for version, expected in (("13.33", under_13_33), ("13.34", under_13_34)):
        clean = serialize(application(version))
        assert verdict(clean, "demande", version, catalog) == []
        faulty = FaultDraw(frozenset({kind})).document(application(version))
        assert verdict(faulty, "demande", version, catalog) == expected, version


def test_faults_on_documents_without_an_applicant(catalog) -> None:
    data = fake.FakeData(0)
    numbers = [fake.num_unique("38", date(2024, 1, 9), n) for n in range(3)]

    def drm():
        return drm_document("13.33", data, numbers, last_months(date(2025, 6, 23)))

    assert verdict(
        FaultDraw(frozenset({"too-long"})).document(drm()), "drm-ressources", "13.33", catalog
    ) == ["xsd.facet"]
    for kind in ("empty-adresse", "pj-metadata"):  # nothing they apply to: left as is
        assert (
            verdict(
                FaultDraw(frozenset({kind})).document(drm()), "drm-ressources", "13.33", catalog
            )
            == []
        )


def test_empty_address_in_a_gdm_feed_is_13_34_only(catalog) -> None:
    now = datetime(2025, 6, 12, 9, 41, tzinfo=UTC)
    since = (now - timedelta(hours=12)).isoformat()
    answer = GdmService("13.33", fake.FakeData(0)).mouvements(
        since, [], FaultDraw(frozenset({"empty-adresse"})), now
    )
    assert verdict(answer.body, "gdm-mouvements", "13.33", catalog) == ["xsd.unexpected-element"]
    assert verdict(answer.body, "gdm-mouvements", "13.34", catalog) == []


def test_too_long_falls_back_on_the_guichet_code(catalog) -> None:
    now = datetime(2025, 6, 12, 9, 41, tzinfo=UTC)
    empty_feed = GdmService("13.34", fake.FakeData(0)).mouvements(
        now.isoformat(), [], FaultDraw(frozenset({"too-long"})), now
    )
    assert b"<mouvement>" not in empty_feed.body
    assert verdict(empty_feed.body, "gdm-mouvements", "13.34", catalog) == ["xsd.facet"]


def test_every_kind_is_documented() -> None:
    from gateway.simulator import faults

    for kind in KINDS:
        assert f"`{kind}`" in faults.__doc__

"""`sne-gateway report`'s sections on what is coming, on a SQLite store filled by hand: what the
next XSD set would break in the traffic, and the GDM usage advisories, in each format; and a
store from before these tables, which reports without them."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from lxml import etree

from gateway.advice.gdm_call import GdmCall
from gateway.advice.gdm_rules import advise_arrival
from gateway.advice.history import StoreHistory
from gateway.cli.main import main
from gateway.next_set_record import ExplainingChange, NextSetDifference
from gateway.record import ViolationRecord
from gateway.store.backend import open_backend
from gateway.store.location import parse_store
from tests.records import exchange

NOM = "/nuu:interfaceNuu/nuu:demande/nuu:demandeLogement/nuu:personnePhysique/nuu:demandeur/nuu:nom"
ADRESSE = "/nuu:interfaceNuu/nuu:listeMouvement/nuu:mouvement[2]/nuu:demandeur/nuu:adressePostale"
SHORTER = ExplainingChange(
    "C2",
    "facet-changed",
    "interfaceNuu/demande/demandeLogement/personnePhysique/demandeur/nom",
    "The type nomDomaine accepts fewer values (maxLength 50 → 30): values valid under 13.34 may be refused.",
)
ADDED = ExplainingChange(
    "C6",
    "element-added",
    "interfaceNuu/listeMouvement/mouvement/demandeur/adressePostale",
    "Documents produced under 13.34 may carry <adressePostale>, which 13.33 rejects.",
)
CLIENT = "CN=guichet-essai"


def difference(at_ms: int, request_id: str, next_verdict: str) -> NextSetDifference:
    failing = next_verdict == "fail"
    return NextSetDifference(
        at_ms=at_ms,
        env="recette",
        request_id=request_id,
        route="getNumUnique" if failing else "gdm-mouvements",
        direction="request" if failing else "response",
        client=CLIENT,
        current_schema="demande@13.34" if failing else "gdm-mouvements@13.33",
        next_schema="demande@13.35" if failing else "gdm-mouvements@13.34",
        next=next_verdict,
        violations=(
            ViolationRecord(
                "xsd.facet" if failing else "xsd.unexpected-element",
                None,
                NOM if failing else ADRESSE,
                16,
                11,
            ),
        ),
        explained_by=(SHORTER if failing else ADDED,),
    )


def gdm_call(at_ms: int, depuis_ms: int, movements: int = 300) -> GdmCall:
    return GdmCall(CLIENT, at_ms, at_ms, depuis_ms, (), movements, f"g-{at_ms}", "recette")


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    location = parse_store(url)
    assert location is not None
    backend = open_backend(location)
    now = int(time.time() * 1000)
    minute = 60_000
    backend.write(
        [
            exchange(now - 60 * minute, "getNumUnique", "n1", request=[], response=[]),
            difference(now - 60 * minute, "n1", "fail"),
            difference(now - 50 * minute, "n2", "fail"),
            difference(now - 40 * minute, "m1", "pass"),
        ]
    )
    backend.close()
    history = StoreHistory(location)
    # Hourly calls at minute 41 of a guichet of over 5,000 applications a day, the third with a
    # gap of 4 minutes.
    first = now // (60 * minute) * (60 * minute) - 4 * 60 * minute + 41 * minute + 7_000
    calls = [
        gdm_call(first, first - 600 * minute, movements=4000),
        gdm_call(first + 60 * minute, first - 5 * minute),
        gdm_call(first + 120 * minute, first + 64 * minute),
    ]
    for call in calls:
        history.record(call, lambda around, advised, c=call: advise_arrival(c, around, advised))
    history.close()
    return url


def report(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    main(["report", *arguments])
    return capsys.readouterr().out


def test_json_says_what_the_next_delivery_would_break(store: str, capsys) -> None:
    document = json.loads(report(capsys, "--store", store, "--format", "json"))
    forecast = document["next_delivery"]
    assert (forecast["failing_next"], forecast["passing_next"]) == (2, 1)
    assert forecast["next_versions"] == ["13.35", "13.34"]
    first, second = forecast["findings"]
    assert (first["route"], first["direction"], first["next"], first["code"]) == (
        "getNumUnique",
        "request",
        "fail",
        "xsd.facet",
    )
    assert (first["documents"], first["request_ids"]) == (2, ["n2", "n1"])
    assert first["explained_by"] == [
        {"id": "C2", "kind": "facet-changed", "path": SHORTER.path, "why": SHORTER.why}
    ]
    # Positions left out, as in the other sections.
    assert second["path"] == ADRESSE.replace("[2]", "")
    assert (second["next"], second["current_schema"]) == ("pass", "gdm-mouvements@13.33")


def test_json_says_the_gdm_advisories(store: str, capsys) -> None:
    usage = json.loads(report(capsys, "--store", store, "--format", "json"))["gdm_usage"]
    assert [(c["client"], c["calls"]) for c in usage["clients"]] == [(CLIENT, 3)]
    (gap,) = usage["advisories"]
    assert (gap["advisory"], gap["severity"], gap["count"]) == ("gdm.gap", "warning", 1)
    assert gap["latest"]["figures"] == {"gap_minutes": 4.0}
    assert gap["rule"]["title"] == "3. Évitez les désynchronisations"
    assert "may have been missed" in gap["latest"]["found"]


def test_markdown_and_html_have_both_sections(store: str, capsys) -> None:
    markdown = report(capsys, "--store", store)
    assert "## What the next delivery would break in your traffic" in markdown
    assert "### Valid today, rejected by the next set" in markdown
    assert "| getNumUnique | request | demande@13.34 → demande@13.35 | `xsd.facet` |" in markdown
    assert f"- **C2** `facet-changed` at `{SHORTER.path}`: {SHORTER.why}" in markdown
    assert "## GDM usage advisories" in markdown
    assert "| warning | CN=guichet-essai | `gdm.gap` | 1 |" in markdown
    assert "**3. Évitez les désynchronisations** — « Afin de pallier" in markdown
    html = report(capsys, "--store", store, "--format", "html")
    assert "<h2>What the next delivery would break in your traffic</h2>" in html
    assert '<q lang="fr">Afin de pallier' in html
    etree.fromstring(html.encode(), etree.HTMLParser())


def test_junit_has_a_suite_for_the_next_set_and_one_for_gdm(store: str, capsys) -> None:
    main(["report", "--store", store, "--format", "junit"])
    suites = etree.fromstring(capsys.readouterr().out.encode())
    names = [suite.get("name") for suite in suites]
    assert names[1:] == ["sne-gateway next XSD set", "sne-gateway GDM usage"]
    next_set = suites[1]
    failing = next_set.find("testcase[@classname='getNumUnique']/failure")
    assert failing is not None and failing.get("type") == "xsd.facet"
    assert next_set.find("testcase[@classname='gdm-mouvements']/failure") is None
    gdm = suites[2].find("testcase/failure")
    assert gdm is not None and gdm.get("type") == "gdm.gap"
    assert suites.get("failures") == str(sum(int(s.get("failures")) for s in suites))


def test_a_store_from_before_these_tables_reports_without_them(store: str, capsys) -> None:
    path = store.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        for table in ("next_set_differences", "gdm_calls", "gdm_advisories"):
            connection.execute(f"DROP TABLE {table}")
    document = json.loads(report(capsys, "--store", store, "--format", "json"))
    assert document["next_delivery"] is None and document["gdm_usage"] is None
    # Said, not left out: the user learns why the sections are empty.
    for output in ("md", "html"):
        shown = report(capsys, "--store", store, "--format", output)
        assert "What the next delivery would break in your traffic" in shown
        assert "made before the gateway recorded the next XSD set" in shown
        assert "made before the gateway recorded GDM calls and advisories" in shown


def test_a_stored_time_no_time_can_be_does_not_stop_the_report(store: str, capsys) -> None:
    # A row written before times were bounded: 9999-12-31T23:59:59-14:00 as depuis.
    path = store.removeprefix("sqlite:///")
    hostile = 253402351199000
    with sqlite3.connect(path) as connection:
        connection.execute(
            "UPDATE gdm_advisories SET depuis_ms = ?, previous_at_ms = ?", (hostile, -hostile)
        )
    for output in ("json", "md", "html", "junit"):
        shown = report(capsys, "--store", store, "--format", output)
        assert f"{hostile} ms" in shown or output == "junit"

"""`sne-gateway report` on a SQLite store filled by hand: each format's figures, the changes
since the previous report, an empty window, exit statuses and errors."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from lxml import etree

from gateway.cli.main import main
from gateway.store.backend import open_backend
from gateway.store.location import parse_store
from tests.records import exchange

DAY_MS = 86_400_000
PATTERN = ("xsd.pattern", "/nuu:interfaceNuu/nuu:requeteRessources/nuu:numUnique[2]")
FACET = ("xsd.facet", "/nuu:interfaceNuu/nuu:demande/nuu:nom")


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    backend = open_backend(parse_store(url))  # type: ignore[arg-type]
    now = int(time.time() * 1000)
    backend.write(
        [
            exchange(now - 2 * DAY_MS, request_id="a1", request=[], response=[]),
            exchange(now - 2 * DAY_MS + 1, request_id="a2", request=[PATTERN]),
            exchange(now - 60_000, request_id="a3", request=[PATTERN]),
            exchange(now - 50_000, "getNumUnique", "b1", request=[], response=[FACET]),
            exchange(now - 40_000, "getNumUnique", "b2", request=[], response=[]),
            exchange(now - 30_000, None, "c1", outcome="upstream.unreachable"),
            exchange(now - 30 * DAY_MS, request_id="old", request=[FACET]),
        ]
    )
    backend.close()
    return url


def report(capsys, *arguments: str) -> tuple[int, str, str]:
    status = main(["report", *arguments])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_json_has_exact_counts_per_route_direction_and_code(store, capsys) -> None:
    status, out, _ = report(capsys, "--store", store, "--format", "json")
    assert status == 1  # violations in the window
    document = json.loads(out)
    assert document["totals"] == {
        "exchanges": 6,
        "passed": 2,
        "failed": 3,
        "not_validated": 1,
        "violations": 3,
    }
    flows = {(flow["route"], flow["direction"]): flow for flow in document["flows"]}
    assert {
        key: (f["exchanges"], f["passed"], f["failed"], f["blocked"]) for key, f in flows.items()
    } == {
        ("drm-ressources", "request"): (3, 1, 2, 2),
        ("drm-ressources", "response"): (1, 1, 0, 0),
        ("getNumUnique", "request"): (2, 2, 0, 0),
        ("getNumUnique", "response"): (2, 1, 1, 0),
        ("", None): (1, 0, 0, 0),
    }
    assert flows["drm-ressources", "request"]["pass_rate"] == pytest.approx(1 / 3)
    assert {(c["code"], c["violations"], c["exchanges"]) for c in document["codes"]} == {
        ("xsd.pattern", 2, 2),
        ("xsd.facet", 1, 1),
    }
    pattern = next(v for v in document["violations"] if v["code"] == "xsd.pattern")
    assert pattern["path"] == "/nuu:interfaceNuu/nuu:requeteRessources/nuu:numUnique"
    assert pattern["request_ids"] == ["a3", "a2"]
    assert pattern["routes"] == ["drm-ressources"] and pattern["directions"] == ["request"]
    assert document["outcomes"] == {"upstream.unreachable": 1}
    assert sum(day["exchanges"] for day in document["days"]) == 6
    assert document["changes"]["previous_report"] is None


def test_the_next_report_says_which_codes_appeared_and_went(store, capsys) -> None:
    report(capsys, "--store", store, "--format", "json")
    backend = open_backend(parse_store(store))  # type: ignore[arg-type]
    backend.write(
        [
            exchange(
                int(time.time() * 1000) - 1000,
                "gdm-mouvements",
                "d1",
                response=[("xsd.enumeration", "/x")],
            )
        ]
    )
    backend.close()
    # A window that no longer holds the violations of two days and of 50 s ago.
    _, out, _ = report(capsys, "--store", store, "--format", "json", "--since", "45s")
    changes = json.loads(out)["changes"]
    assert changes["previous_report"] is not None
    assert changes["new"] == [
        {"route": "gdm-mouvements", "direction": "response", "code": "xsd.enumeration"}
    ]
    assert changes["gone"] == [
        {"route": "drm-ressources", "direction": "request", "code": "xsd.pattern"},
        {"route": "getNumUnique", "direction": "response", "code": "xsd.facet"},
    ]
    _, text, _ = report(capsys, "--store", store, "--since", "45s")
    assert "No code appeared or went." in text


def test_markdown_is_the_default(store, capsys) -> None:
    status, out, _ = report(capsys, "--store", store)
    assert status == 1
    assert out.startswith("# SNE campaign report\n")
    assert "**6 exchanges**: 2 passed, 3 failed, 1 not validated; 3 violations." in out
    assert "| drm-ressources | request | 3 | 1 | 2 | 2 | 0 | 2 | 33.3 % |" in out
    assert "| (no route) | not validated | 1 | 0 | 0 | 0 | 0 | 0 | — |" in out
    assert "| `xsd.pattern` | 2 | 2 |" in out
    assert "`a3` `a2`" in out
    assert "- `upstream.unreachable`: 1" in out


def test_html_stands_alone_with_its_chart(store, capsys, tmp_path: Path) -> None:
    output = tmp_path / "campaign.html"
    status, out, _ = report(capsys, "--store", store, "--format", "html", "--output", str(output))
    assert status == 1 and out == ""
    html = output.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert '<svg class="trend"' in html and html.count("<rect ") >= 2
    # Nothing fetched: no script, stylesheet, image or font from elsewhere.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<script" not in html and "@import" not in html and "url(" not in html
    assert etree.fromstring(html.encode(), etree.HTMLParser()).find(".//table") is not None


def test_junit_has_a_testcase_per_route_and_direction(store, capsys) -> None:
    status, out, _ = report(capsys, "--store", store, "--format", "junit")
    assert status == 1
    suites = etree.fromstring(out.encode())
    cases = {(case.get("classname"), case.get("name")): case for case in suites.iter("testcase")}
    assert set(cases) == {
        ("drm-ressources", "request"),
        ("drm-ressources", "response"),
        ("getNumUnique", "request"),
        ("getNumUnique", "response"),
    }
    assert suites.get("tests") == "4" and suites.get("failures") == "2"
    failure = cases["drm-ressources", "request"].find("failure")
    assert failure is not None and "xsd.pattern (2)" in failure.get("message")
    assert cases["getNumUnique", "request"].find("failure") is None


@pytest.mark.parametrize("format_name", ["md", "html", "json", "junit"])
def test_an_empty_window_says_so_and_exits_0(store, capsys, format_name) -> None:
    status, out, _ = report(
        capsys,
        "--store",
        store,
        "--since",
        "2020-01-01",
        "--until",
        "2020-01-02",
        "--format",
        format_name,
    )
    assert status == 0
    assert "No exchange was recorded in this window" in out or '"empty": true' in out


def test_filters_by_route_env_and_code(store, capsys) -> None:
    _, out, _ = report(capsys, "--store", store, "--format", "json", "--route", "getNumUnique")
    assert json.loads(out)["totals"]["exchanges"] == 2
    status, out, _ = report(capsys, "--store", store, "--format", "json", "--env", "prod")
    assert status == 0 and json.loads(out)["empty"]
    _, out, _ = report(capsys, "--store", store, "--format", "json", "--code", "xsd.facet")
    assert [c["code"] for c in json.loads(out)["codes"]] == ["xsd.facet"]


def test_the_window_reaches_back_as_asked(store, capsys) -> None:
    _, out, _ = report(capsys, "--store", store, "--format", "json", "--since", "31d")
    assert json.loads(out)["totals"]["exchanges"] == 7
    _, out, _ = report(capsys, "--store", store, "--format", "json", "--since", "1d")
    assert json.loads(out)["totals"]["exchanges"] == 4


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--since", "last week"], "'last week' is not a moment"),
        (["--since", "1h", "--until", "2h"], "must be before --until"),
        (["--store", "mysql://x"], "must be sqlite:///PATH"),
        (["--store", "off"], "the store is off"),
    ],
)
def test_usage_errors_say_what_to_fix(capsys, arguments, says) -> None:
    status, out, err = report(capsys, *arguments)
    assert status == 2 and out == ""
    assert says in err


def test_a_missing_store_file_is_an_error_not_a_new_store(tmp_path: Path, capsys) -> None:
    path = tmp_path / "nowhere.db"
    status, _, err = report(capsys, "--store", f"sqlite:///{path}")
    assert status == 2 and f"no store at {path}" in err
    assert not path.exists()


def test_the_configurations_store_is_read_by_default(
    store, tmp_path: Path, capsys, monkeypatch
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[gateway]\nstore = "sqlite:///store.db"\n')  # relative to the file
    # The suite's SNE_GATEWAY_STORE=off (conftest) would override the file's store.
    monkeypatch.delenv("SNE_GATEWAY_STORE")
    monkeypatch.chdir(tmp_path.parent)
    status, out, _ = report(capsys, "--config", str(config), "--format", "json")
    assert status == 1 and json.loads(out)["totals"]["exchanges"] == 6

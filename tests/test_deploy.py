"""deploy/: the Prometheus alerting rules and the Grafana dashboard are valid YAML and JSON,
their expressions valid PromQL (promql-parser: promtool is not packaged lightly on Debian), and
every series, matcher label and grouping label they use is one a running gateway exports."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.servers import gateway_settings, serve_gateway, wait_for
from tests.test_campaign import DRM, FIXTURES, XML, drm_invalid
from tests.test_campaign import upstream as campaign_upstream

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy/prometheus/sne-gateway-alerts.yml"
DASHBOARD = ROOT / "deploy/grafana/sne-gateway-dashboard.json"
#: Grafana's own variables, replaced as Grafana does before a query leaves it.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h", "$__interval": "1m"}
upstream = campaign_upstream


@pytest.fixture(scope="module")
def exported(upstream, tmp_path_factory) -> dict[str, set[str]]:
    """The series a gateway with a store exports after some traffic, with their labels."""
    store = f"sqlite:///{tmp_path_factory.mktemp('deploy') / 'store.db'}"
    with serve_gateway(gateway_settings(upstream.url, env="recette", store=store)) as gateway:
        valid = (FIXTURES / "valid/13.33/drm-ressources/requete.xml").read_bytes()
        httpx.post(gateway.url + DRM, content=valid, headers=XML)
        httpx.post(gateway.url + DRM, content=drm_invalid(), headers=XML)

        def scraped() -> str:
            return httpx.get(gateway.url + "/_gateway/metrics").text

        # A sample, not only the series' HELP line: once the writer has written.
        wait_for(lambda: 'sne_gateway_store_records_total{result="written"}' in scraped())
        exposition = scraped()
    series: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            series.setdefault(sample.name, set()).update(sample.labels)
    return series


def rule_expressions() -> Iterator[tuple[str, str]]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    for group in document["groups"]:
        for rule in group["rules"]:
            yield rule["alert"], rule["expr"]


def dashboard_expressions() -> Iterator[tuple[str, str]]:
    document = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    for panel in document["panels"]:
        for target in panel["targets"]:
            expression = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expression = expression.replace(variable, value)
            yield panel["title"], expression


EXPRESSIONS = [*rule_expressions(), *dashboard_expressions()]


def selectors(node: object) -> Iterator[tuple[object, set[str]]]:
    """Every vector selector of an expression, with the labels its aggregations group by."""
    if isinstance(node, promql_parser.VectorSelector):
        yield node, set()
        return
    if isinstance(node, promql_parser.AggregateExpr):
        grouping = set(node.modifier.labels) if node.modifier is not None else set()
        for selector, labels in selectors(node.expr):
            yield selector, labels | grouping
        return
    children = {
        promql_parser.BinaryExpr: ("lhs", "rhs"),
        promql_parser.Call: ("args",),
        promql_parser.MatrixSelector: ("vector_selector",),
        promql_parser.ParenExpr: ("expr",),
        promql_parser.SubqueryExpr: ("expr",),
        promql_parser.UnaryExpr: ("expr",),
    }.get(type(node), ())
    for name in children:
        child = getattr(node, name)
        for each in child if isinstance(child, list) else [child]:
            yield from selectors(each)


def test_the_rules_cover_what_operators_alert_on() -> None:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} == {
        "SneGatewayViolationRate",
        "SneGatewayBlockedRate",
        "SneGatewayXsdDegraded",
        "SneGatewayStoreDrops",
        "SneGatewayStoreFailing",
        "SneGatewayUpstreamErrors",
    }
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"])


def test_the_dashboard_is_one_grafana_imports() -> None:
    document = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert document["uid"] == "sne-gateway" and document["schemaVersion"] >= 36
    ids = [panel["id"] for panel in document["panels"]]
    assert len(ids) == len(set(ids)) and all(panel["targets"] for panel in document["panels"])
    assert {variable["name"] for variable in document["templating"]["list"]} == {
        "datasource",
        "route",
    }


@pytest.mark.parametrize(("where", "expression"), EXPRESSIONS, ids=[w for w, _ in EXPRESSIONS])
def test_every_series_and_label_is_one_the_gateway_exports(exported, where, expression) -> None:
    parsed = promql_parser.parse(expression)
    found = list(selectors(parsed))
    assert found, expression
    for selector, grouping in found:
        name = selector.name  # type: ignore[attr-defined]
        assert name in exported, f"{where}: {name} is not exported ({sorted(exported)})"
        labels = {matcher.name for matcher in selector.matchers.matchers}  # type: ignore[attr-defined]
        assert labels <= exported[name], f"{where}: {name} has no label {labels - exported[name]}"
        assert grouping <= exported[name], (
            f"{where}: {name} has no label {grouping - exported[name]}"
        )

"""The alert rules and the Grafana dashboard name only metrics and labels the workers export."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from agents.billing_role import PostingMetrics
from agents.metrics import BillingMetrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "billing-meter.json"
RUNBOOK = DEPLOY / "RUNBOOK.md"
PROMETHEUS_METRICS = {"up"}  # Prometheus' own, from the scrape
TARGET_LABELS = {"job", "instance", "le"}  # added by the scrape / histogram buckets
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "by", "without", "rate", "increase", "delta",
    "deriv", "histogram_quantile", "and", "or", "unless", "on", "ignoring", "absent",
}  # fmt: skip


def exported() -> dict[str, set[str]]:
    """Sample name -> label names, as the code registers them."""
    registry = CollectorRegistry()
    names: dict[str, set[str]] = {}
    for metrics in (BillingMetrics.create(registry), PostingMetrics.create(registry)):
        names.update(_names_of(metrics))
    return names


def _names_of(metrics: object) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for field in dataclasses.fields(metrics):  # type: ignore[arg-type]
        metric = getattr(metrics, field.name)
        labels = set(metric._labelnames)
        for family in metric.describe():
            for name in _sample_names(family.name, family.type):
                names[name] = labels
    return names


def _sample_names(name: str, kind: str) -> list[str]:
    if kind == "counter":
        return [f"{name}_total"]
    if kind == "histogram":
        return [name + suffix for suffix in HISTOGRAM_SUFFIXES]
    return [name]


def rule_expressions() -> list[str]:
    rules = yaml.safe_load(RULES.read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def metrics_in(expr: str) -> set[str]:
    """Metric names in a PromQL expression (identifiers that are not functions or labels)."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_groupings = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", without_strings)
    without_matchers = re.sub(r"\{[^}]*\}", "", without_groupings)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_matchers)
    names = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", without_ranges))
    return {n for n in names if n not in PROMQL_WORDS and not n.isdigit()}


def labels_in(expr: str) -> set[str]:
    """Label names used in groupings and matchers."""
    found: set[str] = set()
    for group in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr):
        found |= {label.strip() for label in group.split(",") if label.strip()}
    for matcher in re.findall(r"\{([^}]*)\}", expr):
        found |= set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", matcher))
    return found


EXPRESSIONS = [("rule", e) for e in rule_expressions()] + [
    ("dashboard", e) for e in dashboard_expressions()
]


@pytest.mark.parametrize(("where", "expr"), EXPRESSIONS)
def test_expression_names_exported_metrics_and_labels(where: str, expr: str) -> None:
    names = exported()
    used = metrics_in(expr)
    assert used, f"{where}: no metric in {expr!r}"
    unknown = used - set(names) - PROMETHEUS_METRICS
    assert not unknown, f"{where} names metrics the workers do not export: {sorted(unknown)}"
    allowed = set().union(*(names.get(n, set()) for n in used)) | TARGET_LABELS
    assert labels_in(expr) <= allowed, f"{where}: unknown labels {labels_in(expr) - allowed}"


def test_the_checker_catches_a_misspelt_metric_and_label() -> None:
    names = exported()
    assert metrics_in("sum by (topic) (rate(billing_event_total[5m]))") - set(names) == {
        "billing_event_total"
    }
    assert "kind" not in names["billing_events_total"]
    assert labels_in('sum by (kind) (rate(billing_events_total{outcome="x"}[5m]))') == {
        "kind",
        "outcome",
    }


def test_dashboard_covers_what_the_issue_asks_for() -> None:
    exprs = " ".join(dashboard_expressions())
    for metric in (
        "billing_events_total",
        "billing_sessions_opened_total",
        "billing_dead_letters_total",
        "billing_consumer_lag",
        "billing_event_to_sink_seconds_bucket",
        "billing_conversations_active",
    ):
        assert metric in exprs, metric
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "billing-meter"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "prometheus", panel["title"]


def test_every_rule_has_a_summary_and_a_runbook_section() -> None:
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    anchors = {
        line.removeprefix("## ").strip().lower()
        for line in RUNBOOK.read_text().splitlines()
        if line.startswith("## ")
    }
    for rule in rules:
        annotations: dict[str, Any] = rule["annotations"]
        assert annotations["summary"], rule["alert"]
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert annotations["runbook_url"] == f"deploy/RUNBOOK.md#{rule['alert'].lower()}"
        assert rule["alert"].lower() in anchors, rule["alert"]
    wanted = {"lag", "deadletters", "sinkerrors", "sinkretries", "noevents", "workerdown"}
    names = " ".join(rule["alert"].lower() for rule in rules)
    assert all(word in names for word in wanted), names


def test_compose_wires_prometheus_and_grafana() -> None:
    compose = yaml.safe_load((DEPLOY.parent / "docker-compose.kafka.yml").read_text())
    grafana = compose["services"]["grafana"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]
    source = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    assert source["datasources"][0]["uid"] == "prometheus"
    scrape = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"] for job in scrape["scrape_configs"]}
    assert jobs == {"billing-meter-sink", "billing-meter-meter"}
    assert scrape["rule_files"] == ["alerts.yml"]
    assert "0.0.0.0" in compose["services"]["meter"]["command"]  # noqa: S104 - scrapable


def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    reason = "no promtool: apt-get install prometheus (Debian ships promtool with it)"
    if os.environ.get("BILLING_PROMTOOL_REQUIRED") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.mark.parametrize(
    "args",
    [
        ["check", "rules", str(RULES)],
        ["check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")],
        ["test", "rules", str(DEPLOY / "prometheus" / "alerts_test.yml")],
    ],
)
def test_promtool_accepts_the_rules_and_their_unit_tests(args: list[str]) -> None:
    result = subprocess.run([promtool(), *args], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr

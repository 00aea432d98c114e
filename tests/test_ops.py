"""The dashboard and alert rules in ops/ name only metrics the processes export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

import ekatra.metrics  # noqa: F401 (every metric registered)

OPS = Path(__file__).resolve().parents[1] / "ops"
METRIC_NAME = re.compile(r"\bekatra_[a-z_]+")
COLLECTED_AT_SCRAPE_TIME = {"ekatra_outbox_messages_unsent", "ekatra_outbox_oldest_due_age_seconds"}


def exported_names() -> set[str]:
    names = set(COLLECTED_AT_SCRAPE_TIME)
    for family in REGISTRY.collect():
        names.update(sample.name for sample in family.samples)
        names.add(family.name)
    for base in list(names):  # a labelled family has no samples before its first child
        names.update({f"{base}_bucket", f"{base}_count", f"{base}_sum", f"{base}_total"})
    return names


def test_every_dashboard_query_names_an_exported_metric():
    dashboard = json.loads((OPS / "grafana-dashboard.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {name for expr in expressions for name in METRIC_NAME.findall(expr)}
    assert used and used <= exported_names(), used - exported_names()


def test_the_three_alerts_name_exported_metrics():
    yaml = pytest.importorskip("yaml")
    rules = yaml.safe_load((OPS / "alerts.yml").read_text())["groups"][0]["rules"]
    assert [rule["alert"] for rule in rules] == [
        "EkatraOutboxBehind", "EkatraSendFailureRatio", "EkatraNoWorkerHeartbeat"]
    used = {name for rule in rules for name in METRIC_NAME.findall(rule["expr"])}
    assert used <= exported_names(), used - exported_names()

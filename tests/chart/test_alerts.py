"""The alert rules: promtool's own unit tests, and that they cover every alert both ways."""

import re
import subprocess

import yaml

from conftest import CHART, ROOT

RULES = CHART / "files" / "alerts.yaml"
RULE_TESTS = ROOT / "tests" / "alerts" / "alerts_test.yaml"


def test_promtool_check_rules():
    result = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass():
    result = subprocess.run(["promtool", "test", "rules", str(RULE_TESTS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_silent():
    alerts = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "alert" in r}
    checks = [c for t in yaml.safe_load(RULE_TESTS.read_text())["tests"] for c in t.get("alert_rule_test", [])]
    fires = {c["alertname"] for c in checks if c["exp_alerts"]}
    silent = {c["alertname"] for c in checks if not c["exp_alerts"]}
    assert alerts - fires == set(), "alerts never tested firing"
    assert alerts - silent == set(), "alerts never tested silent"


def test_every_alert_has_severity_summary_description_and_a_runbook_section():
    runbooks = (ROOT / "docs" / "runbooks.md").read_text()
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in (r for r in group["rules"] if "alert" in r):
            assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
            assert {"summary", "description", "runbook_url"} <= rule["annotations"].keys(), rule["alert"]
            path, anchor = rule["annotations"]["runbook_url"].split("#")
            assert path == "docs/runbooks.md" and anchor == rule["alert"].lower(), rule["alert"]
            assert f"\n## {rule['alert']}\n" in runbooks, rule["alert"]


def test_every_recording_rule_is_tested_on_per_node_series():
    recorded = {r["record"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "record" in r}
    tested = {c["expr"] for t in yaml.safe_load(RULE_TESTS.read_text())["tests"] for c in t.get("promql_expr_test", [])}
    assert recorded, "no recording rules"
    assert recorded - tested == set(), "recording rules without a promql_expr_test"


AGGREGATION = re.compile(r"\b(sum|min|max|avg|count|group|stddev|stdvar|topk|bottomk|quantile|count_values)\s*(by|without)?\s*\(")
GROUPING = re.compile(r"\b(by|on)\s*\(([^)]*)\)")


def rule_expressions():
    return [(r.get("alert") or r["record"], r["expr"]) for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]


def test_every_aggregation_and_match_keeps_what_tells_installs_apart():
    """Two Qdrant clusters in one Prometheus (two namespaces, two probe targets of one exporter,
    two Kubernetes clusters in one Thanos): no rule may fold one into the other."""
    for name, expr in rule_expressions():
        for aggregation in AGGREGATION.finditer(expr):
            assert aggregation.group(2) == "by", f"{name}: {aggregation.group(0)!r} drops namespace and job"
        for grouping in GROUPING.finditer(expr):
            labels = {label.strip() for label in grouping.group(2).split(",")}
            assert {"cluster", "namespace", "job", "target"} <= labels, f"{name}: {grouping.group(0)!r}"


def test_the_aggregation_check_catches_a_rule_that_drops_the_cluster():
    assert AGGREGATION.search("max(qdrant_up)").group(2) is None
    assert GROUPING.search("max by (collection) (x)").group(2) == "collection"

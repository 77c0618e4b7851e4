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
            # cAdvisor's and kube-state-metrics' series name the pod, under their own jobs.
            by_pod = {"cluster", "namespace", "pod"} <= labels
            assert {"cluster", "namespace", "job", "target"} <= labels or by_pod, f"{name}: {grouping.group(0)!r}"


def test_the_aggregation_check_catches_a_rule_that_drops_the_cluster():
    assert AGGREGATION.search("max(qdrant_up)").group(2) is None
    assert GROUPING.search("max by (collection) (x)").group(2) == "collection"


# The same promtool tests on the series the default detail (shard) serves. Each family's help,
# as `qdrant-exporter list-metrics` prints it, says what it is below full detail: the input
# series are reshaped accordingly, and every expectation must hold unchanged.
SUMMED = re.compile(r"Below detail=full, (summed over|the lowest over) (.+?)\. ")


def shard_shapes() -> dict[str, tuple[str, list[str]]]:
    """Family → (`drop`, `sum`, `min` or `non_zero`, the labels it loses) at detail=shard."""
    listing = subprocess.run([str(ROOT / "target" / "debug" / "qdrant-exporter"), "list-metrics"], capture_output=True, text=True, check=True).stdout
    shapes = {}
    for line in listing.splitlines()[1:]:
        name, *_, help_text = line.split("\t")
        if "Exported from detail=full up." in help_text:
            shapes[name] = ("drop", [])
        elif "Below detail=full, absent while 0." in help_text:
            shapes[name] = ("non_zero", [])
        elif found := SUMMED.search(help_text):
            shapes[name] = ("sum" if found[1] == "summed over" else "min", found[2].split(" and "))
    return shapes


def expand(values: str) -> list:
    """promtool's series notation, one entry per evaluation: a number, None (missing) or "stale"."""
    out: list = []
    for token in values.split():
        if token == "stale":
            out.append("stale")
        elif token.startswith("_"):
            out.extend([None] * (int(token[2:]) if "x" in token else 1))
        elif found := re.fullmatch(r"(-?[\d.e+]+?)(?:([+-])([\d.e+]+))?x(\d+)", token):
            start, sign, step, times = found.groups()
            delta = float(step or 0) * (-1 if sign == "-" else 1)
            out.extend(float(start) + delta * i for i in range(int(times) + 1))
        else:
            out.append(float(token))
    return out


def combined(sequences: list[list], how: str) -> str:
    length = max(map(len, sequences))
    values = []
    for i in range(length):
        present = [s[i] for s in sequences if i < len(s) and isinstance(s[i], float)]
        if present:
            value = sum(present) if how == "sum" else min(present)
            values.append(repr(value))
        elif any(i < len(s) and s[i] == "stale" for s in sequences):
            values.append("stale")
        else:
            values.append("_")
    return " ".join(values)


SERIES = re.compile(r"^(\w+)\{(.*)\}$", re.S)


def at_shard_detail(tests: dict, shapes: dict) -> dict:
    for test in tests["tests"]:
        groups: dict = {}
        kept = []
        for series in test.get("input_series", []):
            found = SERIES.match(series["series"].replace("\n", " "))
            name, labels = (found[1], found[2]) if found else (series["series"], "")
            how, dropped = shapes.get(name, ("keep", []))
            if how == "keep":
                kept.append(series)
            elif how == "non_zero":
                values = [None if v == 0.0 else v for v in expand(str(series["values"]))]
                kept.append({"series": series["series"], "values": combined([values], "sum")})
            elif how in ("sum", "min"):
                pairs = [p.strip() for p in labels.split('",') if p.strip()]
                rest = [p if p.endswith('"') else p + '"' for p in pairs if p.split("=")[0].strip() not in dropped]
                key = (name, ", ".join(rest), how)
                groups.setdefault(key, []).append(expand(str(series["values"])))
        for (name, labels, how), sequences in groups.items():
            kept.append({"series": f"{name}{{{labels}}}", "values": combined(sequences, how)})
        test["input_series"] = kept
    return tests


class SeriesLoader(yaml.SafeLoader):
    """YAML 1.1 reads promtool's `0x40` (0, 40 more times) as the hexadecimal 64: integers here
    are decimal only, and `0x40` stays the text promtool reads."""


SeriesLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:int"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SeriesLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(0|[1-9][0-9]*)$"), list("-+0123456789"))


def test_promtool_unit_tests_pass_on_the_series_of_the_default_detail(tmp_path):
    tests = yaml.load(RULE_TESTS.read_text(), Loader=SeriesLoader)
    reshaped = at_shard_detail(tests, shard_shapes())
    reshaped["rule_files"] = [str(RULES)]
    path = tmp_path / "alerts_test_shard.yaml"
    path.write_text(yaml.safe_dump(reshaped, sort_keys=False, width=10_000))
    original = yaml.load(RULE_TESTS.read_text(), Loader=SeriesLoader)
    changed = sum(a != b for t, u in zip(original["tests"], reshaped["tests"]) for a, b in [(t.get("input_series"), u.get("input_series"))])
    assert changed >= 5, "the default detail reshapes series of several tests"
    result = subprocess.run(["promtool", "test", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

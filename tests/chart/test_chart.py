"""The Helm chart, checked with the real tools: Helm v4 (helm-python-sdk) lint and render,
kubernetes-validate --strict for built-in kinds, the Prometheus Operator CRD schemas for
ServiceMonitor/PodMonitor/PrometheusRule, and promtool for the rendered rules."""

import json
import subprocess

import helm_python as helm
import pytest
import yaml

from conftest import (
    CHART,
    CI,
    NAMESPACE,
    RELEASE,
    RENDERED,
    SCENARIOS,
    assert_builtin_objects_valid,
    assert_monitoring_objects_valid,
    load_values,
)

LINT_WARNING = 2  # helm's severities: 1 info, 2 warning, 3 error


def render(values: dict) -> dict[str, str]:
    return helm.Chart.load(CHART).render(values, name=RELEASE, namespace=NAMESPACE)


def objects(rendered: dict[str, str]) -> list[dict]:
    return [
        document
        for path, text in sorted(rendered.items())
        if path.endswith(".yaml")
        for document in yaml.safe_load_all(text)
        if document
    ]


@pytest.fixture(scope="module", params=SCENARIOS, ids=lambda p: p.name)
def scenario(request):
    """(values file, rendered objects); also written to target/chart-rendered for the Rust test."""
    values = load_values(request.param)
    rendered = objects(render(values))
    RENDERED.mkdir(parents=True, exist_ok=True)
    (RENDERED / request.param.name).write_text(yaml.safe_dump_all(rendered, sort_keys=False))
    return request.param, rendered


def test_every_scenario_is_tested():
    assert {p.name for p in SCENARIOS} >= {
        "sidecar-default-values.yaml",
        "sidecar-read-only-key-values.yaml",
        "standalone-existing-secret-values.yaml",
        "everything-values.yaml",
        "standalone-tls-basic-auth-values.yaml",
    }


def test_lint_is_clean(scenario):
    values_file, _ = scenario
    result = helm.lint(CHART, load_values(values_file), strict=True, namespace=NAMESPACE)
    assert result["errors"] == []
    problems = [m for m in result["messages"] if m["severity"] >= LINT_WARNING]
    assert problems == [], problems


def test_builtin_objects_pass_kubernetes_validate_strict(scenario, tmp_path):
    _, rendered = scenario
    assert_builtin_objects_valid(rendered, tmp_path)


def test_monitoring_objects_match_the_operator_crds(scenario):
    _, rendered = scenario
    assert_monitoring_objects_valid(rendered)


def test_rendered_rules_pass_promtool(scenario, tmp_path):
    _, rendered = scenario
    for rule in [o for o in rendered if o["kind"] == "PrometheusRule"]:
        path = tmp_path / "rules.yaml"
        path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
        result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_prometheus_rule_is_the_rules_file_less_the_disabled_rules():
    rules_file = yaml.safe_load((CHART / "files" / "alerts.yaml").read_text())
    rendered = objects(render({"prometheusRule": {"enabled": True, "disabledRules": ["QdrantNoRecentSnapshot"]}}))
    [rule] = [o for o in rendered if o["kind"] == "PrometheusRule"]
    expected = [
        {"name": g["name"], "rules": [r for r in g["rules"] if r.get("alert") != "QdrantNoRecentSnapshot"]}
        for g in rules_file["groups"]
    ]
    assert rule["spec"]["groups"] == [g for g in expected if g["rules"]]


def test_the_dashboard_config_map_carries_the_dashboard_file():
    rendered = objects(render({"grafanaDashboard": {"enabled": True}}))
    [config_map] = [o for o in rendered if o["kind"] == "ConfigMap"]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads((CHART / "files" / "dashboard.json").read_text())
    assert json.loads(config_map["data"]["qdrant-exporter.json"]) == dashboard


def test_selectors_never_carry_the_chart_version():
    for values_file in SCENARIOS:
        for obj in objects(render(load_values(values_file))):
            spec = obj.get("spec", {})
            for selector in [spec.get("selector", {}), spec.get("selector", {}).get("matchLabels", {})]:
                assert "helm.sh/chart" not in selector, (values_file.name, obj["kind"])


def test_sidecar_service_selects_the_official_charts_pods():
    [service] = [o for o in objects(render({"qdrant": {"release": "prod"}})) if o["kind"] == "Service"]
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "qdrant", "app.kubernetes.io/instance": "prod"}


@pytest.mark.parametrize(
    "values, message",
    [
        ({"serviceMonitor": {"interval": 30}}, "/serviceMonitor/interval"),
        ({"service": {"port": "9999"}}, "/service/port"),
        ({"mode": "daemonset"}, "/mode"),
        ({"serviceMonitr": {}}, "serviceMonitr"),
        ({"env": {"RUST_LOG": "debug"}}, "RUST_LOG"),
    ],
)
def test_values_schema_rejects_wrong_values(values, message):
    with pytest.raises(helm.HelmValuesError) as error:
        render(values)
    assert message in str(error.value)


def test_standalone_needs_a_url():
    with pytest.raises(helm.HelmError) as error:
        render({"mode": "standalone"})
    assert "qdrant.url" in str(error.value)


def test_notes_show_the_sidecar_snippet_for_this_release():
    notes = render({"qdrant": {"release": "prod"}, "image": {"tag": "9.9.9"}})["qdrant-exporter/templates/NOTES.txt"]
    snippet = yaml.safe_load(notes.split("upgrade the official Qdrant chart's release with it:")[1].split("  helm upgrade")[0])
    [container] = snippet["sidecarContainers"]
    assert container["image"] == "qdrant-exporter:9.9.9"
    key = next(e for e in container["env"] if e["name"] == "QDRANT_API_KEY")
    assert key["valueFrom"]["secretKeyRef"]["name"] == "prod-qdrant-apikey"


def test_every_value_is_in_the_readme_table():
    readme = (CHART / "README.md").read_text()
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    # Maps that are Kubernetes objects or label sets are one value each.
    free_form = {"labels", "annotations", "podSecurityContext", "securityContext", "resources", "env"}

    def leaves(tree, prefix=""):
        for key, value in tree.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict) and value and key not in free_form:
                yield from leaves(value, f"{name}.")
            else:
                yield name

    missing = [name for name in leaves(values) if f"| `{name}` |" not in readme]
    assert missing == []


def test_runbook_links_get_the_configured_base():
    values = {"prometheusRule": {"enabled": True, "runbookBaseUrl": "https://git.example.com/qdrant-exporter/blob/main/"}}
    [rule] = [o for o in objects(render(values)) if o["kind"] == "PrometheusRule"]
    links = [r["annotations"]["runbook_url"] for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert links and all(link.startswith("https://git.example.com/qdrant-exporter/blob/main/docs/runbooks.md#") for link in links)


def test_tls_and_basic_auth_reach_the_probes_and_the_monitors():
    values = load_values(CI / "standalone-tls-basic-auth-values.yaml")
    rendered = objects(render(values))
    deployment = next(o for o in rendered if o["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["scheme"] == "HTTPS"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["QDRANT_EXPORTER_WEB_CONFIG_FILE"] == "/etc/qdrant-exporter/web/web-config.yml"
    assert env["QDRANT_EXPORTER_PROBES_WITHOUT_AUTH"] == "true"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {"web-config": "/etc/qdrant-exporter/web", "tls": "/etc/qdrant-exporter/tls"}
    volumes = {v["name"]: v["secret"]["secretName"] for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes == {"web-config": "qdrant-exporter-web-config", "tls": "qdrant-exporter-tls"}

    service_monitor = next(o for o in rendered if o["kind"] == "ServiceMonitor")
    endpoint = service_monitor["spec"]["endpoints"][0]
    assert endpoint["scheme"] == "https"
    assert endpoint["tlsConfig"] == {
        "ca": {"secret": {"name": "qdrant-exporter-tls", "key": "ca.crt"}},
        "serverName": f"{RELEASE}-qdrant-exporter.{NAMESPACE}.svc",
    }
    assert endpoint["basicAuth"]["password"] == {"name": "qdrant-exporter-scrape", "key": "password"}
    pod_monitor = next(o for o in rendered if o["kind"] == "PodMonitor")
    assert pod_monitor["spec"]["podMetricsEndpoints"][0]["tlsConfig"] == {"insecureSkipVerify": True}

    test_pod = next(o for o in rendered if o["kind"] == "Pod")
    assert "https://" in test_pod["spec"]["containers"][0]["command"][-1]
    assert "/readyz" in test_pod["spec"]["containers"][0]["command"][-1]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"serviceMonitor": {"enabled": True, "basicAuth": {}}}, "needs serviceMonitor.basicAuth"),
        ({"webConfig": {"existingSecret": "", "tls": True}}, "webConfig.existingSecret"),
    ],
)
def test_tls_and_basic_auth_settings_that_cannot_work_fail_the_render(change, message):
    values = load_values(CI / "standalone-tls-basic-auth-values.yaml")
    for key, value in change.items():
        values[key] = {**values.get(key, {}), **value}
    with pytest.raises(helm.HelmError) as error:
        render(values)
    assert message in str(error.value)

"""The Helm chart, checked with the real tools: Helm v4 (helm-python-sdk) lint and render,
kubernetes-validate --strict for built-in kinds, the Prometheus Operator CRD schemas for
ServiceMonitor/PodMonitor/PrometheusRule, and promtool for the rendered rules."""

import json
import shutil
import subprocess

import helm_python as helm
import pytest
import yaml

from conftest import (
    CHART,
    CI,
    NAMESPACE,
    RELEASE,
    ROOT,
    RENDERED,
    SCENARIOS,
    assert_builtin_objects_valid,
    assert_monitoring_objects_valid,
    load_values,
)

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
        "standalone-fleet-values.yaml",
        "standalone-node-view-values.yaml",
    }


def test_lint_is_clean(scenario):
    values_file, _ = scenario
    result = helm.lint(CHART, load_values(values_file), strict=True, namespace=NAMESPACE)
    assert result["errors"] == []
    # No finding at all, not even the informational ones (a missing icon used to be one).
    assert result["messages"] == [], result["messages"]


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


def with_runbook_base(rule: dict, base: str) -> dict:
    if "runbook_url" in rule.get("annotations", {}):
        rule = {**rule, "annotations": {**rule["annotations"], "runbook_url": base + rule["annotations"]["runbook_url"]}}
    return rule


def test_the_prometheus_rule_is_the_rules_file_less_the_disabled_rules():
    rules_file = yaml.safe_load((CHART / "files" / "alerts.yaml").read_text())
    rendered = objects(render({"prometheusRule": {"enabled": True, "disabledRules": ["QdrantNoRecentSnapshot"]}}))
    [rule] = [o for o in rendered if o["kind"] == "PrometheusRule"]
    # Absolute runbook links by default, at the chart's home.
    home = yaml.safe_load((CHART / "Chart.yaml").read_text())["home"]
    expected = [
        {
            "name": g["name"],
            "rules": [with_runbook_base(r, f"{home}/blob/main/") for r in g["rules"] if r.get("alert") != "QdrantNoRecentSnapshot"],
        }
        for g in rules_file["groups"]
    ]
    assert rule["spec"]["groups"] == [g for g in expected if g["rules"]]


def test_community_chart_values_label_route_and_disable_the_rules():
    """What kube-prometheus-stack users write: additionalLabels as an alias of labels, labels on
    every alert and on one group's, and a group left out whole; validated against the CRDs."""
    rendered = objects(
        render(
            {
                "enabled": True,
                "serviceMonitor": {"enabled": True, "labels": {"release": "kps"}, "additionalLabels": {"team": "db"}},
                "podMonitor": {"enabled": True, "additionalLabels": {"release": "kps"}},
                "prometheusRule": {
                    "enabled": True,
                    "additionalLabels": {"release": "kps"},
                    "additionalRuleLabels": {"team": "platform", "severity": "ignored"},
                    "additionalRuleGroupLabels": {"qdrant-cluster": {"team": "storage"}},
                    "disabledGroups": ["qdrant-backups"],
                },
            }
        )
    )
    assert_monitoring_objects_valid(rendered)
    by_kind = {o["kind"]: o for o in rendered}
    assert by_kind["ServiceMonitor"]["metadata"]["labels"].items() >= {"release": "kps", "team": "db"}.items()
    assert by_kind["PodMonitor"]["metadata"]["labels"]["release"] == "kps"
    assert by_kind["PrometheusRule"]["metadata"]["labels"]["release"] == "kps"
    groups = {g["name"]: g["rules"] for g in by_kind["PrometheusRule"]["spec"]["groups"]}
    assert "qdrant-backups" not in groups and "qdrant-exporter" in groups
    for name, rules in groups.items():
        for rule in rules:
            if "alert" not in rule:
                assert "team" not in rule.get("labels", {}), "recording rules keep their series' labels"
                continue
            assert rule["labels"]["severity"] in ("critical", "warning", "info"), "an alert's own severity wins"
            assert rule["labels"]["team"] == ("storage" if name == "qdrant-cluster" else "platform"), rule["alert"]


def test_the_request_objectives_come_from_the_values():
    slo = {"errorRatio": 0.005, "latencySeconds": 1, "slowRatio": 0.05}
    rendered = objects(render({"prometheusRule": {"enabled": True, "slo": slo}}))
    [rule] = [o for o in rendered if o["kind"] == "PrometheusRule"]
    records = {r["record"]: r["expr"] for g in rule["spec"]["groups"] for r in g["rules"] if "record" in r}
    assert records["qdrant:slo_error_ratio:target"] == "vector(0.005)"
    assert records["qdrant:slo_latency_seconds:target"] == "vector(1)"
    assert records["qdrant:slo_slow_ratio:target"] == "vector(0.05)"
    slow_shares = {name: expr for name, expr in records.items() if name.startswith("qdrant:request_slow:")}
    assert len(slow_shares) == 4, "a slow share for each burn-rate window"
    for name, expr in slow_shares.items():
        # Both transports' buckets at the bound, written as Qdrant writes it.
        assert expr.count('le="1"') == 2 and 'le="0.5"' not in expr, (name, expr)


def test_a_latency_bound_that_is_no_bucket_of_qdrant_is_refused():
    with pytest.raises(helm.HelmValuesError) as error:
        render({"prometheusRule": {"enabled": True, "slo": {"latencySeconds": 0.25}}})
    assert "latencySeconds" in str(error.value)


def test_at_collection_detail_the_rules_reading_shard_figures_are_left_out():
    rules_file = yaml.safe_load((CHART / "files" / "alerts.yaml").read_text())
    assert "qdrant-shard-detail" in [g["name"] for g in rules_file["groups"]]
    for detail, expected in [("shard", True), ("collection", False)]:
        rendered = objects(
            render({"mode": "standalone", "detail": detail, "qdrant": {"url": "http://qdrant:6333"}, "prometheusRule": {"enabled": True}})
        )
        by_kind = {o["kind"]: o for o in rendered}
        groups = [g["name"] for g in by_kind["PrometheusRule"]["spec"]["groups"]]
        assert ("qdrant-shard-detail" in groups) == expected, detail
        assert "qdrant-cluster" in groups
        env = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]
        assert {"name": "QDRANT_EXPORTER_DETAIL", "value": detail} in env


def dashboard_of(values: dict) -> tuple[str, dict]:
    [config_map] = [o for o in objects(render(values)) if o["kind"] == "ConfigMap"]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    [(file, text)] = config_map["data"].items()
    return file, json.loads(text)


def test_the_dashboard_config_map_carries_the_dashboard_file():
    dashboard = json.loads((CHART / "files" / "dashboard.json").read_text())
    file, shared = dashboard_of({"grafanaDashboard": {"enabled": True, "shared": True}})
    assert (file, shared) == ("qdrant-exporter.json", dashboard)
    file, own = dashboard_of({"grafanaDashboard": {"enabled": True}})
    assert file.endswith(".json") and file != "qdrant-exporter.json"
    assert {k: v for k, v in own.items() if k not in ("uid", "title")} == {
        k: v for k, v in dashboard.items() if k not in ("uid", "title")
    }


def test_two_releases_have_dashboards_of_their_own():
    """Two releases' dashboards in one Grafana: neither overwrites nor removes the other's."""
    dashboards = [
        dashboard_of({"grafanaDashboard": {"enabled": True}, "namespaceOverride": namespace})
        for namespace in ["team-a", "team-b"]
    ]
    files = {file for file, _ in dashboards}
    uids = {dashboard["uid"] for _, dashboard in dashboards}
    titles = {dashboard["title"] for _, dashboard in dashboards}
    assert len(files) == len(uids) == len(titles) == 2
    assert all(len(uid) <= 40 for uid in uids), "Grafana's longest uid"


def test_every_dashboard_query_is_scoped_to_one_install():
    """Single-valued cluster, namespace, job and probe target in every selector: no panel folds
    two installs into one."""
    dashboard = json.loads((CHART / "files" / "dashboard.json").read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    for name in ["cluster", "namespace", "job", "target"]:
        assert not variables[name]["multi"] and not variables[name]["includeAll"], name
    scope = 'cluster=~"$cluster", namespace=~"$namespace", job=~"$job", target=~"$target"'
    expressions = []

    def walk(value):
        if isinstance(value, dict):
            for key, child in value.items():
                if key == "expr":
                    expressions.append(child)
                else:
                    walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(dashboard["panels"])
    assert expressions
    for expr in expressions:
        assert expr.count("{") == expr.count(scope), expr


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
    snippet = yaml.safe_load(notes.split("upgrade the official Qdrant chart's release with it:")[1].split("  QDRANT_CHART_VERSION=")[0])
    [container] = snippet["sidecarContainers"]
    assert container["image"] == "ghcr.io/qdrant-exporter/qdrant-exporter:9.9.9"
    assert snippet["podAnnotations"] == {"kubectl.kubernetes.io/default-container": "qdrant"}
    key = next(e for e in container["env"] if e["name"] == "QDRANT_API_KEY")
    assert key["valueFrom"]["secretKeyRef"]["name"] == "prod-qdrant-apikey"


def test_every_value_is_in_the_readme_table():
    readme = (CHART / "README.md").read_text()
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    # Maps that are Kubernetes objects or label sets are one value each.
    free_form = {
        "labels",
        "annotations",
        "podSecurityContext",
        "securityContext",
        "resources",
        "env",
        "livenessProbe",
        "readinessProbe",
    }

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
    """The default base is tested with the rules file above; a base set wins."""
    values = {"prometheusRule": {"enabled": True, "runbookBaseUrl": "https://git.example.com/qdrant-exporter/blob/main/"}}
    [rule] = [o for o in objects(render(values)) if o["kind"] == "PrometheusRule"]
    links = [r["annotations"]["runbook_url"] for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert links and all(link.startswith("https://git.example.com/qdrant-exporter/blob/main/docs/runbooks.md#") for link in links)


def test_tls_and_basic_auth_reach_the_probes_and_the_monitors():
    values = load_values(CI / "standalone-tls-basic-auth-values.yaml")
    rendered = objects(render(values))
    deployment = next(o for o in rendered if o["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    # The probes' own listener is plain HTTP; pointed at the TLS port, a probe speaks HTTPS.
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] == "health"
        assert "scheme" not in container[probe]["httpGet"]
    values["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": "metrics"}}
    on_metrics = next(o for o in objects(render(values)) if o["kind"] == "Deployment")
    assert on_metrics["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["scheme"] == "HTTPS"
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


def everything() -> list[dict]:
    return objects(render(load_values(CI / "everything-values.yaml")))


def test_the_deployment_carries_every_value():
    rendered = everything()
    deployment = next(o for o in rendered if o["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == (
        "registry.example.com/platform/qdrant-exporter@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    )
    assert container["args"] == ["--log-format=json"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["QDRANT_EXPORTER_LISTEN_ADDRESS"] == ":9100", "every IPv4 and IPv6 address"
    assert env["QDRANT_EXPORTER_CLUSTER_VIEW"] == "true", "standalone reads the cluster through any node"
    assert env["QDRANT_EXPORTER_CONFIG"] == "/etc/qdrant-exporter/config/config.yaml"
    assert container["ports"][0]["containerPort"] == 9100
    assert container["livenessProbe"]["periodSeconds"] == 20
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", "a partial override keeps the rest"
    assert container["readinessProbe"]["failureThreshold"] == 5
    assert pod["serviceAccountName"] == f"{RELEASE}-qdrant-exporter"
    assert pod["automountServiceAccountToken"] is False
    assert pod["priorityClassName"] == "system-cluster-critical"
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    config = next(o for o in rendered if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-config"))
    assert yaml.safe_load(config["data"]["config.yaml"]) == {
        "collectors": "collections,shards,cluster,optimizations",
        "collector_intervals": "optimizations=120",
    }
    account = next(o for o in rendered if o["kind"] == "ServiceAccount")
    assert account["automountServiceAccountToken"] is False
    budget = next(o for o in rendered if o["kind"] == "PodDisruptionBudget")
    assert budget["spec"]["maxUnavailable"] == 1
    extra = next(o for o in rendered if o["metadata"]["name"] == f"{RELEASE}-extra")
    assert extra["data"]["note"] == "rendered by extraManifests"
    # The monitoring objects and the dashboard have namespaces of their own (everything-values sets them).
    own_namespace = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
    for obj in rendered:
        name = obj["metadata"]["name"]
        if name == f"{RELEASE}-extra":
            continue  # the user's own object, as given
        assert obj["metadata"]["labels"]["team"] == "platform", name
        if obj["kind"] not in own_namespace and not name.endswith("-dashboard"):
            assert obj["metadata"]["namespace"] == "observability", name


def test_the_network_policy_admits_only_the_configured_scrapers_on_the_metrics_port():
    [policy] = [o for o in everything() if o["kind"] == "NetworkPolicy"]
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    assert policy["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "qdrant-exporter",
        "app.kubernetes.io/instance": RELEASE,
    }
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    assert rule["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
        }
    ]


@pytest.mark.parametrize("value", ["networkPolicy", "podDisruptionBudget"])
def test_objects_that_would_touch_the_qdrant_pods_are_refused_in_sidecar_mode(value):
    with pytest.raises(helm.HelmError) as error:
        render({value: {"enabled": True}})
    assert "standalone mode only" in str(error.value)


def test_the_chart_renders_as_a_subchart_with_global_values(tmp_path):
    parent = tmp_path / "platform"
    (parent / "charts").mkdir(parents=True)
    (parent / "Chart.yaml").write_text(
        "apiVersion: v2\nname: platform\nversion: 1.0.0\n"
        "dependencies:\n  - name: qdrant-exporter\n    version: '>=0.0.0-0'\n"
    )
    shutil.copytree(CHART, parent / "charts" / "qdrant-exporter")
    values = {
        "global": {"imageRegistry": "mirror.example.com", "storageClass": "fast"},
        "qdrant-exporter": {"mode": "standalone", "qdrant": {"url": "http://qdrant:6333"}},
    }
    rendered = objects(helm.Chart.load(parent).render(values, name=RELEASE, namespace=NAMESPACE))
    deployment = next(o for o in rendered if o["kind"] == "Deployment")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith("mirror.example.com/qdrant-exporter/qdrant-exporter:"), image


@pytest.mark.parametrize("snippet_path", [CHART / "files" / "sidecar-values.yaml", ROOT / "dev" / "local-cluster" / "sidecar-values.yaml"], ids=lambda p: p.parent.name)
def test_the_sidecar_snippets_annotation_composes_with_the_official_charts_pod_annotations(tmp_path, snippet_path):
    """A stand-in for the official chart's pod template (podAnnotations into the StatefulSet's
    pod, sidecarContainers after qdrant), rendered by Helm with the snippet over values the
    release already had: Helm merges the maps, so both annotations reach the pod."""
    chart = tmp_path / "qdrant"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: qdrant\nversion: 1.19.0\n")
    (chart / "values.yaml").write_text(
        "podAnnotations:\n  example.com/backup: daily\nsidecarContainers: []\n"
    )
    (chart / "templates" / "statefulset.yaml").write_text(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: qdrant\nspec:\n"
        "  selector:\n    matchLabels: {app: qdrant}\n  serviceName: qdrant\n  template:\n"
        "    metadata:\n      labels: {app: qdrant}\n"
        "      annotations:\n        {{- toYaml .Values.podAnnotations | nindent 8 }}\n"
        "    spec:\n      containers:\n        {{- with .Values.sidecarContainers }}\n"
        "        {{- toYaml . | nindent 8 }}\n        {{- end }}\n"
        "        - name: qdrant\n          image: qdrant/qdrant:v1.19.0\n"
    )
    snippet = yaml.safe_load(snippet_path.read_text())
    rendered = objects(helm.Chart.load(chart).render(snippet, name="qdrant", namespace=NAMESPACE))
    [statefulset] = rendered
    template = statefulset["spec"]["template"]
    assert template["metadata"]["annotations"] == {
        "example.com/backup": "daily",
        "kubectl.kubernetes.io/default-container": "qdrant",
    }
    names = [c["name"] for c in template["spec"]["containers"]]
    assert names == ["qdrant-exporter", "qdrant"], "the sidecar first, as the official chart renders it"
    assert template["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] in names


def test_each_probe_target_is_a_service_monitor_endpoint_in_the_multi_target_form():
    rendered = objects(render(load_values(CI / "standalone-fleet-values.yaml")))
    monitor = next(o for o in rendered if o["kind"] == "ServiceMonitor")
    endpoints = monitor["spec"]["endpoints"]
    assert [e["path"] for e in endpoints] == ["/probe", "/probe"], "no /metrics without qdrant.url"
    cloud, team_b = endpoints
    assert cloud["params"] == {
        "target": ["https://abc.eu-central.aws.cloud.qdrant.io:6333"],
        "module": ["cloud"],
    }
    assert team_b["params"]["module"] == ["default"]
    assert cloud["relabelings"] == [
        {"sourceLabels": ["__param_target"], "targetLabel": "instance"},
        {"targetLabel": "target", "replacement": "cloud-eu"},
        {"targetLabel": "team", "replacement": "platform"},
    ]
    deployment = next(o for o in rendered if o["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert "QDRANT_URL" not in env
    assert env["QDRANT_EXPORTER_PROBE_CONFIG_FILE"] == "/etc/qdrant-exporter/probe/probe.yaml"


def test_probe_targets_need_the_probe_configuration():
    values = load_values(CI / "standalone-fleet-values.yaml")
    values["probe"]["existingSecret"] = ""
    with pytest.raises(helm.HelmError) as error:
        render(values)
    assert "probe.existingSecret" in str(error.value)

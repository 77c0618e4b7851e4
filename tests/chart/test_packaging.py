"""Plain manifests (kubectl kustomize), the Dockerfile (hadolint), the Tiltfile (executed
with recording stubs: no cluster here), and the facts the packages state (licence, Rust version)."""

import json
import re
import subprocess
import tomllib

import yaml

from conftest import CHART, RENDERED, ROOT, assert_builtin_objects_valid, assert_monitoring_objects_valid


def kustomize(directory: str) -> list[dict]:
    result = subprocess.run(["kubectl", "kustomize", str(ROOT / directory)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def test_the_example_kustomization_builds_valid_objects(tmp_path):
    built = kustomize("manifests/example")
    assert sorted(o["kind"] for o in built) == ["PrometheusRule", "Service", "Service", "ServiceMonitor", "StatefulSet"]
    [statefulset] = [o for o in built if o["kind"] == "StatefulSet"]
    names = [c["name"] for c in statefulset["spec"]["template"]["spec"]["containers"]]
    assert names == ["qdrant-exporter", "qdrant"], "the patch adds the sidecar and keeps Qdrant"
    RENDERED.mkdir(parents=True, exist_ok=True)
    (RENDERED / "manifests-example.yaml").write_text(yaml.safe_dump_all(built, sort_keys=False))
    assert_builtin_objects_valid(built, tmp_path)
    assert_monitoring_objects_valid(built)


def test_the_dev_kustomization_builds():
    kinds = sorted(o["kind"] for o in kustomize("dev"))
    assert kinds == ["Service", "StatefulSet"], "dev takes only the container; the chart brings the rest"


def test_the_manifest_rules_are_the_rules_file():
    rules = yaml.safe_load((CHART / "files" / "alerts.yaml").read_text())
    manifest = yaml.safe_load((ROOT / "manifests" / "sidecar" / "prometheusrule.yaml").read_text())
    assert manifest["spec"] == rules


def test_actionlint_passes_clean():
    """The GitHub workflows, their shell steps checked by shellcheck too."""
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert {w.name for w in workflows} >= {"ci.yml", "release.yml"}
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "actionlint"), *map(str, workflows)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_ci_workflow_runs_the_readme_test_command():
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    steps = [step.get("run", "") for step in ci["jobs"]["test"]["steps"]]
    assert "bash .ci/run" in steps
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith("exec scripts/test.sh")


def test_hadolint_passes_clean():
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "hadolint"), "--failure-threshold", "style", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


class TiltRecorder:
    """Stand-ins for Tilt's built-ins that record what the Tiltfile asks for."""

    def __init__(self, args=None):
        self.images, self.yaml, self.resources, self.local, self.paths = [], [], {}, [], []
        self.args, self.defined = args or {}, []

    def functions(self):
        return {
            "docker_build": self.docker_build,
            "local_resource": self.local_resource,
            "k8s_yaml": self.yaml.append,
            "kustomize": self.kustomize,
            "helm": self.helm,
            "k8s_resource": self.k8s_resource,
            "port_forward": lambda local, remote, name=None: (local, remote, name),
            "link": lambda url, name=None: (url, name),
            "config": self,
            "TRIGGER_MODE_MANUAL": "manual",
        }

    # Tilt's `config` module: the flags after `tilt up --`.
    def define_bool(self, name):
        self.defined.append(name)

    def parse(self):
        assert set(self.args) <= set(self.defined), self.args
        return dict(self.args)

    def docker_build(self, ref, context, dockerfile="Dockerfile", **_):
        self.images.append(ref)
        self.paths += [context, dockerfile]

    def local_resource(self, name, cmd="", serve_cmd="", deps=(), resource_deps=(), auto_init=True, **_):
        assert cmd or serve_cmd, name
        self.local.append(name)
        self.paths += list(deps) + [word for word in cmd.split() if word.startswith("scripts/")]
        self.resources[name] = {"resource_deps": list(resource_deps), "auto_init": auto_init}

    def kustomize(self, path):
        self.paths.append(path)
        return kustomize(path)

    def helm(self, chart, name, values=(), **_):
        self.paths += [chart, *values]
        merged = {}
        for path in values:
            merged.update(yaml.safe_load((ROOT / path).read_text()))
        import helm_python

        rendered = helm_python.Chart.load(ROOT / chart).render(merged, name=name, namespace="default")
        return [d for p, t in rendered.items() if p.endswith(".yaml") for d in yaml.safe_load_all(t) if d]

    def k8s_resource(self, workload="", new_name="", objects=(), resource_deps=(), port_forwards=(), **_):
        self.resources[new_name or workload] = {
            "workload": workload,
            "objects": list(objects),
            "resource_deps": list(resource_deps),
            "port_forwards": list(port_forwards),
        }


def test_the_tiltfile_names_only_things_that_exist():
    recorder = TiltRecorder()
    exec(compile((ROOT / "Tiltfile").read_text(), "Tiltfile", "exec"), recorder.functions())

    for path in recorder.paths:
        assert (ROOT / path).exists(), path
    deployed = [obj for batch in recorder.yaml for obj in batch]
    workloads = {o["metadata"]["name"] for o in deployed if o["kind"] in ("StatefulSet", "Deployment")}
    objects = {f'{o["metadata"]["name"]}:{o["kind"].lower()}' for o in deployed}
    for name, resource in recorder.resources.items():
        if resource.get("workload"):
            assert resource["workload"] in workloads, name
        for obj in resource.get("objects", []):
            assert obj in objects, obj
        for dep in resource["resource_deps"]:
            assert dep in recorder.resources, dep
    # The image tilt builds is the one the sidecar runs.
    images = {c["image"] for o in deployed if o["kind"] == "StatefulSet" for c in o["spec"]["template"]["spec"]["containers"]}
    assert any(image.split(":")[0] == recorder.images[0] for image in images), images
    assert (9999, 9999, "exporter") in recorder.resources["qdrant"]["port_forwards"]
    assert (6333, 6333, "qdrant") in recorder.resources["qdrant"]["port_forwards"]
    assert recorder.resources["kube-prometheus-stack"]["auto_init"] is False, "Prometheus and Grafana on request only"


def test_tilt_up_with_monitoring_starts_prometheus_and_grafana():
    recorder = TiltRecorder({"monitoring": True})
    exec(compile((ROOT / "Tiltfile").read_text(), "Tiltfile", "exec"), recorder.functions())
    assert recorder.resources["kube-prometheus-stack"]["auto_init"] is True
    assert recorder.resources["grafana"]["auto_init"] is True
    # The chart's monitors carry the label that kube-prometheus-stack's Prometheus selects.
    deployed = [obj for batch in recorder.yaml for obj in batch]
    for kind in ("ServiceMonitor", "PrometheusRule"):
        [monitor] = [o for o in deployed if o["kind"] == kind]
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack", kind


LOCAL_CLUSTER = ROOT / "dev" / "local-cluster"
LOCAL_CLUSTER_SCRIPT = ROOT / "scripts" / "local-cluster.sh"


def script_setting(name: str) -> str:
    [value] = re.findall(rf"^{name}=(\S+)$", LOCAL_CLUSTER_SCRIPT.read_text(), re.MULTILINE)
    return value


def test_the_local_cluster_path_deploys_valid_objects_that_its_prometheus_and_grafana_pick_up(tmp_path):
    import helm_python

    values = yaml.safe_load((LOCAL_CLUSTER / "exporter-values.yaml").read_text())
    rendered = helm_python.Chart.load(CHART).render(values, name="qdrant-exporter", namespace="default")
    built = [d for p, t in sorted(rendered.items()) if p.endswith(".yaml") for d in yaml.safe_load_all(t) if d]
    assert_builtin_objects_valid(built, tmp_path)
    assert_monitoring_objects_valid(built)
    kinds = {o["kind"] for o in built}
    assert {"Service", "ServiceMonitor", "PrometheusRule", "ConfigMap"} <= kinds, kinds

    # What the script's kube-prometheus-stack selects: its release label, its dashboard label.
    monitoring = yaml.safe_load((LOCAL_CLUSTER / "monitoring-values.yaml").read_text())
    for kind in ("ServiceMonitor", "PrometheusRule"):
        [monitor] = [o for o in built if o["kind"] == kind]
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack", kind
    assert "helm upgrade --install kube-prometheus-stack " in LOCAL_CLUSTER_SCRIPT.read_text()
    dashboards = monitoring["grafana"]["sidecar"]["dashboards"]
    [dashboard] = [o for o in built if o["kind"] == "ConfigMap" and "dashboard" in o["metadata"]["name"]]
    assert dashboard["metadata"]["labels"][dashboards["label"]] == "1"
    assert dashboards["searchNamespace"] == "ALL"

    # The official chart gets the sidecar of the image the script builds and loads.
    snippet = yaml.safe_load((LOCAL_CLUSTER / "sidecar-values.yaml").read_text())
    [container] = snippet["sidecarContainers"]
    assert container["image"] == script_setting("IMAGE")
    assert "imagePullPolicy" not in container, "a tag other than latest is not pulled when present"
    assert values["qdrant"]["release"] == "qdrant" and "helm upgrade --install qdrant qdrant/qdrant" in LOCAL_CLUSTER_SCRIPT.read_text()


def test_the_local_cluster_script_pins_its_charts_and_passes_shellcheck():
    assert re.fullmatch(r"\d+\.\d+\.\d+", script_setting("QDRANT_CHART_VERSION"))
    assert re.fullmatch(r"\d+\.\d+\.\d+", script_setting("MONITORING_CHART_VERSION"))
    for path in re.findall(r'-f "\$VALUES/([a-z-]+\.yaml)"', LOCAL_CLUSTER_SCRIPT.read_text()):
        assert (LOCAL_CLUSTER / path).exists(), path
    result = subprocess.run(["shellcheck", str(LOCAL_CLUSTER_SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_licence_the_packages_name_is_the_licence_file():
    crate = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert crate["license"] == chart["annotations"]["artifacthub.io/license"] == "Apache-2.0"
    assert 'org.opencontainers.image.licenses="Apache-2.0"' in (ROOT / "Dockerfile").read_text()
    licence = (ROOT / "LICENSE").read_text()
    assert licence.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in licence


def test_the_declared_rust_version_is_what_the_locked_dependencies_need():
    """rust-version promises a toolchain that builds the lock; the newest any locked crate of the
    build declares is the real floor."""
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--offline"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    members = set(metadata["workspace_members"])
    resolved = {node["id"] for node in metadata["resolve"]["nodes"]}

    def version(text: str) -> tuple[int, ...]:
        """1.89 and 1.89.0 alike."""
        parts = [int(part) for part in text.split(".")]
        return tuple(parts + [0] * (3 - len(parts)))

    needed = max(
        (version(p["rust_version"]), p["name"])
        for p in metadata["packages"]
        if p.get("rust_version") and p["id"] in resolved and p["id"] not in members
    )
    declared = {p["name"]: version(p["rust_version"]) for p in metadata["packages"] if p["id"] in members and p.get("rust_version")}
    assert declared and set(declared.values()) == {needed[0]}, (declared, needed)

"""Shared paths and helpers for the chart, manifest and packaging tests."""

import subprocess
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "qdrant-exporter"
CI = CHART / "ci"
SCENARIOS = sorted(CI.glob("*-values.yaml"))
# Read by the Rust test that checks the rendered objects against the server's constants.
RENDERED = ROOT / "target" / "chart-rendered"
CRD_SCHEMAS = {
    kind: ROOT / "tests" / "schemas" / f"monitoring.coreos.com_{plural}.yaml"
    for kind, plural in [
        ("ServiceMonitor", "servicemonitors"),
        ("PodMonitor", "podmonitors"),
        ("PrometheusRule", "prometheusrules"),
    ]
}
RELEASE = "monitoring"
NAMESPACE = "monitoring"


def load_values(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def assert_builtin_objects_valid(objects: list[dict], tmp_path: Path) -> None:
    """kubernetes-validate --strict on every object of a built-in kind."""
    builtin = [o for o in objects if not o["apiVersion"].startswith("monitoring.coreos.com/")]
    assert builtin, "expected built-in objects"
    paths = []
    for index, obj in enumerate(builtin):
        path = tmp_path / f"{index}-{obj['kind']}.yaml"
        path.write_text(yaml.safe_dump(obj))
        paths.append(str(path))
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "kubernetes-validate"), "--strict", "--kubernetes-version", "1.33.0", *paths],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def undeclared_fields(value, schema: dict, path: str = "") -> list[str]:
    """Fields the CRD schema does not declare, which the API server would silently prune."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    if isinstance(value, dict) and "properties" in schema:
        found = []
        for key, child in value.items():
            if key in schema["properties"]:
                found += undeclared_fields(child, schema["properties"][key], f"{path}.{key}")
            elif not schema.get("additionalProperties"):
                found.append(f"{path}.{key}")
        return found
    if isinstance(value, list) and "items" in schema:
        return [f for i, item in enumerate(value) for f in undeclared_fields(item, schema["items"], f"{path}[{i}]")]
    return []


def assert_monitoring_objects_valid(objects: list[dict]) -> None:
    """ServiceMonitor, PodMonitor and PrometheusRule against the Prometheus Operator's CRD schemas."""
    for obj in objects:
        if obj["apiVersion"].startswith("monitoring.coreos.com/"):
            crd = yaml.safe_load(CRD_SCHEMAS[obj["kind"]].read_text())
            version = next(v for v in crd["spec"]["versions"] if v["name"] == obj["apiVersion"].split("/")[1])
            schema = version["schema"]["openAPIV3Schema"]
            # Not jsonschema.validate: that also checks the CRD schema itself, whose Go
            # regular expressions ("(?i)" mid-pattern) Python's re cannot compile.
            jsonschema.Draft7Validator(schema).validate(obj)
            assert undeclared_fields(obj, schema) == [], obj["kind"]

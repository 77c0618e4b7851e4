"""Shared paths and helpers for the chart, manifest and packaging tests."""

import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "qdrant-exporter"
SCENARIOS = sorted((ROOT / "ci").glob("*-values.yaml"))
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


def exporter(*args: str) -> str:
    """Runs the exporter binary (built by cargo) and returns its stdout."""
    result = subprocess.run(
        ["cargo", "run", "--quiet", "--bin", "qdrant-exporter", "--", *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout

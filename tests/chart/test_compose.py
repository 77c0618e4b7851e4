"""docker-compose.yml in both modes (validated offline by docker-compose config: no container
engine runs here) and examples/prometheus.yml (promtool check config)."""

import subprocess

import yaml

from conftest import CHART, ROOT

RULES = CHART / "files" / "alerts.yaml"
DASHBOARD = CHART / "files" / "dashboard.json"


def compose_config(*args: str) -> dict:
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", *args, "config"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def profile(service: dict) -> list[str]:
    return service.get("profiles", [])


def mounts(service: dict) -> dict[str, str]:
    """Container path → host path, relative to the repository."""
    found = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict) and volume.get("type") == "bind":
            found[volume["target"]] = str(volume["source"]).replace(str(ROOT) + "/", "")
        elif isinstance(volume, str) and volume.startswith(str(ROOT)):
            host, target, *_ = volume.split(":")
            found[target] = host.replace(str(ROOT) + "/", "")
    return found


def test_local_mode():
    services = compose_config("--profile", "local")["services"]
    assert profile(services["qdrant"]) == ["local"] and profile(services["exporter"]) == ["local"]
    assert services["exporter"]["environment"]["QDRANT_URL"] == "http://qdrant:6333"
    assert profile(services["prometheus"]) == [] and profile(services["grafana"]) == []


def test_cloud_mode_reads_the_env_file():
    services = compose_config("--env-file", "cloud.env.example", "--profile", "cloud")["services"]
    cloud = services["exporter-cloud"]
    assert profile(cloud) == ["cloud"]
    assert cloud["environment"]["QDRANT_URL"] == "https://your-cluster.cloud.qdrant.io:6333"
    assert cloud["environment"]["QDRANT_EXPORTER_CLUSTER_VIEW"] == "true", "a load-balanced URL needs the cluster view"
    assert "exporter" in cloud["networks"]["default"]["aliases"], "Prometheus scrapes exporter:9999 in both modes"


def test_the_stack_mounts_the_one_rules_file_and_the_one_dashboard():
    services = compose_config("--profile", "local")["services"]
    prometheus_config = yaml.safe_load((ROOT / "examples" / "prometheus.yml").read_text())
    [rules_path] = prometheus_config["rule_files"]
    assert mounts(services["prometheus"])[rules_path] == str(RULES.relative_to(ROOT))
    assert mounts(services["prometheus"])["/etc/prometheus/prometheus.yml"] == "examples/prometheus.yml"
    assert mounts(services["grafana"])["/var/lib/grafana/dashboards/qdrant-exporter.json"] == str(DASHBOARD.relative_to(ROOT))
    [target] = prometheus_config["scrape_configs"][0]["static_configs"][0]["targets"]
    assert target == "exporter:9999"


def test_the_example_prometheus_config_is_valid(tmp_path):
    config = (ROOT / "examples" / "prometheus.yml").read_text().replace("/etc/prometheus/rules/alerts.yaml", str(RULES))
    path = tmp_path / "prometheus.yml"
    path.write_text(config)
    result = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_real_env_file_is_ignored_by_git():
    result = subprocess.run(["git", "check-ignore", "cloud.env"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "cloud.env holds a real key and must stay out of git"

"""`helm test` in every shape the chart renders: the test pod's own command, run by busybox (the
test image's shell and wget), against a real exporter started with the environment of the
container the shape installs (the sidecar snippet of NOTES.txt, or the Deployment's), which reads
the mock Qdrant's recorded v1.18.3 answers. What Kubernetes would do is done here by hand: the
Service's name becomes the exporter's loopback address, a probe target's URL the mock's, a
Secret's key a value, a mounted file one written here; the mock speaks plain HTTP, so an https://
Qdrant's CA is left out. The TLS and basic-auth shapes fetch
`/readyz` over HTTPS with the user's own certificate: their rendered command is checked in
test_chart.py. Needs the binaries of `cargo build` (scripts/test.sh builds them first)."""

import os
import shlex
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import helm_python as helm
import pytest
import yaml

from conftest import CHART, CI, NAMESPACE, RELEASE, ROOT, SCENARIOS, load_values

BINARIES = ROOT / "target" / "debug"
RECORDED = ROOT / "tests" / "fixtures" / "qdrant-v1.18.3"
# The value every Secret key holds here; the mock refuses any other.
KEY = "a-read-only-key"
SHAPES = [
    "sidecar-default-values.yaml",
    "sidecar-read-only-key-values.yaml",
    "standalone-node-view-values.yaml",
    "standalone-existing-secret-values.yaml",
    "standalone-fleet-values.yaml",
    "everything-values.yaml",
]


def test_every_shape_but_the_https_ones_runs_its_helm_test_here():
    https = {p.name for p in SCENARIOS if load_values(p).get("webConfig", {}).get("tls") or load_values(p).get("webConfig", {}).get("basicAuth")}
    assert https and {p.name for p in SCENARIOS} - https == set(SHAPES)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, child: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            assert child.poll() is None, f"{child.args[0]} exited: {log.read_text()[-2000:]}"
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def running(args: list[str], env: dict[str, str], ready_url: str, log: Path):
    with log.open("w") as output:
        child = subprocess.Popen(args, env={"PATH": os.environ["PATH"], **env}, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_for(ready_url, child, log)
            yield
        finally:
            child.kill()
            child.wait()


@contextmanager
def mock_qdrant(tmp_path: Path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [str(BINARIES / "mock-qdrant"), "--listen", f"127.0.0.1:{port}", "--fixtures", str(RECORDED)]
    with running(args, {"MOCK_QDRANT_API_KEY": KEY}, f"{url}/", tmp_path / "mock.log"):
        yield url


def rendered(scenario: str) -> dict[str, str]:
    return helm.Chart.load(CHART).render(load_values(CI / scenario), name=RELEASE, namespace=NAMESPACE)


def documents(files: dict[str, str]) -> list[dict]:
    return [d for path, text in sorted(files.items()) if path.endswith(".yaml") for d in yaml.safe_load_all(text) if d]


def installed_container(files: dict[str, str]) -> dict:
    """The exporter's container as the shape installs it: the Deployment's, or the sidecar
    snippet NOTES.txt tells the user to add to the official chart."""
    for document in documents(files):
        if document["kind"] == "Deployment":
            [container] = document["spec"]["template"]["spec"]["containers"]
            return container
    notes = files["qdrant-exporter/templates/NOTES.txt"]
    snippet = notes.split("upgrade the official Qdrant chart's release with it:")[1].split("  QDRANT_CHART_VERSION=")[0]
    [container] = yaml.safe_load(snippet)["sidecarContainers"]
    return container


def probe_file(values: dict, qdrant_url: str, path: Path) -> Path:
    """The probe configuration the fleet's Secret would hold: the mock allowed, every module of
    the targets with the key."""
    modules = {target.get("module", "default") for target in values["probe"]["targets"]}
    path.write_text(yaml.safe_dump({"allowed_targets": [qdrant_url], "modules": {m: {"qdrant_api_key": KEY} for m in modules}}))
    return path


def config_file(files: dict[str, str], path: Path) -> Path:
    """The exporter's YAML configuration, from the ConfigMap the chart makes of config.inline."""
    [config_map] = [d for d in documents(files) if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-config")]
    [text] = config_map["data"].values()
    path.write_text(text)
    return path


def environment(files: dict[str, str], values: dict, qdrant_url: str, ports: tuple[int, int], tmp_path: Path) -> dict[str, str]:
    container = installed_container(files)
    env = {}
    for variable in container["env"]:
        if "valueFrom" in variable:
            assert "secretKeyRef" in variable["valueFrom"], variable
            env[variable["name"]] = KEY
        else:
            env[variable["name"]] = variable["value"]
    # Where the pod's address and its Secrets' files are, here.
    listen, health = env.get("QDRANT_EXPORTER_LISTEN_ADDRESS", ":9999"), env["QDRANT_EXPORTER_HEALTH_LISTEN_ADDRESS"]
    assert listen.startswith(":") and health.startswith(":"), "every address of both families"
    env["QDRANT_EXPORTER_LISTEN_ADDRESS"], env["QDRANT_EXPORTER_HEALTH_LISTEN_ADDRESS"] = (f":{port}" for port in ports)
    if "QDRANT_URL" in env:
        env["QDRANT_URL"] = qdrant_url
    # The mock speaks plain HTTP: the CA of an https:// Qdrant goes with the https.
    env.pop("QDRANT_CA_FILE", None)
    if "QDRANT_EXPORTER_PROBE_CONFIG_FILE" in env:
        env["QDRANT_EXPORTER_PROBE_CONFIG_FILE"] = str(probe_file(values, qdrant_url, tmp_path / "probe.yaml"))
    if "QDRANT_EXPORTER_CONFIG" in env:
        env["QDRANT_EXPORTER_CONFIG"] = str(config_file(files, tmp_path / "config.yaml"))
    return env


def pod_script(files: dict[str, str], values: dict, exporter_port: int, qdrant_url: str) -> str:
    """The `sh -c` script of the test pod, its Service address and probe target made local."""
    [pod] = [d for d in documents(files) if d["kind"] == "Pod" and d["metadata"]["annotations"]["helm.sh/hook"] == "test"]
    [container] = pod["spec"]["containers"]
    command = container["command"]
    assert command[:2] == ["sh", "-c"], command
    fullname = next(d for d in documents(files) if d["kind"] == "Service")["metadata"]["name"]
    port = values.get("service", {}).get("port", 9999)
    script = command[2].replace(f"http://{fullname}:{port}/", f"http://127.0.0.1:{exporter_port}/")
    for target in values.get("probe", {}).get("targets", []):
        script = script.replace(urllib.parse.quote(target["url"], safe=""), urllib.parse.quote(qdrant_url, safe=""))
    return script


def busybox(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """The script as the test image runs it: busybox's sh, wget and grep alone on the PATH."""
    applets = tmp_path / "busybox"
    applets.mkdir(exist_ok=True)
    for applet in ("sh", "wget", "grep"):
        if not (applets / applet).exists():
            (applets / applet).symlink_to("/bin/busybox")
    return subprocess.run([str(applets / "sh"), "-c", script], env={"PATH": str(applets)}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("scenario", SHAPES)
def test_helm_test_passes_against_a_real_exporter(scenario, tmp_path):
    files, values = rendered(scenario), load_values(CI / scenario)
    with mock_qdrant(tmp_path) as qdrant_url:
        ports = (free_port(), free_port())
        env = environment(files, values, qdrant_url, ports, tmp_path)
        exporter = [str(BINARIES / "qdrant-exporter"), *installed_container(files).get("args", [])]
        with running(exporter, env, f"http://127.0.0.1:{ports[1]}/healthz", tmp_path / "exporter.log"):
            script = pod_script(files, values, ports[0], qdrant_url)
            result = busybox(script, tmp_path)
            assert result.returncode == 0, f"{shlex.quote(script)}\n{result.stderr}\n{(tmp_path / 'exporter.log').read_text()[-3000:]}"


@pytest.mark.parametrize("scenario", ["sidecar-default-values.yaml", "standalone-fleet-values.yaml"])
def test_helm_test_fails_when_the_exporter_cannot_read_qdrant(scenario, tmp_path):
    """The same pod against an exporter whose Qdrant refuses its key: the test must fail."""
    files, values = rendered(scenario), load_values(CI / scenario)
    with mock_qdrant(tmp_path) as qdrant_url:
        ports = (free_port(), free_port())
        env = environment(files, values, qdrant_url, ports, tmp_path)
        env = {name: ("a-wrong-key" if value == KEY else value) for name, value in env.items()}
        if "QDRANT_EXPORTER_PROBE_CONFIG_FILE" in env:
            probe = Path(env["QDRANT_EXPORTER_PROBE_CONFIG_FILE"])
            probe.write_text(probe.read_text().replace(KEY, "a-wrong-key"))
        exporter = [str(BINARIES / "qdrant-exporter"), *installed_container(files).get("args", [])]
        with running(exporter, env, f"http://127.0.0.1:{ports[1]}/healthz", tmp_path / "exporter.log"):
            assert busybox(pod_script(files, values, ports[0], qdrant_url), tmp_path).returncode != 0

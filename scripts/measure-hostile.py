#!/usr/bin/env python3
"""Figures of the hostile round, for one or more builds side by side (BENCHMARKS.md):

- the first login of a correct user while 60 connections send wrong passwords without pause
  (basic auth, the cost-12 hash of Prometheus' basic-auth guide);
- the exporter's peak RSS while Qdrant streams endless bodies, at the default concurrency: as a
  sidecar (four scrapes at once, three rounds) and through /probe with six such targets.

Usage: scripts/measure-hostile.py MOCK_BINARY EXPORTER_BINARY [EXPORTER_BINARY ...]
(cargo build --workspace first; the mock needs --endless, so take this checkout's.)
Prints figures; asserts nothing.
"""

import base64
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT / "tests" / "fixtures" / "qdrant-v1.18.3"
# admin, "test": from Prometheus' basic-auth guide, as in tests/api/web.rs.
ADMIN_TEST = "$2b$12$hNf2lSsxfm0.i4a.1kVpSOVyBCfIB51VRjgBUyv6kdnyTlgWj81Ay"
FLOODING_CONNECTIONS = 60
ENDLESS_TARGETS = 6


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def peak_rss_mib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no VmHWM")


def start(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(port)
    return child


def first_login_under_flood(mock: str, exporter: str) -> float:
    web_config = tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False)
    web_config.write(f"basic_auth_users:\n  admin: {ADMIN_TEST}\n")
    web_config.close()
    mock_port, port = free_port(), free_port()
    upstream = start([mock, "--listen", f"127.0.0.1:{mock_port}", "--fixtures", str(RECORDED)], {}, mock_port)
    env = {
        "QDRANT_URL": f"http://127.0.0.1:{mock_port}",
        "QDRANT_EXPORTER_LISTEN_ADDRESS": f"127.0.0.1:{port}",
        "QDRANT_EXPORTER_WEB_CONFIG_FILE": web_config.name,
    }
    child = start([exporter], env, port)

    def healthz(password: str, source: str) -> bytes:
        credentials = base64.b64encode(f"admin:{password}".encode()).decode()
        with socket.create_connection(("127.0.0.1", port), timeout=120, source_address=(source, 0)) as s:
            s.sendall(f"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {credentials}\r\nConnection: close\r\n\r\n".encode())
            return s.recv(64)

    flooding = True

    def flood() -> None:
        while flooding:
            try:
                healthz("wrong", "127.0.0.1")
            except OSError:
                pass

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(FLOODING_CONNECTIONS)]
    for thread in threads:
        thread.start()
    time.sleep(3)  # the flood's queue fills
    started = time.monotonic()
    answer = healthz("test", "127.0.0.2")
    took = time.monotonic() - started
    flooding = False
    child.kill()
    upstream.kill()
    assert answer.startswith(b"HTTP/1.1 200"), answer
    return took


def peak_rss_with_endless_bodies(mock: str, exporter: str, through_probe: bool) -> int:
    upstreams, urls = [], []
    for _ in range(ENDLESS_TARGETS if through_probe else 1):
        mock_port = free_port()
        upstreams.append(start([mock, "--listen", f"127.0.0.1:{mock_port}", "--endless"], {}, mock_port))
        urls.append(f"http://127.0.0.1:{mock_port}")
    probe_file = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    probe_file.write(f"allowed_targets: [{', '.join(urls)}]\nmodules:\n  default: {{}}\n")
    probe_file.close()
    port = free_port()
    env = {
        "QDRANT_URL": urls[0],
        "QDRANT_EXPORTER_LISTEN_ADDRESS": f"127.0.0.1:{port}",
        "QDRANT_EXPORTER_CACHE_TTL_SECONDS": "0",
        "QDRANT_EXPORTER_PROBE_CONFIG_FILE": probe_file.name,
        "QDRANT_EXPORTER_NATIVE_METRICS_RELAY": "true",
    }
    child = start([exporter], env, port)

    def get(path: str) -> None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30).read()
        except OSError:
            pass

    paths = [f"/probe?target={urllib.parse.quote(url, safe='')}" for url in urls] if through_probe else ["/metrics"] * 4
    for _ in range(3):
        threads = [threading.Thread(target=get, args=(path,)) for path in paths]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    peak = peak_rss_mib(child.pid)
    child.kill()
    for upstream in upstreams:
        upstream.kill()
    return peak


def main() -> None:
    mock, exporters = sys.argv[1], sys.argv[2:]
    for exporter in exporters:
        print(f"{exporter}:")
        print(f"  first login, {FLOODING_CONNECTIONS} connections of wrong passwords: {first_login_under_flood(mock, exporter):.2f} s")
        print(f"  peak RSS, endless bodies, sidecar: {peak_rss_with_endless_bodies(mock, exporter, False)} MiB")
        print(f"  peak RSS, endless bodies, /probe x{ENDLESS_TARGETS}: {peak_rss_with_endless_bodies(mock, exporter, True)} MiB")


if __name__ == "__main__":
    main()

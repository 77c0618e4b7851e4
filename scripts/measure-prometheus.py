#!/usr/bin/env python3
"""What the series cost a real Prometheus: three sidecars of a mock 3-node cluster
(1,000 collections of 3 shards x 2 replicas), one Prometheus per detail level, all
scraping every 15 s for 10 minutes side by side; then each Prometheus's head series,
resident memory and Go heap in use. Figures printed, nothing asserted (BENCHMARKS.md).

Usage: scripts/measure-prometheus.py [--minutes N] [EXPORTER_BINARY]
Needs Debian's prometheus (scripts/test.sh installs it) and release builds of the
exporter and mock-qdrant (cargo build --release --workspace).
"""
import argparse
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOCK = os.path.join(ROOT, "target/release/mock-qdrant")
FIXTURES = os.path.join(ROOT, "tests/fixtures/qdrant-v1.18.3")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url):
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} never answered")


def query(port, promql):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    answer = json.load(urllib.request.urlopen(url, timeout=10))
    return float(answer["data"]["result"][0]["value"][1])


def own_metric(port, name):
    """A figure of Prometheus's own /metrics (it does not scrape itself here)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise SystemExit(f"Prometheus serves no {name}")


def vm_rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("exporter", nargs="?", default=os.path.join(ROOT, "target/release/qdrant-exporter"))
    args = parser.parse_args()
    children = []
    try:
        mocks = []
        for node in range(3):
            port = free_port()
            children.append(subprocess.Popen(
                [MOCK, "--listen", f"127.0.0.1:{port}", "--fixtures", FIXTURES,
                 "--collections", "1000", "--cluster-node", str(node)],
                stderr=subprocess.DEVNULL))
            mocks.append(port)
        prometheus = {}
        work = tempfile.mkdtemp(prefix="measure-prometheus-")
        for detail in ["collection", "shard", "full"]:
            targets = []
            for mock in mocks:
                port = free_port()
                env = {"QDRANT_URL": f"http://127.0.0.1:{mock}",
                       "QDRANT_EXPORTER_LISTEN_ADDRESS": f"127.0.0.1:{port}",
                       "QDRANT_EXPORTER_DETAIL": detail,
                       "QDRANT_EXPORTER_LOG_LEVEL": "warn"}
                children.append(subprocess.Popen([args.exporter], env=env, stdout=subprocess.DEVNULL))
                wait_for(f"http://127.0.0.1:{port}/healthz")
                targets.append(f"'127.0.0.1:{port}'")
            data = os.path.join(work, detail)
            os.makedirs(data)
            config = os.path.join(data, "prometheus.yml")
            with open(config, "w") as out:
                out.write("global:\n  scrape_interval: 15s\n  scrape_timeout: 10s\n"
                          f"scrape_configs:\n  - job_name: qdrant-exporter\n"
                          f"    static_configs:\n      - targets: [{', '.join(targets)}]\n")
            port = free_port()
            child = subprocess.Popen(
                ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}/tsdb",
                 f"--web.listen-address=127.0.0.1:{port}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            children.append(child)
            prometheus[detail] = (port, child)
        for port, _ in prometheus.values():
            wait_for(f"http://127.0.0.1:{port}/-/ready")
        time.sleep(args.minutes * 60)
        for detail, (port, child) in prometheus.items():
            series = own_metric(port, "prometheus_tsdb_head_series")
            heap = own_metric(port, "go_memstats_heap_inuse_bytes") / 2**20
            scraped = query(port, "sum(scrape_samples_scraped)")
            print(f"detail {detail:10}: {scraped:,.0f} samples per round of 3 scrapes, "
                  f"head series {series:,.0f}, Prometheus RSS {vm_rss_mib(child.pid):.0f} MiB, "
                  f"Go heap in use {heap:.0f} MiB after {args.minutes:g} min")
    finally:
        for child in children:
            child.kill()
            child.wait()


if __name__ == "__main__":
    main()

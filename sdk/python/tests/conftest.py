"""The real exporter binary and the mock Qdrant binary (serving recorded responses), started on
free loopback ports and stopped after the tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"
BINARIES = ROOT / "target" / "debug"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def binaries() -> None:
    subprocess.run(["cargo", "build", "--quiet", "--workspace", "--bins"], cwd=ROOT, check=True)


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def process(args: list[str], env: dict[str, str], ready_url: str) -> Iterator[None]:
    child = subprocess.Popen(args, env={"PATH": os.environ["PATH"], **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(ready_url)
        yield
    finally:
        child.kill()
        child.wait()


@contextmanager
def mock_qdrant(fixtures: str = "qdrant-v1.18.3", *, names: list[str] | None = None, api_key: str | None = None, tmp: Path | None = None) -> Iterator[str]:
    port = free_port()
    args = [str(BINARIES / "mock-qdrant"), "--listen", f"127.0.0.1:{port}", "--fixtures", str(FIXTURES / fixtures)]
    if names is not None:
        assert tmp is not None
        names_file = tmp / "names.json"
        names_file.write_text(json.dumps(names))
        args += ["--collection-names-file", str(names_file)]
    env = {"MOCK_QDRANT_API_KEY": api_key} if api_key else {}
    url = f"http://127.0.0.1:{port}"
    with process(args, env, f"{url}/"):
        yield url


@contextmanager
def exporter(qdrant_url: str, **settings: str) -> Iterator[str]:
    port = free_port()
    env = {
        "QDRANT_URL": qdrant_url,
        "QDRANT_EXPORTER_LISTEN_ADDRESS": f"127.0.0.1:{port}",
        "QDRANT_EXPORTER_CACHE_TTL_SECONDS": "0",
        **settings,
    }
    url = f"http://127.0.0.1:{port}"
    with process([str(BINARIES / "qdrant-exporter")], env, f"{url}/healthz"):
        yield url

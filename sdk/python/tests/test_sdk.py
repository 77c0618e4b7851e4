"""Both packages against the real exporter and the mock Qdrant: equal objects for the same
Qdrant, labels that survive, the documented exceptions."""

from __future__ import annotations

import functools
import json
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from conftest import BINARIES, FIXTURES, exporter, free_port, mock_qdrant
from python_exporter import ExporterClient, cluster_collections
from qdrant_cloud_client import QdrantClient
from qdrant_models import (
    REPLICA_STATES,
    UNKNOWN_REPLICA_STATE,
    Cluster,
    CollectionStatus,
    Replica,
    UnauthorizedError,
    UnexpectedResponseError,
    UnreachableError,
    Vector,
)
from qdrant_models.cli import main as qdrant_stats

@functools.cache
def every_collector() -> dict[str, str]:
    """Every collector the exporter has, as its --help lists them, the native relay aside."""
    help_text = subprocess.run([str(BINARIES / "qdrant-exporter"), "--help"], capture_output=True, text=True, check=True).stdout
    listed = re.search(r"Collectors to run, comma-separated, of: ([a-z_, ]+)", help_text)
    assert listed, help_text
    return {
        "QDRANT_EXPORTER_COLLECTORS": ",".join(name for name in listed[1].split(", ") if name != "native_relay"),
        # The collections' configuration (shard number, vectors) is exported at full detail only.
        "QDRANT_EXPORTER_DETAIL": "full",
    }


def test_both_clients_return_equal_objects_for_the_recorded_single_node():
    with mock_qdrant() as qdrant_url, exporter(qdrant_url, **every_collector()) as exporter_url:
        via_exporter, direct = ExporterClient(exporter_url), QdrantClient(qdrant_url)
        assert via_exporter.up() is True
        assert via_exporter.version() == direct.version() == "1.18.3"

        collections = via_exporter.collections()
        assert collections == direct.collections()
        assert [c.name for c in collections] == ["docs", "empty", "images", "ondisk_quantized", "sparse"]
        docs = collections[0]
        assert (docs.status, docs.points, docs.segments, docs.optimizer_ok) == (CollectionStatus.GREEN, 2000, 2, True)
        assert docs.vectors == (Vector("default", 1536, "Cosine", False),)
        assert collections[2].vectors == (Vector("clip", 512, "Dot", False), Vector("thumb", 128, "Euclid", False))

        assert via_exporter.replicas() == direct.replicas()
        assert via_exporter.snapshots() == direct.snapshots()
        images = next(s for s in direct.snapshots() if s.collection == "images")
        assert (images.count, images.total_size_bytes) == (1, 3_138_048)
        assert images.latest == datetime(2026, 11, 21, 6, 47, 17, tzinfo=timezone.utc)
        assert via_exporter.cluster() == direct.cluster() == Cluster(enabled=False)


def test_both_clients_agree_on_a_cluster_node_with_partial_and_dead_replicas():
    with mock_qdrant("cluster-v1.18.3-node-b") as qdrant_url, exporter(qdrant_url, **every_collector()) as exporter_url:
        via_exporter, direct = ExporterClient(exporter_url), QdrantClient(qdrant_url)
        replicas = direct.replicas()
        assert via_exporter.replicas() == replicas
        node_b, node_c = 7708955329324187, 4606499160228025
        assert Replica("orders", 1, node_b, "Partial", 8500) in replicas
        assert Replica("small", 0, node_c, "Dead", None) in replicas
        cluster = direct.cluster()
        assert via_exporter.cluster() == cluster
        assert (cluster.peer_id, cluster.role, cluster.is_leader, cluster.peers) == (node_b, "Follower", False, 3)
        assert via_exporter.snapshots() == direct.snapshots()


def test_a_replica_state_the_exporter_does_not_know_is_unknown_from_both_clients():
    # The hand-made 1.15 answers hold a replica in a state no Qdrant has (yet).
    with mock_qdrant("handmade-v1.15.0") as qdrant_url, exporter(qdrant_url) as exporter_url:
        via_exporter, direct = ExporterClient(exporter_url), QdrantClient(qdrant_url)
        unknown = [r for r in via_exporter.replicas() or () if r.state == UNKNOWN_REPLICA_STATE]
        assert [(r.collection, r.shard_id) for r in unknown] == [("future_shape", 0)]
        assert unknown[0] in (direct.replicas() or ())


def test_the_sidecars_of_a_cluster_combined_count_every_figure_once():
    # The recorded steady 3-node cluster (node a the raft leader), a sidecar on each node.
    nodes = [f"transitions-v1.18.3-steady-node-{node}" for node in "abc"]
    with ExitStack() as stack:
        scrapes = []
        for fixtures in nodes:
            qdrant_url = stack.enter_context(mock_qdrant(fixtures))
            exporter_url = stack.enter_context(exporter(qdrant_url, **every_collector()))
            scrapes.append(ExporterClient(exporter_url).scrape())
    assert [metrics.reports_cluster() for metrics in scrapes] == [True, False, False]
    assert scrapes[0].families["qdrant_collection_shard_number"].scope == "cluster"
    assert scrapes[1].families["qdrant_shard_local_points"].scope == "node"
    assert "qdrant_collection_shard_number" not in scrapes[1].families

    # Alone, a follower knows its own replicas and not the configuration.
    follower = {c.name: c for c in scrapes[1].collections()}
    assert (follower["orders"].points, follower["orders"].shard_number) == (923 + 973, None)

    # Together: Qdrant's own collection info of the moment (GET /collections/orders on any node).
    orders_info = json.loads((FIXTURES / nodes[0] / "collection-orders.json").read_text())["result"]
    cluster = {c.name: c for c in cluster_collections(scrapes)}
    orders = cluster["orders"]
    assert orders.points == orders_info["points_count"] == 3000
    assert orders.segments == orders_info["segments_count"]
    assert orders.status is CollectionStatus.GREEN and orders.optimizer_ok is True
    assert (orders.shard_number, orders.replication_factor) == (3, 2)
    assert cluster["solo"].points == 40_000


def test_label_values_with_commas_quotes_backslashes_and_newlines_survive(tmp_path):
    names = ['a,b', 'with "quotes"', "back\\slash", "new\nline", "ünïcödé", "brace}{=,"]
    with mock_qdrant(names=names, tmp=tmp_path) as qdrant_url, exporter(qdrant_url) as exporter_url:
        via_exporter = [c.name for c in ExporterClient(exporter_url).collections()]
        direct = [c.name for c in QdrantClient(qdrant_url).collections()]
        assert via_exporter == direct == sorted(names)


def test_a_401_is_an_unauthorized_error_directly_and_qdrant_up_0_through_the_exporter():
    with mock_qdrant(api_key="the-key") as qdrant_url, exporter(qdrant_url) as exporter_url:
        with pytest.raises(UnauthorizedError) as error:
            QdrantClient(qdrant_url).collections()
        assert error.value.status == 401 and "QDRANT_API_KEY" in str(error.value)
        metrics = ExporterClient(exporter_url).scrape()
        assert metrics.up() is False
        assert metrics.collections() == []
        assert QdrantClient(qdrant_url, api_key="the-key").collections()


def test_an_exporter_that_is_down_raises_unreachable():
    with pytest.raises(UnreachableError):
        ExporterClient(f"http://127.0.0.1:{free_port()}", timeout=1).up()


def test_the_timeout_is_honoured_when_the_exporter_hangs():
    # A listener that accepts connections and never answers.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    started = time.monotonic()
    with pytest.raises(UnreachableError):
        ExporterClient(f"http://127.0.0.1:{server.getsockname()[1]}", timeout=0.5).up()
    # Generous bound: the point is that 0.5 s is honoured, not an exact figure.
    assert time.monotonic() - started < 5
    server.close()


def test_something_else_than_qdrant_is_an_unexpected_response():
    with mock_qdrant() as qdrant_url, exporter(qdrant_url) as exporter_url:
        with pytest.raises(UnexpectedResponseError):
            QdrantClient(exporter_url).collections()


def test_missing_optional_families_are_none_and_the_generic_view_has_every_family():
    with mock_qdrant() as qdrant_url, exporter(qdrant_url, QDRANT_EXPORTER_COLLECTORS="collections") as exporter_url:
        metrics = ExporterClient(exporter_url).scrape()
        assert metrics.replicas() is None and metrics.snapshots() is None and metrics.cluster() is None
        assert len(metrics.collections()) == 5
        up = metrics.families["qdrant_up"]
        assert (up.type, up.samples[0].value) == ("gauge", 1.0)
        assert "authorised" in up.help
        requests = metrics.families["qdrant_exporter_qdrant_requests"]
        assert requests.type == "counter"
        assert {s.labels["endpoint"] for s in requests.samples if s.name.endswith("_total")} >= {"/", "/collections"}


def test_the_cli_prints_the_same_table_from_either_source(capsys):
    with mock_qdrant() as qdrant_url, exporter(qdrant_url) as exporter_url:
        assert qdrant_stats(["--exporter", exporter_url]) == 0
        from_exporter = capsys.readouterr().out
        assert qdrant_stats(["--qdrant", qdrant_url]) == 0
        direct = capsys.readouterr().out
    assert from_exporter == direct
    lines = from_exporter.splitlines()
    assert lines[0].split() == ["COLLECTION", "STATUS", "POINTS", "INDEXED", "SEGMENTS", "OPTIMIZER"]
    assert lines[1].split() == ["docs", "green", "2000", "0", "2", "ok"]


def test_the_installed_cli_reports_an_unreachable_exporter():
    result = subprocess.run(
        [sys.executable, "-m", "qdrant_models.cli", "--exporter", f"http://127.0.0.1:{free_port()}", "--timeout", "1"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "did not answer" in result.stderr


def test_the_readme_examples_run(capsys):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    examples = [block.split("```")[0] for block in readme.split("```python\n")[1:]]
    assert len(examples) == 4
    with mock_qdrant() as qdrant_url, exporter(qdrant_url, **every_collector()) as exporter_url:
        for example in examples:
            code = example.replace("http://localhost:9999", exporter_url).replace("http://localhost:6333", qdrant_url)
            exec(compile(code, "README example", "exec"), {})
    printed = capsys.readouterr().out
    assert "docs                        2,000 points  default=1536" in printed
    assert "all collections green, all replicas Active" in printed


def test_the_replica_states_are_the_exporters():
    # The list exists in the exporter (its help text names every state) and here; they must not drift apart.
    with mock_qdrant() as qdrant_url, exporter(qdrant_url) as exporter_url:
        exposition = httpx.get(f"{exporter_url}/metrics").text
    named = re.search(r"^# HELP qdrant_shard_replica_state .*?one of ([A-Za-z, ]+) \(Qdrant's\)", exposition, re.M)
    assert named, exposition
    assert tuple(named[1].split(", ")) == REPLICA_STATES

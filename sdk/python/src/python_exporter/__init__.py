"""Read qdrant-exporter's ``/metrics``: every family generically, and typed accessors for what
the exporter exports. The exposition is parsed with ``prometheus_client``'s own text parser, so
label values with commas, quotes, backslashes or newlines come through intact.

A family the exporter does not serve (its collector is off, or it is of cluster scope and this
exporter is not its cluster's reporter) gives ``None``, not an error. When the exporter cannot
reach Qdrant, ``up()`` is ``False`` and the collection figures are empty: the exporter does not
serve stale data. ``cluster_collections()`` combines one scrape of each sidecar of a cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from types import TracebackType

import httpx
from prometheus_client.parser import text_string_to_metric_families

from qdrant_models import (
    REPLICA_STATES,
    UNKNOWN_REPLICA_STATE,
    Cluster,
    Collection,
    CollectionStatus,
    Replica,
    Snapshots,
    UnexpectedResponseError,
    UnreachableError,
    Vector,
)

__all__ = ["ExporterClient", "MetricFamily", "Sample", "Metrics", "cluster_collections"]


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class MetricFamily:
    """One family as ``prometheus_client`` parses it (a counter's name is without ``_total``)."""

    name: str
    type: str
    help: str
    samples: tuple[Sample, ...]

    @property
    def scope(self) -> str | None:
        """``"node"`` (each node's own figure) or ``"cluster"`` (reported once per cluster, by its
        reporter), as the help text says; ``None`` for a family relayed from Qdrant."""
        for scope in ("node", "cluster"):
            if f"{scope.capitalize()} scope: " in self.help:
                return scope
        return None


class Metrics:
    """One scrape of the exporter, with typed accessors."""

    def __init__(self, families: dict[str, MetricFamily]) -> None:
        self.families = families

    def _samples(self, family: str) -> tuple[Sample, ...] | None:
        found = self.families.get(family)
        return found.samples if found else None

    def _by_collection(self, family: str) -> dict[str, float]:
        return {s.labels["collection"]: s.value for s in self._samples(family) or ()}

    def _shard_sum(self, family: str) -> dict[str, float]:
        """Per collection, as the recording rules derive it: each shard once, its fullest replica,
        a replica's series (segments by type, vectors by name) summed first."""
        replicas: dict[tuple[str, str, str], float] = {}
        for s in self._samples(family) or ():
            replica = (s.labels["collection"], s.labels["shard_id"], s.labels.get("peer_id", ""))
            replicas[replica] = replicas.get(replica, 0.0) + s.value
        largest: dict[tuple[str, str], float] = {}
        for (collection, shard_id, _), value in replicas.items():
            key = (collection, shard_id)
            largest[key] = max(largest.get(key, value), value)
        sums: dict[str, float] = {}
        for (collection, _), value in largest.items():
            sums[collection] = sums.get(collection, 0.0) + value
        return sums

    def _served_or(self, collection_family: str, shard_family: str) -> tuple[Sample, ...]:
        """The fallback's cluster-wide samples where served, else the per-shard ones."""
        return self._samples(collection_family) or self._samples(shard_family) or ()

    def _collection_figure(self, collection_family: str, shard_family: str) -> dict[str, float]:
        """The fallback's cluster-wide figure where served, else the per-shard series combined."""
        if self._samples(collection_family) is not None:
            return self._by_collection(collection_family)
        return self._shard_sum(shard_family)

    def up(self) -> bool:
        samples = self._samples("qdrant_up")
        return samples is not None and len(samples) > 0 and samples[0].value == 1

    def reports_cluster(self) -> bool:
        """Whether this exporter serves its cluster's cluster-scope families (the raft leader's)."""
        samples = self._samples("qdrant_exporter_cluster_reporter")
        return samples is not None and len(samples) > 0 and samples[0].value == 1

    def version(self) -> str | None:
        samples = self._samples("qdrant_info")
        return samples[0].labels["version"] if samples else None

    def collections(self) -> list[Collection]:
        # The worst status any replica reports (red > grey > yellow > green), as the recording rule.
        order = ["green", "yellow", "grey", "red"]
        status: dict[str, CollectionStatus] = {}
        worst: dict[str, int] = {}
        for sample in self._served_or("qdrant_collection_status", "qdrant_shard_status"):
            collection = sample.labels["collection"]
            status.setdefault(collection, CollectionStatus.UNKNOWN)
            label = sample.labels["status"]
            if sample.value == 1 and label in order and order.index(label) >= worst.get(collection, -1):
                worst[collection] = order.index(label)
                status[collection] = CollectionStatus.parse(label)
        points = self._collection_figure("qdrant_collection_points", "qdrant_shard_local_points")
        indexed = self._collection_figure("qdrant_collection_indexed_vectors", "qdrant_shard_indexed_vectors")
        segments = self._collection_figure("qdrant_collection_segments", "qdrant_shard_segments")
        optimizer: dict[str, float] = {}
        for s in self._served_or("qdrant_collection_optimizer_ok", "qdrant_shard_optimizer_ok"):
            collection = s.labels["collection"]
            optimizer[collection] = min(optimizer.get(collection, s.value), s.value)
        shards = self._by_collection("qdrant_collection_shard_number")
        replication = self._by_collection("qdrant_collection_replication_factor")
        write_consistency = self._by_collection("qdrant_collection_write_consistency_factor")
        dimensions = {
            (s.labels["collection"], s.labels["vector"]): s.value
            for s in self._samples("qdrant_collection_vector_dimensions") or ()
        }
        vectors: dict[str, list[Vector]] = {}
        for s in self._samples("qdrant_collection_vector_info") or ():
            key = (s.labels["collection"], s.labels["vector"])
            vector = Vector(key[1], _int(dimensions.get(key)) or 0, s.labels["distance"], s.labels["on_disk"] == "true")
            vectors.setdefault(key[0], []).append(vector)

        return [
            Collection(
                name=name,
                status=status.get(name, CollectionStatus.UNKNOWN),
                points=_int(points.get(name)),
                indexed_vectors=_int(indexed.get(name)),
                segments=_int(segments.get(name)),
                optimizer_ok=None if name not in optimizer else optimizer[name] == 1,
                shard_number=_int(shards.get(name)),
                replication_factor=_int(replication.get(name)),
                write_consistency_factor=_int(write_consistency.get(name)),
                vectors=tuple(sorted(vectors.get(name, []), key=lambda v: v.name)),
            )
            for name in sorted(status.keys() | points.keys())
        ]

    def replicas(self) -> list[Replica] | None:
        states = self._samples("qdrant_shard_replica_state")
        if states is None:
            return None
        local = {
            (s.labels["collection"], s.labels["shard_id"], s.labels["peer_id"]): s.value
            for s in self._samples("qdrant_shard_local_points") or ()
        }
        # The exporter names a state it does not know `Unknown`, as this package does.
        current: dict[tuple[str, str, str], str] = {}
        for s in states:
            key = (s.labels["collection"], s.labels["shard_id"], s.labels["peer_id"])
            if s.value == 1 and s.labels["state"] in REPLICA_STATES:
                current[key] = s.labels["state"]
            else:
                current.setdefault(key, UNKNOWN_REPLICA_STATE)
        replicas = [
            Replica(key[0], int(key[1]), int(key[2]), state, _int(local.get(key)))
            for key, state in current.items()
        ]
        return sorted(replicas, key=lambda r: (r.collection, r.shard_id, r.peer_id))

    def snapshots(self) -> list[Snapshots] | None:
        if self._samples("qdrant_collection_snapshots") is None:
            return None
        count = self._by_collection("qdrant_collection_snapshots")
        size = self._by_collection("qdrant_collection_snapshots_size_bytes")
        latest = self._by_collection("qdrant_collection_snapshot_latest_timestamp_seconds")
        return [
            Snapshots(
                collection=name,
                count=int(count[name]),
                total_size_bytes=int(size.get(name, 0)),
                latest=datetime.fromtimestamp(latest[name], tz=timezone.utc) if name in latest else None,
            )
            for name in sorted(count)
        ]

    def cluster(self) -> Cluster | None:
        enabled = self._samples("qdrant_cluster_enabled")
        if not enabled:
            return None
        if enabled[0].value != 1:
            return Cluster(enabled=False)

        def single(family: str) -> int | None:
            samples = self._samples(family)
            return _int(samples[0].value) if samples else None

        peer = self._samples("qdrant_cluster_peer_info")
        role = [s.labels["role"] for s in self._samples("qdrant_cluster_role") or () if s.value == 1]
        leader, voter = single("qdrant_cluster_leader"), single("qdrant_cluster_voter")
        return Cluster(
            enabled=True,
            peer_id=int(peer[0].labels["peer_id"]) if peer else None,
            peers=single("qdrant_cluster_peers"),
            term=single("qdrant_cluster_term"),
            commit=single("qdrant_cluster_commit"),
            pending_operations=single("qdrant_cluster_pending_operations"),
            is_leader=None if leader is None else leader == 1,
            role=role[0] if role else None,
            is_voter=None if voter is None else voter == 1,
        )


class ExporterClient:
    """``ExporterClient("http://localhost:9999")``; each call scrapes ``/metrics`` once."""

    def __init__(self, url: str = "http://localhost:9999", *, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(timeout=timeout)

    def scrape(self) -> Metrics:
        metrics_url = f"{self.url}/metrics"
        try:
            response = self._http.get(metrics_url)
        except httpx.TransportError as error:
            raise UnreachableError(f"the exporter at {self.url} did not answer: {error!r}") from error
        if response.status_code != 200:
            raise UnexpectedResponseError(f"{metrics_url} answered {response.status_code}")
        try:
            parsed = list(text_string_to_metric_families(response.text))
        except ValueError as error:
            raise UnexpectedResponseError(f"{metrics_url} is not Prometheus text: {error}") from error
        return Metrics(
            {
                family.name: MetricFamily(
                    name=family.name,
                    type=family.type,
                    help=family.documentation,
                    samples=tuple(Sample(s.name, dict(s.labels), s.value) for s in family.samples),
                )
                for family in parsed
            }
        )

    def families(self) -> dict[str, MetricFamily]:
        return self.scrape().families

    def up(self) -> bool:
        return self.scrape().up()

    def version(self) -> str | None:
        return self.scrape().version()

    def collections(self) -> list[Collection]:
        return self.scrape().collections()

    def replicas(self) -> list[Replica] | None:
        return self.scrape().replicas()

    def snapshots(self) -> list[Snapshots] | None:
        return self.scrape().snapshots()

    def cluster(self) -> Cluster | None:
        return self.scrape().cluster()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ExporterClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


def cluster_collections(scrapes: Iterable[Metrics]) -> list[Collection]:
    """The collections of one cluster from one scrape of each of its sidecars, every figure counted
    once, as Prometheus holds them and the recording rules combine them: node-scope samples from every
    scrape (each node's own replicas), cluster-scope ones (configuration) from the reporter's alone."""
    scrapes = list(scrapes)
    reporter = next((metrics for metrics in scrapes if metrics.reports_cluster()), None)
    merged: dict[str, MetricFamily] = {}
    for metrics in scrapes:
        for name, family in metrics.families.items():
            if family.scope == "cluster" and metrics is not reporter:
                continue
            known = merged.get(name)
            samples = family.samples if known is None else known.samples + family.samples
            merged[name] = MetricFamily(family.name, family.type, family.help, samples)
    return Metrics(merged).collections()


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)

"""Typed views of a Qdrant deployment, the same whichever client produced them.

``python_exporter`` reads them from qdrant-exporter's ``/metrics``; ``qdrant_cloud_client``
reads them from Qdrant's REST API directly. For the same Qdrant, both return equal objects,
so a script can switch source without changing code.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "UNNAMED_VECTOR",
    "REPLICA_STATES",
    "UNKNOWN_REPLICA_STATE",
    "CollectionStatus",
    "Vector",
    "Collection",
    "Replica",
    "Snapshots",
    "Cluster",
    "QdrantStatsError",
    "UnreachableError",
    "UnauthorizedError",
    "UnexpectedResponseError",
]

#: The name given to a collection's unnamed (single) vector, as the exporter's ``vector`` label.
UNNAMED_VECTOR = "default"

#: Every replica state Qdrant defines (v1.18).
REPLICA_STATES = (
    "Active",
    "Dead",
    "Partial",
    "Initializing",
    "Listener",
    "PartialSnapshot",
    "Recovery",
    "Resharding",
    "ReshardingScaleDown",
    "ActiveRead",
    "ManualRecovery",
)
#: The state reported for a replica state not in ``REPLICA_STATES`` (a newer Qdrant).
UNKNOWN_REPLICA_STATE = "Unknown"


class CollectionStatus(str, enum.Enum):
    GREEN = "green"
    YELLOW = "yellow"
    GREY = "grey"
    RED = "red"
    #: A status this library does not know (a newer Qdrant).
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: str | None) -> CollectionStatus:
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True)
class Vector:
    """A dense vector of a collection."""

    name: str
    dimensions: int
    distance: str
    on_disk: bool


@dataclass(frozen=True)
class Collection:
    """A collection's cluster-wide figures and configuration. ``None``: not reported."""

    name: str
    status: CollectionStatus
    points: int | None
    indexed_vectors: int | None
    segments: int | None
    optimizer_ok: bool | None
    shard_number: int | None
    replication_factor: int | None
    write_consistency_factor: int | None
    vectors: tuple[Vector, ...] = ()


@dataclass(frozen=True)
class Replica:
    """One replica of one shard, as the node asked sees it."""

    collection: str
    shard_id: int
    peer_id: int
    state: str
    #: Points in the replica when the node asked holds it; ``None`` for other nodes' replicas.
    local_points: int | None


@dataclass(frozen=True)
class Snapshots:
    """The snapshots of a collection stored on the node asked."""

    collection: str
    count: int
    total_size_bytes: int
    #: Creation time of the newest snapshot (UTC, whole seconds); ``None`` without snapshots.
    latest: datetime | None


@dataclass(frozen=True)
class Cluster:
    """Raft state of the node asked; only ``enabled`` in single-node mode."""

    enabled: bool
    peer_id: int | None = None
    peers: int | None = None
    term: int | None = None
    commit: int | None = None
    pending_operations: int | None = None
    is_leader: bool | None = None
    role: str | None = None
    is_voter: bool | None = None


class QdrantStatsError(Exception):
    """Base of the errors both clients raise."""


class UnreachableError(QdrantStatsError):
    """The exporter or Qdrant did not answer: refused, unresolvable, or past the timeout."""


class UnauthorizedError(QdrantStatsError):
    """Qdrant refused the API key (401 or 403)."""

    def __init__(self, status: int, url: str) -> None:
        hint = (
            "check the API key (QDRANT_API_KEY); Qdrant's read-only key is enough"
            if status == 401
            else "the API key may not read collections; use Qdrant's read-only or full key"
        )
        super().__init__(f"{status} from {url}: {hint}")
        self.status = status


class UnexpectedResponseError(QdrantStatsError):
    """An answer that is not what the endpoint returns: another service, or an error status."""

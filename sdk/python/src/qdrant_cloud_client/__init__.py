"""Read a Qdrant deployment (e.g. a Qdrant Cloud cluster) through its REST API directly, into the
same typed objects ``python_exporter`` returns. Plain HTTP with ``httpx``: the official
``qdrant-client`` would bring gRPC and numpy along for five GET requests.

The API key is sent in the ``api-key`` header; a read-only key is enough.
"""

from __future__ import annotations

from datetime import datetime, timezone
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from qdrant_models import (
    REPLICA_STATES,
    UNKNOWN_REPLICA_STATE,
    UNNAMED_VECTOR,
    Cluster,
    Collection,
    CollectionStatus,
    Replica,
    Snapshots,
    UnauthorizedError,
    UnexpectedResponseError,
    UnreachableError,
    Vector,
)

__all__ = ["QdrantClient"]


class _Gone(Exception):
    """404 for one collection: deleted since it was listed."""


class QdrantClient:
    """``QdrantClient("https://xyz.cloud.qdrant.io:6333", api_key=...)``."""

    def __init__(self, url: str = "http://localhost:6333", *, api_key: str | None = None, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        headers = {"api-key": api_key} if api_key else {}
        self._http = httpx.Client(timeout=timeout, headers=headers)

    def _get(self, path: str) -> Any:
        url = f"{self.url}{path}"
        try:
            response = self._http.get(url)
        except httpx.TransportError as error:
            raise UnreachableError(f"Qdrant at {self.url} did not answer: {error!r}") from error
        if response.status_code in (401, 403):
            raise UnauthorizedError(response.status_code, url)
        if response.status_code == 404 and path.startswith("/collections/"):
            raise _Gone(path)
        if response.status_code != 200:
            raise UnexpectedResponseError(f"{url} answered {response.status_code}")
        try:
            body = response.json()
        except ValueError as error:
            raise UnexpectedResponseError(f"{url} did not answer JSON: is this Qdrant's REST port?") from error
        if not isinstance(body, dict) or "result" not in body:
            raise UnexpectedResponseError(f"{url} did not answer with Qdrant's envelope")
        return body["result"]

    def _names(self) -> list[str]:
        return sorted(c["name"] for c in self._get("/collections")["collections"])

    def _each(self, suffix: str) -> list[tuple[str, Any]]:
        found = []
        for name in self._names():
            try:
                found.append((name, self._get(f"/collections/{quote(name, safe='')}{suffix}")))
            except _Gone:
                continue
        return found

    def version(self) -> str | None:
        url = f"{self.url}/"
        try:
            body = self._http.get(url).json()
        except httpx.TransportError as error:
            raise UnreachableError(f"Qdrant at {self.url} did not answer: {error!r}") from error
        except ValueError as error:
            raise UnexpectedResponseError(f"{url} did not answer JSON: is this Qdrant's REST port?") from error
        version = body.get("version") if isinstance(body, dict) else None
        return version if isinstance(version, str) else None

    def collections(self) -> list[Collection]:
        return [_collection(name, info) for name, info in self._each("")]

    def replicas(self) -> list[Replica]:
        replicas = []
        for name, info in self._each("/cluster"):
            for shard in info.get("local_shards", []):
                replicas.append(Replica(name, shard["shard_id"], info["peer_id"], _state(shard["state"]), shard.get("points_count")))
            for shard in info.get("remote_shards", []):
                replicas.append(Replica(name, shard["shard_id"], shard["peer_id"], _state(shard["state"]), None))
        return sorted(replicas, key=lambda r: (r.collection, r.shard_id, r.peer_id))

    def snapshots(self) -> list[Snapshots]:
        result = []
        for name, snapshots in self._each("/snapshots"):
            times = [t for t in (_utc(s.get("creation_time")) for s in snapshots) if t is not None]
            result.append(Snapshots(name, len(snapshots), sum(s["size"] for s in snapshots), max(times, default=None)))
        return result

    def cluster(self) -> Cluster:
        info = self._get("/cluster")
        if info.get("status") != "enabled":
            return Cluster(enabled=False)
        raft = info["raft_info"]
        return Cluster(
            enabled=True,
            peer_id=info["peer_id"],
            peers=len(info.get("peers", {})),
            term=raft["term"],
            commit=raft["commit"],
            pending_operations=raft.get("pending_operations"),
            is_leader=raft.get("leader") == info["peer_id"],
            role=raft.get("role"),
            is_voter=raft.get("is_voter"),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> QdrantClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


def _collection(name: str, info: dict[str, Any]) -> Collection:
    params = (info.get("config") or {}).get("params") or {}
    optimizer = info.get("optimizer_status")
    return Collection(
        name=name,
        status=CollectionStatus.parse(info.get("status")),
        points=info.get("points_count"),
        indexed_vectors=info.get("indexed_vectors_count"),
        segments=info.get("segments_count"),
        optimizer_ok=True if optimizer == "ok" else False if isinstance(optimizer, dict) and "error" in optimizer else None,
        shard_number=params.get("shard_number"),
        replication_factor=params.get("replication_factor"),
        write_consistency_factor=params.get("write_consistency_factor"),
        vectors=_vectors(params.get("vectors")),
    )


def _vectors(config: Any) -> tuple[Vector, ...]:
    if not isinstance(config, dict):
        return ()
    named = {UNNAMED_VECTOR: config} if "size" in config else config
    return tuple(
        Vector(name, p["size"], p["distance"], bool(p.get("on_disk")))
        for name, p in sorted(named.items())
        if isinstance(p, dict) and "size" in p and "distance" in p
    )


def _state(state: str) -> str:
    return state if state in REPLICA_STATES else UNKNOWN_REPLICA_STATE


def _utc(text: str | None) -> datetime | None:
    """Qdrant writes ``2026-11-21T06:47:17`` in UTC without an offset; whole seconds, as the exporter."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    parsed = parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
    return parsed.replace(microsecond=0)

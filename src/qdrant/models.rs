//! Response shapes of Qdrant's REST API, Qdrant 1.12 through 1.19.
//!
//! Tolerant on purpose: every field the exporter does not strictly need is
//! optional, unknown fields are ignored, and unknown enum values map to an
//! `Unknown` variant, so a newer or older Qdrant never fails a refresh.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Qdrant's envelope: `{"result": ..., "status": "ok", "time": ...}`.
#[derive(Debug, Deserialize)]
pub struct ApiResponse<T> {
    pub result: T,
}

/// `GET /`
#[derive(Debug, Clone, Deserialize)]
pub struct VersionInfo {
    pub version: String,
    #[serde(default)]
    pub commit: Option<String>,
}

/// `GET /collections`
#[derive(Debug, Deserialize)]
pub struct CollectionList {
    pub collections: Vec<CollectionName>,
}

#[derive(Debug, Deserialize)]
pub struct CollectionName {
    pub name: String,
}

/// `GET /collections/{name}`
#[derive(Debug, Clone, Deserialize)]
pub struct CollectionInfo {
    #[serde(default)]
    pub status: CollectionStatus,
    #[serde(default)]
    pub optimizer_status: OptimizerStatus,
    #[serde(default)]
    pub points_count: Option<u64>,
    #[serde(default)]
    pub indexed_vectors_count: Option<u64>,
    #[serde(default)]
    pub segments_count: Option<u64>,
    #[serde(default)]
    pub config: Option<CollectionConfig>,
    /// Present since Qdrant 1.16.
    #[serde(default)]
    pub update_queue: Option<UpdateQueue>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CollectionStatus {
    Green,
    Yellow,
    Grey,
    Red,
    #[default]
    #[serde(other)]
    Unknown,
}

impl CollectionStatus {
    /// The values of the `status` label, in the order they are exported.
    pub const KNOWN: [(CollectionStatus, &'static str); 4] = [
        (Self::Green, "green"),
        (Self::Yellow, "yellow"),
        (Self::Grey, "grey"),
        (Self::Red, "red"),
    ];
}

/// `"ok"` or `{"error": "..."}`; anything else is `Unknown`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OptimizerStatus {
    Ok,
    Error(String),
    #[default]
    Unknown,
}

impl<'de> Deserialize<'de> for OptimizerStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(s) if s == "ok" => Self::Ok,
            serde_json::Value::Object(map) => match map.get("error") {
                Some(serde_json::Value::String(error)) => Self::Error(error.clone()),
                _ => Self::Unknown,
            },
            _ => Self::Unknown,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct CollectionConfig {
    #[serde(default)]
    pub params: CollectionParams,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CollectionParams {
    #[serde(default)]
    pub vectors: Option<VectorsConfig>,
    #[serde(default)]
    pub shard_number: Option<u64>,
    #[serde(default)]
    pub replication_factor: Option<u64>,
    #[serde(default)]
    pub write_consistency_factor: Option<u64>,
}

/// One unnamed vector, or a map of named vectors.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum VectorsConfig {
    Unnamed(VectorParams),
    Named(BTreeMap<String, VectorParams>),
    /// A shape this exporter does not know; its vectors are not exported.
    Other(serde_json::Value),
}

#[derive(Debug, Clone, Deserialize)]
pub struct VectorParams {
    pub size: u64,
    /// Kept as text so that a distance added in a later Qdrant is still exported.
    pub distance: String,
    #[serde(default)]
    pub on_disk: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UpdateQueue {
    #[serde(default)]
    pub length: Option<u64>,
}

/// `GET /cluster`: `{"status": "disabled"}` in single-node mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum ClusterInfo {
    Disabled,
    Enabled(Box<EnabledCluster>),
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EnabledCluster {
    pub peer_id: u64,
    #[serde(default)]
    pub peers: BTreeMap<String, PeerInfo>,
    pub raft_info: RaftInfo,
    #[serde(default)]
    pub consensus_thread_status: Option<ConsensusThreadStatus>,
    /// Keyed by the peer's p2p URI; filled only on the peer sending to it.
    #[serde(default)]
    pub message_send_failures: BTreeMap<String, MessageSendFailures>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PeerInfo {
    pub uri: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RaftInfo {
    pub term: u64,
    pub commit: u64,
    #[serde(default)]
    pub pending_operations: u64,
    /// 0 or absent while no leader is known (during an election).
    #[serde(default)]
    pub leader: Option<u64>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub is_voter: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConsensusThreadStatus {
    pub consensus_thread_status: String,
    /// RFC 3339; only while `working`.
    #[serde(default)]
    pub last_update: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MessageSendFailures {
    pub count: u64,
}

/// `GET /cluster/telemetry` (Qdrant 1.17 and later, cluster mode only).
#[derive(Debug, Clone, Deserialize)]
pub struct ClusterTelemetry {
    pub cluster: ClusterTelemetryPeers,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClusterTelemetryPeers {
    #[serde(default)]
    pub peers: BTreeMap<String, PeerTelemetry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PeerTelemetry {
    pub responsive: bool,
}

/// `GET /collections/{name}/cluster`: this node's view of the collection's shards.
#[derive(Debug, Clone, Deserialize)]
pub struct CollectionClusterInfo {
    pub peer_id: u64,
    #[serde(default)]
    pub local_shards: Vec<LocalShard>,
    #[serde(default)]
    pub remote_shards: Vec<RemoteShard>,
    #[serde(default)]
    pub shard_transfers: Vec<serde_json::Value>,
    /// Serialized only while resharding runs.
    #[serde(default)]
    pub resharding_operations: Option<Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LocalShard {
    pub shard_id: u32,
    #[serde(default)]
    pub points_count: Option<u64>,
    pub state: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RemoteShard {
    pub shard_id: u32,
    pub peer_id: u64,
    pub state: String,
}

/// One entry of `GET /collections/{name}/snapshots`.
#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotDescription {
    pub size: u64,
    /// `2026-11-21T06:47:17`: UTC without an offset.
    #[serde(default)]
    pub creation_time: Option<String>,
}

/// `GET /telemetry?details_level=3` (or 4): this node's own view, with no calls
/// to other peers. Only what the collectors read; every field is optional, so
/// an older Qdrant's telemetry parses and the collectors can tell what it lacks.
#[derive(Debug, Clone, Deserialize)]
pub struct Telemetry {
    pub collections: TelemetryCollections,
    #[serde(default)]
    pub cluster: Option<TelemetryCluster>,
}

impl Telemetry {
    /// This node's peer id, reported in cluster mode.
    pub fn own_peer_id(&self) -> Option<u64> {
        self.cluster.as_ref()?.status.as_ref()?.peer_id
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetryCluster {
    /// Absent in single-node mode.
    #[serde(default)]
    pub status: Option<TelemetryClusterStatus>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetryClusterStatus {
    #[serde(default)]
    pub peer_id: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetryCollections {
    #[serde(default)]
    pub collections: Vec<CollectionTelemetry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CollectionTelemetry {
    pub id: String,
    /// The collection's configuration, as in `GET /collections/{name}`.
    #[serde(default)]
    pub config: Option<CollectionConfig>,
    /// One replica set per shard of the collection, local replica or not.
    #[serde(default)]
    pub shards: Option<Vec<ReplicaSetTelemetry>>,
    /// Shard transfers of the collection in progress (details level 3 and up).
    #[serde(default)]
    pub transfers: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    pub resharding: Option<Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReplicaSetTelemetry {
    pub id: u32,
    /// This node's replica of the shard, if it holds one.
    #[serde(default)]
    pub local: Option<LocalShardTelemetry>,
    /// The state of every replica of the shard, keyed by peer id (details level 3 and up).
    #[serde(default)]
    pub replicate_states: Option<BTreeMap<String, String>>,
}

/// Qdrant's placeholder for a replica being recovered: it holds no data yet
/// and reports no counts.
pub const DUMMY_SHARD: &str = "dummy shard";

#[derive(Debug, Clone, Deserialize)]
pub struct LocalShardTelemetry {
    #[serde(default)]
    pub variant_name: Option<String>,
    #[serde(default)]
    pub status: Option<CollectionStatus>,
    /// Added in Qdrant 1.15.
    #[serde(default)]
    pub num_points: Option<u64>,
    /// Keyed by vector name; `""` is the unnamed vector.
    #[serde(default)]
    pub num_vectors_by_name: Option<BTreeMap<String, u64>>,
    /// Sizes appeared in Qdrant 1.15.
    #[serde(default)]
    pub vectors_size_bytes: Option<u64>,
    #[serde(default)]
    pub payloads_size_bytes: Option<u64>,
    #[serde(default)]
    pub optimizations: Option<OptimizerTelemetry>,
    /// Present since Qdrant 1.16.
    #[serde(default)]
    pub update_queue: Option<UpdateQueue>,
    /// Details level 4 only.
    #[serde(default)]
    pub segments: Option<Vec<SegmentTelemetry>>,
}

impl LocalShardTelemetry {
    pub fn is_dummy(&self) -> bool {
        self.variant_name.as_deref() == Some(DUMMY_SHARD)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct OptimizerTelemetry {
    #[serde(default)]
    pub status: OptimizerStatus,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SegmentTelemetry {
    pub info: SegmentInfo,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SegmentInfo {
    #[serde(default)]
    pub num_indexed_vectors: u64,
    #[serde(default)]
    pub num_deleted_vectors: u64,
    /// Points written but not yet visible to search (Qdrant 1.18 and later).
    #[serde(default)]
    pub num_deferred_points: Option<u64>,
}

/// `GET /issues`
#[derive(Debug, Clone, Deserialize)]
pub struct IssueList {
    #[serde(default)]
    pub issues: Vec<IssueRecord>,
}

/// `TYPE/instance`, e.g. `UNINDEXED_FIELD/orders/price`: newer Qdrant versions
/// call the field `id`, older ones `code`.
#[derive(Debug, Clone, Deserialize)]
pub struct IssueRecord {
    #[serde(default, alias = "code")]
    pub id: String,
}

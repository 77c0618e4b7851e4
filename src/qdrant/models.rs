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

impl VersionInfo {
    /// Whether this Qdrant is `major.minor.patch` or later; `None` when its
    /// version does not read as one (a development build), so callers try.
    pub fn at_least(&self, (major, minor, patch): (u64, u64, u64)) -> Option<bool> {
        let core = self.version.split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|part| part.parse::<u64>().ok());
        let version = (
            parts.next()??,
            parts.next()??,
            parts.next().unwrap_or(Some(0))?,
        );
        Some(version >= (major, minor, patch))
    }
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
    /// Present since Qdrant 1.17.
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
    /// The value of the `status` label; `None` for a status this exporter does not know.
    pub fn label(self) -> Option<&'static str> {
        match self {
            Self::Green => Some("green"),
            Self::Yellow => Some("yellow"),
            Self::Grey => Some("grey"),
            Self::Red => Some("red"),
            Self::Unknown => None,
        }
    }
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
    #[serde(default)]
    pub hnsw_config: Option<HnswConfig>,
    #[serde(default)]
    pub optimizer_config: Option<OptimizerConfig>,
    /// Keyed by the quantization's type (`scalar`, `product`, `binary`, ...); absent: none.
    #[serde(default, deserialize_with = "optional_entries")]
    pub quantization_config: Option<Vec<(String, QuantizationParams)>>,
    #[serde(default)]
    pub strict_mode_config: Option<StrictModeConfig>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HnswConfig {
    /// Edges per node of the graph; 0 builds no graph.
    #[serde(default)]
    pub m: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OptimizerConfig {
    /// KiB of vectors above which a segment is indexed; 0 turns indexing off; absent: the default.
    #[serde(default)]
    pub indexing_threshold: Option<u64>,
    #[serde(default)]
    pub prevent_unoptimized: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct QuantizationParams {
    #[serde(default)]
    pub always_ram: Option<bool>,
}

/// The limits strict mode puts on the collection; each absent where not set.
#[derive(Debug, Clone, Deserialize)]
pub struct StrictModeConfig {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub max_points_count: Option<u64>,
    #[serde(default)]
    pub max_collection_vector_size_bytes: Option<u64>,
    #[serde(default)]
    pub max_collection_payload_size_bytes: Option<u64>,
    #[serde(default)]
    pub max_payload_index_count: Option<u64>,
}

impl StrictModeConfig {
    /// The limits on the collection's size, each by Qdrant's name for it:
    /// points, vector bytes, payload bytes (the order of its size estimate).
    pub fn size_limits(&self) -> [(&'static str, Option<u64>); 3] {
        [
            ("max_points_count", self.max_points_count),
            (
                "max_collection_vector_size_bytes",
                self.max_collection_vector_size_bytes,
            ),
            (
                "max_collection_payload_size_bytes",
                self.max_collection_payload_size_bytes,
            ),
        ]
    }
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
    /// `auto` or `custom`; Qdrant leaves out `auto`.
    #[serde(default)]
    pub sharding_method: Option<String>,
}

/// One unnamed vector, or a map of named vectors.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum VectorsConfig {
    Unnamed(VectorParams),
    Named(BTreeMap<String, VectorParams>),
    /// A shape this exporter does not know; its vectors are not exported.
    Other(serde::de::IgnoredAny),
}

#[derive(Debug, Clone, Deserialize)]
pub struct VectorParams {
    pub size: u64,
    /// Kept as text so that a distance added in a later Qdrant is still exported.
    pub distance: String,
    /// Deprecated in Qdrant 1.19 for `memory`.
    #[serde(default)]
    pub on_disk: Option<bool>,
    /// `cold`, `cached` or `pinned` (Qdrant 1.19 and later); overrides `on_disk`.
    #[serde(default)]
    pub memory: Option<String>,
}

impl VectorParams {
    /// Served from disk: `memory: cold`, or before 1.19 `on_disk: true`.
    pub fn is_on_disk(&self) -> bool {
        match &self.memory {
            Some(memory) => memory == "cold",
            None => self.on_disk.unwrap_or(false),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct UpdateQueue {
    #[serde(default)]
    pub length: Option<u64>,
    /// The sequence number of the last operation the replica applied;
    /// absent where Qdrant does not track it (shard telemetry only).
    #[serde(default)]
    pub op_num: Option<u64>,
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

impl ClusterInfo {
    /// Whether this node is the raft leader; a single node counts as its own
    /// leader, and so does a node whose status is not known.
    pub fn is_leader(&self) -> bool {
        match self {
            ClusterInfo::Enabled(cluster) => cluster.is_leader(),
            ClusterInfo::Disabled | ClusterInfo::Unknown => true,
        }
    }
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

impl EnabledCluster {
    pub fn is_leader(&self) -> bool {
        self.raft_info.leader == Some(self.peer_id)
    }
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

/// `GET /cluster/telemetry` (Qdrant 1.17 and later, cluster mode only): every
/// peer as the answering node sees it; at details level 3 also every replica of
/// every shard, as the peers holding them report.
#[derive(Debug, Clone, Deserialize)]
pub struct ClusterTelemetry {
    /// Left out for a key scoped to some collections.
    #[serde(default)]
    pub cluster: ClusterTelemetryPeers,
    /// Details level 3 and up.
    #[serde(default)]
    pub collections: BTreeMap<String, ClusterCollectionTelemetry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClusterCollectionTelemetry {
    #[serde(default, deserialize_with = "exact_list")]
    pub shards: Vec<ClusterShardTelemetry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClusterShardTelemetry {
    pub id: u32,
    #[serde(default, deserialize_with = "exact_list")]
    pub replicas: Vec<ReplicaTelemetry>,
}

/// One replica; a replica being recovered reports no counts yet.
#[derive(Debug, Clone, Deserialize)]
pub struct ReplicaTelemetry {
    pub peer_id: u64,
    pub state: String,
    #[serde(default)]
    pub status: Option<CollectionStatus>,
    #[serde(default)]
    pub num_points: Option<u64>,
    #[serde(default, deserialize_with = "optional_entries")]
    pub num_vectors_by_name: Option<Vec<(String, u64)>>,
    #[serde(default)]
    pub vectors_size_bytes: Option<u64>,
    #[serde(default)]
    pub payloads_size_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClusterTelemetryPeers {
    #[serde(default)]
    pub peers: BTreeMap<String, PeerTelemetry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PeerTelemetry {
    pub responsive: bool,
    /// What the peer reports of itself; `null` when it did not answer.
    #[serde(default)]
    pub details: Option<PeerDetails>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PeerDetails {
    /// The Qdrant version the peer runs.
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub is_voter: Option<bool>,
    #[serde(default)]
    pub term: Option<u64>,
    #[serde(default)]
    pub commit: Option<u64>,
    #[serde(default)]
    pub num_pending_operations: Option<u64>,
    #[serde(default)]
    pub consensus_thread_status: Option<ConsensusThreadStatus>,
}

/// A list of which only the length is read: its entries are skipped as they
/// are parsed, never built (held as JSON values, a hostile answer of 30 MB
/// would take ten times that in memory).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted(usize);

impl Counted {
    pub fn len(self) -> usize {
        self.0
    }
}

impl<'de> Deserialize<'de> for Counted {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = Counted;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Counted, A::Error> {
                let mut count = 0;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    count += 1;
                }
                Ok(Counted(count))
            }
        }
        deserializer.deserialize_seq(Entries)
    }
}

/// How many of its shard transfers a collection lists in full: the rest are
/// counted, not built, so that a hostile answer cannot make a large list.
pub const LISTED_TRANSFERS: usize = 64;

/// The shard transfers of a collection in progress: how many, and the first
/// [`LISTED_TRANSFERS`] of them (an entry of a shape this exporter does not
/// know is counted, not listed).
#[derive(Debug, Clone, Default)]
pub struct Transfers {
    pub count: usize,
    pub listed: Vec<ShardTransfer>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ShardTransfer {
    pub shard_id: u32,
    pub from: u64,
    pub to: u64,
    /// `stream_records`, `snapshot`, `wal_delta`, `resharding_stream_records`.
    #[serde(default)]
    pub method: Option<String>,
    /// What the transfer is doing, as the node running it writes it:
    /// `transferring (0.01s) | Transferring records (100/40000), ETA: 10.61s`.
    #[serde(default)]
    pub comment: Option<String>,
}

impl ShardTransfer {
    /// Records sent and records to send, where the comment says them.
    pub fn records(&self) -> Option<(u64, u64)> {
        let comment = self.comment.as_deref()?;
        let (_, progress) = comment.split_once("Transferring records (")?;
        let (done, rest) = progress.split_once('/')?;
        let (total, _) = rest.split_once(')')?;
        Some((done.trim().parse().ok()?, total.trim().parse().ok()?))
    }
}

impl<'de> Deserialize<'de> for Transfers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Entry {
            Known(ShardTransfer),
            Other(serde::de::IgnoredAny),
        }
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = Transfers;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of shard transfers")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Transfers, A::Error> {
                let mut transfers = Transfers::default();
                loop {
                    if transfers.listed.len() < LISTED_TRANSFERS {
                        match seq.next_element::<Entry>()? {
                            Some(Entry::Known(transfer)) => transfers.listed.push(transfer),
                            Some(Entry::Other(_)) => {}
                            None => break,
                        }
                    } else if seq.next_element::<serde::de::IgnoredAny>()?.is_none() {
                        break;
                    }
                    transfers.count += 1;
                }
                Ok(transfers)
            }
        }
        deserializer.deserialize_seq(Entries)
    }
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
    pub shard_transfers: Transfers,
    /// Serialized only while resharding runs.
    #[serde(default)]
    pub resharding_operations: Option<Counted>,
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
    /// Qdrant 1.19 and later, for a key with global access.
    #[serde(default)]
    pub quota: Option<QuotaTelemetry>,
    #[serde(default)]
    pub app: Option<AppTelemetry>,
    /// From details level 1, for a key with global access.
    #[serde(default)]
    pub memory: Option<MemoryTelemetry>,
}

/// Telemetry's `memory`: what Qdrant's allocator (jemalloc) holds.
#[derive(Debug, Clone, Deserialize)]
pub struct MemoryTelemetry {
    #[serde(default)]
    pub resident_bytes: Option<u64>,
}

/// Telemetry's `app`: the build, and the machine as Qdrant sees it.
#[derive(Debug, Clone, Deserialize)]
pub struct AppTelemetry {
    /// When the process started, RFC 3339.
    #[serde(default)]
    pub startup: Option<String>,
    #[serde(default)]
    pub system: Option<RunningEnvironment>,
    #[serde(default)]
    pub features: Option<AppFeatures>,
    /// How segments were loaded at start (Qdrant 1.18 and later): `disabled`,
    /// `no_resident`, `no_populate`; a later value as it comes.
    #[serde(default)]
    pub low_memory_mode: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AppFeatures {
    /// Started in recovery mode: it serves no reads or writes of collections.
    #[serde(default)]
    pub recovery_mode: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RunningEnvironment {
    #[serde(default)]
    pub cores: Option<u64>,
    /// Qdrant 1.18 and later.
    #[serde(default)]
    pub cpu_cores_used: Option<f64>,
    /// KiB.
    #[serde(default)]
    pub ram_size: Option<u64>,
    /// KiB.
    #[serde(default)]
    pub disk_size: Option<u64>,
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
    /// The most collections Qdrant allows (`service.max_collections`); absent: no limit.
    #[serde(default)]
    pub max_collections: Option<u64>,
    #[serde(default, deserialize_with = "exact_list")]
    pub collections: Vec<CollectionTelemetry>,
    /// Snapshots being taken and recovered on this node, per collection (Qdrant 1.16 and later).
    #[serde(default, deserialize_with = "exact_list")]
    pub snapshots: Vec<SnapshotTelemetry>,
}

/// One collection's entry of telemetry's `collections.snapshots`.
#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotTelemetry {
    pub id: String,
    #[serde(default)]
    pub running_snapshots: Option<u64>,
    #[serde(default)]
    pub running_snapshot_recovery: Option<u64>,
    #[serde(default)]
    pub total_snapshot_creations: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CollectionTelemetry {
    pub id: String,
    /// The collection's configuration, as in `GET /collections/{name}`.
    #[serde(default)]
    pub config: Option<CollectionConfig>,
    /// One replica set per shard of the collection, local replica or not.
    #[serde(default, deserialize_with = "exact_optional_list")]
    pub shards: Option<Vec<ReplicaSetTelemetry>>,
    /// Shard transfers of the collection in progress (details level 3 and up).
    #[serde(default)]
    pub transfers: Option<Transfers>,
    #[serde(default)]
    pub resharding: Option<Counted>,
    /// The cleanups of shards after resharding, by shard id (Qdrant 1.15 and later).
    #[serde(default, deserialize_with = "optional_entries")]
    pub shard_clean_tasks: Option<Vec<(String, ShardCleanStatus)>>,
}

/// `"started"`, `"done"`, `"cancelled"`, `{"progress": ..}` or `{"failed": {"reason": ..}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ShardCleanStatus {
    Named(String),
    Progress {
        #[serde(rename = "progress")]
        _progress: serde::de::IgnoredAny,
    },
    Failed {
        #[serde(rename = "failed")]
        _failed: serde::de::IgnoredAny,
    },
    Other(serde::de::IgnoredAny),
}

impl ShardCleanStatus {
    /// As the `status` label writes it; `None` for a shape this exporter does not know.
    pub fn label(&self) -> Option<&str> {
        match self {
            ShardCleanStatus::Named(name) => Some(name),
            ShardCleanStatus::Progress { .. } => Some("progress"),
            ShardCleanStatus::Failed { .. } => Some("failed"),
            ShardCleanStatus::Other(_) => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReplicaSetTelemetry {
    pub id: u32,
    /// The shard key of a collection with custom sharding: a keyword or a number.
    #[serde(default)]
    pub key: Option<serde_json::Value>,
    /// This node's replica of the shard, if it holds one.
    #[serde(default)]
    pub local: Option<LocalShardTelemetry>,
    /// The state of every replica of the shard, keyed by peer id (details level 3 and up).
    #[serde(default, deserialize_with = "optional_entries")]
    pub replicate_states: Option<Vec<(String, String)>>,
}

/// Qdrant's placeholder for a replica being recovered: it holds no data yet
/// and reports no counts.
pub const DUMMY_SHARD: &str = "dummy shard";
/// What Qdrant calls a replica that is neither a proxy nor a placeholder.
const PLAIN_LOCAL_SHARD: &str = "local shard";

#[derive(Debug, Clone, Deserialize)]
pub struct LocalShardTelemetry {
    #[serde(default)]
    pub variant_name: Option<String>,
    #[serde(default)]
    pub status: Option<CollectionStatus>,
    /// Added in Qdrant 1.15.
    #[serde(default)]
    pub num_points: Option<u64>,
    /// Points the shard's optimizations have rewritten since Qdrant started.
    #[serde(default)]
    pub total_optimized_points: Option<u64>,
    /// Keyed by vector name; `""` is the unnamed vector.
    #[serde(default, deserialize_with = "optional_entries")]
    pub num_vectors_by_name: Option<Vec<(String, u64)>>,
    /// Sizes appeared in Qdrant 1.15.
    #[serde(default)]
    pub vectors_size_bytes: Option<u64>,
    #[serde(default)]
    pub payloads_size_bytes: Option<u64>,
    #[serde(default)]
    pub optimizations: Option<OptimizerTelemetry>,
    /// Present since Qdrant 1.17.
    #[serde(default)]
    pub update_queue: Option<UpdateQueue>,
    /// Details level 4 only.
    #[serde(default, deserialize_with = "exact_optional_list")]
    pub segments: Option<Vec<SegmentTelemetry>>,
}

impl LocalShardTelemetry {
    pub fn is_dummy(&self) -> bool {
        self.variant_name.as_deref() == Some(DUMMY_SHARD)
    }

    /// A plain local shard: not a proxy of a transfer, nor a placeholder.
    /// Only these count in Qdrant's estimate of a collection's size
    /// (`ShardReplicaSet::calculate_local_shard_stats`).
    pub fn is_plain_local(&self) -> bool {
        self.variant_name
            .as_deref()
            .is_none_or(|variant| variant == PLAIN_LOCAL_SHARD)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct OptimizerTelemetry {
    #[serde(default)]
    pub status: OptimizerStatus,
    /// How the shard's optimizations have fared since Qdrant started.
    #[serde(default)]
    pub optimizations: Option<OptimizationStatistics>,
    /// The shard's latest optimizations, running or ended (details level 4).
    #[serde(default, deserialize_with = "exact_optional_list")]
    pub log: Option<Vec<OptimizerRun>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OptimizationStatistics {
    /// Qdrant leaves it out while it is 0.
    #[serde(default)]
    pub fail_count: u64,
}

/// One optimization of a shard's optimizer log.
#[derive(Debug, Clone, Deserialize)]
pub struct OptimizerRun {
    /// The optimizer, as Qdrant names it: `indexing`, `merge`, `vacuum`, `config mismatch`.
    pub name: String,
    /// `"optimizing"`, `"done"`, `{"cancelled": ..}` or `{"error": ..}`.
    #[serde(default)]
    pub status: serde_json::Value,
    /// RFC 3339.
    #[serde(default)]
    pub start_at: Option<String>,
    /// RFC 3339; absent while it runs.
    #[serde(default)]
    pub end_at: Option<String>,
    /// The segments it rewrites (as `info.uuid` of the shard's segments).
    #[serde(default, deserialize_with = "exact_list")]
    pub segment_uuids: Vec<String>,
}

impl OptimizerRun {
    /// Still optimizing: not done, cancelled or failed.
    pub fn is_running(&self) -> bool {
        self.status.as_str() == Some("optimizing")
    }

    /// How it ended, as Qdrant's `TrackerStatus` names it: `done`,
    /// `cancelled` or `error`; `None` while it runs (or for a status this
    /// exporter does not know).
    pub fn ended(&self) -> Option<&'static str> {
        let name = match &self.status {
            serde_json::Value::String(status) => status.as_str(),
            serde_json::Value::Object(status) => status.keys().next()?.as_str(),
            _ => return None,
        };
        ["done", "cancelled", "error"]
            .into_iter()
            .find(|ended| *ended == name)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SegmentTelemetry {
    pub info: SegmentInfo,
    /// The searches each vector index of the segment answered, by search path.
    #[serde(default, deserialize_with = "exact_list")]
    pub vector_index_searches: Vec<VectorIndexSearches>,
}

/// One vector index's searches, by the path they took; Qdrant leaves out a path never taken.
#[derive(Debug, Clone, Deserialize)]
pub struct VectorIndexSearches {
    /// The vector name; `""` is the unnamed vector.
    #[serde(default)]
    pub index_name: Option<String>,
    #[serde(default)]
    pub unfiltered_plain: Option<SearchCount>,
    #[serde(default)]
    pub unfiltered_hnsw: Option<SearchCount>,
    #[serde(default)]
    pub unfiltered_sparse: Option<SearchCount>,
    #[serde(default)]
    pub unfiltered_exact: Option<SearchCount>,
    #[serde(default)]
    pub filtered_plain: Option<SearchCount>,
    #[serde(default)]
    pub filtered_small_cardinality: Option<SearchCount>,
    #[serde(default)]
    pub filtered_large_cardinality: Option<SearchCount>,
    #[serde(default)]
    pub filtered_exact: Option<SearchCount>,
    #[serde(default)]
    pub filtered_sparse: Option<SearchCount>,
}

impl VectorIndexSearches {
    /// Each path with its count, as Qdrant names the paths.
    pub fn paths(&self) -> [(&'static str, Option<&SearchCount>); 9] {
        [
            ("unfiltered_plain", self.unfiltered_plain.as_ref()),
            ("unfiltered_hnsw", self.unfiltered_hnsw.as_ref()),
            ("unfiltered_sparse", self.unfiltered_sparse.as_ref()),
            ("unfiltered_exact", self.unfiltered_exact.as_ref()),
            ("filtered_plain", self.filtered_plain.as_ref()),
            (
                "filtered_small_cardinality",
                self.filtered_small_cardinality.as_ref(),
            ),
            (
                "filtered_large_cardinality",
                self.filtered_large_cardinality.as_ref(),
            ),
            ("filtered_exact", self.filtered_exact.as_ref()),
            ("filtered_sparse", self.filtered_sparse.as_ref()),
        ]
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SearchCount {
    #[serde(default)]
    pub count: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SegmentInfo {
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub num_points: Option<u64>,
    /// Deleted points not yet vacuumed, whatever its name says (Qdrant sets it
    /// from the id tracker's deleted point count).
    #[serde(default)]
    pub num_deleted_vectors: u64,
    /// Points written but not yet visible to search (Qdrant 1.18 and later).
    #[serde(default)]
    pub num_deferred_points: Option<u64>,
    #[serde(default)]
    pub segment_type: Option<SegmentType>,
    #[serde(default)]
    pub is_appendable: Option<bool>,
    /// By vector name; `""` is the unnamed vector. A list, not a map: a
    /// segment usually has one vector, and telemetry lists thousands of segments.
    #[serde(default, deserialize_with = "map_as_list")]
    pub vector_data: Vec<(String, VectorDataInfo)>,
}

/// Read without a string of its own per segment: telemetry lists thousands.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SegmentType {
    Plain,
    Indexed,
    Special,
    /// A type added in a later Qdrant.
    #[serde(other)]
    Other,
}

impl SegmentType {
    pub fn label(self) -> &'static str {
        match self {
            SegmentType::Plain => "plain",
            SegmentType::Indexed => "indexed",
            SegmentType::Special => "special",
            SegmentType::Other => "unknown",
        }
    }
}

/// A JSON object read as the list of its entries, in their order.
fn map_as_list<'de, D, V>(deserializer: D) -> Result<Vec<(String, V)>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Entries<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Entries<V> {
        type Value = Vec<(String, V)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(1).min(16));
            while let Some(entry) = map.next_entry()? {
                entries.push(entry);
            }
            entries.shrink_to_fit();
            Ok(entries)
        }
    }
    deserializer.deserialize_map(Entries(std::marker::PhantomData))
}

/// A list read to its length: serde grows a list as it reads (to room for
/// four at the first entry), and telemetry holds thousands of one-entry
/// lists of large entries.
fn exact_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    let mut list = Vec::<T>::deserialize(deserializer)?;
    list.shrink_to_fit();
    Ok(list)
}

/// [`exact_list`], where the list may be absent or null.
fn exact_optional_list<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(bound = "T: Deserialize<'de>")]
    struct Exact<T>(#[serde(deserialize_with = "exact_list")] Vec<T>);
    Ok(Option::<Exact<T>>::deserialize(deserializer)?.map(|exact| exact.0))
}

/// A JSON object, where it may be absent or null, as its entries sorted by
/// key, each key once: a map's order and uniqueness at a list's size (a
/// map's node holds room for eleven entries, and these usually have one).
fn optional_entries<'de, D, V>(deserializer: D) -> Result<Option<Vec<(String, V)>>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(bound = "V: Deserialize<'de>")]
    struct Entries<V>(#[serde(deserialize_with = "map_as_list")] Vec<(String, V)>);
    Ok(
        Option::<Entries<V>>::deserialize(deserializer)?.map(|Entries(mut entries)| {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            entries.dedup_by(|later, earlier| later.0 == earlier.0);
            entries
        }),
    )
}

#[derive(Debug, Clone, Deserialize)]
pub struct VectorDataInfo {
    #[serde(default)]
    pub num_indexed_vectors: u64,
}

/// `GET /collections/{name}/optimizations` (Qdrant 1.16.3 and later): the
/// optimizer queue and the running optimizations of every replica of the
/// collection, merged by Qdrant from every peer holding one.
#[derive(Debug, Clone, Deserialize)]
pub struct Optimizations {
    /// Qdrant 1.17 and later.
    #[serde(default)]
    pub summary: Option<OptimizationsSummary>,
    #[serde(default)]
    pub running: Vec<Optimization>,
    /// Qdrant 1.16: the running optimizations' progress alone, without their optimizer.
    #[serde(default)]
    pub ongoing: Vec<ProgressTree>,
}

impl Optimizations {
    /// The progress of every running optimization, whichever version answered.
    pub fn running_progress(&self) -> impl Iterator<Item = &ProgressTree> {
        let running = self
            .running
            .iter()
            .filter(|optimization| optimization.is_running())
            .map(|optimization| &optimization.progress);
        running.chain(&self.ongoing)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct OptimizationsSummary {
    #[serde(default)]
    pub queued_optimizations: u64,
    #[serde(default)]
    pub queued_segments: u64,
    #[serde(default)]
    pub queued_points: u64,
    #[serde(default)]
    pub idle_segments: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Optimization {
    /// `"optimizing"`, `"done"`, `{"cancelled": ..}` or `{"error": ..}`.
    #[serde(default)]
    pub status: serde_json::Value,
    pub progress: ProgressTree,
}

impl Optimization {
    /// Listed as running and still optimizing (not done, cancelled or failed).
    pub fn is_running(&self) -> bool {
        match &self.status {
            serde_json::Value::String(status) => status == "optimizing",
            serde_json::Value::Null => true,
            _ => false,
        }
    }
}

/// One step of an optimization; its children are its sub-steps.
#[derive(Debug, Clone, Deserialize)]
pub struct ProgressTree {
    #[serde(default)]
    pub name: String,
    /// RFC 3339.
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    #[serde(default)]
    pub done: Option<u64>,
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub children: Vec<ProgressTree>,
}

/// `GET /collections/{name}/memory` (Qdrant 1.18 and later, not in its
/// OpenAPI spec): bytes of this node's shards of the collection, by component.
#[derive(Debug, Clone, Deserialize)]
pub struct CollectionMemory {
    #[serde(default)]
    pub vectors: Vec<VectorMemory>,
    #[serde(default)]
    pub sparse_vectors: Vec<VectorMemory>,
    #[serde(default)]
    pub payload: Option<MemoryUsage>,
    #[serde(default)]
    pub payload_index: Vec<PayloadIndexMemory>,
    #[serde(default)]
    pub other: Option<OtherMemory>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VectorMemory {
    /// `""` is the unnamed vector.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub storage: Option<MemoryUsage>,
    #[serde(default)]
    pub index: Option<MemoryUsage>,
    /// Present for quantized vectors.
    #[serde(default)]
    pub quantized: Option<MemoryUsage>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PayloadIndexMemory {
    #[serde(default)]
    pub usage: Option<MemoryUsage>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OtherMemory {
    #[serde(default)]
    pub id_tracker: Option<MemoryUsage>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct MemoryUsage {
    #[serde(default)]
    pub disk_bytes: u64,
    #[serde(default)]
    pub ram_bytes: u64,
    #[serde(default)]
    pub cached_bytes: u64,
    #[serde(default)]
    pub expected_cache_bytes: u64,
}

impl std::ops::Add for MemoryUsage {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Self {
            disk_bytes: self.disk_bytes + other.disk_bytes,
            ram_bytes: self.ram_bytes + other.ram_bytes,
            cached_bytes: self.cached_bytes + other.cached_bytes,
            expected_cache_bytes: self.expected_cache_bytes + other.expected_cache_bytes,
        }
    }
}

/// `GET /quotas` (Qdrant 1.19 and later): the cluster-wide quota and how
/// close this node, and each peer that answered, is to it.
#[derive(Debug, Clone, Deserialize)]
pub struct QuotaStatus {
    /// The answering node's.
    #[serde(default)]
    pub usage: QuotaUsage,
    /// Keyed by peer id; absent outside distributed mode.
    #[serde(default)]
    pub peers: Option<BTreeMap<String, PeerQuotaUsage>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct QuotaConfig {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub max_resident_memory_percent: Option<u64>,
    #[serde(default)]
    pub max_disk_usage_percent: Option<u64>,
    #[serde(default)]
    pub release_margin_percent: Option<u64>,
}

/// `null` where the platform does not expose the figure.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QuotaUsage {
    #[serde(default)]
    pub resident_memory_percent: Option<u64>,
    #[serde(default)]
    pub disk_usage_percent: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PeerQuotaUsage {
    /// At or over an enforced limit, so refusing updates.
    pub exceeded: bool,
    #[serde(flatten)]
    pub usage: QuotaUsage,
}

/// Telemetry's `quota` (Qdrant 1.19 and later): the quota this node
/// enforces, and its verdict.
#[derive(Debug, Clone, Deserialize)]
pub struct QuotaTelemetry {
    #[serde(default)]
    pub config: QuotaConfig,
    #[serde(default)]
    pub exceeded: QuotaExceeded,
}

/// `null` for a resource this node does not enforce: it can never trip.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QuotaExceeded {
    #[serde(default)]
    pub resident_memory: Option<bool>,
    #[serde(default)]
    pub disk_usage: Option<bool>,
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::test_support::{fixture_dir, HANDMADE_V1_12, HANDMADE_V1_15, RECORDED};

    #[test]
    fn a_counted_list_is_only_counted() {
        let counted: Counted = serde_json::from_str(r#"[1, {"from": 1, "to": [2]}, "x"]"#).unwrap();
        assert_eq!(counted.len(), 3);
        assert!(serde_json::from_str::<Counted>(r#"{"not": "a list"}"#).is_err());
    }

    fn read(dir: &Path, file: &str) -> String {
        std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    }

    #[test]
    fn every_recorded_collection_info_parses() {
        let dir = fixture_dir(RECORDED);
        let list: ApiResponse<CollectionList> =
            serde_json::from_str(&read(&dir, "collections.json")).unwrap();
        let mut files: Vec<String> = list
            .result
            .collections
            .iter()
            .map(|c| format!("collection-{}.json", c.name))
            .collect();
        // The same endpoint recorded in other circumstances.
        files.extend(
            [
                "collection-docs-current-via-alias.json",
                "collection-ondisk_quantized-right-after-upsert.json",
                "auth-collection-docs-read-only-key.json",
            ]
            .map(String::from),
        );
        assert_eq!(files.len(), 8);
        for file in files {
            let info: ApiResponse<CollectionInfo> =
                serde_json::from_str(&read(&dir, &file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            let info = info.result;
            assert_ne!(info.status, CollectionStatus::Unknown, "{file}");
            assert_eq!(info.optimizer_status, OptimizerStatus::Ok, "{file}");
            assert!(
                info.points_count.is_some() && info.segments_count.is_some(),
                "{file}"
            );
            let params = info.config.expect("config").params;
            assert!(
                matches!(
                    params.vectors,
                    Some(VectorsConfig::Unnamed(_) | VectorsConfig::Named(_))
                ),
                "{file}"
            );
            assert!(params.shard_number.is_some(), "{file}");
            assert_eq!(info.update_queue.and_then(|q| q.length), Some(0), "{file}");
        }
    }

    #[test]
    fn every_recorded_listing_and_version_parses() {
        let dir = fixture_dir(RECORDED);
        for file in [
            "collections.json",
            "auth-collections-read-only-key.json",
            "auth-collections-full-key.json",
            "auth-collections-bearer-read-only-key.json",
        ] {
            let list: ApiResponse<CollectionList> =
                serde_json::from_str(&read(&dir, file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(list.result.collections.len(), 5, "{file}");
        }
        for file in ["root.json", "auth-root-no-key.json"] {
            let version: VersionInfo = serde_json::from_str(&read(&dir, file)).unwrap();
            assert_eq!(version.version, "1.18.3");
            assert_eq!(
                version.commit.as_deref(),
                Some("db8fa43fcb6aedec1e739487e17a99731b74590a")
            );
        }
    }

    #[test]
    fn every_recorded_json_fixture_is_json() {
        // The mock serves these byte for byte; a broken copy would make tests meaningless.
        let dir = fixture_dir(RECORDED);
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                serde_json::from_str::<serde_json::Value>(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                count += 1;
            }
        }
        assert!(
            count >= 72,
            "expected the whole recorded set, found {count} JSON files"
        );
    }

    #[test]
    fn older_versions_parse_with_vectors_count_and_without_update_queue() {
        let dir = fixture_dir(HANDMADE_V1_12);
        let legacy: ApiResponse<CollectionInfo> =
            serde_json::from_str(&read(&dir, "collection-legacy.json")).unwrap();
        assert_eq!(legacy.result.status, CollectionStatus::Grey);
        assert!(legacy.result.update_queue.is_none());
        let broken: ApiResponse<CollectionInfo> =
            serde_json::from_str(&read(&dir, "collection-broken.json")).unwrap();
        assert_eq!(broken.result.status, CollectionStatus::Red);
        assert!(
            matches!(broken.result.optimizer_status, OptimizerStatus::Error(ref e) if e.contains("No space left"))
        );
        assert_eq!(broken.result.points_count, None);

        let dir = fixture_dir(HANDMADE_V1_15);
        let sparse: ApiResponse<CollectionInfo> =
            serde_json::from_str(&read(&dir, "collection-sparse_only.json")).unwrap();
        assert!(
            matches!(sparse.result.config.unwrap().params.vectors, Some(VectorsConfig::Named(ref named)) if named.is_empty())
        );
        let future: ApiResponse<CollectionInfo> =
            serde_json::from_str(&read(&dir, "collection-future_shape.json")).unwrap();
        assert_eq!(future.result.status, CollectionStatus::Unknown);
        assert_eq!(future.result.optimizer_status, OptimizerStatus::Unknown);
    }

    #[test]
    fn an_unknown_vectors_shape_or_missing_config_still_parses() {
        for body in [
            r#"{"result":{"status":"green","optimizer_status":"ok","segments_count":1,"config":{"params":{"vectors":"something new"}}}}"#,
            r#"{"result":{"status":"green","optimizer_status":"ok","segments_count":1}}"#,
            r#"{"result":{}}"#,
        ] {
            let info: ApiResponse<CollectionInfo> =
                serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert!(!matches!(
                info.result.config.and_then(|c| c.params.vectors),
                Some(VectorsConfig::Unnamed(_) | VectorsConfig::Named(_))
            ));
        }
    }

    #[test]
    fn transfers_are_all_counted_and_the_first_listed() {
        let entry = |shard: usize| {
            format!(r#"{{"shard_id": {shard}, "from": 1, "to": 2, "method": "stream_records"}}"#)
        };
        let mut entries: Vec<String> = (0..LISTED_TRANSFERS + 10).map(entry).collect();
        entries[3] = r#"{"a shape": "from a later Qdrant"}"#.into();
        let transfers: Transfers =
            serde_json::from_str(&format!("[{}]", entries.join(","))).unwrap();
        assert_eq!(transfers.count, LISTED_TRANSFERS + 10);
        assert_eq!(transfers.listed.len(), LISTED_TRANSFERS);
        assert_eq!(
            transfers.listed[3].shard_id, 4,
            "the unknown entry is counted, not listed"
        );
    }

    #[test]
    fn the_records_a_transfer_sent_are_read_from_its_comment() {
        let transfer = |comment: &str| ShardTransfer {
            shard_id: 0,
            from: 1,
            to: 2,
            method: None,
            comment: Some(comment.into()),
        };
        let recorded = "transferring (0.01s) | Transferring records (100/40000), ETA: 10.61s";
        assert_eq!(transfer(recorded).records(), Some((100, 40000)));
        assert_eq!(transfer("downloading (0.09s)").records(), None);
        assert_eq!(transfer("Transferring records (x/40000)").records(), None);
    }
}

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

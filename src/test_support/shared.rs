//! Test helpers that need nothing of the exporter's, shared by its unit tests
//! and its integration tests (which include this file): the fixtures, samples
//! read back out of an exposition, a key file rotated.

use std::path::{Path, PathBuf};

/// Recorded responses of a real single-node Qdrant v1.18.3.
pub const RECORDED: &str = "qdrant-v1.18.3";
/// The raft peer id of the recorded single node.
pub const RECORDED_PEER: &str = "4688170328447976";
/// Hand-made responses in the shapes of older and newer Qdrant versions.
pub const HANDMADE_V1_12: &str = "handmade-v1.12.0";
pub const HANDMADE_V1_15: &str = "handmade-v1.15.0";
/// Hand-made from the v1.19.0 OpenAPI spec (quotas, and the shapes of every endpoint read).
pub const HANDMADE_V1_19: &str = "handmade-v1.19.0";
/// Recorded `GET /collections/{name}/memory` answers of a real Qdrant v1.18.3.
pub const MEMORY: &str = "qdrant-v1.18.3-memory";

pub fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The value of the sample `name{labels}`, labels given in exposition order and escaping.
pub fn sample(exposition: &str, name: &str, labels: &str) -> Option<f64> {
    let series = if labels.is_empty() {
        format!("{name} ")
    } else {
        format!("{name}{{{labels}}} ")
    };
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(series.as_str()))
        .map(|value| value.parse().expect("numeric sample value"))
}

/// Like [`sample`], but the series must exist.
#[track_caller]
pub fn value(exposition: &str, name: &str, labels: &str) -> f64 {
    sample(exposition, name, labels)
        .unwrap_or_else(|| panic!("no series {name}{{{labels}}} in:\n{exposition}"))
}

/// The recorded level-4 telemetry with two of the ended optimizations of
/// `ondisk_quantized`'s shard made to run again (no recording has one
/// running): the first as the config mismatch optimizer, named as Qdrant
/// names it (`config_mismatch_optimizer.rs`), rewriting the second segment;
/// the second, an indexing run, started 2026-11-21T06:47:13.698799515Z.
pub fn telemetry_with_running_optimizations() -> serde_json::Value {
    let path = fixture_dir(RECORDED).join("telemetry-details-level-4.json");
    let mut telemetry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let shard = &mut collection_json(&mut telemetry, "ondisk_quantized")["shards"][0]["local"];
    let rewritten = shard["segments"][1]["info"]["uuid"].clone();
    let log = shard["optimizations"]["log"].as_array_mut().unwrap();
    log[0]["status"] = "optimizing".into();
    log[0]["name"] = "config mismatch".into();
    log[0]["segment_uuids"] = serde_json::json!([rewritten]);
    log[0]["end_at"] = serde_json::Value::Null;
    log[1]["status"] = "optimizing".into();
    log[1]["end_at"] = serde_json::Value::Null;
    telemetry
}

/// The collection `id` of a telemetry answer, to change it in place.
pub fn collection_json<'a>(
    telemetry: &'a mut serde_json::Value,
    id: &str,
) -> &'a mut serde_json::Value {
    telemetry["result"]["collections"]["collections"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["id"] == id)
        .unwrap()
}

/// Replaces the key file as Kubernetes updates a mounted Secret: a new file
/// renamed over the old one (a new inode), never a half-written file.
pub fn rotate(path: &Path, key: &str) {
    let next = path.with_extension("next");
    std::fs::write(&next, format!("{key}\n")).unwrap();
    std::fs::rename(&next, path).unwrap();
}

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

/// Replaces the key file as Kubernetes updates a mounted Secret: a new file
/// renamed over the old one (a new inode), never a half-written file.
pub fn rotate(path: &Path, key: &str) {
    let next = path.with_extension("next");
    std::fs::write(&next, format!("{key}\n")).unwrap();
    std::fs::rename(&next, path).unwrap();
}

//! What the unit tests share: the recorded and hand-made Qdrant answers under
//! `tests/fixtures`, and reading samples back out of rendered families (what
//! needs nothing of the exporter's is shared with the integration tests:
//! `shared.rs`).

mod shared;

use serde::de::DeserializeOwned;

pub use shared::*;

use crate::metrics::{render, Family};
use crate::qdrant::models::{ApiResponse, Telemetry};

pub fn fixture_text(directory: &str, file: &str) -> String {
    std::fs::read_to_string(fixture_dir(directory).join(file))
        .unwrap_or_else(|e| panic!("{directory}/{file}: {e}"))
}

/// The `result` of a recorded answer in Qdrant's envelope.
pub fn result<T: DeserializeOwned>(directory: &str, file: &str) -> T {
    serde_json::from_str::<ApiResponse<T>>(&fixture_text(directory, file))
        .unwrap_or_else(|e| panic!("{directory}/{file}: {e}"))
        .result
}

/// The families as exposition text.
pub fn text(families: &[Family]) -> String {
    let mut out = Vec::new();
    render(families.to_vec(), String::new())
        .write_to(&mut out)
        .expect("writing into a Vec cannot fail");
    String::from_utf8(out).expect("the exposition is UTF-8")
}

/// The labels of a replica of the recorded single node, in exposition order.
pub fn recorded_shard(collection: &str, shard: u32) -> String {
    format!(r#"collection="{collection}",shard_id="{shard}",peer_id="{RECORDED_PEER}""#)
}

/// The names of every collection in a telemetry answer, as a refresh would select them.
pub fn every_collection(telemetry: &Telemetry) -> Vec<String> {
    telemetry
        .collections
        .collections
        .iter()
        .map(|collection| collection.id.clone())
        .collect()
}

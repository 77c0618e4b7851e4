//! Each collector's "API data → metric families" function on its own, on the
//! recorded and hand-made responses, without a server in between.

use qdrant_exporter::collectors::{collections, memory, segments, shards, Selected};
use qdrant_exporter::metrics::render;
use qdrant_exporter::metrics::Family;
use qdrant_exporter::qdrant::models::{
    ApiResponse, CollectionClusterInfo, CollectionInfo, Telemetry,
};
use serde::de::DeserializeOwned;

use crate::helpers::{fixture_dir, sample, value, HANDMADE_V1_12, RECORDED, RECORDED_PEER};

fn result<T: DeserializeOwned>(directory: &str, file: &str) -> T {
    let text = std::fs::read_to_string(fixture_dir(directory).join(file)).expect("fixture");
    serde_json::from_str::<ApiResponse<T>>(&text)
        .expect("parses")
        .result
}

fn text(families: &[Family]) -> String {
    let mut out = Vec::new();
    render(families, &mut out);
    String::from_utf8(out).unwrap()
}

/// Every collection of a telemetry response, as a refresh selects them.
fn selected(telemetry: &Telemetry) -> Selected<'_> {
    let every: Vec<String> = telemetry
        .collections
        .collections
        .iter()
        .map(|collection| collection.id.clone())
        .collect();
    Selected::of(telemetry, &every)
}

#[test]
fn collections_from_single_node_telemetry() {
    let telemetry: Telemetry = result(RECORDED, "telemetry-details-level-3.json");
    let selected = selected(&telemetry);
    assert_eq!(selected.own_peer_id(), Some(RECORDED_PEER.parse().unwrap()));
    let m = text(&collections::from_telemetry(&selected, true).unwrap());
    let shard = |collection: &str, shard: u32| {
        format!(r#"collection="{collection}",shard_id="{shard}",peer_id="{RECORDED_PEER}""#)
    };
    assert_eq!(
        value(
            &m,
            "qdrant_shard_status",
            &format!(r#"{},status="green""#, shard("docs", 0))
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_shard_optimizer_ok",
            &shard("ondisk_quantized", 1)
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_shard_vectors",
            &format!(r#"{},vector="dense""#, shard("sparse", 0))
        ),
        300.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_shard_number",
            r#"collection="ondisk_quantized""#
        ),
        2.0
    );
    // A follower with leader-only cluster-wide series: no configuration.
    let m = text(&collections::from_telemetry(&selected, false).unwrap());
    assert_eq!(
        sample(&m, "qdrant_collection_shard_number", r#"collection="docs""#),
        None
    );
    assert!(m.contains("qdrant_shard_status{"));
}

#[test]
fn shards_need_point_counts_that_qdrant_1_12_telemetry_lacks() {
    let telemetry: Telemetry = result(HANDMADE_V1_12, "telemetry-details-level-3.json");
    let selected = selected(&telemetry);
    assert_eq!(
        shards::from_telemetry(&selected).unwrap_err(),
        "telemetry lacks local shard point counts (Qdrant before 1.15)"
    );
    // The collections collector finds all it needs there.
    let m = text(&collections::from_telemetry(&selected, true).unwrap());
    let broken = r#"collection="broken",shard_id="0",peer_id="111""#;
    assert_eq!(value(&m, "qdrant_shard_optimizer_ok", broken), 0.0);
    assert!(!m.contains("No space left"));
    assert_eq!(
        memory::from_telemetry(&selected).unsupported,
        Some("telemetry reports no shard sizes (Qdrant before 1.15)")
    );
}

#[test]
fn shards_during_a_snapshot_transfer() {
    let telemetry: Telemetry = result(
        "cluster-v1.18.3-transfer-node-a",
        "telemetry-details-level-3.json",
    );
    let m = text(&shards::from_telemetry(&selected(&telemetry)).unwrap());
    let a = "8326746331167863";
    // The replica being recovered is Qdrant's placeholder: no points yet.
    let shard_0 = format!(r#"collection="orders",shard_id="0",peer_id="{a}""#);
    assert_eq!(value(&m, "qdrant_shard_local_points", &shard_0), 0.0);
    assert_eq!(
        value(
            &m,
            "qdrant_shard_replica_state",
            &format!(r#"{shard_0},state="Recovery""#)
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_shard_transfers",
            r#"collection="orders""#
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_shard_transfers",
            r#"collection="small""#
        ),
        0.0
    );
}

#[test]
fn segments_from_level_4_telemetry() {
    let telemetry: Telemetry = result(RECORDED, "telemetry-details-level-4.json");
    let output = segments::from_telemetry(&selected(&telemetry));
    assert!(output.unsupported.is_none() && output.failure.is_none());
    let m = text(&output.families);
    let shard_0 =
        format!(r#"collection="ondisk_quantized",shard_id="0",peer_id="{RECORDED_PEER}""#);
    assert_eq!(value(&m, "qdrant_shard_segments", &shard_0), 2.0);
    assert_eq!(value(&m, "qdrant_shard_indexed_vectors", &shard_0), 527.0);
    assert_eq!(value(&m, "qdrant_shard_deleted_vectors", &shard_0), 0.0);
    assert_eq!(value(&m, "qdrant_shard_deferred_points", &shard_0), 0.0);
    // Level 3 lists no segments: unsupported, not zero.
    let telemetry: Telemetry = result(RECORDED, "telemetry-details-level-3.json");
    assert!(segments::from_telemetry(&selected(&telemetry))
        .unsupported
        .is_some());
}

#[test]
fn the_fallback_families_from_per_collection_answers() {
    let info: CollectionInfo = result(HANDMADE_V1_12, "collection-legacy.json");
    let m = text(&collections::collection_info_families(&[("legacy", info)]));
    assert_eq!(
        value(
            &m,
            "qdrant_collection_status",
            r#"collection="legacy",status="grey""#
        ),
        1.0
    );
    assert_eq!(
        value(&m, "qdrant_collection_points", r#"collection="legacy""#),
        3500.0
    );
    let cluster: CollectionClusterInfo =
        result("cluster-v1.18.3-node-a", "collection-orders-cluster.json");
    let m = text(&shards::cluster_info_families(&[("orders", cluster)]));
    let dead = r#"collection="orders",shard_id="0",peer_id="4606499160228025",state="Dead""#;
    assert_eq!(value(&m, "qdrant_shard_replica_state", dead), 1.0);
}

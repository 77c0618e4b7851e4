//! Each collector's "API data → metric families" function on its own, on the
//! recorded and hand-made responses, without a server in between.

use qdrant_exporter::collectors::{
    collections, memory, optimizations, quotas, segments, shards, Selected,
};
use qdrant_exporter::metrics::render;
use qdrant_exporter::metrics::Family;
use qdrant_exporter::qdrant::models::{
    ApiResponse, CollectionClusterInfo, CollectionInfo, CollectionMemory, Optimizations,
    QuotaStatus, Telemetry,
};
use serde::de::DeserializeOwned;

use crate::helpers::{
    fixture_dir, sample, value, HANDMADE_V1_12, HANDMADE_V1_19, MEMORY, RECORDED, RECORDED_PEER,
};

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

#[test]
fn optimizations_recorded_while_three_ran() {
    let recorded: Optimizations = result(
        RECORDED,
        "collection-ondisk_quantized-optimizations-right-after-upsert.json",
    );
    let m = text(&optimizations::families(&[("q", recorded)]));
    let q = r#"collection="q""#;
    assert_eq!(value(&m, "qdrant_collection_optimizations_queued", q), 2.0);
    assert_eq!(
        value(&m, "qdrant_collection_optimizations_queued_segments", q),
        2.0
    );
    assert_eq!(
        value(&m, "qdrant_collection_optimizations_queued_points", q),
        366.0
    );
    assert_eq!(value(&m, "qdrant_collection_idle_segments", q), 0.0);
    let running = |optimizer: &str| {
        value(
            &m,
            "qdrant_collection_optimizations_running",
            &format!(r#"collection="q",optimizer="{optimizer}""#),
        )
    };
    assert_eq!(running("indexing"), 3.0);
    assert_eq!(
        running("merge"),
        0.0,
        "idle optimizers are zero, not absent"
    );
    // 116 + (135 + 129) + (121 + 115) points in the segments being rewritten.
    assert_eq!(
        value(&m, "qdrant_collection_optimizations_running_points", q),
        616.0
    );
    // The earliest `started_at` of the three, 2026-11-21T06:47:13.575716473Z.
    let oldest = value(
        &m,
        "qdrant_collection_optimization_oldest_start_timestamp_seconds",
        q,
    );
    assert!((oldest - 1_795_243_633.575_716).abs() < 1e-3, "{oldest}");
    // One had no steps yet, one was building a payload index, one had finished its steps.
    for stage in ["preparing", "payload_index", "finishing"] {
        assert_eq!(
            value(
                &m,
                "qdrant_collection_optimizations_by_stage",
                &format!(r#"collection="q",stage="{stage}""#)
            ),
            1.0,
            "{stage}"
        );
    }
    assert!(
        !m.contains("keyword:group"),
        "payload field names never become label values"
    );
}

#[test]
fn optimizations_of_an_idle_collection() {
    let recorded: Optimizations = result(RECORDED, "collection-docs-optimizations.json");
    let m = text(&optimizations::families(&[("docs", recorded)]));
    let docs = r#"collection="docs""#;
    assert_eq!(value(&m, "qdrant_collection_idle_segments", docs), 2.0);
    assert_eq!(
        value(&m, "qdrant_collection_optimizations_queued", docs),
        0.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_optimizations_running",
            r#"collection="docs",optimizer="indexing""#
        ),
        0.0
    );
    assert!(!m.contains("qdrant_collection_optimization_oldest_start_timestamp_seconds{"));
    assert!(!m.contains("qdrant_collection_optimizations_by_stage{"));
}

/// The components of every recorded collection add up to the `total` Qdrant reports, kind by kind.
#[test]
fn memory_components_add_up_to_the_recorded_totals() {
    for file in [
        "collection-products-memory.json",
        "collection-multi named-memory.json",
        "collection-quantized-memory.json",
        "collection-sparse-only-memory.json",
        "collection-empty-memory.json",
    ] {
        let memory: CollectionMemory = result(MEMORY, file);
        let total: serde_json::Value = result(MEMORY, file);
        let m = text(&[memory::family(&[("c", memory)])]);
        for kind in ["disk", "ram", "cached", "expected_cache"] {
            let sum: f64 = m
                .lines()
                .filter(|line| line.starts_with("qdrant_collection_memory_bytes{"))
                .filter(|line| line.contains(&format!(r#"kind="{kind}"}}"#)))
                .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
                .sum();
            let expected = total["total"][format!("{kind}_bytes")].as_f64().unwrap();
            assert_eq!(sum, expected, "{file}: {kind}");
        }
    }
}

#[test]
fn memory_by_component() {
    let products: CollectionMemory = result(MEMORY, "collection-products-memory.json");
    let quantized: CollectionMemory = result(MEMORY, "collection-quantized-memory.json");
    let sparse: CollectionMemory = result(MEMORY, "collection-sparse-only-memory.json");
    let m = text(&[memory::family(&[
        ("products", products),
        ("quantized", quantized),
        ("sparse-only", sparse),
    ])]);
    let bytes = |labels: &str| value(&m, "qdrant_collection_memory_bytes", labels);
    assert_eq!(
        bytes(r#"collection="products",component="vector_storage",vector="",kind="disk""#),
        71_303_592.0
    );
    assert_eq!(
        bytes(r#"collection="products",component="payload_index",kind="disk""#),
        19_035_660.0
    );
    assert_eq!(
        bytes(r#"collection="products",component="id_tracker",kind="ram""#),
        109_152.0
    );
    assert_eq!(
        bytes(r#"collection="quantized",component="vector_quantized",vector="",kind="ram""#),
        150_096.0
    );
    assert_eq!(
        bytes(r#"collection="sparse-only",component="sparse_vector_index",vector="bm",kind="ram""#),
        4_800.0
    );
    assert!(!m.contains(r#""cat""#), "payload index fields are summed");
}

#[test]
fn quotas_of_a_node_refusing_writes_over_disk() {
    let status: QuotaStatus = result(HANDMADE_V1_19, "quotas.json");
    let telemetry: Telemetry = result(HANDMADE_V1_19, "telemetry-details-level-3.json");
    let verdict = &telemetry
        .quota
        .as_ref()
        .expect("1.19 telemetry has the quota")
        .exceeded;
    let m = text(&quotas::families(&status, Some(verdict)));
    assert_eq!(value(&m, "qdrant_quota_enabled", ""), 1.0);
    assert_eq!(
        value(&m, "qdrant_quota_limit_percent", r#"resource="disk_usage""#),
        90.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_quota_limit_percent",
            r#"resource="resident_memory""#
        ),
        85.0
    );
    assert_eq!(value(&m, "qdrant_quota_release_margin_percent", ""), 5.0);
    assert_eq!(
        value(&m, "qdrant_quota_usage_percent", r#"resource="disk_usage""#),
        91.0
    );
    assert_eq!(
        value(&m, "qdrant_quota_exceeded", r#"resource="disk_usage""#),
        1.0
    );
    assert_eq!(
        value(&m, "qdrant_quota_exceeded", r#"resource="resident_memory""#),
        0.0
    );
    let (a, b, c) = ("8326746331167863", "7708955329324187", "4606499160228025");
    let peer = |id: &str| format!(r#"peer_id="{id}""#);
    assert_eq!(value(&m, "qdrant_quota_peer_exceeded", &peer(a)), 1.0);
    assert_eq!(value(&m, "qdrant_quota_peer_exceeded", &peer(b)), 0.0);
    assert_eq!(
        value(
            &m,
            "qdrant_quota_peer_usage_percent",
            &format!(r#"peer_id="{b}",resource="disk_usage""#)
        ),
        62.0
    );
    // Peer C cannot measure its memory: no series rather than a made-up 0.
    assert_eq!(
        sample(
            &m,
            "qdrant_quota_peer_usage_percent",
            &format!(r#"peer_id="{c}",resource="resident_memory""#)
        ),
        None
    );
}

//! The telemetry path and the per-collection fallback give the same figures on
//! every recorded fixture set, so the two cannot drift apart. Per-node shard
//! series are combined the way the recording rules combine them (sum over
//! shards of the largest replica), the fallback's cluster-wide figures read
//! as served.

use std::collections::BTreeMap;

use mock_qdrant::Fault;

use crate::helpers::{collector_success, full_detail, sample, spawn_app_with, value, RECORDED};

/// Parsed samples of one family: labels → value.
pub fn series(m: &str, family: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    let prefix = format!("{family}{{");
    m.lines()
        .filter_map(|line| line.strip_prefix(prefix.as_str()))
        .map(|rest| {
            let (labels, value) = rest.rsplit_once("} ").expect("sample line");
            let labels = labels
                .split("\",")
                .map(|pair| {
                    let (name, value) = pair.split_once("=\"").expect("label");
                    (name.to_owned(), value.trim_end_matches('"').to_owned())
                })
                .collect();
            (labels, value.parse().expect("value"))
        })
        .collect()
}

/// Collection → the sum over its shards of the largest value any node reports for the shard.
pub fn per_collection_sum(nodes: &[String], family: &str) -> BTreeMap<String, f64> {
    let mut largest: BTreeMap<(String, String), f64> = BTreeMap::new();
    for m in nodes {
        // A replica's figure: its series summed (segments by type, vectors by name).
        let mut replicas: BTreeMap<(String, String), f64> = BTreeMap::new();
        for (labels, value) in series(m, family) {
            let shard = (labels["collection"].clone(), labels["shard_id"].clone());
            *replicas.entry(shard).or_insert(0.0) += value;
        }
        for (shard, value) in replicas {
            let entry = largest.entry(shard).or_insert(value);
            *entry = entry.max(value);
        }
    }
    let mut sums = BTreeMap::new();
    for ((collection, _), value) in largest {
        *sums.entry(collection).or_insert(0.0) += value;
    }
    sums
}

const STATUS_ORDER: [&str; 4] = ["green", "yellow", "grey", "red"];

/// Collection → the worst status any of its shards reports on any node.
fn worst_status(nodes: &[String], family: &str) -> BTreeMap<String, &'static str> {
    let mut worst = BTreeMap::new();
    for m in nodes {
        for (labels, value) in series(m, family) {
            if value != 1.0 {
                continue;
            }
            let rank = STATUS_ORDER
                .iter()
                .position(|s| *s == labels["status"])
                .expect("known status");
            let entry = worst.entry(labels["collection"].clone()).or_insert(0);
            *entry = (*entry).max(rank);
        }
    }
    worst
        .into_iter()
        .map(|(collection, rank)| (collection, STATUS_ORDER[rank]))
        .collect()
}

/// What a collection-level family serves, collection → value.
fn collection_values(m: &str, family: &str) -> BTreeMap<String, f64> {
    series(m, family)
        .into_iter()
        .map(|(labels, value)| (labels["collection"].clone(), value))
        .collect()
}

/// Scrapes of each fixture directory: through telemetry, and with telemetry
/// answering 404 so that every collector takes its per-collection fallback.
async fn both_paths(directories: &[&str]) -> (Vec<String>, Vec<String>) {
    let (mut telemetry, mut fallback) = (Vec::new(), Vec::new());
    for directory in directories {
        let app = spawn_app_with(directory, full_detail).await;
        let m = app.scrape().await;
        assert_eq!(collector_success(&m, "collections"), 1.0, "{directory}");
        assert!(
            !m.contains("qdrant_collection_points{"),
            "{directory}: telemetry served, no fallback"
        );
        telemetry.push(m);
        let app = spawn_app_with(directory, full_detail).await;
        app.mock.fail_path("/telemetry", Fault::Status(404));
        fallback.push(app.scrape().await);
    }
    (telemetry, fallback)
}

#[track_caller]
fn assert_same_collection_figures(telemetry: &[String], fallback: &str, with_segments: bool) {
    let mut pairs = vec![
        ("qdrant_shard_local_points", "qdrant_collection_points"),
        (
            "qdrant_shard_update_queue_length",
            "qdrant_collection_update_queue_length",
        ),
    ];
    if with_segments {
        pairs.push(("qdrant_shard_segments", "qdrant_collection_segments"));
        pairs.push((
            "qdrant_shard_indexed_vectors",
            "qdrant_collection_indexed_vectors",
        ));
    }
    for (per_shard, collection_level) in pairs {
        let derived = per_collection_sum(telemetry, per_shard);
        assert!(!derived.is_empty(), "{per_shard}");
        assert_eq!(
            derived,
            collection_values(fallback, collection_level),
            "{per_shard}"
        );
    }
    let worst = worst_status(telemetry, "qdrant_shard_status");
    let served: BTreeMap<String, &str> = series(fallback, "qdrant_collection_status")
        .into_iter()
        .filter(|(_, value)| *value == 1.0)
        .map(|(labels, _)| {
            let status = STATUS_ORDER
                .into_iter()
                .find(|s| *s == labels["status"])
                .expect("known status");
            (labels["collection"].clone(), status)
        })
        .collect();
    assert_eq!(worst, served, "worst status");
    // The configuration is served under the same names by both paths, by the
    // reporter alone.
    for family in [
        "qdrant_collection_shard_number",
        "qdrant_collection_replication_factor",
        "qdrant_collection_write_consistency_factor",
        "qdrant_collection_vector_dimensions",
        "qdrant_collection_vector_info",
    ] {
        let served: Vec<_> = telemetry.iter().flat_map(|m| series(m, family)).collect();
        assert_eq!(served, series(fallback, family), "{family}");
    }
}

#[actix_web::test]
async fn single_node_figures_agree() {
    let (telemetry, fallback) = both_paths(&[RECORDED]).await;
    assert_same_collection_figures(&telemetry, &fallback[0], true);
    // Per node, both paths serve the local replicas' points and states alike.
    for family in ["qdrant_shard_local_points", "qdrant_shard_replica_state"] {
        assert_eq!(
            series(&telemetry[0], family),
            series(&fallback[0], family),
            "{family}"
        );
    }
}

#[actix_web::test]
async fn three_node_cluster_figures_agree() {
    let nodes = [
        "cluster-v1.18.3-steady-node-a",
        "cluster-v1.18.3-steady-node-b",
        "cluster-v1.18.3-steady-node-c",
    ];
    let (telemetry, fallback) = both_paths(&nodes).await;
    // Collection info is the cluster's: the raft leader's exporter (node A)
    // alone serves its fallback, whose totals the three nodes' telemetry adds
    // up to. No level-4 recording: no segments.
    assert_same_collection_figures(&telemetry, &fallback[0], false);
    for served in &fallback[1..] {
        assert!(!served.contains("qdrant_collection_points{"));
    }
    for (node, (t, f)) in nodes.iter().zip(telemetry.iter().zip(&fallback)) {
        assert_eq!(
            series(t, "qdrant_shard_local_points"),
            series(f, "qdrant_shard_local_points"),
            "{node}"
        );
        // Telemetry reports the replica sets this node holds a replica of; the
        // fallback reports every replica: they agree on every one both report.
        let fallback_states = series(f, "qdrant_shard_replica_state");
        let telemetry_states = series(t, "qdrant_shard_replica_state");
        assert!(telemetry_states.len() < fallback_states.len(), "{node}");
        for state in &telemetry_states {
            assert!(fallback_states.contains(state), "{node}: {state:?}");
        }
        for family in [
            "qdrant_collection_shard_transfers",
            "qdrant_collection_resharding_operations",
        ] {
            assert_eq!(series(t, family), series(f, family), "{node} {family}");
        }
    }
}

#[actix_web::test]
async fn a_shard_transfer_agrees() {
    // Node A receiving shard 0 of `orders` by snapshot: Recovery, no points yet.
    let (telemetry, fallback) = both_paths(&["cluster-v1.18.3-transfer-node-a"]).await;
    let (t, f) = (&telemetry[0], &fallback[0]);
    let peer_a = "8326746331167863";
    let shard_0 = format!(r#"collection="orders",shard_id="0",peer_id="{peer_a}""#);
    assert_eq!(value(t, "qdrant_shard_local_points", &shard_0), 0.0);
    assert_eq!(
        value(
            t,
            "qdrant_shard_replica_state",
            &format!(r#"{shard_0},state="Recovery""#)
        ),
        1.0
    );
    assert_eq!(
        sample(
            t,
            "qdrant_collection_shard_transfers",
            r#"collection="orders""#
        ),
        Some(1.0)
    );
    assert_eq!(
        series(t, "qdrant_shard_local_points"),
        series(f, "qdrant_shard_local_points")
    );
    let fallback_states = series(f, "qdrant_shard_replica_state");
    for state in series(t, "qdrant_shard_replica_state") {
        assert!(fallback_states.contains(&state), "{state:?}");
    }
    assert_eq!(
        series(t, "qdrant_collection_shard_transfers"),
        series(f, "qdrant_collection_shard_transfers")
    );
}

//! Cost and cardinality guards: the collection cap, the name filters, and
//! cluster-wide gauges from the raft leader only.

use crate::helpers::{sample, spawn_app_with, value, RECORDED};

fn exported_collections(m: &str) -> Vec<String> {
    m.lines()
        .filter_map(|l| l.strip_prefix("qdrant_shard_local_points{collection=\""))
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn the_cap_keeps_the_first_collections_by_name_and_counts_the_rest() {
    let app = spawn_app_with(RECORDED, |s| s.max_collections = Some(3)).await;
    app.mock.synthesize(10);
    let m = app.scrape().await;
    assert_eq!(
        exported_collections(&m),
        ["collection-0000", "collection-0001", "collection-0002"]
    );
    assert_eq!(
        value(&m, "qdrant_collections", ""),
        10.0,
        "the count is of all collections"
    );
    assert_eq!(
        value(
            &m,
            "qdrant_exporter_collections_skipped",
            r#"reason="limit""#
        ),
        7.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_exporter_collections_skipped",
            r#"reason="filtered""#
        ),
        0.0
    );
    // Left-out collections cost Qdrant nothing.
    assert_eq!(app.mock.count("/collections/collection-0003"), 0);
    assert_eq!(app.mock.count("/collections/collection-0003/cluster"), 0);
    assert_eq!(app.mock.count("/collections/collection-0003/snapshots"), 0);
}

#[actix_web::test]
async fn include_and_exclude_filters() {
    let app = spawn_app_with(RECORDED, |s| {
        s.collections_include = Some("^collection-000[0-4]$".into());
        s.collections_exclude = Some("3".into());
    })
    .await;
    app.mock.synthesize(10);
    let m = app.scrape().await;
    assert_eq!(
        exported_collections(&m),
        [
            "collection-0000",
            "collection-0001",
            "collection-0002",
            "collection-0004"
        ]
    );
    assert_eq!(
        value(
            &m,
            "qdrant_exporter_collections_skipped",
            r#"reason="filtered""#
        ),
        6.0
    );
}

#[actix_web::test]
async fn cluster_scope_figures_come_from_the_raft_leaders_exporter_alone() {
    let collectors = |s: &mut qdrant_exporter::config::Settings| {
        s.collectors = Some("collections,cluster,shards".into());
    };
    let leader = spawn_app_with("cluster-v1.18.3-node-a", collectors).await;
    let m = leader.scrape().await;
    assert_eq!(
        value(&m, "qdrant_collection_points", r#"collection="orders""#),
        60030.0
    );
    assert_eq!(value(&m, "qdrant_collections", ""), 2.0);
    assert_eq!(value(&m, "qdrant_exporter_cluster_reporter", ""), 1.0);

    let follower = spawn_app_with("cluster-v1.18.3-node-b", collectors).await;
    let m = follower.scrape().await;
    assert!(
        !m.contains("qdrant_collection_points"),
        "a follower leaves cluster-wide gauges to the leader"
    );
    assert_eq!(sample(&m, "qdrant_collections", ""), None);
    assert_eq!(value(&m, "qdrant_exporter_cluster_reporter", ""), 0.0);
    assert_eq!(
        follower.mock.count("/collections/orders"),
        0,
        "and does not fetch them"
    );
    // Per-node figures are still every node's own.
    assert!(m.contains("qdrant_shard_local_points{"));
    assert_eq!(value(&m, "qdrant_up", ""), 1.0);

    // Single-node mode: the node is its own leader.
    let single = spawn_app_with(RECORDED, collectors).await;
    assert_eq!(value(&single.scrape().await, "qdrant_collections", ""), 5.0);
}

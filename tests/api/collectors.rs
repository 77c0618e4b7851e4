//! The collectors over HTTP, on recorded cluster responses, the single-node
//! recordings and older- and newer-version shapes: what each serves where,
//! which is unsupported, and that one failing fails alone.

use mock_qdrant::Fault;

use qdrant_exporter::{Collector, Scope};

use crate::helpers::{
    all_collectors, assert_promtool_accepts, collector_success, collector_supported, everything,
    full_detail, sample, spawn_app_with, value, HANDMADE_V1_12, HANDMADE_V1_15, HANDMADE_V1_19,
    MEMORY, RECORDED,
};

/// A collector that runs on the cluster's reporter alone.
fn cluster_scope(name: &str) -> bool {
    Collector::from_name(name).is_some_and(|collector| collector.facts().scope == Scope::Cluster)
}

const NODE_A: &str = "8326746331167863";
const NODE_B: &str = "7708955329324187";
const NODE_C: &str = "4606499160228025";

/// The state of the replica: its one series, at 1.
#[track_caller]
fn replica_state(m: &str, collection: &str, shard: u32, peer: &str) -> String {
    let prefix = format!(
        r#"qdrant_shard_replica_state{{collection="{collection}",shard_id="{shard}",peer_id="{peer}",state=""#
    );
    let series: Vec<&str> = m
        .lines()
        .filter_map(|line| line.strip_prefix(prefix.as_str()))
        .collect();
    let [current] = series[..] else {
        panic!("one series for {collection}/{shard}@{peer}: {series:?}");
    };
    let (state, value) = current.split_once("\"} ").unwrap();
    assert_eq!(value, "1", "{collection}/{shard}@{peer}");
    state.to_owned()
}

#[actix_web::test]
async fn a_follower_during_a_transfer_with_a_dead_peer() {
    // No telemetry was recorded at that moment (404): collections and shards take
    // their per-collection fallback; segments and optimizations, which read
    // telemetry only, report themselves unsupported, as does quotas (Qdrant
    // 1.18). A follower runs none of the cluster-scope collectors.
    let app = spawn_app_with("cluster-v1.18.3-node-b", everything).await;
    let m = app.scrape().await;
    assert_eq!(value(&m, "qdrant_exporter_cluster_reporter", ""), 0.0);
    for collector in all_collectors() {
        let labels = format!(r#"collector="{collector}""#);
        if cluster_scope(collector) {
            let success = sample(&m, "qdrant_exporter_scrape_success", &labels);
            assert_eq!(success, None, "{collector} runs on the leader's exporter");
            continue;
        }
        assert_eq!(collector_success(&m, collector), 1.0, "{collector}");
        let supported = !["segments", "optimizations", "quotas", "system"].contains(&collector);
        assert_eq!(
            collector_supported(&m, collector),
            if supported { 1.0 } else { 0.0 },
            "{collector}"
        );
    }
    assert_eq!(app.mock.count("/cluster/telemetry"), 0);

    // cluster
    assert_eq!(value(&m, "qdrant_cluster_enabled", ""), 1.0);
    assert_eq!(
        value(
            &m,
            "qdrant_cluster_peer_info",
            &format!(r#"peer_id="{NODE_B}""#)
        ),
        1.0
    );
    assert_eq!(value(&m, "qdrant_cluster_peers", ""), 3.0);
    assert_eq!(value(&m, "qdrant_cluster_term", ""), 1.0);
    assert_eq!(value(&m, "qdrant_cluster_commit", ""), 30.0);
    assert_eq!(value(&m, "qdrant_cluster_pending_operations", ""), 0.0);
    assert_eq!(value(&m, "qdrant_cluster_leader", ""), 0.0);
    assert_eq!(value(&m, "qdrant_cluster_leader_known", ""), 1.0);
    assert_eq!(value(&m, "qdrant_cluster_voter", ""), 1.0);
    for (role, expected) in [
        ("Leader", 0.0),
        ("Follower", 1.0),
        ("Candidate", 0.0),
        ("PreCandidate", 0.0),
    ] {
        assert_eq!(
            value(&m, "qdrant_cluster_role", &format!(r#"role="{role}""#)),
            expected
        );
    }
    for (status, expected) in [
        ("working", 1.0),
        ("stopped", 0.0),
        ("stopped_with_err", 0.0),
    ] {
        assert_eq!(
            value(
                &m,
                "qdrant_cluster_consensus_thread_status",
                &format!(r#"status="{status}""#)
            ),
            expected
        );
    }
    assert!(value(&m, "qdrant_cluster_consensus_last_update_age_seconds", "") > 0.0);
    assert!(
        !m.contains("qdrant_cluster_message_send_failures{"),
        "followers report no send failures"
    );
    assert!(
        !m.contains("qdrant_cluster_peer_responsive"),
        "the leader's"
    );

    // shards: B's own replica of orders shard 1 is Partial while it is streamed from C
    assert_eq!(replica_state(&m, "orders", 1, NODE_B), "Partial");
    assert_eq!(replica_state(&m, "orders", 2, NODE_B), "Active");
    for (shard, peer) in [
        (0, NODE_C),
        (0, NODE_A),
        (1, NODE_A),
        (1, NODE_C),
        (2, NODE_A),
    ] {
        assert_eq!(
            replica_state(&m, "orders", shard, peer),
            "Active",
            "remote {shard}@{peer}"
        );
    }
    assert_eq!(replica_state(&m, "small", 0, NODE_C), "Dead");
    assert_eq!(replica_state(&m, "small", 0, NODE_A), "Active");
    let local =
        |shard: u32| format!(r#"collection="orders",shard_id="{shard}",peer_id="{NODE_B}""#);
    assert_eq!(value(&m, "qdrant_shard_local_points", &local(1)), 8500.0);
    assert_eq!(value(&m, "qdrant_shard_local_points", &local(2)), 19910.0);
    assert_eq!(
        sample(
            &m,
            "qdrant_shard_local_points",
            &format!(r#"collection="orders",shard_id="0",peer_id="{NODE_A}""#)
        ),
        None,
        "remote replicas have no local points"
    );
    // Transfers are the cluster's: the leader reports them.
    assert!(!m.contains("qdrant_collection_shard_transfers"));

    // snapshots
    assert_eq!(
        value(&m, "qdrant_collection_snapshots", r#"collection="orders""#),
        2.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_snapshots_size_bytes",
            r#"collection="orders""#
        ),
        115_343_360.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_snapshot_latest_timestamp_seconds",
            r#"collection="orders""#
        ),
        1_795_226_400.0
    );
    assert_eq!(
        value(&m, "qdrant_collection_snapshots", r#"collection="small""#),
        0.0
    );
    assert_eq!(
        sample(
            &m,
            "qdrant_collection_snapshot_latest_timestamp_seconds",
            r#"collection="small""#
        ),
        None
    );

    // shards' byte figures: no telemetry at that moment; node B's steady-state telemetry has them.
    assert!(!m.contains("qdrant_collection_local_data_bytes{"));
    let app = spawn_app_with("cluster-v1.18.3-steady-node-b", everything).await;
    let steady = app.scrape().await;
    assert_eq!(
        value(
            &steady,
            "qdrant_collection_local_data_bytes",
            r#"collection="orders",kind="vectors""#
        ),
        970_752.0
    );
    assert_eq!(
        value(
            &steady,
            "qdrant_collection_local_data_bytes",
            r#"collection="orders",kind="payloads""#
        ),
        242_688.0
    );
    assert_eq!(
        value(
            &steady,
            "qdrant_collection_local_data_bytes",
            r#"collection="small",kind="vectors""#
        ),
        51_200.0
    );

    // issues: counted by type, never by their collection or field names
    assert_eq!(value(&m, "qdrant_issues", ""), 3.0);
    assert_eq!(
        value(
            &m,
            "qdrant_issues_by_type",
            r#"issue_type="UNINDEXED_FIELD""#
        ),
        2.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_issues_by_type",
            r#"issue_type="TOO_MANY_COLLECTIONS""#
        ),
        1.0
    );
    assert!(!m.contains("customer_id"));

    // native relay: Qdrant's own families, after the exporter's
    assert!(m.contains("\ncollection_dead_replicas 3\n"), "{m}");
    assert!(m.contains("# TYPE cluster_peers_total gauge"));
    crate::relay::assert_valid_with_lint_only_in_native_families(&m);
}

#[actix_web::test]
async fn the_leader_reports_send_failures_and_the_unreachable_peer() {
    let app = spawn_app_with("cluster-v1.18.3-node-a", everything).await;
    let m = app.scrape_settled().await;
    assert_eq!(value(&m, "qdrant_exporter_cluster_reporter", ""), 1.0);
    assert_eq!(value(&m, "qdrant_cluster_leader", ""), 1.0);
    assert_eq!(value(&m, "qdrant_cluster_role", r#"role="Leader""#), 1.0);
    assert_eq!(
        value(
            &m,
            "qdrant_cluster_message_send_failures",
            &format!(r#"peer_id="{NODE_C}",peer_uri="http://127.0.0.1:7355/""#)
        ),
        64.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_cluster_peer_responsive",
            &format!(r#"peer_id="{NODE_C}""#)
        ),
        0.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_cluster_peer_responsive",
            &format!(r#"peer_id="{NODE_B}""#)
        ),
        1.0
    );
    // Collection status stays green with a peer down: the replica states are what show it.
    assert_eq!(
        value(
            &m,
            "qdrant_collection_status",
            r#"collection="orders",status="green""#
        ),
        1.0
    );
    for shard in [0, 1] {
        assert_eq!(replica_state(&m, "orders", shard, NODE_C), "Dead");
    }
    assert_eq!(replica_state(&m, "small", 0, NODE_C), "Dead");
    crate::relay::assert_valid_with_lint_only_in_native_families(&m);
}

#[actix_web::test]
async fn a_candidate_knows_no_leader() {
    let app = spawn_app_with("cluster-v1.18.3-candidate", |s| {
        s.collectors = Some("collections,cluster".into())
    })
    .await;
    let m = app.scrape().await;
    assert_eq!(value(&m, "qdrant_cluster_role", r#"role="Candidate""#), 1.0);
    assert_eq!(value(&m, "qdrant_cluster_leader", ""), 0.0);
    assert_eq!(value(&m, "qdrant_cluster_leader_known", ""), 0.0);
    assert_eq!(value(&m, "qdrant_cluster_term", ""), 2.0);
    // No /cluster/telemetry recorded here: the mock answers 404, as a Qdrant before 1.17 would.
    assert_eq!(
        collector_success(&m, "cluster"),
        1.0,
        "a 404 means an older Qdrant: not a failure"
    );
}

#[actix_web::test]
async fn single_node_mode() {
    let app = spawn_app_with(RECORDED, |s| {
        s.collectors = Some("collections,cluster,peers,shards,snapshots,memory,issues".into());
        full_detail(s);
    })
    .await;
    let m = app.scrape_settled().await;
    assert_eq!(value(&m, "qdrant_exporter_cluster_reporter", ""), 1.0);
    for collector in [
        "collections",
        "cluster",
        "peers",
        "shards",
        "snapshots",
        "memory",
        "issues",
    ] {
        assert_eq!(collector_success(&m, collector), 1.0, "{collector}");
    }
    // cluster: enabled 0 and nothing else
    assert_eq!(value(&m, "qdrant_cluster_enabled", ""), 0.0);
    let cluster_families: Vec<&str> = m
        .lines()
        .filter(|l| l.starts_with("qdrant_cluster_"))
        .collect();
    assert_eq!(cluster_families, ["qdrant_cluster_enabled 0"]);
    assert_eq!(
        app.mock.count("/cluster/telemetry"),
        0,
        "no cluster telemetry in single-node mode"
    );

    let peer = "4688170328447976";
    assert_eq!(replica_state(&m, "docs", 0, peer), "Active");
    assert_eq!(
        value(
            &m,
            "qdrant_shard_local_points",
            &format!(r#"collection="docs",shard_id="0",peer_id="{peer}""#)
        ),
        2000.0
    );
    let ondisk = |shard: u32| {
        format!(r#"collection="ondisk_quantized",shard_id="{shard}",peer_id="{peer}""#)
    };
    assert_eq!(
        value(&m, "qdrant_shard_local_points", &ondisk(0))
            + value(&m, "qdrant_shard_local_points", &ondisk(1)),
        1000.0
    );

    assert_eq!(
        value(&m, "qdrant_collection_snapshots", r#"collection="images""#),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_snapshots_size_bytes",
            r#"collection="images""#
        ),
        3_138_048.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_snapshot_latest_timestamp_seconds",
            r#"collection="images""#
        ),
        1_795_243_637.0
    );
    assert_eq!(
        value(&m, "qdrant_collection_snapshots", r#"collection="docs""#),
        0.0
    );

    assert_eq!(
        value(
            &m,
            "qdrant_collection_local_data_bytes",
            r#"collection="docs",kind="vectors""#
        ),
        12_288_000.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_local_data_bytes",
            r#"collection="docs",kind="payloads""#
        ),
        512_000.0
    );
    assert_eq!(value(&m, "qdrant_issues", ""), 0.0);
    assert_promtool_accepts(&m);
}

#[actix_web::test]
async fn qdrant_1_12_cluster_shapes() {
    let app = spawn_app_with(HANDMADE_V1_12, everything).await;
    let m = app.scrape_settled().await;
    assert_eq!(value(&m, "qdrant_cluster_role", r#"role="Follower""#), 1.0);
    assert_eq!(value(&m, "qdrant_cluster_pending_operations", ""), 3.0);
    assert_eq!(
        value(
            &m,
            "qdrant_cluster_consensus_thread_status",
            r#"status="stopped_with_err""#
        ),
        1.0
    );
    assert_eq!(
        sample(&m, "qdrant_cluster_consensus_last_update_age_seconds", ""),
        None
    );
    // A follower: the cluster-scope figures are the leader's to report.
    assert_eq!(value(&m, "qdrant_exporter_cluster_reporter", ""), 0.0);
    assert!(!m.contains("qdrant_cluster_peer_responsive"));
    assert_eq!(collector_success(&m, "cluster"), 1.0);

    assert_eq!(replica_state(&m, "legacy", 0, "111"), "Active");
    assert_eq!(replica_state(&m, "legacy", 2, "111"), "PartialSnapshot");
    assert_eq!(replica_state(&m, "legacy", 0, "222"), "Listener");
    assert_eq!(replica_state(&m, "legacy", 2, "222"), "Initializing");
    assert_eq!(replica_state(&m, "broken", 0, "111"), "Dead");

    assert_eq!(
        value(&m, "qdrant_collection_snapshots", r#"collection="legacy""#),
        1.0
    );
    assert_eq!(
        sample(
            &m,
            "qdrant_collection_snapshot_latest_timestamp_seconds",
            r#"collection="legacy""#
        ),
        None
    );

    assert_eq!(
        value(
            &m,
            "qdrant_issues_by_type",
            r#"issue_type="TOO_MANY_COLLECTIONS""#
        ),
        1.0
    );

    // Shard sizes came with 1.15.
    assert!(!m.contains("qdrant_collection_local_data_bytes"));
}

#[actix_web::test]
async fn qdrant_1_15_and_unknown_replica_states() {
    let app = spawn_app_with(HANDMADE_V1_15, everything).await;
    let m = app.scrape_settled().await;
    for collector in [
        "collections",
        "cluster",
        "shards",
        "snapshots",
        "memory",
        "issues",
    ] {
        assert_eq!(collector_success(&m, collector), 1.0, "{collector}");
    }
    assert_eq!(replica_state(&m, "sparse_only", 1, "333"), "Resharding");
    assert_eq!(
        value(
            &m,
            "qdrant_collection_resharding_operations",
            r#"collection="sparse_only""#
        ),
        1.0
    );
    // A state newer than the exporter.
    assert_eq!(replica_state(&m, "future_shape", 0, "333"), "Unknown");
    assert_eq!(
        value(
            &m,
            "qdrant_collection_snapshots",
            r#"collection="future_shape""#
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_local_data_bytes",
            r#"collection="sparse_only",kind="payloads""#
        ),
        40_480.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_local_data_bytes",
            r#"collection="future_shape",kind="vectors""#
        ),
        5376.0
    );
    assert_eq!(value(&m, "qdrant_issues", ""), 0.0);
}

#[actix_web::test]
async fn one_failing_collector_fails_alone() {
    // On the leader's recordings, where every collector runs; they hold no
    // telemetry: collections and shards ask per collection.
    let telemetry_readers: &[&str] = &[
        "collections",
        "shards",
        "segments",
        "optimizations",
        "system",
    ];
    for (path, failing) in [
        ("/collections/orders/snapshots", &["snapshots"][..]),
        ("/collections/orders/optimizations", &["optimizer_queue"]),
        ("/collections/orders/memory", &["memory"]),
        ("/collections/small/cluster", &["shards"]),
        ("/collections/small", &["collections"]),
        ("/cluster", &["cluster"]),
        ("/cluster/telemetry", &["peers"]),
        // The one telemetry request fails every collector that reads it.
        ("/telemetry", telemetry_readers),
        ("/issues", &["issues"]),
        ("/metrics", &["native_relay"]),
    ] {
        let app = spawn_app_with("cluster-v1.18.3-node-a", everything).await;
        app.mock.fail_path(path, Fault::Status(500));
        let m = app.scrape_settled().await;
        assert_eq!(value(&m, "qdrant_up", ""), 1.0);
        for other in all_collectors() {
            let expected = if failing.contains(&other) { 0.0 } else { 1.0 };
            assert_eq!(
                collector_success(&m, other),
                expected,
                "{path} failing: {other}"
            );
        }
    }
}

#[actix_web::test]
async fn qdrant_1_19_with_quotas_optimizations_and_memory() {
    let collectors = "collections,shards,cluster,peers,snapshots,optimizer_queue,memory,quotas,quota_usage,issues";
    let app = spawn_app_with(HANDMADE_V1_19, |s| {
        s.collectors = Some(collectors.into());
        s.qdrant_api_key = Some(qdrant_exporter::config::ApiKey::parse("secret-ro").unwrap());
        full_detail(s);
    })
    .await;
    app.mock.require_api_key(Some("secret-ro"));
    let m = app.scrape_settled().await;
    for collector in collectors.split(',') {
        assert_eq!(collector_success(&m, collector), 1.0, "{collector}");
        assert_eq!(collector_supported(&m, collector), 1.0, "{collector}");
    }
    // This node refuses writes over its disk quota, as it and its peers' view say.
    assert_eq!(
        value(&m, "qdrant_quota_exceeded", r#"resource="disk_usage""#),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_quota_peer_exceeded",
            &format!(r#"peer_id="{NODE_A}""#)
        ),
        1.0
    );
    // The hand-made fourth is building its HNSW graph: 60 of 240 points.
    assert_eq!(
        value(
            &m,
            "qdrant_collection_optimization_stage_progress_ratio",
            r#"collection="orders",stage="vector_index""#
        ),
        0.25
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_idle_segments",
            r#"collection="small""#
        ),
        2.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_memory_bytes",
            r#"collection="orders",component="payload_index",kind="disk""#
        ),
        19_035_660.0
    );
    // `memory: cold` is what `on_disk: true` was.
    assert_eq!(
        value(
            &m,
            "qdrant_collection_vector_info",
            r#"collection="orders",vector="default",distance="Cosine",on_disk="true""#
        ),
        1.0
    );
    assert!(app.mock.count("/quotas") >= 1);
    let requests = app.mock.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.api_key.as_deref() == Some("secret-ro")),
        "{requests:?}"
    );
    assert_promtool_accepts(&m);
}

#[actix_web::test]
async fn memory_by_component_of_recorded_collections() {
    let app = spawn_app_with(MEMORY, |s| s.collectors = Some("memory".into())).await;
    let m = app.scrape_settled().await;
    assert_eq!(collector_success(&m, "memory"), 1.0);
    assert_eq!(
        value(
            &m,
            "qdrant_collection_memory_bytes",
            r#"collection="multi named",component="vector_storage",vector="img",kind="cached""#
        ),
        67_108_912.0
    );
    assert!(m.contains(r#"qdrant_collection_memory_bytes{collection="ünïcode ☃ col",component="id_tracker",kind="disk"}"#));
    assert!(app.mock.count("/collections/products/memory") >= 1);
    assert_promtool_accepts(&m);
}

#[actix_web::test]
async fn an_endpoint_this_qdrant_lacks_is_unsupported_not_failed() {
    // The single-node recordings hold no memory answers: every collection answers an empty 404.
    let app = spawn_app_with(RECORDED, |s| s.collectors = Some("memory".into())).await;
    let m = app.scrape_settled().await;
    assert_eq!(collector_success(&m, "memory"), 1.0);
    assert_eq!(collector_supported(&m, "memory"), 0.0);
    assert!(!m.contains("qdrant_collection_memory_bytes{"));
}

#[actix_web::test]
async fn a_key_that_may_not_read_quotas_fails_that_collector_alone() {
    let app = spawn_app_with(HANDMADE_V1_19, |s| {
        s.collectors = Some("collections,shards,quotas,quota_usage".into());
    })
    .await;
    app.mock.fail_path("/quotas", Fault::Status(403));
    let m = app.scrape_settled().await;
    assert_eq!(collector_success(&m, "quota_usage"), 0.0);
    for collector in ["collections", "shards", "quotas"] {
        assert_eq!(collector_success(&m, collector), 1.0, "{collector}");
    }
    assert!(!m.contains("qdrant_quota_usage_percent{"));
    assert_eq!(value(&m, "qdrant_quota_enabled", ""), 1.0);
}

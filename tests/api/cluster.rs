//! A real 3-node cluster in transition, each node's view replayed by the mock
//! (`tests/fixtures/transitions-v1.18.3-*`): a sidecar's exporter on every
//! node, and what Prometheus gets from them together.

use qdrant_exporter::config::Settings;

use crate::helpers::{
    collector_success, fixture_dir, full_detail, sample, scope_of, spawn_app_with, value, TestApp,
};

const NODE_A: &str = "6184556614098737";
pub const NODE_B: &str = "1935277854019665";
pub const NODE_C: &str = "1833886028127767";

/// The recorded stage of one node.
pub fn stage(name: &str) -> String {
    format!("transitions-v1.18.3-{name}")
}

/// The sum over the exporters' answers of every sample of `family` whose
/// labels include all of `labels` (`name="value"` pairs as written).
fn summed(answers: &[String], family: &str, labels: &[&str]) -> f64 {
    answers
        .iter()
        .flat_map(|m| m.lines())
        .filter_map(|line| line.strip_prefix(family)?.strip_prefix('{'))
        .filter(|rest| labels.iter().all(|label| rest.contains(label)))
        .map(|rest| rest.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

/// The families an answer serves with the scope their help text states.
fn families_of_scope(m: &str, scope: &str) -> Vec<String> {
    m.lines()
        .filter_map(|line| line.strip_prefix("# HELP "))
        .filter(|help| scope_of(help) == Some(scope))
        .map(|help| help.split(' ').next().unwrap().to_owned())
        .collect()
}

/// `qdrant_cluster_peer_responsive` of `peer`, which must be served.
fn responsive(m: &str, peer: &str) -> f64 {
    value(
        m,
        "qdrant_cluster_peer_responsive",
        &format!(r#"peer_id="{peer}""#),
    )
}

pub fn recorded(directory: &str, file: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture_dir(directory).join(file)).unwrap();
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["result"].clone()
}

/// The three sidecars of the steady cluster, each settled, `memory` on too.
async fn steady_sidecars() -> Vec<(TestApp, String)> {
    let mut sidecars = Vec::new();
    for node in ["a", "b", "c"] {
        let app = spawn_app_with(&stage(&format!("steady-node-{node}")), |s| {
            s.collectors = Some(
                "collections,shards,cluster,peers,optimizer_queue,memory,quotas,quota_usage,issues"
                    .into(),
            );
            full_detail(s);
        })
        .await;
        let m = app.scrape_settled().await;
        sidecars.push((app, m));
    }
    sidecars
}

/// Summed over the three nodes' answers, each family gives Qdrant's own
/// cluster-wide figure, never three times it: the cluster-scope families
/// (which every node could read alike) come from the raft leader's exporter
/// alone, the node-scope ones each from its node.
#[actix_web::test]
async fn summed_over_the_nodes_each_figure_counts_once() {
    let sidecars = steady_sidecars().await;
    let answers: Vec<String> = sidecars.iter().map(|(_, m)| m.clone()).collect();
    let reporters: Vec<f64> = answers
        .iter()
        .map(|m| value(m, "qdrant_exporter_cluster_reporter", ""))
        .collect();
    assert_eq!(reporters, [1.0, 0.0, 0.0], "node a is the raft leader");
    let cluster_families = families_of_scope(&answers[0], "cluster");
    assert!(cluster_families.len() >= 10, "{cluster_families:?}");
    for family in cluster_families {
        for m in &answers[1..] {
            assert!(
                !m.contains(&format!("\n{family}")),
                "{family} is served by the leader's exporter alone"
            );
        }
    }
    assert!(families_of_scope(&answers[1], "cluster").is_empty());

    // Memory: every node answers the same bytes, every replica on every peer summed.
    let memory = recorded(&stage("steady-node-a"), "collection-orders-memory.json");
    for node in ["b", "c"] {
        let answer = recorded(
            &stage(&format!("steady-node-{node}")),
            "collection-orders-memory.json",
        );
        assert_eq!(
            answer["total"], memory["total"],
            "the same answer on node {node}"
        );
    }
    for kind in ["disk", "ram", "cached", "expected_cache"] {
        assert_eq!(
            summed(
                &answers,
                "qdrant_collection_memory_bytes",
                &[r#"collection="orders""#, &format!(r#"kind="{kind}""#)]
            ),
            memory["total"][format!("{kind}_bytes")].as_f64().unwrap(),
            "{kind}"
        );
    }
    // The optimizer queue: the segments of all six replicas, merged by Qdrant.
    let optimizations = recorded(
        &stage("steady-node-a"),
        "collection-orders-optimizations.json",
    );
    assert_eq!(
        summed(
            &answers,
            "qdrant_collection_idle_segments",
            &[r#"collection="orders""#]
        ),
        optimizations["summary"]["idle_segments"].as_f64().unwrap()
    );
    // The configuration and the shard count, once.
    let info = recorded(&stage("steady-node-a"), "collection-orders.json");
    let shard_number = info["config"]["params"]["shard_number"].as_f64().unwrap();
    for family in ["qdrant_collection_shard_number", "qdrant_collection_shards"] {
        assert_eq!(
            summed(&answers, family, &[r#"collection="orders""#]),
            shard_number,
            "{family}"
        );
    }
    // Each replica's points once, from the node holding it: what the three
    // nodes' own shard listings hold.
    let mut replicas = 0.0;
    for node in ["a", "b", "c"] {
        let cluster = recorded(
            &stage(&format!("steady-node-{node}")),
            "collection-orders-cluster.json",
        );
        replicas += cluster["local_shards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|shard| shard["points_count"].as_f64().unwrap())
            .sum::<f64>();
    }
    assert_eq!(
        summed(
            &answers,
            "qdrant_shard_local_points",
            &[r#"collection="orders""#]
        ),
        replicas
    );
    // One peer list, from the leader.
    assert_eq!(
        summed(&answers, "qdrant_cluster_peer_responsive", &[]),
        3.0,
        "three peers, each once"
    );
    // And the cluster was asked each cluster-wide question once, by the leader.
    for (node, (app, _)) in ["a", "b", "c"].iter().zip(&sidecars) {
        let asked =
            app.mock.count("/cluster/telemetry") + app.mock.count("/collections/orders/memory");
        assert_eq!(asked > 0, *node == "a", "node {node}");
    }
}

/// The source of a shard transfer is a proxy whose telemetry says `status:
/// null`: that series alone goes, every other stays, nothing falls back.
#[actix_web::test]
async fn the_source_of_a_transfer_keeps_its_series_and_asks_nothing_more() {
    let app = spawn_app_with(&stage("transfer-source-node-c"), full_detail).await;
    let m = app.scrape().await;
    for collector in ["collections", "shards", "cluster"] {
        assert_eq!(collector_success(&m, collector), 1.0, "{collector}");
    }
    let solo = format!(r#"collection="solo",shard_id="0",peer_id="{NODE_C}""#);
    assert_eq!(value(&m, "qdrant_shard_local_points", &solo), 40_000.0);
    assert_eq!(value(&m, "qdrant_shard_optimizer_ok", &solo), 1.0);
    assert_eq!(
        sample(
            &m,
            "qdrant_shard_status",
            &format!(r#"{solo},status="green""#)
        ),
        None
    );
    // The transfer's target is Partial, the source still Active.
    assert_eq!(
        value(
            &m,
            "qdrant_shard_replica_state",
            &format!(r#"collection="solo",shard_id="0",peer_id="{NODE_A}",state="Partial""#)
        ),
        1.0
    );
    let fallback: Vec<String> = app
        .mock
        .requests()
        .into_iter()
        .map(|r| r.raw_path)
        .filter(|path| {
            path.strip_prefix("/collections/")
                .is_some_and(|name| !name.contains('/'))
        })
        .collect();
    assert!(
        fallback.is_empty(),
        "no per-collection fallback: {fallback:?}"
    );
}

/// A peer hung (SIGSTOP): the leader's Qdrant takes 9.4 s for anything that
/// asks it (replayed at the recorded time). Scrapes do not wait for that, the
/// node's own figures are all there, and from the refresh after Qdrant
/// answered, the peer reads unresponsive, 0 rather than missing.
#[actix_web::test]
async fn a_hung_peer_is_unresponsive_from_the_refresh_after_qdrant_answers() {
    let app = spawn_app_with(&stage("peer-b-stopped-node-a"), |_| {}).await;
    app.mock.replay_recorded_latency(1.0);
    let node_alone = ["collections", "shards", "cluster", "quotas", "issues"];
    let m = crate::cluster_view::through_a_hung_peer(|| app.scrape(), &node_alone).await;
    assert_eq!(responsive(&m, NODE_C), 1.0);
    // The queue of `orders` needs the hung peer: Qdrant answered 408. That
    // collector fails, and it alone.
    let settled = app.scrape_settled().await;
    assert_eq!(collector_success(&settled, "optimizer_queue"), 0.0);
    assert_eq!(collector_success(&settled, "peers"), 1.0);
    assert!(
        value(
            &settled,
            "qdrant_exporter_collector_data_age_seconds",
            r#"collector="peers""#
        ) > 0.0
    );
}

/// A peer killed, then a write: the survivors see its replicas Dead, the
/// leader cannot reach it, and the memory report (which needs every replica)
/// fails with 500 on every surviving node; nothing else fails.
#[actix_web::test]
async fn a_dead_peer_fails_the_figures_that_need_it_alone() {
    let app = spawn_app_with(&stage("peer-c-killed-node-b"), |s| {
        s.collectors = Some("collections,shards,cluster,peers,optimizer_queue,memory".into());
    })
    .await;
    let m = app.scrape_settled().await;
    assert_eq!(value(&m, "qdrant_exporter_cluster_reporter", ""), 1.0);
    assert_eq!(collector_success(&m, "memory"), 0.0);
    for collector in [
        "collections",
        "shards",
        "cluster",
        "peers",
        "optimizer_queue",
    ] {
        assert_eq!(collector_success(&m, collector), 1.0, "{collector}");
    }
    assert_eq!(responsive(&m, NODE_C), 0.0);
    assert_eq!(
        value(
            &m,
            "qdrant_shard_replica_state",
            &format!(r#"collection="orders",shard_id="0",peer_id="{NODE_C}",state="Dead""#)
        ),
        1.0
    );
}

/// Leadership moves (c killed, b elected): from their next refresh a's
/// exporter stops reporting the cluster and b's starts; when a leads again
/// it asks afresh rather than serve what it fetched as the leader before.
#[actix_web::test]
async fn the_reporter_moves_with_the_raft_leadership() {
    let collectors = |s: &mut Settings| {
        s.collectors = Some("collections,cluster,peers,optimizer_queue".into());
    };
    let queued = r#"collection="orders""#;
    let a = spawn_app_with(&stage("steady-node-a"), collectors).await;
    let b = spawn_app_with(&stage("steady-node-b"), collectors).await;
    let m = a.scrape_settled().await;
    assert_eq!(value(&m, "qdrant_exporter_cluster_reporter", ""), 1.0);
    assert!(sample(&m, "qdrant_collection_optimizations_queued", queued).is_some());
    let m = b.scrape_settled().await;
    assert_eq!(value(&m, "qdrant_exporter_cluster_reporter", ""), 0.0);
    assert_eq!(
        sample(&m, "qdrant_collection_optimizations_queued", queued),
        None
    );

    a.mock
        .rotate_between(vec![fixture_dir(&stage("peer-c-killed-node-a"))]);
    b.mock
        .rotate_between(vec![fixture_dir(&stage("peer-c-killed-node-b"))]);
    a.mock.reset_requests();
    let m = a.scrape().await;
    assert_eq!(value(&m, "qdrant_exporter_cluster_reporter", ""), 0.0);
    for family in [
        "qdrant_collection_optimizations_queued",
        "qdrant_collection_shard_number",
    ] {
        assert!(!m.contains(&format!("\n{family}{{")), "{family}");
    }
    let m = b.scrape_settled().await;
    assert_eq!(value(&m, "qdrant_exporter_cluster_reporter", ""), 1.0);
    assert!(sample(&m, "qdrant_collection_optimizations_queued", queued).is_some());
    assert_eq!(responsive(&m, NODE_C), 0.0);
    assert_eq!(a.mock.count("/collections/orders/optimizations"), 0);

    a.mock
        .rotate_between(vec![fixture_dir(&stage("steady-node-a"))]);
    let m = a.scrape_settled().await;
    assert_eq!(value(&m, "qdrant_exporter_cluster_reporter", ""), 1.0);
    assert!(sample(&m, "qdrant_collection_optimizations_queued", queued).is_some());
    assert_eq!(
        a.mock.count("/collections/orders/optimizations"),
        1,
        "asked afresh, within the collector's 300 s"
    );
}

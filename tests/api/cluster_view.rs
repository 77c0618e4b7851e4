//! The cluster view: the whole cluster through whichever node answers, as
//! behind a load balancer. The mock answers every request from the next of
//! the three recorded nodes in turn; the answer must not depend on which.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::helpers::{
    assert_promtool_accepts, collector_success, collector_supported, fixture_dir, full_detail,
    spawn_app_with, value,
};

const NODES: [(&str, &str); 3] = [
    ("cluster-v1.18.3-steady-node-a", "8326746331167863"),
    ("cluster-v1.18.3-steady-node-b", "7708955329324187"),
    ("cluster-v1.18.3-steady-node-c", "4606499160228025"),
];

/// The series about Qdrant, without the exporter's own (durations, ages, request counts, its process).
fn qdrant_series(exposition: &str) -> Vec<String> {
    exposition
        .lines()
        .filter(|line| line.starts_with("qdrant_") && !line.starts_with("qdrant_exporter_"))
        .map(str::to_owned)
        .collect()
}

fn family<'a>(series: &'a [String], name: &str) -> BTreeSet<&'a str> {
    let prefix = format!("{name}{{");
    series
        .iter()
        .filter(|line| line.starts_with(&prefix))
        .map(String::as_str)
        .collect()
}

/// The exporter in the cluster view, through the node recorded in `fixtures`,
/// every scrape refreshing.
async fn cluster_view_of(fixtures: &str) -> crate::helpers::TestApp {
    spawn_app_with(fixtures, |s| {
        s.cluster_view = Some(true);
        s.cache_ttl_seconds = Some(0.0);
    })
    .await
}

#[actix_web::test]
async fn the_answer_is_the_same_whichever_node_the_balancer_picks() {
    let app = cluster_view_of(NODES[0].0).await;
    app.mock
        .rotate_between(NODES.iter().map(|(dir, _)| fixture_dir(dir)).collect());
    let first = app.scrape_settled().await;
    let reference = qdrant_series(&first);
    for _ in 0..5 {
        // Each refresh's requests land on other nodes than the last one's did.
        assert_eq!(qdrant_series(&app.scrape().await), reference);
    }
    for collector in ["collections", "shards", "cluster", "peers", "issues"] {
        assert_eq!(collector_success(&first, collector), 1.0, "{collector}");
    }
    // What only the answering node knows is not passed off as the cluster's.
    for collector in ["segments", "snapshots", "optimizations"] {
        assert_eq!(collector_supported(&first, collector), 0.0, "{collector}");
    }
    assert!(!first.contains("qdrant_cluster_peer_info"));
    assert_eq!(value(&first, "qdrant_cluster_peers", ""), 3.0);
    let (_, leader) = NODES[0];
    assert_eq!(
        value(
            &first,
            "qdrant_cluster_leader",
            &format!(r#"peer_id="{leader}""#)
        ),
        1.0
    );
    assert_promtool_accepts(&first);
}

/// The same families and labels as the three sidecars' answers together, so
/// that the recording rules, alerts and dashboard serve either deployment.
#[actix_web::test]
async fn the_cluster_view_is_what_the_three_sidecars_report_together() {
    let app = spawn_app_with(NODES[1].0, |s| {
        s.cluster_view = Some(true);
        full_detail(s);
    })
    .await;
    let cluster = qdrant_series(&app.scrape().await);

    let mut sidecars = Vec::new();
    for (dir, peer) in NODES {
        let app = spawn_app_with(dir, full_detail).await;
        sidecars.push((peer, qdrant_series(&app.scrape().await)));
    }
    for name in [
        "qdrant_shard_local_points",
        "qdrant_shard_status",
        "qdrant_shard_replica_state",
        "qdrant_shard_vectors",
        "qdrant_collection_shard_number",
        "qdrant_collection_vector_info",
    ] {
        let union: BTreeSet<&str> = sidecars
            .iter()
            .flat_map(|(_, series)| family(series, name))
            .collect();
        assert!(!union.is_empty(), "{name}");
        assert_eq!(family(&cluster, name), union, "{name}");
    }
    // A per-node family without a peer label gets the peer it describes.
    for (peer, series) in &sidecars {
        for line in family(series, "qdrant_collection_local_data_bytes") {
            let labelled = line.replacen("\"}", &format!("\",peer_id=\"{peer}\"}}"), 1);
            assert!(
                cluster.contains(&labelled),
                "{labelled} missing from the cluster view"
            );
        }
    }
}

/// Every replica of the cluster (level 3, which costs the cluster most) is
/// asked for only when the collectors reading it are due; in between, the
/// peers' raft state comes from the default level, and the figures are the
/// same. The node-local collectors, unsupported here, make no read level 4.
#[actix_web::test]
async fn the_cluster_view_asks_for_every_replica_only_when_its_collectors_are_due() {
    let app = cluster_view_of(NODES[0].0).await;
    let queries = |path: &str| -> BTreeSet<String> {
        let requests = app.mock.requests().into_iter();
        requests
            .filter(|request| request.raw_path == path)
            .map(|request| request.query)
            .collect()
    };
    let first = app.scrape_settled().await;
    assert!(queries("/cluster/telemetry").contains("details_level=3"));
    assert_eq!(
        queries("/telemetry"),
        BTreeSet::from(["details_level=3".to_owned()])
    );
    app.mock.reset_requests();
    let later = app.scrape().await;
    // Counted as a list: one read a refresh, shared by every collector.
    let asked: Vec<String> = app
        .mock
        .requests()
        .into_iter()
        .filter(|request| request.raw_path == "/cluster/telemetry")
        .map(|request| request.query)
        .collect();
    assert_eq!(asked, [String::new()]);
    assert_eq!(qdrant_series(&later), qdrant_series(&first));
}

/// Refreshes, one after another, each read `/cluster/telemetry` once at
/// most: the peers collector reads the refresh's answer instead of asking
/// again (it used to, doubling what every peer answers).
#[actix_web::test]
async fn no_refresh_reads_the_cluster_telemetry_twice() {
    let app = cluster_view_of(NODES[0].0).await;
    app.scrape_settled().await;
    app.mock.reset_requests();
    const REFRESHES: usize = 6;
    for _ in 0..REFRESHES {
        assert_eq!(collector_success(&app.scrape().await, "peers"), 1.0);
    }
    let asked = app.mock.count("/cluster/telemetry");
    assert!(
        (1..=REFRESHES).contains(&asked),
        "{asked} reads in {REFRESHES} refreshes"
    );
}

/// How long a scrape may take while a peer hangs, and how long until the
/// hung peer reads unresponsive.
const SCRAPE_WITHIN: Duration = Duration::from_secs(2);
const UNRESPONSIVE_WITHIN: Duration = Duration::from_secs(15);

/// Scrapes `scrape` while a peer hangs (the recorded hang, replayed at its
/// recorded duration: Qdrant answers what asks every peer after 9.4 s):
/// every answer comes within 2 s, with `qdrant_up 1` and the collectors
/// `alone` (what the answering node gives by itself) successful, until the
/// hung peer reads unresponsive, within 15 s; that answer is returned.
pub async fn through_a_hung_peer<F, Fut>(mut scrape: F, alone: &[&str]) -> String
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let hung = format!(r#"peer_id="{}""#, crate::cluster::NODE_B);
    let started = Instant::now();
    loop {
        let asked = Instant::now();
        let m = scrape().await;
        assert!(
            asked.elapsed() < SCRAPE_WITHIN,
            "a scrape took {:?}",
            asked.elapsed()
        );
        assert_eq!(value(&m, "qdrant_up", ""), 1.0);
        for collector in alone {
            assert_eq!(collector_success(&m, collector), 1.0, "{collector}");
        }
        if crate::helpers::sample(&m, "qdrant_cluster_peer_responsive", &hung) == Some(0.0) {
            return m;
        }
        assert!(
            started.elapsed() < UNRESPONSIVE_WITHIN,
            "the hung peer never read unresponsive"
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The cluster view behind a balancer that reached a healthy node while
/// another peer hangs: it used to fail every refresh (9 s deadline, 9.4 s
/// answer) and read `qdrant_up 0` for the whole cluster.
#[actix_web::test]
async fn a_hung_peer_degrades_only_the_cluster_views_figures_that_need_it() {
    let app = cluster_view_of(&crate::cluster::stage("peer-b-stopped-node-a")).await;
    app.mock.replay_recorded_latency(1.0);
    let m = through_a_hung_peer(|| app.scrape(), &["issues", "quotas"]).await;
    assert!(m.contains("\nqdrant_collections "), "{m}");
    for collector in ["collections", "shards", "cluster", "peers"] {
        assert_eq!(collector_success(&m, collector), 1.0, "{collector}");
    }
}

/// The same through `/probe`, with a module that sets the cluster view.
#[actix_web::test]
async fn a_hung_peer_degrades_only_the_probed_cluster_views_figures_that_need_it() {
    let mock = mock_qdrant::MockQdrant::start(fixture_dir(&crate::cluster::stage(
        "peer-b-stopped-node-a",
    )))
    .unwrap();
    mock.replay_recorded_latency(1.0);
    let probe_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        probe_file.path(),
        format!(
            "allowed_targets: [{}]\nmodules:\n  view:\n    cluster_view: true\n",
            mock.url()
        ),
    )
    .unwrap();
    let path = probe_file.path().to_owned();
    let app = spawn_app_with(crate::helpers::RECORDED, move |s| {
        s.probe_config_file = Some(path);
    })
    .await;
    let probe = format!(
        "/probe?target={}&module=view",
        percent_encoding::utf8_percent_encode(&mock.url(), percent_encoding::NON_ALPHANUMERIC)
    );
    let scrape = || {
        let (app, probe) = (&app, &probe);
        async move {
            let response = app.get(probe).await;
            assert_eq!(response.status, 200, "{}", response.body);
            response.body
        }
    };
    through_a_hung_peer(scrape, &["issues", "quotas"]).await;
}

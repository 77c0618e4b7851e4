//! The alert rules on what the sidecars of a 3-node cluster serve at each
//! recorded stage, judged by the real `promtool test rules`: every problem of
//! the stage raises its alert once, with `namespace` and `job`, whichever
//! number of sidecars see it, and no other alert fires.

use std::collections::BTreeMap;

use mock_qdrant::Fault;

use crate::alerting::{assert_alerts, instance, Expected, Served};
use crate::cluster::{recorded, stage, NODE_B, NODE_C};
use crate::helpers::{spawn_app_with, TestApp};

/// The healthy cluster raises nothing, even after the longest `for`.
#[actix_web::test]
async fn a_healthy_cluster_raises_no_alert() {
    let answers = answers(&[
        ("a", stage("steady-node-a")),
        ("b", stage("steady-node-b")),
        ("c", stage("steady-node-c")),
    ])
    .await;
    assert_alerts("steady", &answers, 180, &[]);
}

/// `solo` moving from node c to node a: the target replica is Partial, the
/// source a proxy; node b is not part of it (its steady view). Nothing pages
/// while the transfer runs.
#[actix_web::test]
async fn a_shard_transfer_raises_no_alert() {
    let answers = answers(&[
        ("a", stage("transfer-target-node-a")),
        ("b", stage("steady-node-b")),
        ("c", stage("transfer-source-node-c")),
    ])
    .await;
    assert_alerts("transfer", &answers, 20, &[]);
}

/// Node b hung: its own sidecar cannot reach it, the leader reports it
/// unresponsive. Node c's view of this stage was not recorded: with no write
/// since b stopped, its shards and their replica states are its steady ones.
#[actix_web::test]
async fn a_hung_peer_raises_its_two_alerts_once() {
    let mut answers = answers(&[
        ("a", stage("peer-b-stopped-node-a")),
        ("c", stage("steady-node-c")),
    ])
    .await;
    let hung = sidecar_of_a_dead_qdrant(&stage("steady-node-b")).await;
    answers.insert("b".into(), Served::Steady(hung.scrape_settled().await));
    assert_alerts(
        "peer-b-stopped",
        &answers,
        10,
        &[
            Expected::new(
                "QdrantExporterCannotReachQdrant",
                &[("instance", &instance("b"))],
            ),
            Expected::new("QdrantPeerUnreachable", &[("peer_id", NODE_B)]),
        ],
    );
}

/// Node c killed, then a write: both survivors see its replicas Dead, and
/// each Dead replica pages once; the new leader reports c unresponsive.
#[actix_web::test]
async fn a_dead_peer_raises_each_alert_once() {
    let mut answers = answers(&[
        ("a", stage("peer-c-killed-node-a")),
        ("b", stage("peer-c-killed-node-b")),
    ])
    .await;
    let dead = sidecar_of_a_dead_qdrant(&stage("steady-node-c")).await;
    answers.insert("c".into(), Served::Steady(dead.scrape_settled().await));

    let mut dead_replicas = std::collections::BTreeSet::new();
    for node in ["a", "b"] {
        let cluster = recorded(
            &stage(&format!("peer-c-killed-node-{node}")),
            "collection-orders-cluster.json",
        );
        for shard in cluster["remote_shards"].as_array().unwrap() {
            if shard["state"] == "Dead" {
                dead_replicas.insert((shard["shard_id"].to_string(), shard["peer_id"].to_string()));
            }
        }
    }
    assert_eq!(dead_replicas.len(), 2, "c held two replicas of orders");
    let mut expected = vec![
        Expected::new(
            "QdrantExporterCannotReachQdrant",
            &[("instance", &instance("c"))],
        ),
        Expected::new("QdrantPeerUnreachable", &[("peer_id", NODE_C)]),
    ];
    for (shard_id, peer_id) in &dead_replicas {
        expected.push(Expected::new(
            "QdrantReplicaDead",
            &[
                ("collection", "orders"),
                ("shard_id", shard_id),
                ("peer_id", peer_id),
                ("state", "Dead"),
            ],
        ));
    }
    assert_alerts("peer-c-killed", &answers, 10, &expected);
    // Left so for 15 minutes, each shard c held a replica of is one failure
    // from loss, and says so once, whichever survivors see it.
    for (shard_id, _) in &dead_replicas {
        expected.push(Expected::new(
            "QdrantReplicationBelowTarget",
            &[("collection", "orders"), ("shard_id", shard_id)],
        ));
    }
    assert_alerts("peer-c-killed", &answers, 20, &expected);
}

/// The sidecar of a node whose own Qdrant is down.
async fn sidecar_of_a_dead_qdrant(fixtures: &str) -> TestApp {
    let app = spawn_app_with(fixtures, |s| {
        s.request_timeout_seconds = Some(0.2);
        s.refresh_timeout_seconds = Some(0.5);
    })
    .await;
    app.mock.fail_all(Fault::Hang);
    app
}

/// Each node's settled answer of a stage, served throughout, by node name.
async fn answers(nodes: &[(&str, String)]) -> BTreeMap<String, Served> {
    let mut answers = BTreeMap::new();
    for (node, fixtures) in nodes {
        let app = spawn_app_with(fixtures, |_| {}).await;
        answers.insert(node.to_string(), Served::Steady(app.scrape_settled().await));
    }
    answers
}

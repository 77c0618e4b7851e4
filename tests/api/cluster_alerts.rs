//! The alert rules (`charts/qdrant-exporter/files/alerts.yaml`) on what the
//! sidecars of a 3-node cluster serve at each recorded stage, judged by the
//! real `promtool test rules`: every problem of the stage raises its alert
//! once, with `namespace` and `job`, whichever number of sidecars see it, and
//! no other alert fires.

use std::collections::BTreeMap;
use std::process::Command;

use mock_qdrant::Fault;
use serde_json::{json, Value};

use crate::cluster::{recorded, stage, NODE_B, NODE_C};
use crate::helpers::{spawn_app_with, TestApp};
use crate::promql::{alerting_rules, RULES_PATH};

const NAMESPACE: &str = "qdrant";
const JOB: &str = "qdrant-exporter";

/// The alert that must fire: its name and the labels its expression gives.
struct Expected {
    alert: &'static str,
    labels: BTreeMap<String, String>,
}

impl Expected {
    fn new(alert: &'static str, labels: &[(&str, &str)]) -> Self {
        let labels = [("namespace", NAMESPACE), ("job", JOB)]
            .into_iter()
            .chain(labels.iter().copied())
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        Self { alert, labels }
    }
}

fn instance(node: &str) -> String {
    format!("qdrant-{node}:9999")
}

/// One sidecar's answer as promtool input series, each sample constant over
/// the test, with the labels Prometheus adds to a sidecar's target.
fn input_series(node: &str, exposition: &str, minutes: u32) -> Vec<Value> {
    let target = format!(
        r#"instance="{}",job="{JOB}",namespace="{NAMESPACE}""#,
        instance(node)
    );
    exposition
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            let value: f64 = value.parse().expect("a number");
            let series = match series.strip_suffix('}') {
                Some(labelled) => format!("{labelled},{target}}}"),
                None => format!("{series}{{{target}}}"),
            };
            json!({"series": series, "values": format!("{value}+0x{minutes}")})
        })
        .collect()
}

/// The annotations an alert with these labels carries: its templates only
/// read `$labels`, which is all this renders (anything else fails loudly).
fn rendered(annotations: &Value, labels: &BTreeMap<String, String>) -> Value {
    let mut out = serde_json::Map::new();
    for (name, template) in annotations.as_object().unwrap() {
        let mut text = template.as_str().unwrap().to_owned();
        for (label, value) in labels {
            text = text.replace(&format!("{{{{ $labels.{label} }}}}"), value);
        }
        assert!(
            !text.contains("{{"),
            "the test renders $labels only: {name}: {text}"
        );
        out.insert(name.clone(), Value::String(text));
    }
    Value::Object(out)
}

/// Runs promtool on the sidecars' answers: at `minutes`, exactly `expected`
/// fire, every other alert of the rules file is silent.
fn assert_alerts(
    stage_name: &str,
    answers: &BTreeMap<String, String>,
    minutes: u32,
    expected: &[Expected],
) {
    let rules = alerting_rules();
    for wanted in expected {
        assert!(
            rules.contains_key(wanted.alert),
            "no alert {}",
            wanted.alert
        );
    }
    let series: Vec<Value> = answers
        .iter()
        .flat_map(|(node, exposition)| input_series(node, exposition, minutes))
        .collect();
    let checks: Vec<Value> = rules
        .iter()
        .map(|(alert, (labels, annotations))| {
            let firing: Vec<Value> = expected
                .iter()
                .filter(|wanted| wanted.alert == alert)
                .map(|wanted| {
                    let mut all = wanted.labels.clone();
                    for (name, value) in labels.as_object().unwrap() {
                        all.insert(name.clone(), value.as_str().unwrap().to_owned());
                    }
                    json!({"exp_labels": all, "exp_annotations": rendered(annotations, &all)})
                })
                .collect();
            json!({"eval_time": format!("{minutes}m"), "alertname": alert, "exp_alerts": firing})
        })
        .collect();
    let test = json!({
        "rule_files": [RULES_PATH],
        "evaluation_interval": "1m",
        "tests": [{"name": stage_name, "interval": "1m", "input_series": series, "alert_rule_test": checks}],
    });
    let directory = tempfile::tempdir().unwrap();
    let test_file = directory.path().join(format!("{stage_name}.yaml"));
    std::fs::write(&test_file, test.to_string()).unwrap();
    let output = Command::new("promtool")
        .arg("test")
        .arg("rules")
        .arg(&test_file)
        .output()
        .expect("promtool is on PATH (the test command installs it: scripts/test.sh)");
    assert!(
        output.status.success(),
        "{stage_name}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

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
    answers.insert("b".into(), hung.scrape_settled().await);
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
    answers.insert("c".into(), dead.scrape_settled().await);

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

/// Each node's settled answer of a stage, by node name.
async fn answers(nodes: &[(&str, String)]) -> BTreeMap<String, String> {
    let mut answers = BTreeMap::new();
    for (node, fixtures) in nodes {
        let app = spawn_app_with(fixtures, |_| {}).await;
        answers.insert(node.to_string(), app.scrape_settled().await);
    }
    answers
}

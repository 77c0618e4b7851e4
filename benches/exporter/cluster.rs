//! A mock cluster of N nodes, a sidecar's exporter on each: what one round of
//! scrapes (every sidecar once) asks of the cluster, and the series it serves.

use std::time::Duration;

use mock_qdrant::MockQdrant;
use qdrant_exporter::QDRANT_ENDPOINTS;

use super::{serving, settle, Build, Exporter, FIXTURES, TELEMETRY_ON_EVERY_REFRESH};

const COLLECTIONS: usize = 200;
const SHARDS: u32 = 3;
const REPLICATION: usize = 2;

/// Whether Qdrant answers this request path by asking its peers.
fn asks_peers(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    QDRANT_ENDPOINTS.iter().any(|endpoint| {
        let template: Vec<&str> = endpoint.path.split('/').collect();
        endpoint.asks_peers
            && template.len() == segments.len()
            && template
                .iter()
                .zip(&segments)
                .all(|(want, got)| want.starts_with('{') || want == got)
    })
}

/// What the cluster did for one round: requests to the nodes, peer requests
/// they made for them, bytes of the answers.
#[derive(Default)]
struct Round {
    requests: usize,
    peer_requests: usize,
    bytes: u64,
}

/// Every sidecar scraped once; the bodies, and what it cost the cluster.
async fn round(mocks: &[MockQdrant], exporters: &[Exporter]) -> (Vec<bytes::Bytes>, Round) {
    for mock in mocks {
        mock.reset_requests();
    }
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(60))
        .finish();
    let mut bodies = Vec::new();
    for exporter in exporters {
        let url = format!("{}/metrics", exporter.url);
        bodies.push(serving::fetch_raw(&client, &url, None).await.1);
    }
    settle(&mocks.iter().collect::<Vec<_>>()).await;
    let others = mocks.len() - 1;
    let mut cost = Round::default();
    for mock in mocks {
        for request in mock.requests() {
            cost.requests += 1;
            if asks_peers(&request.raw_path) {
                cost.peer_requests += others;
            }
        }
        cost.bytes += mock.bytes_sent();
    }
    (bodies, cost)
}

fn series(body: &[u8]) -> usize {
    String::from_utf8_lossy(body)
        .lines()
        .filter(|line| !line.starts_with('#'))
        .count()
}

/// Rounds of scrapes on `nodes` mock nodes: the first (every collector with
/// an interval due), a later one (only those that run on every refresh), and
/// a later one that reads the telemetry (every 25 s by default: here its
/// collectors are set to run on every refresh).
pub async fn rounds(nodes: usize, build: &Build) {
    let peers: Vec<u64> = (0..nodes as u64).map(|n| 1_000 + n).collect();
    let mut mocks = Vec::new();
    for me in 0..nodes {
        let mock = MockQdrant::start(FIXTURES).expect("mock starts");
        mock.synthesize(COLLECTIONS);
        mock.place_shards(peers.clone(), me, SHARDS, REPLICATION);
        mocks.push(mock);
    }
    let exporters = start_on(&mocks, build, &[]).await;
    let (_, first) = round(&mocks, &exporters).await;
    let (bodies, later) = round(&mocks, &exporters).await;
    drop(exporters);
    let exporters = start_on(&mocks, build, &[TELEMETRY_ON_EVERY_REFRESH]).await;
    round(&mocks, &exporters).await;
    let (_, reading_telemetry) = round(&mocks, &exporters).await;
    let per_node: Vec<usize> = bodies.iter().map(|body| series(body)).collect();
    for (which, cost) in [
        ("first round", first),
        ("later round", later),
        ("later round reading the telemetry", reading_telemetry),
    ] {
        println!(
            "{:<10} cluster {nodes:>2} nodes, {COLLECTIONS} collections x {SHARDS} shards x {REPLICATION} replicas: \
             {which:<33} {:>6} requests (+{:>6} peer requests they cause, at most) {:>10} B",
            build.label, cost.requests, cost.peer_requests, cost.bytes
        );
    }
    println!(
        "{:<10} cluster {nodes:>2} nodes: series per node {per_node:?}, summed {}",
        build.label,
        per_node.iter().sum::<usize>()
    );
}

/// A sidecar's exporter on each mock node.
async fn start_on(mocks: &[MockQdrant], build: &Build, env: &[(&str, &str)]) -> Vec<Exporter> {
    let mut exporters = Vec::new();
    for mock in mocks {
        exporters.push(Exporter::start(build, &mock.url(), "0", env).await);
    }
    exporters
}

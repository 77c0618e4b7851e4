//! `mock-qdrant`: serve recorded Qdrant responses on a port, for the demo and manual testing.

use std::time::Duration;

use clap::Parser;
use mock_qdrant::{Fault, MockQdrant};

#[derive(Parser)]
#[command(about = "A mock Qdrant REST API serving recorded responses")]
struct Args {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:6333")]
    listen: String,
    /// Directory of recorded responses
    #[arg(long, default_value = "tests/fixtures/qdrant-v1.18.3")]
    fixtures: String,
    /// Serve this many synthetic collections instead of the recorded ones
    #[arg(long, conflicts_with = "collection_names_file")]
    collections: Option<usize>,
    /// Serve synthetic collections with the names in this JSON file (an array of strings)
    #[arg(long)]
    collection_names_file: Option<String>,
    /// Delay before every answer, in milliseconds
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Answer every request with a body that never ends (memory tests)
    #[arg(long)]
    endless: bool,
    /// Place the synthetic collections on a cluster of 3 peers, 3 shards
    /// each, 2 replicas, answering as its raft leader
    #[arg(long, requires = "collections")]
    cluster_leader: bool,
    /// The same cluster, answering as its node INDEX (0: the leader, 1 and 2: followers)
    #[arg(long, requires = "collections", value_name = "INDEX", conflicts_with = "cluster_leader",
          value_parser = clap::value_parser!(u8).range(0..3))]
    cluster_node: Option<u8>,
}

/// The peers of `--cluster-leader`.
const PEERS: [u64; 3] = [1001, 1002, 1003];

/// A key to require, as a Qdrant with an API key does; from the environment,
/// never from a flag, like every secret in this project.
const API_KEY_ENV: &str = "MOCK_QDRANT_API_KEY";

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let (mock, server) = MockQdrant::bind(&args.listen, &args.fixtures, None)?;
    if let Some(count) = args.collections {
        mock.synthesize(count);
    }
    if let Some(path) = args.collection_names_file {
        let names: Vec<String> = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        mock.synthesize_names(names);
    }
    mock.set_latency(Duration::from_millis(args.latency_ms));
    if let Some(me) = args.cluster_node.or(args.cluster_leader.then_some(0)) {
        mock.place_shards(PEERS.to_vec(), usize::from(me), 3, 2);
    }
    if args.endless {
        mock.fail_all(Fault::Endless);
    }
    mock.require_api_key(std::env::var(API_KEY_ENV).ok().as_deref());
    eprintln!("mock Qdrant serving {} on {}", args.fixtures, mock.url());
    server.await
}

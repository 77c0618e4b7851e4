//! The `shards` collector: `GET /collections/{name}/cluster` for every
//! collection. Replica states are this node's view of every replica in the
//! cluster; local-shard point counts are this node's own.

use std::time::Instant;

use prometheus::proto::MetricFamily;

use super::fan_out::fan_out;
use super::Output;
use crate::metrics::{bool_value, GaugeFamily};
use crate::qdrant::models::CollectionClusterInfo;
use crate::qdrant::QdrantClient;

/// Every replica state Qdrant defines (v1.18), in the order they are exported.
pub const REPLICA_STATES: [&str; 11] = [
    "Active",
    "Dead",
    "Partial",
    "Initializing",
    "Listener",
    "PartialSnapshot",
    "Recovery",
    "Resharding",
    "ReshardingScaleDown",
    "ActiveRead",
    "ManualRecovery",
];
/// The state-set member that is 1 when Qdrant reports a state not in [`REPLICA_STATES`].
pub const UNKNOWN_STATE: &str = "Unknown";

pub async fn collect(client: &QdrantClient, names: &[String], deadline: Instant) -> Output {
    let fetched = fan_out(names, deadline, |name| client.collection_cluster(name)).await;
    Output {
        families: families(&fetched.fetched),
        failure: fetched.failure("shard info"),
        ..Output::default()
    }
}

fn families(collections: &[(&str, CollectionClusterInfo)]) -> Vec<MetricFamily> {
    let mut replica_state = GaugeFamily::new(
        "qdrant_shard_replica_state",
        &format!(
            "State of each shard replica, as a state set over Qdrant's replica states; \
             state=\"{UNKNOWN_STATE}\" is 1 for a state this exporter does not know. This node's view of all peers."
        ),
    );
    let mut local_points = GaugeFamily::new(
        "qdrant_shard_local_points",
        "Points in each shard replica held by this node. Per node: sum over nodes for the replicas' total.",
    );
    let mut transfers = GaugeFamily::new(
        "qdrant_collection_shard_transfers",
        "Shard transfers of the collection in progress.",
    );
    let mut resharding = GaugeFamily::new(
        "qdrant_collection_resharding_operations",
        "Resharding operations of the collection in progress.",
    );

    for (collection, info) in collections {
        let own_peer = info.peer_id.to_string();
        let replicas = info
            .local_shards
            .iter()
            .map(|shard| (shard.shard_id, own_peer.clone(), shard.state.as_str()))
            .chain(info.remote_shards.iter().map(|shard| {
                (
                    shard.shard_id,
                    shard.peer_id.to_string(),
                    shard.state.as_str(),
                )
            }));
        for (shard_id, peer_id, state) in replicas {
            let shard_id = shard_id.to_string();
            let known = REPLICA_STATES.contains(&state);
            for member in REPLICA_STATES.iter().chain([&UNKNOWN_STATE]) {
                let value = if known {
                    *member == state
                } else {
                    *member == UNKNOWN_STATE
                };
                replica_state.push(
                    &[
                        ("collection", collection),
                        ("shard_id", &shard_id),
                        ("peer_id", &peer_id),
                        ("state", member),
                    ],
                    bool_value(value),
                );
            }
        }
        for shard in &info.local_shards {
            local_points.push_some(
                &[
                    ("collection", collection),
                    ("shard_id", &shard.shard_id.to_string()),
                    ("peer_id", &own_peer),
                ],
                shard.points_count,
            );
        }
        let collection = [("collection", *collection)];
        transfers.push(&collection, info.shard_transfers.len() as f64);
        resharding.push(
            &collection,
            info.resharding_operations.as_ref().map_or(0, Vec::len) as f64,
        );
    }
    [replica_state, local_points, transfers, resharding]
        .into_iter()
        .map(GaugeFamily::finish)
        .collect()
}

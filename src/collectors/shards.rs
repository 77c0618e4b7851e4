//! The `shards` collector: where the replicas are and in what state, from the
//! shared telemetry. For each shard this node holds a replica of: the state
//! of every replica (this node's view), and this node's point count. Per
//! collection: transfers and resharding in progress.
//!
//! Series grow with this node's local replicas: a shard with no replica here
//! is reported by the nodes that hold one. Where telemetry cannot serve, it
//! falls back to `GET /collections/{name}/cluster` per collection, which
//! reports every replica the node knows of.

use crate::metrics::Family;
use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::fan_out::fan_out;
use super::{cluster_view, Collector, Context, Output, Selected};
use crate::metrics::{bool_value, GaugeFamily};
use crate::qdrant::models::CollectionClusterInfo;

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

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    if let Some(view) = ctx.cluster_view {
        return futures_util::future::ready(cluster_view::shards(ctx, view)).boxed_local();
    }
    ctx.telemetry_or_per_collection(Collector::Shards, from_telemetry, || per_collection(ctx))
        .boxed_local()
}

/// One replica's state as a state set over [`REPLICA_STATES`] and [`UNKNOWN_STATE`].
pub fn push_replica_state(
    family: &mut GaugeFamily,
    collection: &str,
    shard_id: &str,
    peer_id: &str,
    state: &str,
) {
    let known = REPLICA_STATES.contains(&state);
    for member in REPLICA_STATES.iter().chain([&UNKNOWN_STATE]) {
        let value = if known {
            *member == state
        } else {
            *member == UNKNOWN_STATE
        };
        family.push(
            &[
                ("collection", collection),
                ("shard_id", shard_id),
                ("peer_id", peer_id),
                ("state", member),
            ],
            bool_value(value),
        );
    }
}

/// The families of both paths, filled the same way.
struct Families {
    replica_state: GaugeFamily,
    local_points: GaugeFamily,
    transfers: GaugeFamily,
    resharding: GaugeFamily,
}

impl Families {
    fn new(replicas_reported: &str) -> Self {
        Self {
            replica_state: GaugeFamily::new(
                "qdrant_shard_replica_state",
                &format!(
                    "State of each shard replica, as a state set over Qdrant's replica states; \
                     state=\"{UNKNOWN_STATE}\" is 1 for a state this exporter does not know. \
                     This node's view of {replicas_reported}."
                ),
            ),
            local_points: GaugeFamily::new(
                "qdrant_shard_local_points",
                "Points in each shard replica held by this node. Per node: the recording rules derive collection totals.",
            ),
            transfers: GaugeFamily::new(
                "qdrant_collection_shard_transfers",
                "Shard transfers of the collection in progress, as this node knows them.",
            ),
            resharding: GaugeFamily::new(
                "qdrant_collection_resharding_operations",
                "Resharding operations of the collection in progress, as this node knows them.",
            ),
        }
    }

    fn replica(&mut self, collection: &str, shard_id: &str, peer_id: &str, state: &str) {
        push_replica_state(
            &mut self.replica_state,
            collection,
            shard_id,
            peer_id,
            state,
        );
    }

    fn finish(self) -> Vec<Family> {
        [
            self.replica_state,
            self.local_points,
            self.transfers,
            self.resharding,
        ]
        .into_iter()
        .map(GaugeFamily::finish)
        .collect()
    }
}

pub fn from_telemetry(selected: &Selected) -> Result<Vec<Family>, &'static str> {
    let own_peer = selected
        .own_peer_id()
        .ok_or("telemetry does not say this node's peer id")?
        .to_string();
    let mut families = Families::new("every replica of the shards it holds a replica of");
    for collection in &selected.collections {
        let name = collection.id.as_str();
        let shards = collection
            .shards
            .as_ref()
            .ok_or("telemetry lists no shards (details level below 3)")?;
        for shard in shards {
            let Some(local) = &shard.local else { continue };
            let shard_id = shard.id.to_string();
            let states = shard
                .replicate_states
                .as_ref()
                .ok_or("telemetry lacks replica states (details level below 3)")?;
            for (peer_id, state) in states {
                families.replica(name, &shard_id, peer_id, state);
            }
            // A replica being recovered is a placeholder that holds no points yet.
            let points = match local.num_points {
                Some(points) => points,
                None if local.is_dummy() => 0,
                None => {
                    return Err("telemetry lacks local shard point counts (Qdrant before 1.15)")
                }
            };
            families.local_points.push(
                &[
                    ("collection", name),
                    ("shard_id", &shard_id),
                    ("peer_id", &own_peer),
                ],
                points as f64,
            );
        }
        let transfers = collection
            .transfers
            .as_ref()
            .ok_or("telemetry lacks shard transfers (details level below 3)")?;
        let labels = [("collection", name)];
        families.transfers.push(&labels, transfers.len() as f64);
        families.resharding.push(
            &labels,
            collection.resharding.as_ref().map_or(0, Vec::len) as f64,
        );
    }
    let mut families = families.finish();
    families.push(local_data_bytes(selected));
    Ok(families)
}

/// Bytes of vectors and payloads in this node's shards, per collection: free
/// with the telemetry (Qdrant 1.15 and later, as the point counts above).
fn local_data_bytes(selected: &Selected) -> Family {
    let mut bytes = GaugeFamily::new(
        "qdrant_collection_local_data_bytes",
        "Bytes of vectors and payloads in this node's shards of the collection, by kind. Per node.",
    );
    for collection in &selected.collections {
        let locals = collection
            .shards
            .iter()
            .flatten()
            .filter_map(|shard| shard.local.as_ref())
            .filter(|local| !local.is_dummy());
        let (mut vectors, mut payloads) = (0, 0);
        for local in locals {
            vectors += local.vectors_size_bytes.unwrap_or(0);
            payloads += local.payloads_size_bytes.unwrap_or(0);
        }
        for (kind, value) in [("vectors", vectors), ("payloads", payloads)] {
            bytes.push(
                &[("collection", &collection.id), ("kind", kind)],
                value as f64,
            );
        }
    }
    bytes.finish()
}

/// The fallback: `GET /collections/{name}/cluster` for every collection.
async fn per_collection(ctx: &Context<'_>) -> Output {
    let fetched = fan_out(ctx.selected, ctx.deadline, |name| {
        ctx.client.collection_cluster(name)
    })
    .await;
    Output {
        families: cluster_info_families(&fetched.fetched),
        failure: fetched.failure("shard info"),
        ..Output::default()
    }
}

pub fn cluster_info_families(collections: &[(&str, CollectionClusterInfo)]) -> Vec<Family> {
    let mut families = Families::new("all peers");
    for (collection, info) in collections {
        let own_peer = info.peer_id.to_string();
        for shard in &info.local_shards {
            families.replica(
                collection,
                &shard.shard_id.to_string(),
                &own_peer,
                &shard.state,
            );
        }
        for shard in &info.remote_shards {
            families.replica(
                collection,
                &shard.shard_id.to_string(),
                &shard.peer_id.to_string(),
                &shard.state,
            );
        }
        for shard in &info.local_shards {
            families.local_points.push_some(
                &[
                    ("collection", collection),
                    ("shard_id", &shard.shard_id.to_string()),
                    ("peer_id", &own_peer),
                ],
                shard.points_count,
            );
        }
        let collection = [("collection", *collection)];
        families
            .transfers
            .push(&collection, info.shard_transfers.len() as f64);
        families.resharding.push(
            &collection,
            info.resharding_operations.as_ref().map_or(0, Vec::len) as f64,
        );
    }
    families.finish()
}

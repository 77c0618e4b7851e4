//! The cluster view (`cluster_view`): the whole cluster read through whichever
//! node answers, for a URL behind a load balancer. `GET /cluster/telemetry?
//! details_level=3` carries every replica of every shard and every peer's raft
//! state as the peers report them, so the answer is the same whichever node
//! the balancer picked. The families and labels are the sidecars' (each
//! node-level series labelled with the peer it describes), so the recording
//! rules, alerts and dashboard serve either deployment unchanged.

use std::collections::BTreeMap;

use super::collections::{config_families, push_status, push_vectors, UNNAMED_VECTOR};
use super::shards::push_replica_state;
use super::{cluster, Context, Failure, Output};
use crate::metrics::{bool_value, Family, GaugeFamily};
use crate::qdrant::models::{ClusterCollectionTelemetry, ClusterTelemetry, CollectionConfig};
use crate::qdrant::QdrantError;

/// The exported collections' replicas, sorted by collection name.
fn exported<'v>(
    ctx: &Context<'_>,
    view: &'v ClusterTelemetry,
) -> Vec<(&'v str, &'v ClusterCollectionTelemetry)> {
    view.collections
        .iter()
        // `selected` is sorted by name.
        .filter(|(name, _)| {
            ctx.selected
                .binary_search_by(|selected| selected.as_str().cmp(name.as_str()))
                .is_ok()
        })
        .map(|(name, collection)| (name.as_str(), collection))
        .collect()
}

fn failed(error: &QdrantError) -> Output {
    let message = format!("cannot read the cluster through GET /cluster/telemetry: {error}");
    Output::failed(Failure::from_error(error, message))
}

/// `collections`: every replica's status and vectors, and the configuration
/// (cluster-wide, from the answering node's telemetry).
pub fn collections(ctx: &Context<'_>, view: Result<&ClusterTelemetry, &QdrantError>) -> Output {
    let view = match view {
        Ok(view) => view,
        Err(error) => return failed(error),
    };
    let mut status = GaugeFamily::new(
        "qdrant_shard_status",
        "Status of each replica of the shard as a state set (green, yellow, grey, red), \
         as the peer holding it reports; all 0 for a status this exporter does not know.",
    );
    let mut vectors = GaugeFamily::new(
        "qdrant_shard_vectors",
        &format!(
            "Vectors in each replica of the shard, by vector name; \
             vector=\"{UNNAMED_VECTOR}\" is the unnamed vector."
        ),
    );
    for (name, collection) in exported(ctx, view) {
        for shard in &collection.shards {
            let shard_id = shard.id.to_string();
            for replica in &shard.replicas {
                let peer_id = replica.peer_id.to_string();
                let labels = [
                    ("collection", name),
                    ("shard_id", shard_id.as_str()),
                    ("peer_id", peer_id.as_str()),
                ];
                if let Some(replica_status) = replica.status {
                    push_status(&mut status, &labels, replica_status);
                }
                push_vectors(&mut vectors, &labels, replica.num_vectors_by_name.as_ref());
            }
        }
    }
    let mut families = vec![status.finish(), vectors.finish()];
    match &ctx.telemetry {
        Some(Ok(selected)) => {
            let configs: Vec<(&str, &CollectionConfig)> = selected
                .collections
                .iter()
                .filter_map(|c| Some((c.id.as_str(), c.config.as_ref()?)))
                .collect();
            families.extend(config_families(&configs));
        }
        Some(Err(error)) => {
            let message = format!("the collection configuration cannot be read: {error}");
            return Output {
                families,
                failure: Some(Failure::from_error(error, message)),
                ..Output::default()
            };
        }
        None => {}
    }
    Output::families(families)
}

/// `shards`: every replica's state and points, each peer's bytes per
/// collection, and the transfers and resharding the cluster agreed on.
pub fn shards(ctx: &Context<'_>, view: Result<&ClusterTelemetry, &QdrantError>) -> Output {
    let view = match view {
        Ok(view) => view,
        Err(error) => return failed(error),
    };
    let mut replica_state = GaugeFamily::new(
        "qdrant_shard_replica_state",
        "State of each replica of the shard as a state set over Qdrant's replica states; \
         state=\"Unknown\" is 1 for a state this exporter does not know.",
    );
    let mut local_points = GaugeFamily::new(
        "qdrant_shard_local_points",
        "Points in each replica of the shard, as the peer holding it reports; absent while it reports none (being recovered).",
    );
    let mut bytes = GaugeFamily::new(
        "qdrant_collection_local_data_bytes",
        "Bytes of vectors and payloads in each peer's replicas of the collection, by kind.",
    );
    for (name, collection) in exported(ctx, view) {
        // peer → (vector bytes, payload bytes)
        let mut per_peer: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for shard in &collection.shards {
            let shard_id = shard.id.to_string();
            for replica in &shard.replicas {
                let peer_id = replica.peer_id.to_string();
                push_replica_state(
                    &mut replica_state,
                    name,
                    &shard_id,
                    &peer_id,
                    &replica.state,
                );
                local_points.push_some(
                    &[
                        ("collection", name),
                        ("shard_id", &shard_id),
                        ("peer_id", &peer_id),
                    ],
                    replica.num_points,
                );
                let sums = per_peer.entry(peer_id).or_default();
                sums.0 += replica.vectors_size_bytes.unwrap_or(0);
                sums.1 += replica.payloads_size_bytes.unwrap_or(0);
            }
        }
        for (peer_id, (vectors, payloads)) in per_peer {
            for (kind, value) in [("vectors", vectors), ("payloads", payloads)] {
                bytes.push(
                    &[("collection", name), ("kind", kind), ("peer_id", &peer_id)],
                    value as f64,
                );
            }
        }
    }
    let mut families = vec![
        replica_state.finish(),
        local_points.finish(),
        bytes.finish(),
    ];
    // Transfers and resharding are consensus state: every node knows all of them.
    if let Some(Ok(selected)) = &ctx.telemetry {
        let mut transfers = GaugeFamily::new(
            "qdrant_collection_shard_transfers",
            "Shard transfers of the collection in progress.",
        );
        let mut resharding = GaugeFamily::new(
            "qdrant_collection_resharding_operations",
            "Resharding operations of the collection in progress.",
        );
        for collection in &selected.collections {
            let labels = [("collection", collection.id.as_str())];
            transfers.push_some(
                &labels,
                collection.transfers.as_ref().map(|t| t.len() as u64),
            );
            resharding.push(
                &labels,
                collection.resharding.as_ref().map_or(0, Vec::len) as f64,
            );
        }
        families.extend([transfers.finish(), resharding.finish()]);
    }
    Output::families(families)
}

/// `cluster`: each peer's raft state as it reports it, and whether the
/// answering node reaches it.
pub fn cluster(view: Result<&ClusterTelemetry, &QdrantError>) -> Output {
    let view = match view {
        Ok(view) => view,
        Err(error) => return failed(error),
    };
    let peers = &view.cluster.peers;
    let per_peer =
        |name: &str,
         help: &str,
         value: &dyn Fn(&crate::qdrant::models::PeerDetails) -> Option<f64>| {
            let mut family = GaugeFamily::new(name, help);
            for (peer_id, peer) in peers {
                if let Some(value) = peer.details.as_ref().and_then(value) {
                    family.push(&[("peer_id", peer_id)], value);
                }
            }
            family.finish()
        };
    let mut responsive = GaugeFamily::new(
        "qdrant_cluster_peer_responsive",
        "1 when the answering node reaches the peer, 0 when it cannot.",
    );
    let mut role = GaugeFamily::new(
        "qdrant_cluster_role",
        "Each peer's raft role as a state set (Leader, Follower, Candidate, PreCandidate), as it reports.",
    );
    let mut consensus = GaugeFamily::new(
        "qdrant_cluster_consensus_thread_status",
        "State of each peer's consensus thread as a state set (working, stopped, stopped_with_err).",
    );
    let mut leader_known = false;
    for (peer_id, peer) in peers {
        responsive.push(&[("peer_id", peer_id)], bool_value(peer.responsive));
        let Some(details) = &peer.details else {
            continue;
        };
        leader_known |= details.role.as_deref() == Some("Leader");
        for member in cluster::ROLES {
            role.push(
                &[("peer_id", peer_id), ("role", member)],
                bool_value(details.role.as_deref() == Some(member)),
            );
        }
        let thread = details.consensus_thread_status.as_ref();
        for member in cluster::CONSENSUS_STATES {
            let current = thread.is_some_and(|t| t.consensus_thread_status == member);
            consensus.push(
                &[("peer_id", peer_id), ("status", member)],
                bool_value(current),
            );
        }
    }
    let families: Vec<Family> = vec![
        GaugeFamily::single(
            "qdrant_cluster_enabled",
            "1 when Qdrant runs in distributed (cluster) mode.",
            1.0,
        ),
        GaugeFamily::single(
            "qdrant_cluster_peers",
            "Peers in the cluster.",
            peers.len() as f64,
        ),
        GaugeFamily::single(
            "qdrant_cluster_leader_known",
            "1 when some peer reports itself the raft leader; 0 during an election.",
            bool_value(leader_known),
        ),
        per_peer(
            "qdrant_cluster_term",
            "Raft term each peer reports.",
            &|d| d.term.map(|v| v as f64),
        ),
        per_peer(
            "qdrant_cluster_commit",
            "Index of the last raft operation each peer committed.",
            &|d| d.commit.map(|v| v as f64),
        ),
        per_peer(
            "qdrant_cluster_pending_operations",
            "Raft operations waiting to be applied on each peer.",
            &|d| d.num_pending_operations.map(|v| v as f64),
        ),
        per_peer(
            "qdrant_cluster_leader",
            "1 for the peer that reports itself the raft leader.",
            &|d| Some(bool_value(d.role.as_deref() == Some("Leader"))),
        ),
        per_peer(
            "qdrant_cluster_voter",
            "1 for each peer that is a raft voter.",
            &|d| d.is_voter.map(bool_value),
        ),
        responsive.finish(),
        role.finish(),
        consensus.finish(),
    ];
    Output::families(families)
}

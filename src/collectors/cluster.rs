//! The `cluster` collector: `GET /cluster` (fetched with the listing, since the
//! leader-only setting needs it too) and, in cluster mode, `GET /cluster/telemetry`
//! for the one direct signal of an unreachable peer. All figures are this node's.

use std::time::SystemTime;

use crate::metrics::Family;
use chrono::DateTime;
use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::{Context, Failure, Output};
use crate::metrics::{bool_value, GaugeFamily};
use crate::qdrant::models::{ClusterInfo, EnabledCluster};
use crate::qdrant::QdrantError;

pub const ROLES: [&str; 4] = ["Leader", "Follower", "Candidate", "PreCandidate"];
pub const CONSENSUS_STATES: [&str; 3] = ["working", "stopped", "stopped_with_err"];

/// Whether this node is the raft leader; a single node counts as its own leader.
pub fn is_leader(cluster: &ClusterInfo) -> bool {
    match cluster {
        ClusterInfo::Enabled(cluster) => leads(cluster),
        ClusterInfo::Disabled | ClusterInfo::Unknown => true,
    }
}

fn leads(cluster: &EnabledCluster) -> bool {
    cluster.raft_info.leader == Some(cluster.peer_id)
}

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    if let Some(view) = ctx.cluster_view {
        return futures_util::future::ready(super::cluster_view::cluster(view)).boxed_local();
    }
    cluster(ctx).boxed_local()
}

async fn cluster(ctx: &Context<'_>) -> Output {
    let cluster = match ctx.cluster {
        Ok(cluster) => cluster,
        Err(error) => {
            let message = format!("cannot read cluster status: {error}");
            return Output {
                failure: Some(Failure::from_error(error, message)),
                ..Output::default()
            };
        }
    };
    let enabled = GaugeFamily::single(
        "qdrant_cluster_enabled",
        "1 when Qdrant runs in distributed (cluster) mode.",
        bool_value(matches!(cluster, ClusterInfo::Enabled(_))),
    );
    let ClusterInfo::Enabled(cluster) = cluster else {
        return Output {
            families: vec![enabled],
            ..Output::default()
        };
    };
    let mut families = vec![enabled];
    families.extend(raft_families(cluster));

    // Unreachable peers: /cluster/telemetry exists from Qdrant 1.17 on; older ones answer 404.
    let mut failure = None;
    match ctx.client.cluster_telemetry().await {
        Ok(telemetry) => {
            let mut responsive = GaugeFamily::new(
                "qdrant_cluster_peer_responsive",
                "1 when this node can reach the peer, 0 when it cannot (from /cluster/telemetry, Qdrant 1.17+).",
            );
            for (peer_id, peer) in &telemetry.cluster.peers {
                responsive.push(&[("peer_id", peer_id)], bool_value(peer.responsive));
            }
            families.push(responsive.finish());
        }
        Err(QdrantError::NotFound) => {}
        Err(error) => {
            let message = format!("cannot read cluster telemetry: {error}");
            failure = Some(Failure::from_error(&error, message));
        }
    }
    Output {
        families,
        failure,
        ..Output::default()
    }
}

fn raft_families(cluster: &EnabledCluster) -> Vec<Family> {
    let raft = &cluster.raft_info;
    let peer_id = cluster.peer_id.to_string();
    let mut this_peer = GaugeFamily::new(
        "qdrant_cluster_peer_info",
        "This node's raft peer id. Always 1.",
    );
    this_peer.push(&[("peer_id", &peer_id)], 1.0);

    let mut role = GaugeFamily::new(
        "qdrant_cluster_role",
        "This node's raft role as a state set (Leader, Follower, Candidate, PreCandidate).",
    );
    for member in ROLES {
        role.push(
            &[("role", member)],
            bool_value(raft.role.as_deref() == Some(member)),
        );
    }
    let thread = cluster.consensus_thread_status.as_ref();
    let mut consensus = GaugeFamily::new(
        "qdrant_cluster_consensus_thread_status",
        "State of this node's consensus thread as a state set (working, stopped, stopped_with_err).",
    );
    for member in CONSENSUS_STATES {
        let current = thread.is_some_and(|t| t.consensus_thread_status == member);
        consensus.push(&[("status", member)], bool_value(current));
    }
    let mut last_update_age = GaugeFamily::new(
        "qdrant_cluster_consensus_last_update_age_seconds",
        "Seconds since the consensus thread last reported progress, at refresh time.",
    );
    if let Some(age) = thread
        .and_then(|t| t.last_update.as_deref())
        .and_then(seconds_since)
    {
        last_update_age.push(&[], age);
    }
    // Keyed by p2p URI; resolved to a peer id through the peer list where possible.
    let mut send_failures = GaugeFamily::new(
        "qdrant_cluster_message_send_failures",
        "Raft messages this node failed to send to the peer (reported by the sending node only: the leader or a candidate).",
    );
    for (uri, failures) in &cluster.message_send_failures {
        let peer = cluster
            .peers
            .iter()
            .find(|(_, p)| p.uri == *uri)
            .map_or("unknown", |(id, _)| id.as_str());
        send_failures.push(
            &[("peer_id", peer), ("peer_uri", uri)],
            failures.count as f64,
        );
    }
    let leader_known = raft.leader.is_some_and(|leader| leader != 0);

    vec![
        this_peer.finish(),
        GaugeFamily::single(
            "qdrant_cluster_peers",
            "Peers in the cluster, as this node knows them.",
            cluster.peers.len() as f64,
        ),
        GaugeFamily::single(
            "qdrant_cluster_term",
            "Raft term seen by this node.",
            raft.term as f64,
        ),
        GaugeFamily::single(
            "qdrant_cluster_commit",
            "Index of the last raft operation this node committed.",
            raft.commit as f64,
        ),
        GaugeFamily::single(
            "qdrant_cluster_pending_operations",
            "Raft operations waiting to be applied on this node.",
            raft.pending_operations as f64,
        ),
        GaugeFamily::single(
            "qdrant_cluster_leader",
            "1 when this node is the raft leader.",
            bool_value(leads(cluster)),
        ),
        GaugeFamily::single(
            "qdrant_cluster_leader_known",
            "1 when this node knows a raft leader; 0 during an election.",
            bool_value(leader_known),
        ),
        GaugeFamily::single(
            "qdrant_cluster_voter",
            "1 when this node is a raft voter.",
            bool_value(raft.is_voter.unwrap_or(false)),
        ),
        role.finish(),
        consensus.finish(),
        last_update_age.finish(),
        send_failures.finish(),
    ]
}

fn seconds_since(rfc3339: &str) -> Option<f64> {
    let then = DateTime::parse_from_rfc3339(rfc3339).ok()?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?;
    let then_seconds = then.timestamp() as f64 + f64::from(then.timestamp_subsec_nanos()) / 1e9;
    Some((now.as_secs_f64() - then_seconds).max(0.0))
}

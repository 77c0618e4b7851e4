//! The `cluster` collector: this node's raft state, from `GET /cluster`
//! (which every refresh reads: it says whether this node is the raft leader,
//! the cluster's reporter). In the cluster view, each peer's raft state as it
//! reports it, from `GET /cluster/telemetry`, labelled with the peer it describes.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::Context;
use super::failure::Failure;
use super::output::Output;
use super::timestamps::seconds_since;
use crate::metrics::label::PEER_ID;
use crate::metrics::{bool_value, Family, FamilySpec, GaugeFamily};
use crate::qdrant::models::{ClusterInfo, ClusterTelemetry, EnabledCluster, PeerDetails};
use crate::qdrant::QdrantError;

const ROLES: [&str; 4] = ["Leader", "Follower", "Candidate", "PreCandidate"];
const CONSENSUS_STATES: [&str; 3] = ["working", "stopped", "stopped_with_err"];

static ENABLED: FamilySpec = FamilySpec::gauge(
    "qdrant_cluster_enabled",
    &[],
    "1 when Qdrant runs in distributed (cluster) mode.",
);
static PEER_INFO: FamilySpec = FamilySpec::gauge(
    "qdrant_cluster_peer_info",
    &[PEER_ID],
    "This node's raft peer id. Always 1.",
);
static PEERS: FamilySpec = FamilySpec::gauge(
    "qdrant_cluster_peers",
    &[],
    "Peers in the cluster, as this node knows them.",
);
static TERM: FamilySpec =
    FamilySpec::gauge("qdrant_cluster_term", &[], "Raft term the peer reports.");
static COMMIT: FamilySpec = FamilySpec::gauge(
    "qdrant_cluster_commit",
    &[],
    "Index of the last raft operation the peer committed.",
);
static PENDING_OPERATIONS: FamilySpec = FamilySpec::gauge(
    "qdrant_cluster_pending_operations",
    &[],
    "Raft operations waiting to be applied on the peer.",
);
static LEADER: FamilySpec = FamilySpec::gauge(
    "qdrant_cluster_leader",
    &[],
    "1 when the peer is the raft leader.",
);
static LEADER_KNOWN: FamilySpec = FamilySpec::gauge(
    "qdrant_cluster_leader_known",
    &[],
    "1 when a raft leader is known; 0 during an election.",
);
static VOTER: FamilySpec = FamilySpec::gauge(
    "qdrant_cluster_voter",
    &[],
    "1 when the peer is a raft voter.",
);
static ROLE: FamilySpec = FamilySpec::gauge(
    "qdrant_cluster_role",
    &["role"],
    "The peer's raft role as a state set (Leader, Follower, Candidate, PreCandidate).",
);
static CONSENSUS_THREAD: FamilySpec = FamilySpec::gauge(
    "qdrant_cluster_consensus_thread_status",
    &["status"],
    "State of the peer's consensus thread as a state set (working, stopped, stopped_with_err).",
);
static LAST_UPDATE_AGE: FamilySpec = FamilySpec::gauge(
    "qdrant_cluster_consensus_last_update_age_seconds",
    &[],
    "Seconds since the consensus thread last reported progress, at refresh time.",
);
static SEND_FAILURES: FamilySpec = FamilySpec::gauge(
    "qdrant_cluster_message_send_failures",
    &[PEER_ID, "peer_uri"],
    "Raft messages this node failed to send to the peer (reported by the sending node only: the leader or a candidate).",
);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] = &[
    &ENABLED,
    &PEER_INFO,
    &PEERS,
    &TERM,
    &COMMIT,
    &PENDING_OPERATIONS,
    &LEADER,
    &LEADER_KNOWN,
    &VOTER,
    &ROLE,
    &CONSENSUS_THREAD,
    &LAST_UPDATE_AGE,
    &SEND_FAILURES,
];

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    let output = match ctx.cluster_view {
        Some(view) => cluster_view(view),
        None => cluster(ctx),
    };
    futures_util::future::ready(output).boxed_local()
}

fn cluster(ctx: &Context<'_>) -> Output {
    let cluster = match ctx.cluster {
        Ok(cluster) => cluster,
        Err(error) => {
            let message = format!("cannot read cluster status: {error}");
            return Output::failed(Failure::from_error(error, message));
        }
    };
    let enabled = GaugeFamily::single(
        &ENABLED,
        bool_value(matches!(cluster, ClusterInfo::Enabled(_))),
    );
    let ClusterInfo::Enabled(cluster) = cluster else {
        return Output::families(vec![enabled]);
    };
    let mut families = vec![enabled];
    families.extend(raft_families(cluster));
    Output::families(families)
}

/// A state set: 1 for the member `current` is, 0 for the others.
fn push_state_set(
    family: &mut GaugeFamily,
    labels: &[(&str, &str)],
    label: &str,
    members: &[&str],
    current: Option<&str>,
) {
    for member in members {
        let mut labels = labels.to_vec();
        labels.push((label, member));
        family.push(&labels, bool_value(current == Some(*member)));
    }
}

fn raft_families(cluster: &EnabledCluster) -> Vec<Family> {
    let raft = &cluster.raft_info;
    let peer_id = cluster.peer_id.to_string();
    let mut this_peer = GaugeFamily::new(&PEER_INFO);
    this_peer.push(&[(PEER_ID, &peer_id)], 1.0);

    let mut role = GaugeFamily::new(&ROLE);
    push_state_set(&mut role, &[], "role", &ROLES, raft.role.as_deref());
    let thread = cluster.consensus_thread_status.as_ref();
    let mut consensus = GaugeFamily::new(&CONSENSUS_THREAD);
    push_state_set(
        &mut consensus,
        &[],
        "status",
        &CONSENSUS_STATES,
        thread.map(|t| t.consensus_thread_status.as_str()),
    );
    let mut last_update_age = GaugeFamily::new(&LAST_UPDATE_AGE);
    if let Some(age) = thread
        .and_then(|t| t.last_update.as_deref())
        .and_then(seconds_since)
    {
        last_update_age.push(&[], age);
    }
    // Keyed by p2p URI; resolved to a peer id through the peer list where possible.
    let mut send_failures = GaugeFamily::new(&SEND_FAILURES);
    for (uri, failures) in &cluster.message_send_failures {
        let peer = cluster
            .peers
            .iter()
            .find(|(_, p)| p.uri == *uri)
            .map_or("unknown", |(id, _)| id.as_str());
        send_failures.push(&[(PEER_ID, peer), ("peer_uri", uri)], failures.count as f64);
    }
    let leader_known = raft.leader.is_some_and(|leader| leader != 0);

    vec![
        this_peer.finish(),
        GaugeFamily::single(&PEERS, cluster.peers.len() as f64),
        GaugeFamily::single(&TERM, raft.term as f64),
        GaugeFamily::single(&COMMIT, raft.commit as f64),
        GaugeFamily::single(&PENDING_OPERATIONS, raft.pending_operations as f64),
        GaugeFamily::single(&LEADER, bool_value(cluster.is_leader())),
        GaugeFamily::single(&LEADER_KNOWN, bool_value(leader_known)),
        GaugeFamily::single(&VOTER, bool_value(raft.is_voter.unwrap_or(false))),
        role.finish(),
        consensus.finish(),
        last_update_age.finish(),
        send_failures.finish(),
    ]
}

/// The cluster view: each peer's raft state as it reports it.
fn cluster_view(view: Result<&ClusterTelemetry, &QdrantError>) -> Output {
    let view = match view {
        Ok(view) => view,
        Err(error) => return Output::failed(Failure::cluster_view(error)),
    };
    let peers = &view.cluster.peers;
    let per_peer = |spec: &'static FamilySpec, value: &dyn Fn(&PeerDetails) -> Option<f64>| {
        let mut family = GaugeFamily::new(spec);
        for (peer_id, peer) in peers {
            if let Some(value) = peer.details.as_ref().and_then(value) {
                family.push(&[(PEER_ID, peer_id)], value);
            }
        }
        family.finish()
    };
    let mut role = GaugeFamily::new(&ROLE);
    let mut consensus = GaugeFamily::new(&CONSENSUS_THREAD);
    let mut leader_known = false;
    for (peer_id, peer) in peers {
        let Some(details) = &peer.details else {
            continue;
        };
        leader_known |= details.role.as_deref() == Some("Leader");
        let labels = [(PEER_ID, peer_id.as_str())];
        push_state_set(&mut role, &labels, "role", &ROLES, details.role.as_deref());
        push_state_set(
            &mut consensus,
            &labels,
            "status",
            &CONSENSUS_STATES,
            details
                .consensus_thread_status
                .as_ref()
                .map(|t| t.consensus_thread_status.as_str()),
        );
    }
    Output::families(vec![
        GaugeFamily::single(&ENABLED, 1.0),
        GaugeFamily::single(&PEERS, peers.len() as f64),
        GaugeFamily::single(&LEADER_KNOWN, bool_value(leader_known)),
        per_peer(&TERM, &|d| d.term.map(|v| v as f64)),
        per_peer(&COMMIT, &|d| d.commit.map(|v| v as f64)),
        per_peer(&PENDING_OPERATIONS, &|d| {
            d.num_pending_operations.map(|v| v as f64)
        }),
        per_peer(&LEADER, &|d| {
            Some(bool_value(d.role.as_deref() == Some("Leader")))
        }),
        per_peer(&VOTER, &|d| d.is_voter.map(bool_value)),
        role.finish(),
        consensus.finish(),
    ])
}

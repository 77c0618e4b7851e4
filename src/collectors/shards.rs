//! The `shards` collector: where the replicas are and in what state. For
//! each shard this node holds a replica of: the state of every replica (this
//! node's view), and this node's point count and bytes (node scope). Per
//! collection: transfers and resharding in progress (cluster scope: every
//! node knows all of them), and how near this node's estimate of its size is
//! to each limit of its strict mode (node scope: each node checks the writes
//! it takes against its own).
//!
//! From the shared telemetry; series grow with this node's local replicas: a
//! shard with no replica here is reported by the nodes that hold one. Where
//! telemetry cannot serve, it falls back to `GET /collections/{name}/cluster`
//! per collection, which reports every replica the node knows of. In the
//! cluster view, every replica of the cluster, from `GET /cluster/telemetry`.

use std::collections::BTreeMap;

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::{Context, Selected};
use super::failure::Failure;
use super::fan_out::fan_out;
use super::output::Output;
use crate::metrics::label::{COLLECTION, PEER_ID, SHARD_ID};
use crate::metrics::{Across, Family, FamilySpec, GaugeFamily, Reduced};
use crate::qdrant::models::{
    ClusterTelemetry, CollectionClusterInfo, CollectionTelemetry, Counted, Transfers,
};
use crate::qdrant::QdrantError;

/// Every replica state Qdrant defines (v1.18).
const REPLICA_STATES: [&str; 11] = [
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
static REPLICA_STATE: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_replica_state",
    &[COLLECTION, SHARD_ID, PEER_ID, "state"],
    "The current state of each replica of the shard, always 1: one of Active, Dead, Partial, \
     Initializing, Listener, PartialSnapshot, Recovery, Resharding, ReshardingScaleDown, \
     ActiveRead, ManualRecovery (Qdrant's), or Unknown for a state this exporter does not know. \
     Each node's view of every replica of the shards it holds a replica of.",
);
static LOCAL_POINTS: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_local_points",
    &[COLLECTION, SHARD_ID, PEER_ID],
    "Points in the replica of the shard on the peer; the recording rules derive collection totals.",
);
static LOCAL_DATA_BYTES: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_local_data_bytes",
    &[COLLECTION, "kind"],
    "Bytes of vectors and payloads in the node's replicas of the collection, by kind.",
)
.below_full(Reduced::Summed(&["kind"]));
static STRICT_MODE_USAGE: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_strict_mode_usage_ratio",
    &[COLLECTION, "limit"],
    "The collection's size as this node estimates it for strict mode, over the limit it is \
     checked against (limit: max_points_count, max_collection_vector_size_bytes, \
     max_collection_payload_size_bytes); at 1 the writes this node takes are refused. Qdrant \
     estimates a collection with replicas on other nodes as one local replica times the shards; \
     this takes the largest, so it is never below Qdrant's figure. Absent where the limit is not \
     set (or 0), or where the node holds no replica outside a transfer.",
)
.across_collections(Across::Highest);
static TRANSFERS: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_shard_transfers",
    &[COLLECTION],
    "Shard transfers of the collection in progress.",
)
.below_full(Reduced::NonZero);
static TRANSFER_INFO: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_shard_transfer_info",
    &[COLLECTION, SHARD_ID, "from_peer_id", "to_peer_id", "method"],
    "Each shard transfer of the collection in progress: its shard, source and target peers and \
     method. Always 1; at most 64 per collection are listed (all are counted).",
);
static TRANSFER_SENT: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_transfer_sent_records",
    &[COLLECTION, SHARD_ID, "from_peer_id", "to_peer_id"],
    "Records a shard transfer has sent, as the node running it reports them (stream_records \
     transfers); flat for long: the transfer is stalled.",
);
static TRANSFER_EXPECTED: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_transfer_expected_records",
    &[COLLECTION, SHARD_ID, "from_peer_id", "to_peer_id"],
    "Records a shard transfer has to send in all, as the node running it reports them.",
);
static PLACEHOLDER: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_placeholder",
    &[COLLECTION, SHARD_ID, PEER_ID],
    "1 while this node's replica of the shard is a placeholder (Qdrant's dummy shard): being \
     recovered, or left empty by a load that failed. It holds no data and reports no status; \
     absent for a replica that holds its data.",
);
static SHARD_KEY: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_key_info",
    &[COLLECTION, SHARD_ID, PEER_ID, "key"],
    "The shard key of this node's replica of the shard, in a collection with custom sharding; \
     always 1. A key longer than 128 characters is written `long`.",
);
static CLEAN_TASK: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_clean_task_status",
    &[COLLECTION, SHARD_ID, PEER_ID, "status"],
    "The status of the cleanup of this node's replica of the shard after resharding (started, \
     progress, done, cancelled, failed), always 1; absent for a shard no cleanup ran on.",
);

/// The states of a shard's cleanup.
const CLEAN_STATES: [&str; 5] = ["started", "progress", "done", "cancelled", "failed"];

static RESHARDING: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_resharding_operations",
    &[COLLECTION],
    "Resharding operations of the collection in progress.",
)
.below_full(Reduced::NonZero);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] = &[
    &REPLICA_STATE,
    &PLACEHOLDER,
    &SHARD_KEY,
    &LOCAL_POINTS,
    &LOCAL_DATA_BYTES,
    &STRICT_MODE_USAGE,
    &TRANSFERS,
    &TRANSFER_INFO,
    &TRANSFER_SENT,
    &TRANSFER_EXPECTED,
    &CLEAN_TASK,
    &RESHARDING,
];

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    if let Some(view) = ctx.cluster_view {
        return futures_util::future::ready(cluster_view(ctx, view)).boxed_local();
    }
    ctx.telemetry_or_per_collection(from_telemetry, || per_collection(ctx))
        .boxed_local()
}

/// One replica's state: one series, its current state, at 1. A state this
/// exporter does not know (newer than it) is `Unknown`, so that the replica
/// still has a series and the rules still see it as not active.
fn push_replica_state(
    family: &mut GaugeFamily,
    collection: &str,
    shard_id: &str,
    peer_id: &str,
    state: &str,
) {
    let state = REPLICA_STATES
        .into_iter()
        .find(|known| *known == state)
        .unwrap_or("Unknown");
    family.push(
        &[
            (COLLECTION, collection),
            (SHARD_ID, shard_id),
            (PEER_ID, peer_id),
            ("state", state),
        ],
        1.0,
    );
}

/// The families of the node's two paths, filled the same way.
struct Families {
    replica_state: GaugeFamily,
    local_points: GaugeFamily,
    transfers: TransferFamilies,
    resharding: GaugeFamily,
}

/// A collection's shard transfers: their count, each one, and the progress
/// of those whose node says it.
struct TransferFamilies {
    count: GaugeFamily,
    info: GaugeFamily,
    sent: GaugeFamily,
    expected: GaugeFamily,
}

impl TransferFamilies {
    fn new() -> Self {
        Self {
            count: GaugeFamily::new(&TRANSFERS),
            info: GaugeFamily::new(&TRANSFER_INFO),
            sent: GaugeFamily::new(&TRANSFER_SENT),
            expected: GaugeFamily::new(&TRANSFER_EXPECTED),
        }
    }

    fn push(&mut self, collection: &str, transfers: &Transfers) {
        self.count
            .push(&[(COLLECTION, collection)], transfers.count as f64);
        for transfer in &transfers.listed {
            let (shard_id, from, to) = (
                transfer.shard_id.to_string(),
                transfer.from.to_string(),
                transfer.to.to_string(),
            );
            let peers = [
                (COLLECTION, collection),
                (SHARD_ID, shard_id.as_str()),
                ("from_peer_id", from.as_str()),
                ("to_peer_id", to.as_str()),
            ];
            let mut labels = peers.to_vec();
            labels.push(("method", transfer.method.as_deref().unwrap_or("unknown")));
            self.info.push(&labels, 1.0);
            if let Some((sent, expected)) = transfer.records() {
                self.sent.push(&peers, sent as f64);
                self.expected.push(&peers, expected as f64);
            }
        }
    }

    fn finish(self) -> [Family; 4] {
        [self.count, self.info, self.sent, self.expected].map(GaugeFamily::finish)
    }
}

impl Families {
    fn new() -> Self {
        Self {
            replica_state: GaugeFamily::new(&REPLICA_STATE),
            local_points: GaugeFamily::new(&LOCAL_POINTS),
            transfers: TransferFamilies::new(),
            resharding: GaugeFamily::new(&RESHARDING),
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
        let mut families: Vec<Family> = [self.replica_state, self.local_points, self.resharding]
            .into_iter()
            .map(GaugeFamily::finish)
            .collect();
        families.extend(self.transfers.finish());
        families
    }
}

/// The families of the shared telemetry, or what it lacks for them (an older
/// Qdrant). One field missing for one shard leaves out that series alone.
fn from_telemetry(selected: &Selected) -> Result<Vec<Family>, &'static str> {
    let own_peer = selected
        .own_peer_id()
        .ok_or("telemetry does not say this node's peer id")?
        .to_string();
    let locals = || {
        selected
            .collections
            .iter()
            .flat_map(|collection| collection.shards.iter().flatten())
            .filter_map(|shard| shard.local.as_ref())
    };
    // Qdrant before 1.15 counts no local points at all.
    if locals().next().is_some() && locals().all(|local| local.num_points.is_none()) {
        return Err("telemetry lacks local shard point counts (Qdrant before 1.15)");
    }
    let mut families = Families::new();
    for collection in &selected.collections {
        let name = collection.id.as_str();
        let shards = collection
            .shards
            .as_ref()
            .ok_or("telemetry lists no shards (details level below 3)")?;
        for shard in shards {
            let Some(local) = &shard.local else { continue };
            let shard_id = shard.id.to_string();
            for (peer_id, state) in shard.replicate_states.iter().flatten() {
                families.replica(name, &shard_id, peer_id, state);
            }
            // A replica being recovered is a placeholder that holds no points yet.
            let points = local.num_points.or(local.is_dummy().then_some(0));
            families.local_points.push_some(
                &[
                    (COLLECTION, name),
                    (SHARD_ID, &shard_id),
                    (PEER_ID, &own_peer),
                ],
                points,
            );
        }
        let labels = [(COLLECTION, name)];
        if let Some(transfers) = &collection.transfers {
            families.transfers.push(name, transfers);
        }
        families.resharding.push(
            &labels,
            collection.resharding.map_or(0, Counted::len) as f64,
        );
    }
    let mut families = families.finish();
    families.push(local_data_bytes(selected));
    families.push(strict_mode_usage(selected, &own_peer));
    families.push(clean_tasks(selected, &own_peer));
    families.extend(placeholders_and_keys(selected, &own_peer));
    Ok(families)
}

/// A shard key label: Qdrant's keyword or number, as written; `long` past
/// a label's reasonable length (the key is the user's data).
fn key_label(key: &serde_json::Value) -> Option<String> {
    let key = match key {
        serde_json::Value::String(keyword) => keyword.clone(),
        serde_json::Value::Number(number) => number.to_string(),
        _ => return None,
    };
    Some(match key.chars().count() {
        0..=128 => key,
        _ => "long".into(),
    })
}

/// This node's placeholder replicas, and the keys of its custom-sharded replicas.
fn placeholders_and_keys(selected: &Selected, own_peer: &str) -> [Family; 2] {
    let mut placeholders = GaugeFamily::new(&PLACEHOLDER);
    let mut keys = GaugeFamily::new(&SHARD_KEY);
    for collection in &selected.collections {
        for shard in collection.shards.iter().flatten() {
            let Some(local) = &shard.local else { continue };
            let shard_id = shard.id.to_string();
            let labels = [
                (COLLECTION, collection.id.as_str()),
                (SHARD_ID, shard_id.as_str()),
                (PEER_ID, own_peer),
            ];
            if local.is_dummy() {
                placeholders.push(&labels, 1.0);
            }
            if let Some(key) = shard.key.as_ref().and_then(key_label) {
                let mut labels = labels.to_vec();
                labels.push(("key", &key));
                keys.push(&labels, 1.0);
            }
        }
    }
    [placeholders.finish(), keys.finish()]
}

/// The cleanups after resharding this node ran or runs, each by its status.
fn clean_tasks(selected: &Selected, own_peer: &str) -> Family {
    let mut family = GaugeFamily::new(&CLEAN_TASK);
    for collection in &selected.collections {
        for (shard_id, status) in collection.shard_clean_tasks.iter().flatten() {
            let Some(status) = status
                .label()
                .filter(|status| CLEAN_STATES.contains(status))
            else {
                continue;
            };
            family.push(
                &[
                    (COLLECTION, collection.id.as_str()),
                    (SHARD_ID, shard_id),
                    (PEER_ID, own_peer),
                    ("status", status),
                ],
                1.0,
            );
        }
    }
    family.finish()
}

/// Bytes of vectors and payloads in this node's shards, per collection: free
/// with the telemetry (Qdrant 1.15 and later, as the point counts above).
fn local_data_bytes(selected: &Selected) -> Family {
    let mut bytes = GaugeFamily::new(&LOCAL_DATA_BYTES);
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
                &[(COLLECTION, &collection.id), ("kind", kind)],
                value as f64,
            );
        }
    }
    bytes.finish()
}

/// A collection's size as Qdrant estimates it for strict mode
/// (`ShardHolder::estimate_collection_size_stats`): points, vector bytes,
/// payload bytes. One plain local replica times the shard count when the
/// collection has replicas elsewhere (Qdrant takes the first it meets; the
/// largest here), the local replicas summed otherwise; `None` without one.
fn estimated_size(collection: &CollectionTelemetry, own_peer: &str) -> Option<[u64; 3]> {
    let shards = collection.shards.as_deref()?;
    let sizes: Vec<[u64; 3]> = shards
        .iter()
        .filter_map(|shard| shard.local.as_ref())
        .filter(|local| local.is_plain_local())
        .map(|local| {
            [
                local.num_points,
                local.vectors_size_bytes,
                local.payloads_size_bytes,
            ]
            .map(|figure| figure.unwrap_or(0))
        })
        .collect();
    if sizes.is_empty() {
        return None;
    }
    let distributed = shards.iter().any(|shard| {
        shard
            .replicate_states
            .iter()
            .flatten()
            .any(|(peer, _)| peer != own_peer)
    });
    Some(std::array::from_fn(|figure| {
        let each = sizes.iter().map(|size| size[figure]);
        match distributed {
            true => each.max().unwrap_or(0).saturating_mul(shards.len() as u64),
            false => each.sum(),
        }
    }))
}

/// Each strict-mode size limit set on a collection, with how near this
/// node's estimate is to it: the writes it takes are refused at 1.
fn strict_mode_usage(selected: &Selected, own_peer: &str) -> Family {
    let mut usage = GaugeFamily::new(&STRICT_MODE_USAGE);
    for collection in &selected.collections {
        let Some(strict) = collection
            .config
            .as_ref()
            .and_then(|config| config.strict_mode_config.as_ref())
        else {
            continue;
        };
        let Some(estimate) = estimated_size(collection, own_peer) else {
            continue;
        };
        for ((name, limit), size) in strict.size_limits().into_iter().zip(estimate) {
            if let Some(limit) = limit.filter(|&limit| limit > 0) {
                usage.push(
                    &[(COLLECTION, &collection.id), ("limit", name)],
                    size as f64 / limit as f64,
                );
            }
        }
    }
    usage.finish()
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

fn cluster_info_families(collections: &[(&str, CollectionClusterInfo)]) -> Vec<Family> {
    let mut families = Families::new();
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
                    (COLLECTION, collection),
                    (SHARD_ID, &shard.shard_id.to_string()),
                    (PEER_ID, &own_peer),
                ],
                shard.points_count,
            );
        }
        families.transfers.push(collection, &info.shard_transfers);
        let collection = [(COLLECTION, *collection)];
        families.resharding.push(
            &collection,
            info.resharding_operations.map_or(0, Counted::len) as f64,
        );
    }
    families.finish()
}

/// The cluster view: every replica's state, points and bytes, as the peer
/// holding it reports, and the transfers and resharding the cluster agreed on.
fn cluster_view(ctx: &Context<'_>, view: Result<&ClusterTelemetry, &QdrantError>) -> Output {
    let view = match view {
        Ok(view) => view,
        Err(error) => return Output::failed(Failure::cluster_view(error)),
    };
    let mut replica_state = GaugeFamily::new(&REPLICA_STATE);
    let mut local_points = GaugeFamily::new(&LOCAL_POINTS);
    let mut bytes = GaugeFamily::new(&LOCAL_DATA_BYTES);
    for (name, collection) in ctx.cluster_view_collections(view) {
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
                        (COLLECTION, name),
                        (SHARD_ID, &shard_id),
                        (PEER_ID, &peer_id),
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
                    &[(COLLECTION, name), ("kind", kind), (PEER_ID, &peer_id)],
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
        let mut transfers = TransferFamilies::new();
        let mut resharding = GaugeFamily::new(&RESHARDING);
        for collection in &selected.collections {
            let labels = [(COLLECTION, collection.id.as_str())];
            if let Some(listed) = &collection.transfers {
                transfers.push(&collection.id, listed);
            }
            resharding.push(
                &labels,
                collection.resharding.map_or(0, Counted::len) as f64,
            );
        }
        // The progress is the answering node's own (the one running the
        // transfer, or not): not the cluster's.
        let [count, info, _sent, _expected] = transfers.finish();
        families.extend([count, info, resharding.finish()]);
    }
    Output::families(families)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qdrant::models::Telemetry;
    use crate::test_support::{
        every_collection, result, sample, text, value, HANDMADE_V1_12, HANDMADE_V1_19, RECORDED,
    };

    fn families(directory: &str) -> Result<Vec<Family>, &'static str> {
        let telemetry: Telemetry = result(directory, "telemetry-details-level-3.json");
        let names = every_collection(&telemetry);
        from_telemetry(&Selected::of(&telemetry, &names))
    }

    #[test]
    fn shards_need_point_counts_that_qdrant_1_12_telemetry_lacks() {
        assert_eq!(
            families(HANDMADE_V1_12).unwrap_err(),
            "telemetry lacks local shard point counts (Qdrant before 1.15)"
        );
    }

    #[test]
    fn shards_during_a_snapshot_transfer() {
        let m = text(&families("cluster-v1.18.3-transfer-node-a").unwrap());
        let a = "8326746331167863";
        // The replica being recovered is Qdrant's placeholder: no points yet.
        let shard_0 = format!(r#"collection="orders",shard_id="0",peer_id="{a}""#);
        assert_eq!(value(&m, "qdrant_shard_local_points", &shard_0), 0.0);
        assert_eq!(
            value(
                &m,
                "qdrant_shard_replica_state",
                &format!(r#"{shard_0},state="Recovery""#)
            ),
            1.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_collection_shard_transfers",
                r#"collection="orders""#
            ),
            1.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_collection_shard_transfers",
                r#"collection="small""#
            ),
            0.0
        );
    }

    #[test]
    fn each_transfer_with_its_peers_and_method_and_the_progress_its_node_reports() {
        let (from, to) = ("1833886028127767", "6184556614098737");
        let peers =
            format!(r#"collection="solo",shard_id="0",from_peer_id="{from}",to_peer_id="{to}""#);
        let info = format!(r#"{peers},method="stream_records""#);
        // The source runs the transfer and writes its progress.
        let m = text(&families("transitions-v1.18.3-transfer-source-node-c").unwrap());
        assert_eq!(
            value(&m, "qdrant_collection_shard_transfer_info", &info),
            1.0
        );
        assert_eq!(
            value(&m, "qdrant_shard_transfer_sent_records", &peers),
            100.0
        );
        assert_eq!(
            value(&m, "qdrant_shard_transfer_expected_records", &peers),
            40000.0
        );
        // The target knows of the transfer, not how far it got.
        let m = text(&families("transitions-v1.18.3-transfer-target-node-a").unwrap());
        assert_eq!(
            value(&m, "qdrant_collection_shard_transfer_info", &info),
            1.0
        );
        assert_eq!(
            sample(&m, "qdrant_shard_transfer_sent_records", &peers),
            None
        );
        // A snapshot transfer says what it does, not in records.
        let m = text(&families("cluster-v1.18.3-transfer-node-a").unwrap());
        assert!(m.contains(r#"method="snapshot"} 1"#), "{m}");
        assert!(!m.contains("qdrant_shard_transfer_sent_records{"), "{m}");
    }

    #[test]
    fn the_help_names_every_replica_state() {
        let named = format!("one of {} (Qdrant's)", REPLICA_STATES.join(", "));
        assert!(
            REPLICA_STATE.help.contains(&named),
            "{}",
            REPLICA_STATE.help
        );
    }

    #[test]
    fn a_placeholder_replica_and_a_shard_key_have_series_of_their_own() {
        let m = text(&families("cluster-v1.18.3-transfer-node-a").unwrap());
        let orders_0 = r#"collection="orders",shard_id="0",peer_id="8326746331167863""#;
        assert_eq!(value(&m, "qdrant_shard_placeholder", orders_0), 1.0);
        assert_eq!(m.matches("qdrant_shard_placeholder{").count(), 1, "{m}");
        let m = text(&families(HANDMADE_V1_19).unwrap());
        assert_eq!(
            value(
                &m,
                "qdrant_shard_key_info",
                r#"collection="small",shard_id="0",peer_id="8326746331167863",key="tenant-a""#
            ),
            1.0
        );
        assert_eq!(key_label(&serde_json::json!(7)).as_deref(), Some("7"));
        assert_eq!(
            key_label(&serde_json::json!("k".repeat(129))).as_deref(),
            Some("long")
        );
        assert_eq!(key_label(&serde_json::json!({"a": 1})), None);
    }

    #[test]
    fn a_failed_cleanup_after_resharding_is_a_state_of_its_shard() {
        let m = text(&families(HANDMADE_V1_19).unwrap());
        let shard = |id: &str, status: &str| {
            sample(
                &m,
                "qdrant_shard_clean_task_status",
                &format!(
                    r#"collection="orders",shard_id="{id}",peer_id="8326746331167863",status="{status}""#
                ),
            )
        };
        assert_eq!(shard("1", "failed"), Some(1.0));
        assert_eq!(
            shard("1", "done"),
            None,
            "only the current status has a series"
        );
        assert_eq!(shard("2", "done"), Some(1.0));
        assert_eq!(shard("0", "done"), None, "no cleanup ran on shard 0");
    }

    /// The recorded telemetry of `directory`, with `limits` set on the
    /// strict mode of `collection`.
    fn with_strict_mode(directory: &str, collection: &str, limits: serde_json::Value) -> String {
        let mut telemetry: Telemetry = result(directory, "telemetry-details-level-3.json");
        let target = telemetry
            .collections
            .collections
            .iter_mut()
            .find(|c| c.id == collection)
            .unwrap();
        target.config.as_mut().unwrap().strict_mode_config =
            Some(serde_json::from_value(limits).unwrap());
        let names = every_collection(&telemetry);
        text(&from_telemetry(&Selected::of(&telemetry, &names)).unwrap())
    }

    fn usage(m: &str, collection: &str, limit: &str) -> Option<f64> {
        sample(
            m,
            "qdrant_collection_strict_mode_usage_ratio",
            &format!(r#"collection="{collection}",limit="{limit}""#),
        )
    }

    #[test]
    fn strict_mode_usage_is_qdrants_estimate_over_each_limit_set() {
        // 1.19, distributed: the largest local replica (shard 1: 1,104 points,
        // 565,248 vector bytes) times 3 shards; Qdrant already refuses writes
        // though the cluster holds fewer points than the limit.
        let m = text(&families(HANDMADE_V1_19).unwrap());
        assert_eq!(
            usage(&m, "orders", "max_points_count"),
            Some(3.0 * 1104.0 / 3000.0)
        );
        assert_eq!(
            usage(&m, "orders", "max_collection_vector_size_bytes"),
            Some(3.0 * 565_248.0 / 1_073_741_824.0)
        );
        assert_eq!(
            usage(&m, "orders", "max_collection_payload_size_bytes"),
            None
        );
        assert_eq!(
            usage(&m, "small", "max_points_count"),
            None,
            "no strict mode"
        );
        // 1.15, on one node: the local replicas summed (300 + 300 points).
        let m = text(&families("handmade-v1.15.0").unwrap());
        assert_eq!(usage(&m, "sparse_only", "max_points_count"), Some(0.12));
        // 1.18, one node: 67,456 + 60,544 payload bytes of 256,000.
        let limit =
            serde_json::json!({"enabled": true, "max_collection_payload_size_bytes": 256_000});
        let m = with_strict_mode(RECORDED, "ondisk_quantized", limit);
        assert_eq!(
            usage(&m, "ondisk_quantized", "max_collection_payload_size_bytes"),
            Some(0.5)
        );
        assert!(m.contains("# TYPE qdrant_collection_strict_mode_usage_ratio gauge"));
    }

    #[test]
    fn a_replica_in_transfer_is_left_out_of_the_strict_mode_estimate_as_qdrant_does() {
        // Node c, the source of solo's transfer: its one replica is a proxy,
        // which Qdrant does not count, so no estimate; a limit of 0 has none.
        let source = "transitions-v1.18.3-transfer-source-node-c";
        let limit =
            serde_json::json!({"max_points_count": 50_000, "max_collection_payload_size_bytes": 0});
        let m = with_strict_mode(source, "solo", limit);
        assert_eq!(usage(&m, "solo", "max_points_count"), None);
        // orders: the larger of its local replicas (923 and 1,104 points) times 3.
        let limit =
            serde_json::json!({"max_points_count": 6624, "max_collection_payload_size_bytes": 0});
        let m = with_strict_mode(source, "orders", limit);
        assert_eq!(usage(&m, "orders", "max_points_count"), Some(0.5));
        assert_eq!(
            usage(&m, "orders", "max_collection_payload_size_bytes"),
            None
        );
    }

    #[test]
    fn the_fallback_reports_every_replica_the_node_knows_of() {
        let cluster: CollectionClusterInfo =
            result("cluster-v1.18.3-node-a", "collection-orders-cluster.json");
        let m = text(&cluster_info_families(&[("orders", cluster)]));
        let dead = r#"collection="orders",shard_id="0",peer_id="4606499160228025",state="Dead""#;
        assert_eq!(value(&m, "qdrant_shard_replica_state", dead), 1.0);
    }
}

//! The `collections` collector: each collection's configuration and shard
//! count (cluster scope: the same on every node, so the reporter alone
//! serves them), and the health of each replica of its shards (status,
//! optimizer, vectors, update queue: node scope).
//!
//! From the shared telemetry, per node: the replicas this node holds.
//! Cluster-wide figures (a collection's worst status, say) are derived in
//! PromQL by the recording rules. Where telemetry cannot serve (an older
//! Qdrant), the reporter falls back to `GET /collections/{name}` per
//! collection (Qdrant asks the other peers for it), whose figures are the
//! cluster's and keep their `qdrant_collection_*` names. In the cluster view,
//! every replica of the cluster, from `GET /cluster/telemetry`.

use std::collections::HashSet;

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::{Context, Selected};
use super::failure::Failure;
use super::fan_out::fan_out;
use super::output::Output;
use super::vector_label;
use crate::metrics::label::{COLLECTION, PEER_ID, SHARD_ID, VECTOR};
use crate::metrics::{
    bool_value, Across, Detail, Family, FamilySpec, GaugeFamily, Reduced, SHARD_AND_PEER,
};
use crate::qdrant::models::{
    ClusterTelemetry, CollectionConfig, CollectionInfo, CollectionStatus, OptimizerStatus,
    VectorsConfig,
};
use crate::qdrant::QdrantError;

static SHARD_STATUS: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_status",
    &[COLLECTION, SHARD_ID, PEER_ID, "status"],
    "The current status of the replica of the shard on the peer (green, yellow, grey, red), \
     always 1; absent for a status this exporter does not know, and while the replica is the \
     source of a transfer or a placeholder being recovered (Qdrant reports no status for those).",
);
static SHARD_OPTIMIZER_OK: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_optimizer_ok",
    &[COLLECTION, SHARD_ID, PEER_ID],
    "1 when the optimizers of the replica of the shard on the peer report ok, 0 on an error.",
)
.below_full(Reduced::Lowest(SHARD_AND_PEER))
.across_collections(Across::Lowest);
static SHARD_VECTORS: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_vectors",
    &[COLLECTION, SHARD_ID, PEER_ID, VECTOR],
    "Vectors in the replica of the shard on the peer, by vector name; \
     vector=\"default\" is the unnamed vector.",
)
.below_full(Reduced::Summed(SHARD_AND_PEER));
static SHARD_UPDATE_QUEUE: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_update_queue_length",
    &[COLLECTION, SHARD_ID, PEER_ID],
    "Updates waiting in the update queue of the replica of the shard on the peer (Qdrant 1.17 and later).",
)
.below_full(Reduced::Summed(SHARD_AND_PEER))
.exported_from(Detail::Shard);
static SHARD_APPLIED_OPERATIONS: FamilySpec = FamilySpec::counter(
    "qdrant_shard_applied_operations_total",
    &[COLLECTION, SHARD_ID, PEER_ID],
    "Sequence number of the last operation the replica of the shard on the peer applied (its update \
     queue's op_num, Qdrant 1.17 and later): its rate is the replica's write rate. A replica a \
     transfer fills starts again from 0 and counts the transfer's batches too.",
)
.below_full(Reduced::Summed(SHARD_AND_PEER))
.exported_from(Detail::Shard);
static SHARD_OPTIMIZATIONS_FAILED: FamilySpec = FamilySpec::counter(
    "qdrant_shard_optimizations_failed_total",
    &[COLLECTION, SHARD_ID, PEER_ID],
    "Optimizations of the replica of the shard on the peer that failed since Qdrant started (Qdrant's \
     only count of failed optimizations; the error itself is in Qdrant's log).",
)
.below_full(Reduced::Summed(SHARD_AND_PEER))
.exported_from(Detail::Shard);
static SHARD_OPTIMIZED_POINTS: FamilySpec = FamilySpec::counter(
    "qdrant_shard_optimized_points_total",
    &[COLLECTION, SHARD_ID, PEER_ID],
    "Points the optimizations of the replica of the shard on the peer rewrote since Qdrant started: \
     its rate is the indexing throughput.",
)
.below_full(Reduced::Summed(SHARD_AND_PEER))
.exported_from(Detail::Shard);
static SHARDS: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_shards",
    &[COLLECTION],
    "Shards of the collection, as Qdrant's telemetry lists them: every shard key's, and during \
     resharding the one being added or removed.",
)
.exported_from(Detail::Shard)
.across_collections(Across::LeftOut);

// Where telemetry cannot serve: the cluster-wide figures of collection info.
static POINTS: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_points",
    &[COLLECTION],
    "Approximate number of points in the collection. Only where Qdrant's telemetry cannot serve (see the fallback in docs/metrics.md).",
);
static INDEXED_VECTORS: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_indexed_vectors",
    &[COLLECTION],
    "Approximate number of vectors in the collection's vector indexes. Only where Qdrant's telemetry cannot serve (see the fallback in docs/metrics.md).",
);
static SEGMENTS: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_segments",
    &[COLLECTION],
    "Number of segments of the collection. Only where Qdrant's telemetry cannot serve (see the fallback in docs/metrics.md).",
);
static STATUS: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_status",
    &[COLLECTION, "status"],
    "The collection's current status (green, yellow, grey, red), always 1; absent for a status \
     unknown to this exporter. Only where Qdrant's telemetry cannot serve (see the fallback in docs/metrics.md).",
);
static OPTIMIZER_OK: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_optimizer_ok",
    &[COLLECTION],
    "1 when the collection's optimizers report ok, 0 when they report an error. Only where Qdrant's telemetry cannot serve (see the fallback in docs/metrics.md).",
)
.across_collections(Across::Lowest);
static UPDATE_QUEUE: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_update_queue_length",
    &[COLLECTION],
    "Updates waiting in the collection's update queue (Qdrant 1.17 and later). Only where Qdrant's telemetry cannot serve (see the fallback in docs/metrics.md).",
);

static SHARD_NUMBER: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_shard_number",
    &[COLLECTION],
    "Configured number of shards of the collection (config.params.shard_number).",
)
.exported_from(Detail::Full)
.across_collections(Across::LeftOut);
static REPLICATION_FACTOR: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_replication_factor",
    &[COLLECTION],
    "Configured number of replicas of each shard (config.params.replication_factor).",
)
.across_collections(Across::LeftOut);
static WRITE_CONSISTENCY: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_write_consistency_factor",
    &[COLLECTION],
    "Configured number of replicas that must apply a write (config.params.write_consistency_factor).",
)
.exported_from(Detail::Full)
.across_collections(Across::LeftOut);
static VECTOR_DIMENSIONS: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_vector_dimensions",
    &[COLLECTION, VECTOR],
    "Dimensions of each dense vector of the collection; vector=\"default\" is the unnamed vector.",
)
.exported_from(Detail::Full)
.across_collections(Across::LeftOut);
static VECTOR_INFO: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_vector_info",
    &[COLLECTION, VECTOR, "distance", "on_disk"],
    "Configuration of each dense vector of the collection: distance function and whether it is stored on disk. Always 1.",
)
.exported_from(Detail::Full)
.across_collections(Across::LeftOut);

// The configuration that explains behaviour: why nothing is indexed, what
// shard_number means, what writes strict mode will refuse.
static INDEXING_THRESHOLD: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_indexing_threshold_bytes",
    &[COLLECTION],
    "Vectors a segment may hold before the optimizer indexes it (optimizer_config.indexing_threshold, \
     set in KiB); 0: indexing is off. Absent while Qdrant's default applies.",
)
.exported_from(Detail::Shard)
.across_collections(Across::LeftOut);
static HNSW_M: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_hnsw_max_edges",
    &[COLLECTION],
    "Edges per node of the collection's HNSW graph at most (hnsw_config.m); 0: no graph is built and every search scans.",
)
.exported_from(Detail::Shard)
.across_collections(Across::LeftOut);
static PREVENT_UNOPTIMIZED: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_prevent_unoptimized",
    &[COLLECTION],
    "1 when writes wait for the optimizer rather than pile up unindexed (optimizer_config.prevent_unoptimized); absent while unset.",
)
.exported_from(Detail::Shard)
.across_collections(Across::LeftOut);
static QUANTIZATION: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_quantization_info",
    &[COLLECTION, "type", "always_ram"],
    "The collection's quantization: its type and whether the quantized vectors stay in RAM. Always 1; absent without quantization.",
)
.exported_from(Detail::Shard)
.across_collections(Across::LeftOut);
static SHARDING: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_sharding_info",
    &[COLLECTION, "method"],
    "How points are placed in shards, where Qdrant states it: custom (by shard key, and shard_number \
     is then per key). Always 1; absent for auto, which Qdrant leaves unsaid.",
)
.exported_from(Detail::Shard)
.across_collections(Across::LeftOut);
static VECTOR_MEMORY: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_vector_memory_info",
    &[COLLECTION, VECTOR, "memory"],
    "Where each dense vector is kept (Qdrant 1.19 and later): cold (on disk), cached or pinned, as configured. Always 1.",
)
.exported_from(Detail::Shard)
.across_collections(Across::LeftOut);
static STRICT_MODE: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_strict_mode_enabled",
    &[COLLECTION],
    "1 when strict mode applies its limits to the collection, 0 when configured but off; absent when not configured.",
);
static STRICT_MODE_LIMIT: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_strict_mode_limit",
    &[COLLECTION, "limit"],
    "A limit of the collection's strict mode, beyond which writes are refused: max_points_count, \
     max_collection_vector_size_bytes, max_collection_payload_size_bytes, max_payload_index_count; \
     absent where unset.",
)
.across_collections(Across::LeftOut);

static COLLECTIONS_LIMIT: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collections_limit",
    &[],
    "The most collections Qdrant allows (service.max_collections), beside qdrant_collections; \
     absent when there is no limit.",
);
static SNAPSHOTS_RUNNING: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_snapshots_running",
    &[COLLECTION],
    "Snapshots of the collection this node is taking now (telemetry, Qdrant 1.16 and later).",
)
.below_full(Reduced::NonZero);
static SNAPSHOT_RECOVERIES_RUNNING: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_snapshot_recoveries_running",
    &[COLLECTION],
    "Snapshots of the collection this node is recovering from now: its data is being replaced \
     (telemetry, Qdrant 1.16 and later).",
)
.below_full(Reduced::NonZero);
static SNAPSHOTS_CREATED: FamilySpec = FamilySpec::counter(
    "qdrant_collection_snapshots_created_total",
    &[COLLECTION],
    "Snapshots of the collection this node has taken since Qdrant started (telemetry, Qdrant \
     1.16 and later).",
)
.exported_from(Detail::Full);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] = &[
    &SHARD_STATUS,
    &SHARD_OPTIMIZER_OK,
    &SHARD_VECTORS,
    &SHARD_UPDATE_QUEUE,
    &SHARD_APPLIED_OPERATIONS,
    &SHARD_OPTIMIZATIONS_FAILED,
    &SHARD_OPTIMIZED_POINTS,
    &SHARDS,
    &POINTS,
    &INDEXED_VECTORS,
    &SEGMENTS,
    &STATUS,
    &OPTIMIZER_OK,
    &UPDATE_QUEUE,
    &SHARD_NUMBER,
    &REPLICATION_FACTOR,
    &WRITE_CONSISTENCY,
    &VECTOR_DIMENSIONS,
    &VECTOR_INFO,
    &INDEXING_THRESHOLD,
    &HNSW_M,
    &PREVENT_UNOPTIMIZED,
    &QUANTIZATION,
    &SHARDING,
    &VECTOR_MEMORY,
    &STRICT_MODE,
    &STRICT_MODE_LIMIT,
    &COLLECTIONS_LIMIT,
    &SNAPSHOTS_RUNNING,
    &SNAPSHOT_RECOVERIES_RUNNING,
    &SNAPSHOTS_CREATED,
];

/// Qdrant's indexing threshold is set in KiB.
const KIB: f64 = 1024.0;

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    if let Some(view) = ctx.cluster_view {
        return futures_util::future::ready(cluster_view(ctx, view)).boxed_local();
    }
    ctx.telemetry_or_per_collection(from_telemetry, || per_collection(ctx))
        .boxed_local()
}

/// A status as one series, at 1; none for a status this exporter does not know.
fn push_status(family: &mut GaugeFamily, labels: &[(&str, &str)], status: CollectionStatus) {
    let Some(status) = status.label() else {
        return;
    };
    let mut labels = labels.to_vec();
    labels.push(("status", status));
    family.push(&labels, 1.0);
}

/// A replica's vectors by name.
fn push_vectors(
    family: &mut GaugeFamily,
    labels: &[(&str, &str)],
    by_name: Option<&[(String, u64)]>,
) {
    for (name, count) in by_name.into_iter().flatten() {
        let mut labels = labels.to_vec();
        labels.push((VECTOR, vector_label(name)));
        family.push(&labels, *count as f64);
    }
}

fn push_optimizer_ok(family: &mut GaugeFamily, labels: &[(&str, &str)], status: &OptimizerStatus) {
    match status {
        OptimizerStatus::Ok => family.push(labels, 1.0),
        // The error text stays out of the labels: it is unbounded and would make a new series per message.
        OptimizerStatus::Error(_) => family.push(labels, 0.0),
        OptimizerStatus::Unknown => {}
    }
}

/// The families of the shared telemetry, or what it lacks for them. One
/// field missing for one shard (a proxy's status) leaves out that series alone.
fn from_telemetry(selected: &Selected) -> Result<Vec<Family>, &'static str> {
    let peer_id = selected
        .own_peer_id()
        .ok_or("telemetry does not say this node's peer id")?
        .to_string();
    let mut status = GaugeFamily::new(&SHARD_STATUS);
    let mut optimizer_ok = GaugeFamily::new(&SHARD_OPTIMIZER_OK);
    let mut vectors = GaugeFamily::new(&SHARD_VECTORS);
    let mut update_queue = GaugeFamily::new(&SHARD_UPDATE_QUEUE);
    let mut applied_operations = Family::new(&SHARD_APPLIED_OPERATIONS);
    let mut failed = Family::new(&SHARD_OPTIMIZATIONS_FAILED);
    let mut optimized_points = Family::new(&SHARD_OPTIMIZED_POINTS);
    let mut shard_count = GaugeFamily::new(&SHARDS);
    let mut configs = Vec::new();
    for collection in &selected.collections {
        let shards = collection
            .shards
            .as_ref()
            .ok_or("telemetry lists no shards (details level below 3)")?;
        shard_count.push(&[(COLLECTION, &collection.id)], shards.len() as f64);
        if let Some(config) = &collection.config {
            configs.push((collection.id.as_str(), config));
        }
        for shard in shards {
            let Some(local) = &shard.local else { continue };
            let shard_id = shard.id.to_string();
            let labels = [
                (COLLECTION, collection.id.as_str()),
                (SHARD_ID, &shard_id),
                (PEER_ID, &peer_id),
            ];
            // A placeholder's status says nothing of data it does not hold yet.
            if let Some(shard_status) = local.status.filter(|_| !local.is_dummy()) {
                push_status(&mut status, &labels, shard_status);
            }
            if let Some(optimizations) = &local.optimizations {
                push_optimizer_ok(&mut optimizer_ok, &labels, &optimizations.status);
                if let Some(statistics) = &optimizations.optimizations {
                    failed.push(&labels, statistics.fail_count as f64);
                }
            }
            if let Some(points) = local.total_optimized_points {
                optimized_points.push(&labels, points as f64);
            }
            push_vectors(&mut vectors, &labels, local.num_vectors_by_name.as_deref());
            if let Some(queue) = &local.update_queue {
                update_queue.push_some(&labels, queue.length);
                if let Some(op_num) = queue.op_num {
                    applied_operations.push(&labels, op_num as f64);
                }
            }
        }
    }
    let mut families: Vec<Family> = [status, optimizer_ok, vectors, update_queue, shard_count]
        .into_iter()
        .map(GaugeFamily::finish)
        .collect();
    families.extend([applied_operations, failed, optimized_points]);
    let mut limit = GaugeFamily::new(&COLLECTIONS_LIMIT);
    limit.push_some(&[], selected.telemetry.collections.max_collections);
    families.push(limit.finish());
    families.extend(config_families(&configs));
    families.extend(snapshots_in_progress(selected));
    Ok(families)
}

/// Snapshots being taken and recovered on this node, from telemetry: what
/// `GET /collections/{name}/snapshots` cannot say (it lists finished ones).
fn snapshots_in_progress(selected: &Selected) -> [Family; 3] {
    // Each exported collection once, whatever the answer repeats: a series
    // written twice fails the whole scrape.
    let mut exported: HashSet<&str> = selected.collections.iter().map(|c| c.id.as_str()).collect();
    let mut running = GaugeFamily::new(&SNAPSHOTS_RUNNING);
    let mut recoveries = GaugeFamily::new(&SNAPSHOT_RECOVERIES_RUNNING);
    let mut created = Family::new(&SNAPSHOTS_CREATED);
    let listed = &selected.telemetry.collections.snapshots;
    for snapshots in listed.iter().filter(|s| exported.remove(s.id.as_str())) {
        let labels = [(COLLECTION, snapshots.id.as_str())];
        running.push_some(&labels, snapshots.running_snapshots);
        recoveries.push_some(&labels, snapshots.running_snapshot_recovery);
        if let Some(total) = snapshots.total_snapshot_creations {
            created.push(&labels, total as f64);
        }
    }
    [running.finish(), recoveries.finish(), created]
}

/// The fallback: `GET /collections/{name}` for every collection, whose
/// answers are the cluster's: asked by the reporter alone.
async fn per_collection(ctx: &Context<'_>) -> Output {
    if !ctx.reports_cluster {
        return Output::default();
    }
    let fetched = fan_out(ctx.selected, ctx.deadline, |name| {
        ctx.client.collection(name)
    })
    .await;
    Output {
        families: collection_info_families(&fetched.fetched),
        failure: fetched.failure("collection info"),
        ..Output::default()
    }
}

fn collection_info_families(collections: &[(&str, CollectionInfo)]) -> Vec<Family> {
    let mut points = GaugeFamily::new(&POINTS);
    let mut indexed = GaugeFamily::new(&INDEXED_VECTORS);
    let mut segments = GaugeFamily::new(&SEGMENTS);
    let mut status = GaugeFamily::new(&STATUS);
    let mut optimizer_ok = GaugeFamily::new(&OPTIMIZER_OK);
    let mut update_queue = GaugeFamily::new(&UPDATE_QUEUE);

    let mut configs = Vec::new();
    for (name, info) in collections {
        let collection = [(COLLECTION, *name)];
        points.push_some(&collection, info.points_count);
        indexed.push_some(&collection, info.indexed_vectors_count);
        segments.push_some(&collection, info.segments_count);
        push_status(&mut status, &collection, info.status);
        push_optimizer_ok(&mut optimizer_ok, &collection, &info.optimizer_status);
        update_queue.push_some(
            &collection,
            info.update_queue.as_ref().and_then(|queue| queue.length),
        );
        if let Some(config) = &info.config {
            configs.push((*name, config));
        }
    }
    let mut families: Vec<Family> = [
        points,
        indexed,
        segments,
        status,
        optimizer_ok,
        update_queue,
    ]
    .into_iter()
    .map(GaugeFamily::finish)
    .collect();
    families.extend(config_families(&configs));
    families
}

/// The collections' configuration: the same on every node.
fn config_families(configs: &[(&str, &CollectionConfig)]) -> Vec<Family> {
    let mut shard_number = GaugeFamily::new(&SHARD_NUMBER);
    let mut replication_factor = GaugeFamily::new(&REPLICATION_FACTOR);
    let mut write_consistency = GaugeFamily::new(&WRITE_CONSISTENCY);
    let mut dimensions = GaugeFamily::new(&VECTOR_DIMENSIONS);
    let mut vector_info = GaugeFamily::new(&VECTOR_INFO);
    let mut behaviour = Behaviour::default();
    for (name, config) in configs {
        let collection = [(COLLECTION, *name)];
        shard_number.push_some(&collection, config.params.shard_number);
        replication_factor.push_some(&collection, config.params.replication_factor);
        write_consistency.push_some(&collection, config.params.write_consistency_factor);
        behaviour.push(name, config);
        let vectors: Vec<(&str, &_)> = match &config.params.vectors {
            Some(VectorsConfig::Unnamed(params)) => vec![(vector_label(""), params)],
            Some(VectorsConfig::Named(named)) => {
                named.iter().map(|(n, p)| (n.as_str(), p)).collect()
            }
            Some(VectorsConfig::Other(_)) | None => Vec::new(),
        };
        for (vector, params) in vectors {
            dimensions.push(&[(COLLECTION, name), (VECTOR, vector)], params.size as f64);
            if let Some(memory) = &params.memory {
                behaviour.vector_memory.push(
                    &[(COLLECTION, name), (VECTOR, vector), ("memory", memory)],
                    1.0,
                );
            }
            let on_disk = if params.is_on_disk() { "true" } else { "false" };
            vector_info.push(
                &[
                    (COLLECTION, name),
                    (VECTOR, vector),
                    ("distance", &params.distance),
                    ("on_disk", on_disk),
                ],
                1.0,
            );
        }
    }
    [
        shard_number,
        replication_factor,
        write_consistency,
        dimensions,
        vector_info,
    ]
    .into_iter()
    .chain(behaviour.families())
    .map(GaugeFamily::finish)
    .collect()
}

/// The families of the configuration that explains behaviour.
struct Behaviour {
    indexing_threshold: GaugeFamily,
    hnsw_m: GaugeFamily,
    prevent_unoptimized: GaugeFamily,
    quantization: GaugeFamily,
    sharding: GaugeFamily,
    vector_memory: GaugeFamily,
    strict_mode: GaugeFamily,
    strict_mode_limit: GaugeFamily,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            indexing_threshold: GaugeFamily::new(&INDEXING_THRESHOLD),
            hnsw_m: GaugeFamily::new(&HNSW_M),
            prevent_unoptimized: GaugeFamily::new(&PREVENT_UNOPTIMIZED),
            quantization: GaugeFamily::new(&QUANTIZATION),
            sharding: GaugeFamily::new(&SHARDING),
            vector_memory: GaugeFamily::new(&VECTOR_MEMORY),
            strict_mode: GaugeFamily::new(&STRICT_MODE),
            strict_mode_limit: GaugeFamily::new(&STRICT_MODE_LIMIT),
        }
    }
}

impl Behaviour {
    fn push(&mut self, name: &str, config: &CollectionConfig) {
        let collection = [(COLLECTION, name)];
        if let Some(optimizer) = &config.optimizer_config {
            if let Some(threshold) = optimizer.indexing_threshold {
                self.indexing_threshold
                    .push(&collection, threshold as f64 * KIB);
            }
            if let Some(prevent) = optimizer.prevent_unoptimized {
                self.prevent_unoptimized
                    .push(&collection, bool_value(prevent));
            }
        }
        self.hnsw_m.push_some(
            &collection,
            config.hnsw_config.as_ref().and_then(|hnsw| hnsw.m),
        );
        for (kind, params) in config.quantization_config.iter().flatten() {
            let always_ram = match params.always_ram {
                Some(true) => "true",
                Some(false) | None => "false",
            };
            self.quantization.push(
                &[
                    (COLLECTION, name),
                    ("type", kind),
                    ("always_ram", always_ram),
                ],
                1.0,
            );
        }
        if let Some(method) = &config.params.sharding_method {
            self.sharding
                .push(&[(COLLECTION, name), ("method", method)], 1.0);
        }
        if let Some(strict) = &config.strict_mode_config {
            self.strict_mode
                .push(&collection, bool_value(strict.enabled.unwrap_or(false)));
            let index_limit = ("max_payload_index_count", strict.max_payload_index_count);
            for (limit, value) in strict.size_limits().into_iter().chain([index_limit]) {
                self.strict_mode_limit
                    .push_some(&[(COLLECTION, name), ("limit", limit)], value);
            }
        }
    }

    fn families(self) -> [GaugeFamily; 8] {
        [
            self.indexing_threshold,
            self.hnsw_m,
            self.prevent_unoptimized,
            self.quantization,
            self.sharding,
            self.vector_memory,
            self.strict_mode,
            self.strict_mode_limit,
        ]
    }
}

/// The cluster view: every replica's status and vectors, as the peer holding
/// it reports, and the configuration (from the answering node's telemetry).
fn cluster_view(ctx: &Context<'_>, view: Result<&ClusterTelemetry, &QdrantError>) -> Output {
    let view = match view {
        Ok(view) => view,
        Err(error) => return Output::failed(Failure::cluster_view(error)),
    };
    let mut status = GaugeFamily::new(&SHARD_STATUS);
    let mut vectors = GaugeFamily::new(&SHARD_VECTORS);
    for (name, collection) in ctx.cluster_view_collections(view) {
        for shard in &collection.shards {
            let shard_id = shard.id.to_string();
            for replica in &shard.replicas {
                let peer_id = replica.peer_id.to_string();
                let labels = [
                    (COLLECTION, name),
                    (SHARD_ID, shard_id.as_str()),
                    (PEER_ID, peer_id.as_str()),
                ];
                if let Some(replica_status) = replica.status {
                    push_status(&mut status, &labels, replica_status);
                }
                push_vectors(
                    &mut vectors,
                    &labels,
                    replica.num_vectors_by_name.as_deref(),
                );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qdrant::models::Telemetry;
    use crate::test_support::{
        every_collection, recorded_shard, result, sample, text, value, HANDMADE_V1_12, RECORDED,
        RECORDED_PEER,
    };

    const NODE_C: &str = "1833886028127767";

    /// The collector's text for the level-3 telemetry recorded in `fixtures`.
    fn figures(fixtures: &str) -> String {
        let telemetry: Telemetry = result(fixtures, "telemetry-details-level-3.json");
        let names = every_collection(&telemetry);
        text(&from_telemetry(&Selected::of(&telemetry, &names)).unwrap())
    }

    /// The source of a shard transfer is a proxy with `status: null`: that
    /// series alone is left out; the collector neither fails nor falls back.
    #[test]
    fn a_replica_in_transfer_keeps_every_series_it_can_fill() {
        let telemetry: Telemetry = result(
            "transitions-v1.18.3-transfer-source-node-c",
            "telemetry-details-level-3.json",
        );
        let names = every_collection(&telemetry);
        let m = text(&from_telemetry(&Selected::of(&telemetry, &names)).unwrap());
        let solo = format!(r#"collection="solo",shard_id="0",peer_id="{NODE_C}""#);
        assert_eq!(
            sample(
                &m,
                "qdrant_shard_status",
                &format!(r#"{solo},status="green""#)
            ),
            None
        );
        assert_eq!(value(&m, "qdrant_shard_optimizer_ok", &solo), 1.0);
        assert!(
            m.contains(&format!("qdrant_shard_vectors{{{solo},vector=")),
            "{m}"
        );
        let orders = format!(r#"collection="orders",shard_id="0",peer_id="{NODE_C}""#);
        assert_eq!(
            value(
                &m,
                "qdrant_shard_status",
                &format!(r#"{orders},status="green""#)
            ),
            1.0
        );
    }

    #[test]
    fn collections_from_single_node_telemetry() {
        let telemetry: Telemetry = result(RECORDED, "telemetry-details-level-3.json");
        let names = every_collection(&telemetry);
        let selected = Selected::of(&telemetry, &names);
        assert_eq!(selected.own_peer_id(), Some(RECORDED_PEER.parse().unwrap()));
        let m = text(&from_telemetry(&selected).unwrap());
        assert_eq!(
            value(
                &m,
                "qdrant_shard_status",
                &format!(r#"{},status="green""#, recorded_shard("docs", 0))
            ),
            1.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_shard_optimizer_ok",
                &recorded_shard("ondisk_quantized", 1)
            ),
            1.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_shard_vectors",
                &format!(r#"{},vector="dense""#, recorded_shard("sparse", 0))
            ),
            300.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_collection_shard_number",
                r#"collection="ondisk_quantized""#
            ),
            2.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_collection_shards",
                r#"collection="ondisk_quantized""#
            ),
            2.0
        );
    }

    #[test]
    fn failed_optimizations_and_optimized_points_per_replica() {
        // 1.18 leaves fail_count out while it is 0.
        let m = figures(RECORDED);
        let docs = recorded_shard("docs", 0);
        assert_eq!(
            value(&m, "qdrant_shard_optimizations_failed_total", &docs),
            0.0
        );
        assert_eq!(value(&m, "qdrant_shard_optimized_points_total", &docs), 0.0);
        // A 1.19-shaped answer with two failed runs of three.
        let m = figures("handmade-v1.19.0");
        let small = r#"collection="small",shard_id="0",peer_id="8326746331167863""#;
        assert_eq!(
            value(&m, "qdrant_shard_optimizations_failed_total", small),
            2.0
        );
        assert!(m.contains("# TYPE qdrant_shard_optimizations_failed_total counter"));
    }

    #[test]
    fn applied_operations_per_replica_from_the_update_queue() {
        let m = figures(RECORDED);
        let docs = recorded_shard("docs", 0);
        assert_eq!(
            value(&m, "qdrant_shard_applied_operations_total", &docs),
            30.0
        );
        assert!(m.contains("# TYPE qdrant_shard_applied_operations_total counter"));
        // 1.19: a shard with no replica on this node has no series, its neighbour has.
        let m = figures("handmade-v1.19.0");
        let orders = |shard: u32| {
            format!(r#"collection="orders",shard_id="{shard}",peer_id="8326746331167863""#)
        };
        assert_eq!(
            sample(&m, "qdrant_shard_applied_operations_total", &orders(0)),
            None
        );
        assert_eq!(
            value(&m, "qdrant_shard_applied_operations_total", &orders(1)),
            6.0
        );
        // The target of a stream_records transfer counts its own batches: 3
        // of them (300 points), while the source's replica stands at 40.
        for (fixtures, peer, applied) in [
            (
                "transitions-v1.18.3-transfer-target-node-a",
                "6184556614098737",
                3.0,
            ),
            (
                "transitions-v1.18.3-transfer-source-node-c",
                "1833886028127767",
                40.0,
            ),
        ] {
            let solo = format!(r#"collection="solo",shard_id="0",peer_id="{peer}""#);
            let m = figures(fixtures);
            assert_eq!(
                value(&m, "qdrant_shard_applied_operations_total", &solo),
                applied,
                "{fixtures}"
            );
        }
        // 1.15 has no update queue in telemetry.
        let m = figures("handmade-v1.15.0");
        assert!(!m.contains("qdrant_shard_applied_operations_total{"), "{m}");
    }

    #[test]
    fn the_configuration_that_explains_behaviour() {
        let m = figures(RECORDED);
        let ondisk = r#"collection="ondisk_quantized""#;
        assert_eq!(
            value(&m, "qdrant_collection_indexing_threshold_bytes", ondisk),
            102_400.0
        );
        assert_eq!(value(&m, "qdrant_collection_hnsw_max_edges", ondisk), 16.0);
        assert_eq!(
            value(
                &m,
                "qdrant_collection_quantization_info",
                &format!(r#"{ondisk},type="scalar",always_ram="true""#)
            ),
            1.0
        );
        assert!(
            !m.contains("qdrant_collection_sharding_info{"),
            "auto is left unsaid"
        );
        assert_eq!(
            sample(&m, "qdrant_collection_prevent_unoptimized", ondisk),
            None,
            "unset"
        );
        assert_eq!(
            sample(&m, "qdrant_collection_strict_mode_enabled", ondisk),
            None
        );
        assert!(
            !m.contains("qdrant_collection_vector_memory_info{"),
            "1.18 has no memory mode"
        );
        assert!(!m.contains("\nqdrant_collections_limit "), "no limit set");

        // 1.19: indexing off, strict mode limits, a custom-sharded pinned collection.
        let m = figures("handmade-v1.19.0");
        let (orders, small) = (r#"collection="orders""#, r#"collection="small""#);
        assert_eq!(
            value(&m, "qdrant_collection_indexing_threshold_bytes", orders),
            0.0
        );
        assert_eq!(
            value(&m, "qdrant_collection_prevent_unoptimized", orders),
            0.0
        );
        assert_eq!(
            value(&m, "qdrant_collection_strict_mode_enabled", orders),
            1.0
        );
        for (limit, expected) in [
            ("max_points_count", Some(3000.0)),
            ("max_collection_vector_size_bytes", Some(1_073_741_824.0)),
            ("max_collection_payload_size_bytes", None),
            ("max_payload_index_count", Some(10.0)),
        ] {
            let labels = format!(r#"{orders},limit="{limit}""#);
            assert_eq!(
                sample(&m, "qdrant_collection_strict_mode_limit", &labels),
                expected,
                "{limit}"
            );
        }
        assert_eq!(
            value(
                &m,
                "qdrant_collection_vector_memory_info",
                &format!(r#"{small},vector="default",memory="pinned""#)
            ),
            1.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_collection_sharding_info",
                &format!(r#"{small},method="custom""#)
            ),
            1.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_collection_quantization_info",
                &format!(r#"{small},type="binary",always_ram="false""#)
            ),
            1.0
        );

        assert_eq!(value(&m, "qdrant_collections_limit", ""), 3.0);
        // 1.15: no graph, strict mode configured but off.
        let m = figures("handmade-v1.15.0");
        let sparse = r#"collection="sparse_only""#;
        assert_eq!(value(&m, "qdrant_collection_hnsw_max_edges", sparse), 0.0);
        assert_eq!(
            value(&m, "qdrant_collection_strict_mode_enabled", sparse),
            0.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_collection_strict_mode_limit",
                &format!(r#"{sparse},limit="max_points_count""#)
            ),
            5000.0
        );
    }

    #[test]
    fn qdrant_1_12_telemetry_has_all_the_collections_collector_needs() {
        let telemetry: Telemetry = result(HANDMADE_V1_12, "telemetry-details-level-3.json");
        let names = every_collection(&telemetry);
        let m = text(&from_telemetry(&Selected::of(&telemetry, &names)).unwrap());
        let broken = r#"collection="broken",shard_id="0",peer_id="111""#;
        assert_eq!(value(&m, "qdrant_shard_optimizer_ok", broken), 0.0);
        assert!(!m.contains("No space left"));
    }
}

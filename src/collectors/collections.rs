//! The `collections` collector: each collection's configuration, and the
//! health of this node's replica of each shard (status, optimizer, vectors,
//! update queue), from the shared telemetry.
//!
//! Per node: cluster-wide figures (a collection's worst status, say) are
//! derived in PromQL by the recording rules. Where telemetry cannot serve (an
//! older Qdrant), it falls back to `GET /collections/{name}` per collection,
//! whose figures are cluster-wide and keep their `qdrant_collection_*` names.

use std::collections::BTreeMap;

use crate::metrics::Family;
use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::fan_out::fan_out;
use super::{cluster_view, Collector, Context, Output, Selected};
use crate::metrics::{bool_value, GaugeFamily};
use crate::qdrant::models::{
    CollectionConfig, CollectionInfo, CollectionStatus, OptimizerStatus, VectorsConfig,
};

/// Label value for the vector of a collection created with one unnamed vector.
pub const UNNAMED_VECTOR: &str = "default";

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    if let Some(view) = ctx.cluster_view {
        return futures_util::future::ready(cluster_view::collections(ctx, view)).boxed_local();
    }
    ctx.telemetry_or_per_collection(
        Collector::Collections,
        |selected| from_telemetry(selected, ctx.emits_cluster_wide),
        || per_collection(ctx),
    )
    .boxed_local()
}

/// Shard status as a state set, as Qdrant reports it for each local shard.
pub fn push_status(family: &mut GaugeFamily, labels: &[(&str, &str)], status: CollectionStatus) {
    for (known, label) in CollectionStatus::KNOWN {
        let mut labels = labels.to_vec();
        labels.push(("status", label));
        family.push(&labels, bool_value(status == known));
    }
}

/// A replica's vectors by name; the unnamed vector is [`UNNAMED_VECTOR`].
pub fn push_vectors(
    family: &mut GaugeFamily,
    labels: &[(&str, &str)],
    by_name: Option<&BTreeMap<String, u64>>,
) {
    for (name, count) in by_name.into_iter().flatten() {
        let vector = if name.is_empty() {
            UNNAMED_VECTOR
        } else {
            name
        };
        let mut labels = labels.to_vec();
        labels.push(("vector", vector));
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

/// Per-node families from telemetry, or what telemetry lacks for them.
pub fn from_telemetry(
    selected: &Selected,
    emits_cluster_wide: bool,
) -> Result<Vec<Family>, &'static str> {
    let peer_id = selected
        .own_peer_id()
        .ok_or("telemetry does not say this node's peer id")?
        .to_string();
    let mut status = GaugeFamily::new(
        "qdrant_shard_status",
        "Status of this node's replica of the shard as a state set (green, yellow, grey, red); \
         all 0 for a status this exporter does not know. Per node.",
    );
    let mut optimizer_ok = GaugeFamily::new(
        "qdrant_shard_optimizer_ok",
        "1 when the optimizers of this node's replica of the shard report ok, 0 on an error. Per node.",
    );
    let mut vectors = GaugeFamily::new(
        "qdrant_shard_vectors",
        &format!(
            "Vectors in this node's replica of the shard, by vector name; \
             vector=\"{UNNAMED_VECTOR}\" is the unnamed vector. Per node."
        ),
    );
    let mut update_queue = GaugeFamily::new(
        "qdrant_shard_update_queue_length",
        "Updates waiting in the update queue of this node's replica of the shard (Qdrant 1.16 and later). Per node.",
    );
    let mut configs = Vec::new();
    for collection in &selected.collections {
        let shards = collection
            .shards
            .as_ref()
            .ok_or("telemetry lists no shards (details level below 3)")?;
        if emits_cluster_wide {
            let config = collection
                .config
                .as_ref()
                .ok_or("telemetry lacks the collection configuration")?;
            configs.push((collection.id.as_str(), config));
        }
        for shard in shards {
            let Some(local) = &shard.local else { continue };
            let shard_id = shard.id.to_string();
            let labels = [
                ("collection", collection.id.as_str()),
                ("shard_id", &shard_id),
                ("peer_id", &peer_id),
            ];
            let shard_status = local
                .status
                .ok_or("telemetry lacks the local shard status")?;
            push_status(&mut status, &labels, shard_status);
            if let Some(optimizations) = &local.optimizations {
                push_optimizer_ok(&mut optimizer_ok, &labels, &optimizations.status);
            }
            push_vectors(&mut vectors, &labels, local.num_vectors_by_name.as_ref());
            update_queue.push_some(
                &labels,
                local.update_queue.as_ref().and_then(|queue| queue.length),
            );
        }
    }
    let mut families: Vec<Family> = [status, optimizer_ok, vectors, update_queue]
        .into_iter()
        .map(GaugeFamily::finish)
        .collect();
    families.extend(config_families(&configs));
    Ok(families)
}

/// The fallback: `GET /collections/{name}` for every collection; cluster-wide.
async fn per_collection(ctx: &Context<'_>) -> Output {
    if !ctx.emits_cluster_wide {
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

pub fn collection_info_families(collections: &[(&str, CollectionInfo)]) -> Vec<Family> {
    const CLUSTER_WIDE: &str =
        "Cluster-wide; only where Qdrant's telemetry cannot serve (see the README).";
    let mut points = GaugeFamily::new(
        "qdrant_collection_points",
        &format!("Approximate number of points in the collection. {CLUSTER_WIDE}"),
    );
    let mut indexed = GaugeFamily::new(
        "qdrant_collection_indexed_vectors",
        &format!(
            "Approximate number of vectors in the collection's vector indexes. {CLUSTER_WIDE}"
        ),
    );
    let mut segments = GaugeFamily::new(
        "qdrant_collection_segments",
        &format!("Number of segments of the collection. {CLUSTER_WIDE}"),
    );
    let mut status = GaugeFamily::new(
        "qdrant_collection_status",
        &format!(
            "Collection status as a state set: 1 for the current status (green, yellow, grey, red); \
             all 0 if Qdrant reported a status unknown to this exporter. {CLUSTER_WIDE}"
        ),
    );
    let mut optimizer_ok = GaugeFamily::new(
        "qdrant_collection_optimizer_ok",
        &format!("1 when the collection's optimizers report ok, 0 when they report an error. {CLUSTER_WIDE}"),
    );
    let mut update_queue = GaugeFamily::new(
        "qdrant_collection_update_queue_length",
        &format!("Updates waiting in the collection's update queue (Qdrant 1.16 and later). {CLUSTER_WIDE}"),
    );

    let mut configs = Vec::new();
    for (name, info) in collections {
        let collection = [("collection", *name)];
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
pub fn config_families(configs: &[(&str, &CollectionConfig)]) -> Vec<Family> {
    let mut shard_number = GaugeFamily::new(
        "qdrant_collection_shard_number",
        "Configured number of shards of the collection (config.params.shard_number).",
    );
    let mut replication_factor = GaugeFamily::new(
        "qdrant_collection_replication_factor",
        "Configured number of replicas of each shard (config.params.replication_factor).",
    );
    let mut write_consistency = GaugeFamily::new(
        "qdrant_collection_write_consistency_factor",
        "Configured number of replicas that must apply a write (config.params.write_consistency_factor).",
    );
    let mut dimensions = GaugeFamily::new(
        "qdrant_collection_vector_dimensions",
        &format!("Dimensions of each dense vector of the collection; vector=\"{UNNAMED_VECTOR}\" is the unnamed vector."),
    );
    let mut vector_info = GaugeFamily::new(
        "qdrant_collection_vector_info",
        "Configuration of each dense vector of the collection: distance function and whether it is stored on disk. Always 1.",
    );
    for (name, config) in configs {
        let collection = [("collection", *name)];
        shard_number.push_some(&collection, config.params.shard_number);
        replication_factor.push_some(&collection, config.params.replication_factor);
        write_consistency.push_some(&collection, config.params.write_consistency_factor);
        let vectors: Vec<(&str, &_)> = match &config.params.vectors {
            Some(VectorsConfig::Unnamed(params)) => vec![(UNNAMED_VECTOR, params)],
            Some(VectorsConfig::Named(named)) => {
                named.iter().map(|(n, p)| (n.as_str(), p)).collect()
            }
            Some(VectorsConfig::Other(_)) | None => Vec::new(),
        };
        for (vector, params) in vectors {
            dimensions.push(
                &[("collection", name), ("vector", vector)],
                params.size as f64,
            );
            let on_disk = if params.is_on_disk() { "true" } else { "false" };
            vector_info.push(
                &[
                    ("collection", name),
                    ("vector", vector),
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
    .map(GaugeFamily::finish)
    .collect()
}

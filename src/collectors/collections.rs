//! The `collections` collector: `GET /collections/{name}` for every collection,
//! fanned out with bounded concurrency, turned into per-collection gauges.
//!
//! Collection info is aggregated over all shards of the cluster, so these
//! numbers are cluster-wide: every node's exporter reports the same values.

use std::time::Instant;

use prometheus::proto::MetricFamily;

use super::fan_out::fan_out;
use super::Output;
use crate::metrics::{bool_value, GaugeFamily};
use crate::qdrant::models::{CollectionInfo, CollectionStatus, OptimizerStatus, VectorsConfig};
use crate::qdrant::QdrantClient;

/// Label value for the vector of a collection created with one unnamed vector.
pub const UNNAMED_VECTOR: &str = "default";

pub async fn collect(client: &QdrantClient, names: &[String], deadline: Instant) -> Output {
    let fetched = fan_out(names, deadline, |name| client.collection(name)).await;
    Output {
        families: families(&fetched.fetched),
        failure: fetched.failure("collection info"),
        ..Output::default()
    }
}

fn families(collections: &[(&str, CollectionInfo)]) -> Vec<MetricFamily> {
    const CLUSTER_WIDE: &str = "Cluster-wide: the same on every node.";
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
    let mut update_queue = GaugeFamily::new(
        "qdrant_collection_update_queue_length",
        "Updates waiting in the collection's update queue (Qdrant 1.16 and later).",
    );
    let mut dimensions = GaugeFamily::new(
        "qdrant_collection_vector_dimensions",
        &format!("Dimensions of each dense vector of the collection; vector=\"{UNNAMED_VECTOR}\" is the unnamed vector."),
    );
    let mut vector_info = GaugeFamily::new(
        "qdrant_collection_vector_info",
        "Configuration of each dense vector of the collection: distance function and whether it is stored on disk. Always 1.",
    );

    for (name, info) in collections {
        let collection = [("collection", *name)];
        points.push_some(&collection, info.points_count);
        indexed.push_some(&collection, info.indexed_vectors_count);
        segments.push_some(&collection, info.segments_count);
        for (known, label) in CollectionStatus::KNOWN {
            status.push(
                &[("collection", name), ("status", label)],
                bool_value(info.status == known),
            );
        }
        match &info.optimizer_status {
            OptimizerStatus::Ok => optimizer_ok.push(&collection, 1.0),
            // The error text stays out of the labels: it is unbounded and would make a new series per message.
            OptimizerStatus::Error(_) => optimizer_ok.push(&collection, 0.0),
            OptimizerStatus::Unknown => {}
        }
        update_queue.push_some(
            &collection,
            info.update_queue.as_ref().and_then(|queue| queue.length),
        );

        let Some(config) = &info.config else { continue };
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
            let on_disk = if params.on_disk.unwrap_or(false) {
                "true"
            } else {
                "false"
            };
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
        points,
        indexed,
        segments,
        status,
        optimizer_ok,
        shard_number,
        replication_factor,
        write_consistency,
        update_queue,
        dimensions,
        vector_info,
    ]
    .into_iter()
    .map(GaugeFamily::finish)
    .collect()
}

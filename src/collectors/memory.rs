//! The `memory` collector: bytes of vectors and payloads in this node's local
//! shards, per collection, from `GET /telemetry?details_level=3`.
//!
//! Qdrant has no per-collection memory endpoint (v1.18.3's API has none); the
//! shard telemetry's sizes are the per-collection figures it does report. They
//! appeared in Qdrant 1.15: on older versions the collector reports itself
//! unsupported instead of failing. One request per refresh, but a heavy one
//! for Qdrant, which is why the collector is off by default.

use std::collections::HashSet;

use super::{Failure, Output};
use crate::metrics::GaugeFamily;
use crate::qdrant::{QdrantClient, QdrantError};

pub async fn collect(client: &QdrantClient, names: &[String]) -> Output {
    let telemetry = match client.shard_telemetry().await {
        Ok(telemetry) => telemetry,
        Err(QdrantError::NotFound) => return Output::unsupported(),
        Err(error) => {
            let message = format!("cannot read shard telemetry: {error}");
            return Output::failed(Failure::from_error(&error, message));
        }
    };
    let wanted: HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut bytes = GaugeFamily::new(
        "qdrant_collection_local_data_bytes",
        "Bytes of vectors and payloads in this node's shards of the collection, by kind. Per node.",
    );
    let mut any_size_reported = false;
    let mut any_local_shard = false;
    for collection in telemetry
        .collections
        .collections
        .iter()
        .filter(|c| wanted.contains(c.id.as_str()))
    {
        let locals = collection
            .shards
            .iter()
            .filter_map(|shard| shard.local.as_ref());
        let (mut vectors, mut payloads) = (0, 0);
        for local in locals {
            any_local_shard = true;
            any_size_reported |=
                local.vectors_size_bytes.is_some() || local.payloads_size_bytes.is_some();
            vectors += local.vectors_size_bytes.unwrap_or(0);
            payloads += local.payloads_size_bytes.unwrap_or(0);
        }
        bytes.push(
            &[("collection", &collection.id), ("kind", "vectors")],
            vectors as f64,
        );
        bytes.push(
            &[("collection", &collection.id), ("kind", "payloads")],
            payloads as f64,
        );
    }
    if any_local_shard && !any_size_reported {
        return Output::unsupported();
    }
    Output {
        families: vec![bytes.finish()],
        ..Output::default()
    }
}

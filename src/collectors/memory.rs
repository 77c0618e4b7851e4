//! The `memory` collector: bytes of vectors and payloads in this node's local
//! shards, per collection, from the shared telemetry (Qdrant 1.15 and later;
//! unsupported before). It adds no request of its own.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::{Collector, Context, Output, Selected};
use crate::metrics::GaugeFamily;

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    let output = ctx.telemetry_only(Collector::Memory, from_telemetry);
    futures_util::future::ready(output).boxed_local()
}

pub fn from_telemetry(selected: &Selected) -> Output {
    let mut bytes = GaugeFamily::new(
        "qdrant_collection_local_data_bytes",
        "Bytes of vectors and payloads in this node's shards of the collection, by kind. Per node.",
    );
    let mut any_size_reported = false;
    let mut any_local_shard = false;
    for collection in &selected.collections {
        let locals = collection
            .shards
            .iter()
            .flatten()
            .filter_map(|shard| shard.local.as_ref())
            .filter(|local| !local.is_dummy());
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
        return Output::unsupported("telemetry reports no shard sizes (Qdrant before 1.15)");
    }
    Output::families(vec![bytes.finish()])
}

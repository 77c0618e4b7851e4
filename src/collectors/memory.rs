//! The `memory` collector: `GET /collections/{name}/memory` for every
//! collection (Qdrant 1.18 and later): bytes on disk, on the heap, in the page
//! cache now and wanted in it, of this node's shards, by component.
//!
//! Qdrant asks the kernel which pages are resident: about 2 ms of its CPU per
//! collection, so the collector is off by default and runs every 5 minutes
//! when on. Older versions report it unsupported; the vector and payload
//! bytes telemetry carries are exported by the `shards` collector anyway.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::fan_out::{collect_per_collection, Endpoint};
use super::{Context, Output};
use crate::metrics::{Family, GaugeFamily};
use crate::qdrant::models::{CollectionMemory, MemoryUsage};

const ENDPOINT: Endpoint = Endpoint {
    since: (1, 18, 0),
    older: "GET /collections/{name}/memory needs Qdrant 1.18 or later",
    missing: "GET /collections/{name}/memory answered 404",
    what: "memory figures",
};

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    collect_per_collection(
        ctx,
        ENDPOINT,
        |name| ctx.client.collection_memory(name),
        |fetched| vec![family(fetched)],
    )
    .boxed_local()
}

/// Payload indexes are summed over their fields: field names are the user's
/// data, unbounded in number, and the endpoint itself breaks them down when
/// one collection needs a closer look. Vectors keep their names: the
/// collection's configuration bounds them, as in `qdrant_shard_vectors`.
pub fn family(collections: &[(&str, CollectionMemory)]) -> Family {
    let mut bytes = GaugeFamily::new(
        "qdrant_collection_memory_bytes",
        "Bytes of this node's shards of the collection by component and kind: disk (on disk), ram (heap), \
         cached (in the page cache now), expected_cache (wanted in the page cache by the configuration).",
    );
    for (collection, memory) in collections {
        let mut push = |component: &str, vector: Option<&str>, usage: MemoryUsage| {
            for (kind, value) in [
                ("disk", usage.disk_bytes),
                ("ram", usage.ram_bytes),
                ("cached", usage.cached_bytes),
                ("expected_cache", usage.expected_cache_bytes),
            ] {
                let mut labels = vec![("collection", *collection), ("component", component)];
                labels.extend(vector.map(|name| ("vector", name)));
                labels.push(("kind", kind));
                bytes.push(&labels, value as f64);
            }
        };
        for (vectors, prefix) in [
            (&memory.vectors, "vector"),
            (&memory.sparse_vectors, "sparse_vector"),
        ] {
            for vector in vectors {
                let name = Some(vector.name.as_str());
                let parts = [
                    ("storage", vector.storage),
                    ("index", vector.index),
                    ("quantized", vector.quantized),
                ];
                for (part, usage) in parts {
                    if let Some(usage) = usage {
                        push(&format!("{prefix}_{part}"), name, usage);
                    }
                }
            }
        }
        if let Some(payload) = memory.payload {
            push("payload", None, payload);
        }
        let payload_index = memory
            .payload_index
            .iter()
            .filter_map(|index| index.usage)
            .fold(MemoryUsage::default(), |sum, usage| sum + usage);
        push("payload_index", None, payload_index);
        if let Some(id_tracker) = memory.other.as_ref().and_then(|other| other.id_tracker) {
            push("id_tracker", None, id_tracker);
        }
    }
    bytes.finish()
}

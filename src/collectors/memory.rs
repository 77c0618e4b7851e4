//! The `memory` collector: `GET /collections/{name}/memory` for every
//! collection (Qdrant 1.18 and later): bytes on disk, on the heap, in the page
//! cache now and wanted in it, by component. Qdrant sums every replica on
//! every peer (asking each peer holding one), so every node answers the same
//! bytes: the cluster's figure, asked by its reporter alone.
//!
//! Each node asks its kernel which pages are resident: about 2 ms of CPU per
//! collection, so the collector is off by default and runs every 5 minutes
//! when on. Older versions report it unsupported; the vector and payload
//! bytes of each node's shards are the `shards` collector's anyway.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::Context;
use super::fan_out::{collect_per_collection, AddedEndpoint};
use super::output::Output;
use crate::metrics::label::{COLLECTION, VECTOR};
use crate::metrics::{Detail, Family, FamilySpec, GaugeFamily};
use crate::qdrant::models::{CollectionMemory, MemoryUsage};

const ENDPOINT: AddedEndpoint = AddedEndpoint {
    since: (1, 18, 0),
    older: "GET /collections/{name}/memory needs Qdrant 1.18 or later",
    missing: "GET /collections/{name}/memory answered 404",
    what: "memory figures",
};

static BYTES: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_memory_bytes",
    &[COLLECTION, "component", VECTOR, "kind"],
    "Bytes of every replica of the collection, summed over the peers, by component and kind: disk (on disk), \
     ram (heap), cached (in the page cache now), expected_cache (wanted in the page cache by the configuration).",
)
.exported_from(Detail::Shard);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] = &[&BYTES];

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
fn family(collections: &[(&str, CollectionMemory)]) -> Family {
    let mut bytes = GaugeFamily::new(&BYTES);
    for (collection, memory) in collections {
        let mut push = |component: &str, vector: Option<&str>, usage: MemoryUsage| {
            for (kind, value) in [
                ("disk", usage.disk_bytes),
                ("ram", usage.ram_bytes),
                ("cached", usage.cached_bytes),
                ("expected_cache", usage.expected_cache_bytes),
            ] {
                let mut labels = vec![(COLLECTION, *collection), ("component", component)];
                labels.extend(vector.map(|name| (VECTOR, name)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{result, text, value, MEMORY};

    /// The components of every recorded collection add up to the `total` Qdrant reports, kind by kind.
    #[test]
    fn memory_components_add_up_to_the_recorded_totals() {
        for file in [
            "collection-products-memory.json",
            "collection-multi named-memory.json",
            "collection-quantized-memory.json",
            "collection-sparse-only-memory.json",
            "collection-empty-memory.json",
        ] {
            let memory: CollectionMemory = result(MEMORY, file);
            let total: serde_json::Value = result(MEMORY, file);
            let m = text(&[family(&[("c", memory)])]);
            for kind in ["disk", "ram", "cached", "expected_cache"] {
                let sum: f64 = m
                    .lines()
                    .filter(|line| line.starts_with("qdrant_collection_memory_bytes{"))
                    .filter(|line| line.contains(&format!(r#"kind="{kind}"}}"#)))
                    .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
                    .sum();
                let expected = total["total"][format!("{kind}_bytes")].as_f64().unwrap();
                assert_eq!(sum, expected, "{file}: {kind}");
            }
        }
    }

    #[test]
    fn memory_by_component() {
        let products: CollectionMemory = result(MEMORY, "collection-products-memory.json");
        let quantized: CollectionMemory = result(MEMORY, "collection-quantized-memory.json");
        let sparse: CollectionMemory = result(MEMORY, "collection-sparse-only-memory.json");
        let m = text(&[family(&[
            ("products", products),
            ("quantized", quantized),
            ("sparse-only", sparse),
        ])]);
        let bytes = |labels: &str| value(&m, "qdrant_collection_memory_bytes", labels);
        assert_eq!(
            bytes(r#"collection="products",component="vector_storage",vector="",kind="disk""#),
            71_303_592.0
        );
        assert_eq!(
            bytes(r#"collection="products",component="payload_index",kind="disk""#),
            19_035_660.0
        );
        assert_eq!(
            bytes(r#"collection="products",component="id_tracker",kind="ram""#),
            109_152.0
        );
        assert_eq!(
            bytes(r#"collection="quantized",component="vector_quantized",vector="",kind="ram""#),
            150_096.0
        );
        assert_eq!(
            bytes(
                r#"collection="sparse-only",component="sparse_vector_index",vector="bm",kind="ram""#
            ),
            4_800.0
        );
        assert!(!m.contains(r#""cat""#), "payload index fields are summed");
    }
}

//! The `segments` collector: the segments of this node's replica of each
//! shard by type, their indexed vectors by vector name, deleted and deferred
//! points, and the searches their vector indexes answered by search path, from
//! telemetry at details level 4. Level 4 costs Qdrant more than level 3 (150 against 110 ms
//! of CPU at 1,006 collections), so by default this runs less often than the
//! level-3 collectors (`SEGMENTS_INTERVAL` in the catalog): the refresh then
//! asks level 4 instead of 3, one request either way.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use std::collections::BTreeMap;

use super::context::{Context, Selected};
use super::output::Output;
use super::vector_label;
use crate::metrics::label::{COLLECTION, PEER_ID, SHARD_ID, VECTOR};
use crate::metrics::{Detail, Family, FamilySpec, GaugeFamily, Reduced, SHARD_AND_PEER};
use crate::qdrant::models::{SegmentTelemetry, SegmentType};

static SEGMENTS: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_segments",
    &[COLLECTION, SHARD_ID, PEER_ID, "segment_type", "appendable"],
    "Segments of this node's replica of the shard, by segment_type (plain: no vector index yet; \
     indexed; special) and whether they take writes (appendable).",
)
.below_full(Reduced::Summed(&["segment_type", "appendable"]))
.exported_from(Detail::Shard);
static INDEXED_VECTORS: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_indexed_vectors",
    &[COLLECTION, SHARD_ID, PEER_ID, VECTOR],
    "Vectors in the vector indexes of this node's replica of the shard, by vector name.",
);
static SEARCHES: FamilySpec = FamilySpec::counter(
    "qdrant_shard_vector_index_searches_total",
    &[COLLECTION, SHARD_ID, PEER_ID, VECTOR, "path"],
    "Searches the vector indexes of this node's replica of the shard answered, by vector name and \
     the path they took (unfiltered_plain and filtered_plain are full scans). Summed over the \
     replica's segments: a segment the optimizer rebuilds starts again from 0, which rate() takes \
     for a reset.",
)
.below_full(Reduced::Summed(SHARD_AND_PEER))
.exported_from(Detail::Shard);
static DELETED_POINTS: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_deleted_points",
    &[COLLECTION, SHARD_ID, PEER_ID],
    "Points deleted but not yet vacuumed away in this node's replica of the shard (segment info's \
     num_deleted_vectors, which Qdrant fills with the deleted point count).",
)
.exported_from(Detail::Full);
static DEFERRED_POINTS: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_deferred_points",
    &[COLLECTION, SHARD_ID, PEER_ID],
    "Points written to this node's replica of the shard but not yet visible to search (Qdrant 1.18 and later).",
)
.exported_from(Detail::Full);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] = &[
    &SEGMENTS,
    &INDEXED_VECTORS,
    &SEARCHES,
    &DELETED_POINTS,
    &DEFERRED_POINTS,
];

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    let output = ctx.telemetry_only(from_telemetry);
    futures_util::future::ready(output).boxed_local()
}

fn from_telemetry(selected: &Selected) -> Output {
    let Some(peer_id) = selected.own_peer_id() else {
        return Output::unsupported("telemetry does not say this node's peer id");
    };
    let peer_id = peer_id.to_string();
    let mut segments = GaugeFamily::new(&SEGMENTS);
    let mut indexed = GaugeFamily::new(&INDEXED_VECTORS);
    let mut deleted = GaugeFamily::new(&DELETED_POINTS);
    let mut deferred = GaugeFamily::new(&DEFERRED_POINTS);
    let mut searches = Family::new(&SEARCHES);
    let mut local_shards = 0;
    let mut listed = 0;
    for collection in &selected.collections {
        for shard in collection.shards.iter().flatten() {
            let Some(local) = shard.local.as_ref().filter(|local| !local.is_dummy()) else {
                continue;
            };
            local_shards += 1;
            let Some(shard_segments) = &local.segments else {
                continue;
            };
            listed += 1;
            let shard_id = shard.id.to_string();
            let labels = [
                (COLLECTION, collection.id.as_str()),
                (SHARD_ID, &shard_id),
                (PEER_ID, &peer_id),
            ];
            let infos = shard_segments.iter().map(|segment| &segment.info);
            for ((segment_type, appendable), count) in by_type(shard_segments) {
                let mut labels = labels.to_vec();
                labels.extend([("segment_type", segment_type), ("appendable", appendable)]);
                segments.push(&labels, count as f64);
            }
            for (vector, count) in indexed_by_vector(shard_segments) {
                let mut labels = labels.to_vec();
                labels.push((VECTOR, vector_label(vector)));
                indexed.push(&labels, count as f64);
            }
            for ((vector, path), count) in searches_by_path(shard_segments) {
                let mut labels = labels.to_vec();
                labels.extend([(VECTOR, vector_label(vector)), ("path", path)]);
                searches.push(&labels, count as f64);
            }
            deleted.push(
                &labels,
                infos.clone().map(|i| i.num_deleted_vectors).sum::<u64>() as f64,
            );
            deferred.push_some(
                &labels,
                infos.map(|i| i.num_deferred_points).sum::<Option<u64>>(),
            );
        }
    }
    if local_shards > 0 && listed == 0 {
        return Output::unsupported("telemetry at details level 4 lists no segments");
    }
    let mut families: Vec<Family> = [segments, indexed, deleted, deferred]
        .into_iter()
        .map(GaugeFamily::finish)
        .collect();
    families.push(searches);
    Output::families(families)
}

/// Segments counted by type and whether they take writes.
fn by_type(segments: &[SegmentTelemetry]) -> BTreeMap<(&'static str, &'static str), usize> {
    let mut counts = BTreeMap::new();
    for info in segments.iter().map(|segment| &segment.info) {
        let appendable = match info.is_appendable {
            Some(true) => "true",
            Some(false) => "false",
            None => "unknown",
        };
        let segment_type = info.segment_type.map_or("unknown", SegmentType::label);
        *counts.entry((segment_type, appendable)).or_default() += 1;
    }
    counts
}

fn indexed_by_vector(segments: &[SegmentTelemetry]) -> BTreeMap<&str, u64> {
    let mut counts = BTreeMap::new();
    for (vector, data) in segments
        .iter()
        .flat_map(|segment| &segment.info.vector_data)
    {
        *counts.entry(vector.as_str()).or_default() += data.num_indexed_vectors;
    }
    counts
}

/// Searches by vector name and path, over the segments; paths never taken are left out.
fn searches_by_path(segments: &[SegmentTelemetry]) -> BTreeMap<(&str, &'static str), u64> {
    let mut counts = BTreeMap::new();
    for index in segments
        .iter()
        .flat_map(|segment| &segment.vector_index_searches)
    {
        let vector = index.index_name.as_deref().unwrap_or_default();
        for (path, searched) in index.paths() {
            if let Some(searched) = searched.filter(|searched| searched.count > 0) {
                *counts.entry((vector, path)).or_default() += searched.count;
            }
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qdrant::models::Telemetry;
    use crate::test_support::{
        every_collection, recorded_shard, result, sample, text, value, RECORDED, RECORDED_PEER,
    };

    fn output(file: &str) -> Output {
        let telemetry: Telemetry = result(RECORDED, file);
        let names = every_collection(&telemetry);
        from_telemetry(&Selected::of(&telemetry, &names))
    }

    #[test]
    fn segments_from_level_4_telemetry() {
        let output = output("telemetry-details-level-4.json");
        assert!(output.unsupported.is_none() && output.failure.is_none());
        let m = text(&output.families);
        let shard_0 = recorded_shard("ondisk_quantized", 0);
        let segments = |kind: &str| format!(r#"{shard_0},segment_type="{kind}""#);
        assert_eq!(
            value(
                &m,
                "qdrant_shard_segments",
                &format!(r#"{},appendable="true""#, segments("plain"))
            ),
            1.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_shard_segments",
                &format!(r#"{},appendable="false""#, segments("indexed"))
            ),
            1.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_shard_indexed_vectors",
                &format!(r#"{shard_0},vector="default""#)
            ),
            527.0
        );
        assert_eq!(value(&m, "qdrant_shard_deleted_points", &shard_0), 0.0);
        assert_eq!(value(&m, "qdrant_shard_deferred_points", &shard_0), 0.0);
    }

    #[test]
    fn indexed_vectors_and_searches_by_vector_name_and_path() {
        let m = text(&output("telemetry-details-level-4.json").families);
        let sparse = recorded_shard("sparse", 0);
        // Three named vectors over two segments: the dense one not indexed yet, the two sparse ones indexed.
        for (vector, indexed) in [("dense", 0.0), ("text", 300.0), ("keywords", 300.0)] {
            let labels = format!(r#"{sparse},vector="{vector}""#);
            assert_eq!(
                value(&m, "qdrant_shard_indexed_vectors", &labels),
                indexed,
                "{vector}"
            );
        }
        let searches = |collection: &str, vector: &str, path: &str| {
            let labels = format!(
                r#"collection="{collection}",shard_id="0",peer_id="{RECORDED_PEER}",vector="{vector}",path="{path}""#
            );
            sample(&m, "qdrant_shard_vector_index_searches_total", &labels)
        };
        // Summed over the replica's two segments.
        assert_eq!(searches("docs", "default", "filtered_plain"), Some(10.0));
        assert_eq!(searches("sparse", "text", "unfiltered_sparse"), Some(10.0));
        assert_eq!(
            searches("docs", "default", "unfiltered_hnsw"),
            None,
            "never taken"
        );
        assert!(m.contains("# TYPE qdrant_shard_vector_index_searches_total counter"));
    }

    #[test]
    fn a_v1_15_shaped_answer_has_the_same_figures() {
        let telemetry: Telemetry = result("handmade-v1.15.0", "telemetry-details-level-4.json");
        let names = every_collection(&telemetry);
        let m = text(&from_telemetry(&Selected::of(&telemetry, &names)).families);
        let shard = r#"collection="sparse_only",shard_id="0",peer_id="333""#;
        assert_eq!(
            value(
                &m,
                "qdrant_shard_segments",
                &format!(r#"{shard},segment_type="plain",appendable="true""#)
            ),
            1.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_shard_indexed_vectors",
                &format!(r#"{shard},vector="text""#)
            ),
            40.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_shard_vector_index_searches_total",
                &format!(r#"{shard},vector="text",path="unfiltered_sparse""#)
            ),
            3.0
        );
    }

    #[test]
    fn a_v1_19_shaped_answer_has_the_same_figures() {
        let telemetry: Telemetry = result("handmade-v1.19.0", "telemetry-details-level-4.json");
        let names = every_collection(&telemetry);
        let m = text(&from_telemetry(&Selected::of(&telemetry, &names)).families);
        let small = r#"collection="small",shard_id="0",peer_id="8326746331167863""#;
        for (segment, count) in [
            (r#"segment_type="indexed",appendable="false""#, 1.0),
            (r#"segment_type="plain",appendable="true""#, 1.0),
        ] {
            let labels = format!("{small},{segment}");
            assert_eq!(
                value(&m, "qdrant_shard_segments", &labels),
                count,
                "{segment}"
            );
        }
        let vector = format!(r#"{small},vector="default""#);
        assert_eq!(value(&m, "qdrant_shard_indexed_vectors", &vector), 60.0);
        for (path, count) in [
            ("unfiltered_hnsw", 7.0),
            ("filtered_large_cardinality", 2.0),
            ("unfiltered_plain", 1.0),
        ] {
            let labels = format!(r#"{vector},path="{path}""#);
            assert_eq!(
                value(&m, "qdrant_shard_vector_index_searches_total", &labels),
                count,
                "{path}"
            );
        }
        // Indexing off: only full scans.
        let orders =
            r#"collection="orders",shard_id="1",peer_id="8326746331167863",vector="default""#;
        assert_eq!(
            value(
                &m,
                "qdrant_shard_vector_index_searches_total",
                &format!(r#"{orders},path="filtered_plain""#)
            ),
            4.0
        );
    }

    #[test]
    fn level_3_lists_no_segments_unsupported_not_zero() {
        assert!(output("telemetry-details-level-3.json")
            .unsupported
            .is_some());
    }
}

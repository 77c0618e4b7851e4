//! The `segments` collector: the segments of this node's replica of each
//! shard, with their indexed vectors, deleted and deferred points, from telemetry at
//! details level 4. Level 4 costs Qdrant more than level 3 (150 against 110 ms
//! of CPU at 1,006 collections), so by default this runs once a minute: the
//! refresh then asks level 4 instead of 3, one request either way.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::{Context, Selected};
use super::output::Output;
use crate::metrics::{FamilySpec, GaugeFamily};

static SEGMENTS: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_segments",
    "Segments of this node's replica of the shard.",
);
static INDEXED_VECTORS: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_indexed_vectors",
    "Vectors in the vector indexes of this node's replica of the shard.",
);
static DELETED_POINTS: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_deleted_points",
    "Points deleted but not yet vacuumed away in this node's replica of the shard (segment info's \
     num_deleted_vectors, which Qdrant fills with the deleted point count).",
);
static DEFERRED_POINTS: FamilySpec = FamilySpec::gauge(
    "qdrant_shard_deferred_points",
    "Points written to this node's replica of the shard but not yet visible to search (Qdrant 1.18 and later).",
);

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
                ("collection", collection.id.as_str()),
                ("shard_id", &shard_id),
                ("peer_id", &peer_id),
            ];
            let infos = shard_segments.iter().map(|segment| &segment.info);
            segments.push(&labels, shard_segments.len() as f64);
            indexed.push(
                &labels,
                infos.clone().map(|i| i.num_indexed_vectors).sum::<u64>() as f64,
            );
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
    Output::families(
        [segments, indexed, deleted, deferred]
            .into_iter()
            .map(GaugeFamily::finish)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qdrant::models::Telemetry;
    use crate::test_support::{every_collection, result, text, value, RECORDED, RECORDED_PEER};

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
        let shard_0 =
            format!(r#"collection="ondisk_quantized",shard_id="0",peer_id="{RECORDED_PEER}""#);
        assert_eq!(value(&m, "qdrant_shard_segments", &shard_0), 2.0);
        assert_eq!(value(&m, "qdrant_shard_indexed_vectors", &shard_0), 527.0);
        assert_eq!(value(&m, "qdrant_shard_deleted_points", &shard_0), 0.0);
        assert_eq!(value(&m, "qdrant_shard_deferred_points", &shard_0), 0.0);
    }

    #[test]
    fn level_3_lists_no_segments_unsupported_not_zero() {
        assert!(output("telemetry-details-level-3.json")
            .unsupported
            .is_some());
    }
}

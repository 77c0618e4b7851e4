//! The `optimizations` collector: what the optimizers run on this node's
//! shards and how the latest runs ended, from the optimizer log each local
//! shard carries in telemetry at details level 4 (node-local: Qdrant asks no
//! other peer for it). By default it runs with `segments`, whose refresh
//! asks level 4 anyway. The queue, which only the
//! cluster-wide endpoint has, is `optimizer_queue`'s.

use std::collections::{BTreeMap, HashSet};

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::{Context, Selected};
use super::output::Output;
use super::timestamps::unix_seconds;
use crate::metrics::label::COLLECTION;
use crate::metrics::{Across, Detail, FamilySpec, GaugeFamily, Reduced};

/// Every optimizer of Qdrant 1.16–1.19, as it names them (the `name()` of
/// lib/shard/src/optimizers/*_optimizer.rs); each gets a series, 0 when
/// idle, so that "nothing running" is a value and not a gap. Others appear
/// while they run.
const OPTIMIZERS: [&str; 4] = ["indexing", "merge", "vacuum", "config mismatch"];

static RUNNING: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_optimizations_running",
    &[COLLECTION, "optimizer"],
    "Optimizations running on this node's replicas of the collection, by optimizer (as Qdrant names them).",
)
.below_full(Reduced::Summed(&["optimizer"]));
static RUNNING_POINTS: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_optimizations_running_points",
    &[COLLECTION],
    "Points in the segments the running optimizations on this node's replicas rewrite (Qdrant 1.17 and later).",
)
.below_full(Reduced::NonZero);
static OLDEST_START: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_optimization_oldest_start_timestamp_seconds",
    &[COLLECTION],
    "Start of the longest-running optimization on this node's replicas of the collection, as a Unix timestamp; absent while none runs.",
)
.across_collections(Across::Lowest);

static LATEST_END: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_optimization_latest_end_timestamp_seconds",
    &[COLLECTION, "status"],
    "End of the latest optimization on this node's replicas of the collection that ended with \
     the status (done, cancelled, error), as a Unix timestamp, from Qdrant's log of them (the \
     latest 16 optimizations of each replica, and every failed one since start); absent for a \
     status it does not hold.",
)
.exported_from(Detail::Shard)
.across_collections(Across::Highest);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] =
    &[&RUNNING, &RUNNING_POINTS, &OLDEST_START, &LATEST_END];

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    let output = ctx.telemetry_only(from_telemetry);
    futures_util::future::ready(output).boxed_local()
}

fn from_telemetry(selected: &Selected) -> Output {
    let mut running = GaugeFamily::new(&RUNNING);
    let mut running_points = GaugeFamily::new(&RUNNING_POINTS);
    let mut oldest = GaugeFamily::new(&OLDEST_START);
    let mut latest_end = GaugeFamily::new(&LATEST_END);
    let mut logged = false;
    for collection in &selected.collections {
        let locals: Vec<_> = collection
            .shards
            .iter()
            .flatten()
            .filter_map(|shard| shard.local.as_ref())
            .filter(|local| !local.is_dummy())
            .collect();
        if locals.is_empty() {
            continue;
        }
        let mut by_optimizer: BTreeMap<&str, usize> =
            OPTIMIZERS.iter().map(|name| (*name, 0)).collect();
        // Qdrant before 1.17 names no segment uuids: the points are unknown there.
        let (mut points, mut started) = (Some(0), None::<f64>);
        let mut ended: BTreeMap<&str, f64> = BTreeMap::new();
        for local in locals {
            let Some(log) = local.optimizations.as_ref().and_then(|o| o.log.as_ref()) else {
                continue;
            };
            logged = true;
            for run in log {
                let end = run.end_at.as_deref().and_then(unix_seconds);
                if let (Some(status), Some(end)) = (run.ended(), end) {
                    let latest = ended.entry(status).or_insert(end);
                    *latest = latest.max(end);
                }
            }
            for run in log.iter().filter(|run| run.is_running()) {
                *by_optimizer.entry(&run.name).or_default() += 1;
                if let Some(start) = run.start_at.as_deref().and_then(unix_seconds) {
                    started = Some(started.map_or(start, |s| s.min(start)));
                }
                if run.segment_uuids.is_empty() {
                    points = None;
                }
                let rewritten: HashSet<&str> =
                    run.segment_uuids.iter().map(String::as_str).collect();
                let run_points = local
                    .segments
                    .iter()
                    .flatten()
                    .filter(|segment| {
                        segment
                            .info
                            .uuid
                            .as_deref()
                            .is_some_and(|uuid| rewritten.contains(uuid))
                    })
                    .filter_map(|segment| segment.info.num_points)
                    .sum::<u64>();
                points = points.map(|sum| sum + run_points);
            }
        }
        let name = collection.id.as_str();
        for (optimizer, count) in by_optimizer {
            running.push(
                &[(COLLECTION, name), ("optimizer", optimizer)],
                count as f64,
            );
        }
        running_points.push_some(&[(COLLECTION, name)], points);
        if let Some(started) = started {
            oldest.push(&[(COLLECTION, name)], started);
        }
        for (status, end) in ended {
            latest_end.push(&[(COLLECTION, name), ("status", status)], end);
        }
    }
    if !logged && !selected.collections.is_empty() {
        return Output::unsupported("telemetry carries no optimizer log (details level below 4)");
    }
    Output::families(
        [running, running_points, oldest, latest_end]
            .into_iter()
            .map(GaugeFamily::finish)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qdrant::models::Telemetry;
    use crate::test_support::{
        collection_json, every_collection, result, sample, telemetry_with_running_optimizations,
        text, value, RECORDED,
    };

    fn output(telemetry: &Telemetry) -> Output {
        let names = every_collection(telemetry);
        from_telemetry(&Selected::of(telemetry, &names))
    }

    /// The recorded log holds three optimizations, done: nothing runs.
    #[test]
    fn the_recorded_log_of_ended_optimizations_runs_nothing() {
        let telemetry: Telemetry = result(RECORDED, "telemetry-details-level-4.json");
        let m = text(&output(&telemetry).families);
        for optimizer in OPTIMIZERS {
            assert_eq!(
                value(
                    &m,
                    "qdrant_collection_optimizations_running",
                    &format!(r#"collection="ondisk_quantized",optimizer="{optimizer}""#)
                ),
                0.0,
                "{optimizer}"
            );
        }
        assert!(!m.contains("qdrant_collection_optimization_oldest_start_timestamp_seconds{"));
        let level_3: Telemetry = result(RECORDED, "telemetry-details-level-3.json");
        assert!(output(&level_3).unsupported.is_some());
    }

    fn latest_end(m: &str, status: &str) -> Option<f64> {
        sample(
            m,
            "qdrant_collection_optimization_latest_end_timestamp_seconds",
            &format!(r#"collection="ondisk_quantized",status="{status}""#),
        )
    }

    /// The recorded log: six runs done on two replicas, the latest the merge
    /// of shard 0 (2026-11-21T06:47:13.841175863Z).
    #[test]
    fn the_latest_end_of_the_logged_optimizations_by_status() {
        let telemetry: Telemetry = result(RECORDED, "telemetry-details-level-4.json");
        let m = text(&output(&telemetry).families);
        let done = latest_end(&m, "done").unwrap();
        assert!((done - 1_795_243_633.841_176).abs() < 1e-3, "{done}");
        assert_eq!(latest_end(&m, "cancelled"), None);
        assert_eq!(latest_end(&m, "error"), None);
        assert_eq!(
            sample(
                &m,
                "qdrant_collection_optimization_latest_end_timestamp_seconds",
                r#"collection="docs",status="done""#
            ),
            None,
            "nothing logged there"
        );
    }

    /// Shard 1's runs cancelled and failed, in the shape of Qdrant 1.15
    /// (no uuids) and of 1.18–1.19; a running one has no end.
    #[test]
    fn cancelled_and_failed_runs_are_their_own_series() {
        for uuids in [false, true] {
            let mut recorded = telemetry_with_running_optimizations();
            let collection = collection_json(&mut recorded, "ondisk_quantized");
            let log = collection["shards"][1]["local"]["optimizations"]["log"]
                .as_array_mut()
                .unwrap();
            log[0]["status"] =
                serde_json::json!({"cancelled": "optimization cancelled by service"});
            log[2]["status"] = serde_json::json!({"error": "No space left on device"});
            if !uuids {
                for run in log.iter_mut() {
                    let run = run.as_object_mut().unwrap();
                    run.remove("uuid");
                    run.remove("segment_uuids");
                }
            }
            let telemetry: Telemetry = serde_json::from_value(recorded["result"].clone()).unwrap();
            let m = text(&output(&telemetry).families);
            // Shard 0's latest done runs (its merge and an indexing) are running now.
            let ended = [
                ("done", 1_795_243_633.736_164),
                ("cancelled", 1_795_243_633.803_872),
                ("error", 1_795_243_633.675_078),
            ];
            for (status, expected) in ended {
                let end = latest_end(&m, status).unwrap();
                assert!((end - expected).abs() < 1e-3, "{status}: {end}");
            }
        }
    }

    /// Two optimizations running, one of them the config mismatch
    /// optimizer, named as Qdrant names it (with a space).
    #[test]
    fn running_optimizations_by_optimizer_with_their_start_and_points() {
        let recorded = telemetry_with_running_optimizations();
        let telemetry: Telemetry = serde_json::from_value(recorded["result"].clone()).unwrap();
        let segment = &recorded["result"]["collections"]["collections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "ondisk_quantized")
            .unwrap()["shards"][0]["local"]["segments"][1]["info"];
        let m = text(&output(&telemetry).families);
        let running = |optimizer: &str| {
            value(
                &m,
                "qdrant_collection_optimizations_running",
                &format!(r#"collection="ondisk_quantized",optimizer="{optimizer}""#),
            )
        };
        assert_eq!(running("config mismatch"), 1.0);
        assert_eq!(running("indexing"), 1.0);
        assert_eq!(running("merge"), 0.0);
        assert_eq!(
            sample(
                &m,
                "qdrant_collection_optimizations_running",
                r#"collection="ondisk_quantized",optimizer="config_mismatch""#
            ),
            None
        );
        let q = r#"collection="ondisk_quantized""#;
        assert_eq!(
            value(&m, "qdrant_collection_optimizations_running_points", q),
            segment["num_points"].as_f64().unwrap()
        );
        // The earlier start of the two: the indexing run's, 2026-11-21T06:47:13.698799515Z.
        let oldest = value(
            &m,
            "qdrant_collection_optimization_oldest_start_timestamp_seconds",
            q,
        );
        assert!((oldest - 1_795_243_633.698_8).abs() < 1e-3, "{oldest}");
    }

    /// Before 1.17 a run names its segments by internal ids only: it counts as
    /// running, its points are unknown rather than 0.
    #[test]
    fn runs_without_segment_uuids_leave_the_points_unknown() {
        let mut recorded = telemetry_with_running_optimizations();
        for collection in recorded["result"]["collections"]["collections"]
            .as_array_mut()
            .unwrap()
        {
            for shard in collection["shards"].as_array_mut().unwrap() {
                for run in shard["local"]["optimizations"]["log"]
                    .as_array_mut()
                    .into_iter()
                    .flatten()
                {
                    run.as_object_mut().unwrap().remove("segment_uuids");
                }
            }
        }
        let telemetry: Telemetry = serde_json::from_value(recorded["result"].clone()).unwrap();
        let m = text(&output(&telemetry).families);
        let q = r#"collection="ondisk_quantized""#;
        assert_eq!(
            value(
                &m,
                "qdrant_collection_optimizations_running",
                r#"collection="ondisk_quantized",optimizer="indexing""#
            ),
            1.0
        );
        assert_eq!(
            sample(&m, "qdrant_collection_optimizations_running_points", q),
            None
        );
        assert_eq!(
            value(
                &m,
                "qdrant_collection_optimizations_running_points",
                r#"collection="docs""#
            ),
            0.0,
            "nothing runs there: 0 points, known"
        );
    }
}

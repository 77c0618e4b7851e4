//! The `optimizer_queue` collector: `GET /collections/{name}/optimizations`
//! for every collection (Qdrant 1.16.3 and later): the optimizations waiting,
//! the segments needing none, and the step the running ones are in. Qdrant
//! merges every replica's answer, asking each peer holding one, so these are
//! the cluster's figures, asked by its reporter alone; what runs on each node
//! is the `optimizations` collector's, from that node's telemetry. One
//! request per collection, so by default it runs every 5 minutes.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::Context;
use super::fan_out::{collect_per_collection, AddedEndpoint};
use super::output::Output;
use crate::metrics::label::COLLECTION;
use crate::metrics::{Across, Detail, Family, FamilySpec, GaugeFamily};
use crate::qdrant::models::{Optimizations, ProgressTree};

const ENDPOINT: AddedEndpoint = AddedEndpoint {
    since: (1, 16, 3),
    older: "GET /collections/{name}/optimizations needs Qdrant 1.16.3 or later",
    missing: "GET /collections/{name}/optimizations answered 404",
    what: "optimizer queues",
};

static QUEUED: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_optimizations_queued",
    &[COLLECTION],
    "Optimizations waiting in the optimizer queues of every replica of the collection's shards \
     (Qdrant 1.17 and later).",
);
static QUEUED_SEGMENTS: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_optimizations_queued_segments",
    &[COLLECTION],
    "Unoptimized segments waiting in those queues (Qdrant 1.17 and later).",
)
.exported_from(Detail::Full);
static QUEUED_POINTS: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_optimizations_queued_points",
    &[COLLECTION],
    "Points in those unoptimized segments (Qdrant 1.17 and later).",
)
.exported_from(Detail::Shard);
static IDLE_SEGMENTS: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_idle_segments",
    &[COLLECTION],
    "Segments of every replica of the collection that need no optimization (Qdrant 1.17 and later).",
)
.exported_from(Detail::Full);
static BY_STAGE: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_optimizations_by_stage",
    &[COLLECTION, "stage"],
    "Running optimizations of every replica of the collection, by the step they are in (Qdrant's step names; preparing and finishing around them).",
);
static STAGE_PROGRESS: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collection_optimization_stage_progress_ratio",
    &[COLLECTION, "stage"],
    "Work done of the work known in the step the running optimizations are in (e.g. HNSW graph points in vector_index), 0 to 1; absent where Qdrant reports no counts.",
)
.across_collections(Across::LeftOut);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] = &[
    &QUEUED,
    &QUEUED_SEGMENTS,
    &QUEUED_POINTS,
    &IDLE_SEGMENTS,
    &BY_STAGE,
    &STAGE_PROGRESS,
];

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    collect_per_collection(
        ctx,
        ENDPOINT,
        |name| ctx.client.collection_optimizations(name),
        families,
    )
    .boxed_local()
}

fn families(collections: &[(&str, Optimizations)]) -> Vec<Family> {
    let mut queued = GaugeFamily::new(&QUEUED);
    let mut queued_segments = GaugeFamily::new(&QUEUED_SEGMENTS);
    let mut queued_points = GaugeFamily::new(&QUEUED_POINTS);
    let mut idle_segments = GaugeFamily::new(&IDLE_SEGMENTS);
    let mut by_stage = GaugeFamily::new(&BY_STAGE);
    let mut stage_progress = GaugeFamily::new(&STAGE_PROGRESS);
    for (collection, optimizations) in collections {
        let labels = [(COLLECTION, *collection)];
        if let Some(summary) = &optimizations.summary {
            queued.push(&labels, summary.queued_optimizations as f64);
            queued_segments.push(&labels, summary.queued_segments as f64);
            queued_points.push(&labels, summary.queued_points as f64);
            idle_segments.push(&labels, summary.idle_segments as f64);
        }
        let mut stages: Vec<(&str, usize, Work)> = Vec::new();
        for progress in optimizations.running_progress() {
            let (stage, work) = current_stage(progress);
            match stages.iter_mut().find(|(name, ..)| *name == stage) {
                Some((_, count, sum)) => {
                    *count += 1;
                    sum.add(work);
                }
                None => stages.push((stage, 1, work)),
            }
        }
        stages.sort_by_key(|(name, ..)| *name);
        for (stage, count, work) in stages {
            let labels = [(COLLECTION, *collection), ("stage", stage)];
            by_stage.push(&labels, count as f64);
            if work.total > 0 {
                stage_progress.push(&labels, work.done as f64 / work.total as f64);
            }
        }
    }
    [
        queued,
        queued_segments,
        queued_points,
        idle_segments,
        by_stage,
        stage_progress,
    ]
    .into_iter()
    .map(GaugeFamily::finish)
    .collect()
}

/// Units of work done of those known, summed over unfinished steps.
#[derive(Default, Clone, Copy)]
struct Work {
    done: u64,
    total: u64,
}

impl Work {
    fn add(&mut self, other: Work) {
        self.done += other.done;
        self.total += other.total;
    }
}

/// The top-level step an optimization is in, and the counted work of its
/// unfinished sub-steps. Only top-level names are used as label values: deeper
/// ones name payload fields (`keyword:group`), which are the user's data.
fn current_stage(progress: &ProgressTree) -> (&str, Work) {
    let in_progress = progress
        .children
        .iter()
        .find(|step| step.started_at.is_some() && step.finished_at.is_none());
    match in_progress {
        Some(step) => (step.name.as_str(), unfinished_work(step)),
        None if progress.finished_at.is_some() => ("finishing", Work::default()),
        None => ("preparing", Work::default()),
    }
}

fn unfinished_work(step: &ProgressTree) -> Work {
    let mut work = Work::default();
    if step.finished_at.is_some() {
        return work;
    }
    if let Some(total) = step.total {
        work.total = total;
        work.done = step.done.unwrap_or(0).min(total);
    }
    for child in &step.children {
        work.add(unfinished_work(child));
    }
    work
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{result, text, value, RECORDED};

    fn step(json: serde_json::Value) -> ProgressTree {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_step_in_progress_names_the_stage_and_counts_its_unfinished_work() {
        let progress = step(serde_json::json!({
            "name": "Segment Optimizing", "started_at": "2026-11-21T06:47:13Z",
            "children": [
                {"name": "copy_data", "started_at": "2026-11-21T06:47:13Z", "finished_at": "2026-11-21T06:47:14Z"},
                {"name": "vector_index", "started_at": "2026-11-21T06:47:14Z", "children": [
                    {"name": "", "started_at": "2026-11-21T06:47:14Z", "children": [
                        {"name": "migrate", "started_at": "2026-11-21T06:47:14Z", "finished_at": "2026-11-21T06:47:14Z", "done": 5, "total": 5},
                        {"name": "main_graph", "started_at": "2026-11-21T06:47:14Z", "done": 60, "total": 240}
                    ]}
                ]},
                {"name": "sparse_vector_index"}
            ]
        }));
        let (stage, work) = current_stage(&progress);
        assert_eq!(stage, "vector_index");
        assert_eq!((work.done, work.total), (60, 240));
    }

    #[test]
    fn between_steps_an_optimization_is_preparing_or_finishing() {
        let started = step(serde_json::json!({"name": "x", "started_at": "2026-11-21T06:47:13Z"}));
        assert_eq!(current_stage(&started).0, "preparing");
        let finished = step(serde_json::json!({
            "name": "x", "started_at": "2026-11-21T06:47:13Z", "finished_at": "2026-11-21T06:47:14Z",
            "children": [{"name": "copy_data", "started_at": "2026-11-21T06:47:13Z", "finished_at": "2026-11-21T06:47:14Z"}]
        }));
        assert_eq!(current_stage(&finished).0, "finishing");
    }

    #[test]
    fn the_queue_recorded_while_three_optimizations_ran() {
        let recorded: Optimizations = result(
            RECORDED,
            "collection-ondisk_quantized-optimizations-right-after-upsert.json",
        );
        let m = text(&families(&[("q", recorded)]));
        let q = r#"collection="q""#;
        assert_eq!(value(&m, "qdrant_collection_optimizations_queued", q), 2.0);
        assert_eq!(
            value(&m, "qdrant_collection_optimizations_queued_segments", q),
            2.0
        );
        assert_eq!(
            value(&m, "qdrant_collection_optimizations_queued_points", q),
            366.0
        );
        assert_eq!(value(&m, "qdrant_collection_idle_segments", q), 0.0);
        // One had no steps yet, one was building a payload index, one had finished its steps.
        for stage in ["preparing", "payload_index", "finishing"] {
            assert_eq!(
                value(
                    &m,
                    "qdrant_collection_optimizations_by_stage",
                    &format!(r#"collection="q",stage="{stage}""#)
                ),
                1.0,
                "{stage}"
            );
        }
        assert!(
            !m.contains("keyword:group"),
            "payload field names never become label values"
        );
    }

    #[test]
    fn the_queue_of_an_idle_collection() {
        let recorded: Optimizations = result(RECORDED, "collection-docs-optimizations.json");
        let m = text(&families(&[("docs", recorded)]));
        let docs = r#"collection="docs""#;
        assert_eq!(value(&m, "qdrant_collection_idle_segments", docs), 2.0);
        assert_eq!(
            value(&m, "qdrant_collection_optimizations_queued", docs),
            0.0
        );
        assert!(!m.contains("qdrant_collection_optimizations_by_stage{"));
    }

    /// Qdrant 1.16.3 answers `{ongoing, completed}`: progress trees without a
    /// summary (its `OptimizationsResponse`, lib/collection/src/operations/types.rs).
    #[test]
    fn qdrant_1_16_3_has_no_queue_but_the_steps_of_what_runs() {
        let answer: Optimizations = serde_json::from_value(serde_json::json!({
            "ongoing": [{"name": "Segment Optimizing", "started_at": "2026-11-21T06:47:13Z",
                "children": [{"name": "vector_index", "started_at": "2026-11-21T06:47:14Z",
                    "done": 30, "total": 120}]}],
            "completed": []
        }))
        .unwrap();
        let m = text(&families(&[("old", answer)]));
        let stage = r#"collection="old",stage="vector_index""#;
        assert_eq!(
            value(&m, "qdrant_collection_optimizations_by_stage", stage),
            1.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_collection_optimization_stage_progress_ratio",
                stage
            ),
            0.25
        );
        assert!(!m.contains("qdrant_collection_optimizations_queued{"));
    }
}

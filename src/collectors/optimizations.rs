//! The `optimizations` collector: `GET /collections/{name}/optimizations` for
//! every collection (Qdrant 1.16.3 and later): the optimizer queue, what runs,
//! since when and how far it got. Optimizations run per node, on its shards,
//! so these figures are per node. One request per collection (about 0.3 ms of
//! Qdrant's CPU each), so by default it runs once a minute.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::Context;
use super::fan_out::{collect_per_collection, Endpoint};
use super::output::Output;
use super::timestamps::unix_seconds;
use crate::metrics::{Family, FamilySpec, GaugeFamily};
use crate::qdrant::models::{Optimization, Optimizations, ProgressTree};

/// The optimizers of Qdrant 1.16–1.19; each gets a series, zero when idle, so
/// that "nothing running" is a value and not a gap. Others appear when running.
const OPTIMIZERS: [&str; 4] = ["indexing", "merge", "vacuum", "config_mismatch"];

const ENDPOINT: Endpoint = Endpoint {
    since: (1, 16, 3),
    older: "GET /collections/{name}/optimizations needs Qdrant 1.16.3 or later",
    missing: "GET /collections/{name}/optimizations answered 404",
    what: "optimization progress",
};

static QUEUED: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_optimizations_queued",
    "Optimizations waiting in the queue of the collection's shards on this node.",
);
static QUEUED_SEGMENTS: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_optimizations_queued_segments",
    "Unoptimized segments waiting in the optimizer queue, on this node.",
);
static QUEUED_POINTS: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_optimizations_queued_points",
    "Points in the unoptimized segments waiting in the optimizer queue, on this node.",
);
static IDLE_SEGMENTS: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_idle_segments",
    "Segments of the collection on this node that need no optimization.",
);
static RUNNING: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_optimizations_running",
    "Optimizations running on the collection's shards on this node, by optimizer.",
);
static RUNNING_POINTS: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_optimizations_running_points",
    "Points in the segments the running optimizations rewrite, on this node.",
);
static OLDEST_START: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_optimization_oldest_start_timestamp_seconds",
    "Start of the longest-running optimization of the collection on this node, as a Unix timestamp; absent while none runs.",
);
static BY_STAGE: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_optimizations_by_stage",
    "Running optimizations of the collection on this node, by the step they are in (Qdrant's step names; preparing and finishing around them).",
);
static STAGE_PROGRESS: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_optimization_stage_progress_ratio",
    "Work done of the work known in the step the running optimizations are in (e.g. HNSW graph points in vector_index), 0 to 1; absent where Qdrant reports no counts.",
);

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
    let mut running = GaugeFamily::new(&RUNNING);
    let mut running_points = GaugeFamily::new(&RUNNING_POINTS);
    let mut oldest = GaugeFamily::new(&OLDEST_START);
    let mut by_stage = GaugeFamily::new(&BY_STAGE);
    let mut stage_progress = GaugeFamily::new(&STAGE_PROGRESS);
    for (collection, optimizations) in collections {
        let labels = [("collection", *collection)];
        let summary = &optimizations.summary;
        queued.push(&labels, summary.queued_optimizations as f64);
        queued_segments.push(&labels, summary.queued_segments as f64);
        queued_points.push(&labels, summary.queued_points as f64);
        idle_segments.push(&labels, summary.idle_segments as f64);

        let active: Vec<&Optimization> = optimizations
            .running
            .iter()
            .filter(|optimization| is_running(optimization))
            .collect();
        let mut optimizers: Vec<&str> = OPTIMIZERS.to_vec();
        for optimization in &active {
            if !optimizers.contains(&optimization.optimizer.as_str()) {
                optimizers.push(&optimization.optimizer);
            }
        }
        for optimizer in optimizers {
            let count = active.iter().filter(|o| o.optimizer == optimizer).count();
            running.push(
                &[("collection", collection), ("optimizer", optimizer)],
                count as f64,
            );
        }
        let points: u64 = active
            .iter()
            .flat_map(|o| &o.segments)
            .map(|segment| segment.points_count)
            .sum();
        running_points.push(&labels, points as f64);
        let started = active
            .iter()
            .filter_map(|o| unix_seconds(o.progress.started_at.as_deref()?))
            .reduce(f64::min);
        if let Some(started) = started {
            oldest.push(&labels, started);
        }

        let mut stages: Vec<(&str, usize, Work)> = Vec::new();
        for optimization in &active {
            let (stage, work) = current_stage(&optimization.progress);
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
            let labels = [("collection", *collection), ("stage", stage)];
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
        running,
        running_points,
        oldest,
        by_stage,
        stage_progress,
    ]
    .into_iter()
    .map(GaugeFamily::finish)
    .collect()
}

/// Listed as running and still optimizing (not done, cancelled or failed).
fn is_running(optimization: &Optimization) -> bool {
    match &optimization.status {
        serde_json::Value::String(status) => status == "optimizing",
        serde_json::Value::Null => true,
        _ => false,
    }
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
    fn optimizations_recorded_while_three_ran() {
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
        let running = |optimizer: &str| {
            value(
                &m,
                "qdrant_collection_optimizations_running",
                &format!(r#"collection="q",optimizer="{optimizer}""#),
            )
        };
        assert_eq!(running("indexing"), 3.0);
        assert_eq!(
            running("merge"),
            0.0,
            "idle optimizers are zero, not absent"
        );
        // 116 + (135 + 129) + (121 + 115) points in the segments being rewritten.
        assert_eq!(
            value(&m, "qdrant_collection_optimizations_running_points", q),
            616.0
        );
        // The earliest `started_at` of the three, 2026-11-21T06:47:13.575716473Z.
        let oldest = value(
            &m,
            "qdrant_collection_optimization_oldest_start_timestamp_seconds",
            q,
        );
        assert!((oldest - 1_795_243_633.575_716).abs() < 1e-3, "{oldest}");
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
    fn optimizations_of_an_idle_collection() {
        let recorded: Optimizations = result(RECORDED, "collection-docs-optimizations.json");
        let m = text(&families(&[("docs", recorded)]));
        let docs = r#"collection="docs""#;
        assert_eq!(value(&m, "qdrant_collection_idle_segments", docs), 2.0);
        assert_eq!(
            value(&m, "qdrant_collection_optimizations_queued", docs),
            0.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_collection_optimizations_running",
                r#"collection="docs",optimizer="indexing""#
            ),
            0.0
        );
        assert!(!m.contains("qdrant_collection_optimization_oldest_start_timestamp_seconds{"));
        assert!(!m.contains("qdrant_collection_optimizations_by_stage{"));
    }
}

//! One refresh: reach Qdrant with a fixed handful of node-local requests
//! (the telemetry when a collector reading it is due), run the node-scope
//! collectors that are due over one shared [`Context`], start the
//! cluster-scope ones that are due in the background (on the cluster's
//! reporter alone), serve every collector's last output, and assemble the
//! snapshot.
//!
//! The reporter is the raft leader's exporter (a single node is its own
//! leader; the cluster view is always the reporter): it alone sends the
//! requests that ask every peer and serves the cluster-scope figures, so
//! that each is counted once per cluster and the cluster answers each once.

mod background;
mod cluster_view;
mod families;
mod problem_log;
mod schedule;
mod selection;

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::{self, FutureExt};

pub use families::{FAMILIES as EXPORTER_FAMILIES, REVISION};

use crate::collectors::{Collector, CollectorConfig, Context, Failure, Output, Scope, Selected};
use crate::metrics::{escape_label_value, Family, OTHER_COLLECTIONS};
use crate::qdrant::models::{ClusterInfo, Telemetry, VersionInfo};
use crate::qdrant::{QdrantClient, QdrantError, TelemetryDetail};
use cluster_view::ClusterView;
use families::Report;
use problem_log::ProblemLog;
use schedule::{RunReport, Schedule};
use selection::select_collections;

/// Everything one refresh produced.
pub struct Snapshot {
    /// Whether Qdrant answered the authorised collection listing.
    pub up: bool,
    pub families: Vec<Family>,
    /// Qdrant's own exposition, when the native relay is on.
    pub relayed: String,
}

/// What lives from one refresh to the next, and what the background runs report to.
#[derive(Default)]
pub struct RefreshState {
    problems: ProblemLog,
    schedule: Schedule,
    /// The cluster view's answers, fetched off the refresh's path.
    cluster_view: Arc<ClusterView>,
}

impl RefreshState {
    /// Logs what changed about the collector, and remembers its run: its
    /// figures too where they will be served again.
    fn record(
        &self,
        collector: Collector,
        output: &Output,
        duration: Duration,
        started: Instant,
        served_again: bool,
    ) {
        self.problems
            .observe(collector.name(), output.failure.as_ref());
        let unsupported = output.unsupported.map(Failure::unsupported);
        self.problems.observe_warning(
            collector.name(),
            unsupported.as_ref().or(output.warning.as_ref()),
        );
        let report = RunReport {
            fetched_at: started,
            success: output.failure.is_none(),
            supported: output.unsupported.is_none(),
            duration,
        };
        let kept = served_again.then(|| (output.families.clone(), output.relayed.clone()));
        self.schedule.record(collector, report, kept);
    }
}

/// What is served before the first refresh has finished: the exporter's own
/// metrics, with `qdrant_up 0` (Qdrant has not answered yet).
pub fn before_first_refresh(config: &CollectorConfig) -> Vec<Family> {
    families::exporter(false, &not_run(config))
}

/// Every enabled collector, failed without running: Qdrant did not answer.
fn not_run(config: &CollectorConfig) -> Vec<Report> {
    config
        .enabled
        .iter()
        .map(|&collector| Report {
            collector,
            success: false,
            supported: true,
            duration: None,
            data_age: None,
        })
        .collect()
}

/// Runs one refresh, finishing by `deadline` whatever Qdrant does; the
/// cluster-scope collectors it starts run on past it, each to its own.
pub async fn refresh(
    client: &Rc<QdrantClient>,
    state: &Arc<RefreshState>,
    config: &CollectorConfig,
    deadline: Instant,
) -> Snapshot {
    let started = Instant::now();
    state.problems.conceal(client.api_key());
    let (cluster_due, node_due): (Vec<Collector>, Vec<Collector>) = config
        .enabled
        .iter()
        .copied()
        .filter(|&collector| {
            state
                .schedule
                .is_due(collector, config.interval(collector), started)
        })
        // In the cluster view, what reads the view runs in the refresh on
        // the answer fetched for all (off the refresh's path).
        .partition(|collector| {
            let facts = collector.facts();
            facts.scope == Scope::Cluster && !(config.cluster_view && facts.reads_cluster_view)
        });
    let node_due = with_telemetry_readers(node_due, config);
    // The cluster view's answer waits a moment at most, beside the node's
    // own requests and never in their way (see `cluster_view`).
    let view = async {
        match config.cluster_view {
            true => {
                let with_replicas = telemetry_read(&node_due, true).is_some();
                let wait_until = deadline.min(Instant::now() + cluster_view::WAIT);
                let view = &state.cluster_view;
                view.newest(client, with_replicas, wait_until).await
            }
            false => None,
        }
    };
    let (reached, view) = future::join(reach(client, config, &node_due, deadline), view).await;
    let mut families: Vec<Family> = reached
        .version
        .as_ref()
        .ok()
        .map(families::info)
        .into_iter()
        .collect();
    let names = match reached.names {
        Ok(names) => {
            state.problems.observe("qdrant", None);
            names
        }
        Err(error) => {
            let message = format!("cannot list collections at {}: {error}", client.base_url());
            state
                .problems
                .observe("qdrant", Some(&Failure::from_error(&error, message)));
            // No collector ran, and none of their figures are served: each failed.
            families.extend(families::exporter(false, &not_run(config)));
            families.push(families::requests(client.request_counter()));
            families.push(families::refreshed_now());
            return Snapshot {
                up: false,
                families,
                relayed: String::new(),
            };
        }
    };

    let cluster = reached.cluster;
    let reports_cluster = config.cluster_view || reports_cluster(&cluster, &state.problems);
    let selection = select_collections(&names, config);
    families.push(families::collections(names.len()));
    families.push(families::skipped(&selection));
    state.problems.observe_warning(
        "collection names",
        selection.invalid_names_warning().as_ref(),
    );

    let telemetry = reached.telemetry.as_ref().map(|telemetry| {
        telemetry
            .as_ref()
            .map(|telemetry| Selected::of(telemetry, &selection.names))
    });
    let peer_id = match &cluster {
        Ok(ClusterInfo::Enabled(enabled)) => Some(enabled.peer_id),
        _ => telemetry
            .as_ref()
            .and_then(|selected| selected.as_ref().ok()?.own_peer_id()),
    };
    let unanswered = QdrantError::Timeout(cluster_view::WAIT);
    // The first by name have series of their own; the rest are folded together.
    let distinct_collections = config
        .max_distinct_collections
        .filter(|&most| selection.names.len() > most)
        .map(|most| escaped(&selection.names[..most]));
    let context = Context {
        client,
        version: reached.version.as_ref().ok(),
        selected: &selection.names,
        cluster: &cluster,
        peer_id,
        telemetry,
        reports_cluster,
        // A single node is its own cluster: its node view is the cluster view.
        cluster_view: match (config.cluster_view, &cluster) {
            (true, Ok(ClusterInfo::Enabled(_))) => Some(match &view {
                Some(fetched) => fetched.telemetry.as_ref(),
                None => Err(&unanswered),
            }),
            _ => None,
        },
        relay_per_collection: config.relay_per_collection,
        detail: config.detail,
        distinct_collections: distinct_collections.as_ref(),
        volumes: &config.volumes,
        deadline,
    };
    // Before the cluster view's first answer (a peer hung since the start),
    // what reads it waits, due still, serving nothing yet: a run failed for
    // want of the answer would wait out its interval.
    let view_pending = view.is_none() && context.cluster_view.is_some();
    let runs = node_due
        .iter()
        .filter(|collector| !(view_pending && collector.facts().reads_cluster_view));
    let runs = runs.map(|&collector| {
        let output = match context.node_local_in_cluster_view() {
            Some(unsupported) if !collector.facts().in_cluster_view => {
                future::ready(unsupported).boxed_local()
            }
            _ => collector.collect(&context),
        };
        timed(collector, output, deadline)
    });
    // What read the cluster view is as old as the answer it read.
    let view_asked_at = view.as_ref().map(|fetched| fetched.asked_at);
    let mut fresh = BTreeMap::new();
    for (collector, output, duration) in future::join_all(runs).await {
        let served_again = !config.interval(collector).is_zero();
        let fetched_at = match (collector.facts().reads_cluster_view, view_asked_at) {
            (true, Some(asked_at)) if context.cluster_view.is_some() => asked_at,
            _ => started,
        };
        state.record(collector, &output, duration, fetched_at, served_again);
        fresh.insert(collector, output);
    }
    if reports_cluster {
        for collector in cluster_due {
            background::start(
                collector,
                client,
                &context,
                state,
                config.interval(collector),
            );
        }
    }

    // Every enabled collector's figures: this refresh's, or its last run's.
    // As the label values are written: escaped.
    let mut exported = escaped(&selection.names);
    if distinct_collections.is_some() {
        exported.insert(OTHER_COLLECTIONS.to_owned());
    }
    let mut reports = Vec::new();
    let mut relayed = String::new();
    for &collector in &config.enabled {
        // Another node's exporter reports the cluster. Should this one report
        // again later (leadership comes back), it starts afresh, serving
        // nothing from before.
        if collector.facts().scope == Scope::Cluster && !reports_cluster {
            state.schedule.forget(collector);
            continue;
        }
        let Some(run) = state.schedule.report(collector) else {
            continue;
        };
        match fresh.remove(&collector) {
            Some(output) => {
                families.extend(output.families);
                relayed.push_str(&output.relayed);
            }
            None => {
                let (kept, kept_relayed) = state.schedule.kept(collector);
                families.extend(without_unexported(kept, &exported));
                relayed.push_str(&kept_relayed);
            }
        }
        reports.push(Report {
            collector,
            success: run.success,
            supported: run.supported,
            duration: Some(run.duration),
            data_age: Some(started.saturating_duration_since(run.fetched_at)),
        });
    }
    if !reports_cluster {
        families.retain(|family| family.scope() == Scope::Node);
    }
    families.extend(families::exporter(true, &reports));
    families.push(families::reporter(reports_cluster));
    families.push(families::requests(client.request_counter()));
    families.push(families::refreshed_now());
    Snapshot {
        up: true,
        families,
        relayed,
    }
}

/// The collectors due, and every other one that reads the telemetry at or
/// below the level those due have it read at: it costs Qdrant nothing more,
/// and the telemetry's collectors keep one pace, so a level-4 read due on its
/// own resets the level-3 ones rather than coming as one more read between
/// two of theirs.
fn with_telemetry_readers(mut due: Vec<Collector>, config: &CollectorConfig) -> Vec<Collector> {
    let Some(read) = telemetry_read(&due, config.cluster_view) else {
        return due;
    };
    for &collector in &config.enabled {
        let reads_it =
            reads_telemetry(collector, config.cluster_view).is_some_and(|detail| detail <= read);
        if reads_it && collector.facts().scope == Scope::Node && !due.contains(&collector) {
            due.push(collector);
        }
    }
    due
}

/// The telemetry a refresh reads for the collectors due: at the highest level
/// one of them needs, or none.
fn telemetry_read(due: &[Collector], cluster_view: bool) -> Option<TelemetryDetail> {
    due.iter()
        .filter_map(|&collector| reads_telemetry(collector, cluster_view))
        .max()
}

/// The telemetry level the collector reads; none in the cluster view where
/// its data is node-local (it is unsupported there, and reads nothing).
fn reads_telemetry(collector: Collector, cluster_view: bool) -> Option<TelemetryDetail> {
    let facts = collector.facts();
    facts
        .telemetry
        .filter(|_| !cluster_view || facts.in_cluster_view)
}

/// Whether this node's exporter reports the cluster: it is the raft leader
/// (or a single node). Where `/cluster` cannot be read (a key scoped to some
/// collections) it cannot tell, and reports: a duplicate beats a gap.
fn reports_cluster(cluster: &Result<ClusterInfo, QdrantError>, problems: &ProblemLog) -> bool {
    let warning = cluster.as_ref().err().map(|error| Failure {
        kind: error.kind(),
        message: format!(
            "cannot tell whether this node is the raft leader ({error}): it reports the \
             cluster-scope figures, and in a cluster every node's exporter that cannot tell does"
        ),
        hint: "give the exporter a key that may read GET /cluster (the read-only key may)",
    });
    problems.observe_warning("cluster reporter", warning.as_ref());
    cluster.as_ref().map_or(true, ClusterInfo::is_leader)
}

/// The families less the series of collections no longer exported (deleted
/// since, or filtered out), so that figures served again are never stale.
/// Collection names as their label values are written: escaped.
fn escaped(names: &[String]) -> HashSet<String> {
    names
        .iter()
        .map(|name| {
            let mut escaped = String::with_capacity(name.len());
            escape_label_value(name, &mut escaped);
            escaped
        })
        .collect()
}

fn without_unexported(mut families: Vec<Family>, exported: &HashSet<String>) -> Vec<Family> {
    for family in &mut families {
        family.retain_collections(|collection| exported.contains(collection));
    }
    families
}

/// What the first, concurrent round of requests found.
struct Reached {
    version: Result<VersionInfo, QdrantError>,
    names: Result<Vec<String>, QdrantError>,
    cluster: Result<ClusterInfo, QdrantError>,
    /// Fetched, once, at the highest details level a collector due needs.
    telemetry: Option<Result<Telemetry, QdrantError>>,
}

async fn reach(
    client: &QdrantClient,
    config: &CollectorConfig,
    due: &[Collector],
    deadline: Instant,
) -> Reached {
    let budget = deadline.saturating_duration_since(Instant::now());
    let telemetry_detail = telemetry_read(due, config.cluster_view);
    let telemetry = async {
        match telemetry_detail {
            Some(detail) => Some(client.telemetry(detail).await),
            None => None,
        }
    };
    let requests = future::join4(
        client.version(),
        client.collection_names(),
        client.cluster(),
        telemetry,
    );
    let (version, names, cluster, telemetry) = tokio::time::timeout_at(deadline.into(), requests)
        .await
        .unwrap_or_else(|_| {
            let timeout = QdrantError::Timeout(budget);
            (
                Err(timeout.clone()),
                Err(timeout.clone()),
                Err(timeout),
                None,
            )
        });
    Reached {
        version,
        names,
        cluster,
        telemetry,
    }
}

/// Runs a collector to `deadline`; one that has not finished by then failed.
async fn timed(
    collector: Collector,
    output: impl Future<Output = Output>,
    deadline: Instant,
) -> (Collector, Output, Duration) {
    let started = Instant::now();
    let output = tokio::time::timeout_at(deadline.into(), output)
        .await
        .unwrap_or_else(|_| {
            Output::failed(Failure::deadline(format!(
                "the {} collector did not finish by its deadline",
                collector.name()
            )))
        });
    (collector, output, started.elapsed())
}

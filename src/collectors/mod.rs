//! One refresh: reach Qdrant, run every collector, and assemble the snapshot
//! of metric families, including the exporter's own metrics about the refresh.

pub mod cluster;
pub mod collections;
mod fan_out;
pub mod issues;
pub mod memory;
pub mod relay;
pub mod shards;
pub mod snapshots;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use std::future::Future;

use futures_util::future::{self, LocalBoxFuture};
use futures_util::FutureExt;
use prometheus::proto::MetricFamily;

use crate::config::{Collector, CollectorConfig};
use crate::metrics::{bool_value, GaugeFamily};
use crate::qdrant::models::{ClusterInfo, VersionInfo};
use crate::qdrant::{QdrantClient, QdrantError};

/// Git revision the binary was built from (set by build.rs).
pub const REVISION: &str = env!("QDRANT_EXPORTER_REVISION");

/// Everything one refresh produced.
pub struct Snapshot {
    /// Whether Qdrant answered the authorised collection listing.
    pub up: bool,
    pub families: Vec<MetricFamily>,
    /// Qdrant's own exposition, when the native relay is on.
    pub relayed: String,
}

/// Why Qdrant or a collector failed, with what to check.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Stable across refreshes for the same problem (see [`ProblemLog`]).
    pub kind: String,
    pub message: String,
    pub hint: &'static str,
}

impl Failure {
    pub fn from_error(error: &QdrantError, message: String) -> Self {
        Self {
            kind: error.kind(),
            message,
            hint: error.hint(),
        }
    }

    pub fn unsupported(collector: Collector) -> Self {
        Self {
            kind: "unsupported".into(),
            message: format!(
                "the {} collector is not supported by this Qdrant version; it exports nothing",
                collector.name()
            ),
            hint: "upgrade Qdrant, or leave the collector out of QDRANT_EXPORTER_COLLECTORS",
        }
    }

    pub fn deadline(message: String) -> Self {
        Self {
            kind: "deadline".into(),
            message,
            hint: "Qdrant is slow; raise QDRANT_EXPORTER_REFRESH_TIMEOUT_SECONDS and the scrape timeout, \
                   or QDRANT_EXPORTER_CONCURRENCY",
        }
    }
}

/// Logs a problem once when it starts or changes, and once when it ends,
/// instead of on every refresh.
#[derive(Default)]
pub struct ProblemLog {
    /// Kind of the current problem of each subject (a warning's key ends in `!`).
    current: Mutex<HashMap<String, String>>,
}

impl ProblemLog {
    /// A failure of `subject` (Qdrant itself, or a collector), or its absence.
    pub fn observe(&self, subject: &str, failure: Option<&Failure>) {
        self.track(subject, subject.to_owned(), failure, true);
    }

    /// Like [`ProblemLog::observe`], for something worth a line that is not a failure.
    pub fn observe_warning(&self, subject: &str, warning: Option<&Failure>) {
        self.track(subject, format!("{subject}!"), warning, false);
    }

    fn track(&self, subject: &str, key: String, problem: Option<&Failure>, log_recovery: bool) {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match (problem, current.get(&key)) {
            (Some(problem), Some(kind)) if *kind == problem.kind => {}
            (Some(problem), _) => {
                tracing::warn!(subject, hint = problem.hint, "{}", problem.message);
                current.insert(key, problem.kind.clone());
            }
            (None, Some(_)) => {
                if log_recovery {
                    tracing::info!(subject, "recovered");
                }
                current.remove(&key);
            }
            (None, None) => {}
        }
    }
}

/// What one collector produced.
#[derive(Default)]
pub struct Output {
    pub families: Vec<MetricFamily>,
    /// Set when the collector did not fully succeed.
    pub failure: Option<Failure>,
    /// Worth one log line, but not a failure.
    pub warning: Option<Failure>,
    /// This Qdrant lacks what the collector reads (an older version).
    pub unsupported: bool,
    /// Exposition text appended as is (the native relay).
    pub relayed: String,
}

impl Output {
    pub fn failed(failure: Failure) -> Self {
        Self {
            failure: Some(failure),
            ..Self::default()
        }
    }

    pub fn unsupported() -> Self {
        Self {
            unsupported: true,
            ..Self::default()
        }
    }
}

struct Report {
    collector: Collector,
    success: bool,
    supported: bool,
    /// `None` when the collector did not run because Qdrant was unreachable.
    duration: Option<Duration>,
}

/// Runs one refresh, finishing by `deadline` whatever Qdrant does.
pub async fn refresh(
    client: &QdrantClient,
    problems: &ProblemLog,
    config: &CollectorConfig,
    deadline: Instant,
) -> Snapshot {
    let reached = reach(client, config, deadline).await;
    let mut families: Vec<MetricFamily> = reached
        .version
        .as_ref()
        .ok()
        .map(info_family)
        .into_iter()
        .collect();
    let names = match reached.names {
        Ok(names) => {
            problems.observe("qdrant", None);
            names
        }
        Err(error) => {
            let message = format!("cannot list collections at {}: {error}", client.base_url());
            problems.observe("qdrant", Some(&Failure::from_error(&error, message)));
            // The collectors did not run: each failed, none took time.
            let reports: Vec<Report> = config
                .enabled
                .iter()
                .map(|&collector| Report {
                    collector,
                    success: false,
                    supported: true,
                    duration: None,
                })
                .collect();
            families.extend(exporter_families(false, &reports));
            families.extend(client.request_counter().families());
            return Snapshot {
                up: false,
                families,
                relayed: String::new(),
            };
        }
    };

    // Without a known raft role (cluster status failed), emit: a duplicate beats a gap.
    let emits_cluster_wide = !config.cluster_wide_on_leader_only
        || reached
            .cluster
            .as_ref()
            .is_none_or(|status| status.as_ref().map_or(true, cluster::is_leader));
    let selection = select_collections(&names, config);
    if emits_cluster_wide {
        families.push(GaugeFamily::single(
            "qdrant_collections",
            "Number of collections in Qdrant. Cluster-wide.",
            names.len() as f64,
        ));
    }
    families.push(selection.skipped_family());

    let mut reports = Vec::new();
    let mut relayed = String::new();
    let runs = start_collectors(
        client,
        config,
        &selection.names,
        reached.cluster,
        emits_cluster_wide,
        deadline,
    );
    for (collector, output, duration) in future::join_all(runs).await {
        problems.observe(collector.name(), output.failure.as_ref());
        let unsupported = output.unsupported.then(|| Failure::unsupported(collector));
        problems.observe_warning(
            collector.name(),
            unsupported.as_ref().or(output.warning.as_ref()),
        );
        reports.push(Report {
            collector,
            success: output.failure.is_none(),
            supported: !output.unsupported,
            duration: Some(duration),
        });
        families.extend(output.families);
        relayed.push_str(&output.relayed);
    }
    families.extend(exporter_families(true, &reports));
    families.extend(client.request_counter().families());
    Snapshot {
        up: true,
        families,
        relayed,
    }
}

/// What the first round of requests found: whether Qdrant answers at all.
struct Reached {
    version: Result<VersionInfo, QdrantError>,
    names: Result<Vec<String>, QdrantError>,
    /// Fetched when the cluster collector or the leader-only setting needs it.
    cluster: Option<Result<ClusterInfo, QdrantError>>,
}

async fn reach(client: &QdrantClient, config: &CollectorConfig, deadline: Instant) -> Reached {
    let budget = deadline.saturating_duration_since(Instant::now());
    let needs_cluster = config.is_enabled(Collector::Cluster) || config.cluster_wide_on_leader_only;
    let cluster = async {
        match needs_cluster {
            true => Some(client.cluster().await),
            false => None,
        }
    };
    let requests = future::join3(client.version(), client.collection_names(), cluster);
    let (version, names, cluster) = tokio::time::timeout_at(deadline.into(), requests)
        .await
        .unwrap_or((
            Err(QdrantError::Timeout(budget)),
            Err(QdrantError::Timeout(budget)),
            None,
        ));
    Reached {
        version,
        names,
        cluster,
    }
}

type Run<'a> = LocalBoxFuture<'a, (Collector, Output, Duration)>;

/// The enabled collectors, ready to run concurrently.
fn start_collectors<'a>(
    client: &'a QdrantClient,
    config: &CollectorConfig,
    selected: &'a [String],
    cluster_status: Option<Result<ClusterInfo, QdrantError>>,
    emits_cluster_wide: bool,
    deadline: Instant,
) -> Vec<Run<'a>> {
    let mut runs = Vec::new();
    for &collector in &config.enabled {
        let output: LocalBoxFuture<'a, Output> = match collector {
            Collector::Collections if !emits_cluster_wide => continue,
            Collector::Collections => {
                collections::collect(client, selected, deadline).boxed_local()
            }
            Collector::Cluster => {
                let status = cluster_status.clone().unwrap_or(Ok(ClusterInfo::Unknown));
                cluster::collect(client, status).boxed_local()
            }
            Collector::Shards => shards::collect(client, selected, deadline).boxed_local(),
            Collector::Snapshots => snapshots::collect(client, selected, deadline).boxed_local(),
            Collector::Memory => memory::collect(client, selected).boxed_local(),
            Collector::Issues => issues::collect(client).boxed_local(),
            Collector::NativeRelay => relay::collect(client).boxed_local(),
        };
        runs.push(timed(collector, output, deadline).boxed_local());
    }
    runs
}

/// Runs a collector to the refresh deadline; one that has not finished by then failed.
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
                "the {} collector did not finish by the refresh deadline",
                collector.name()
            )))
        });
    (collector, output, started.elapsed())
}

/// The collections to export: filtered by name, then capped.
struct Selection {
    names: Vec<String>,
    filtered_out: usize,
    over_limit: usize,
}

fn select_collections(names: &[String], config: &CollectorConfig) -> Selection {
    let mut matching: Vec<String> = names
        .iter()
        .filter(|name| {
            config
                .include
                .as_ref()
                .is_none_or(|include| include.is_match(name))
        })
        .filter(|name| {
            config
                .exclude
                .as_ref()
                .is_none_or(|exclude| !exclude.is_match(name))
        })
        .cloned()
        .collect();
    let filtered_out = names.len() - matching.len();
    // Sorted so that the same collections are kept on every refresh and every node.
    matching.sort_unstable();
    let over_limit = matching.len().saturating_sub(config.max_collections);
    matching.truncate(config.max_collections);
    Selection {
        names: matching,
        filtered_out,
        over_limit,
    }
}

impl Selection {
    fn skipped_family(&self) -> MetricFamily {
        let mut skipped = GaugeFamily::new(
            "qdrant_exporter_collections_skipped",
            "Collections not exported: filtered out by name, or over max_collections.",
        );
        skipped.push(&[("reason", "filtered")], self.filtered_out as f64);
        skipped.push(&[("reason", "limit")], self.over_limit as f64);
        skipped.finish()
    }
}

fn info_family(version: &VersionInfo) -> MetricFamily {
    let mut info = GaugeFamily::new(
        "qdrant_info",
        "Version and commit of the Qdrant server. Always 1.",
    );
    let commit = version.commit.as_deref().unwrap_or("unknown");
    info.push(&[("version", &version.version), ("commit", commit)], 1.0);
    info.finish()
}

fn exporter_families(up: bool, reports: &[Report]) -> Vec<MetricFamily> {
    let mut build_info = GaugeFamily::new(
        "qdrant_exporter_build_info",
        "Version and git revision of this exporter. Always 1.",
    );
    build_info.push(
        &[
            ("version", env!("CARGO_PKG_VERSION")),
            ("revision", REVISION),
        ],
        1.0,
    );
    let mut success = GaugeFamily::new(
        "qdrant_exporter_scrape_success",
        "1 when the collector's last refresh succeeded completely, else 0.",
    );
    let mut supported = GaugeFamily::new(
        "qdrant_exporter_collector_supported",
        "0 when the Qdrant version lacks what the collector reads; the collector then exports nothing.",
    );
    let mut duration = GaugeFamily::new(
        "qdrant_exporter_scrape_duration_seconds",
        "Time the collector's last refresh took.",
    );
    for report in reports {
        let label = [("collector", report.collector.name())];
        success.push(&label, bool_value(report.success));
        supported.push(&label, bool_value(report.supported));
        if let Some(elapsed) = report.duration {
            duration.push(&label, elapsed.as_secs_f64());
        }
    }
    vec![
        GaugeFamily::single(
            "qdrant_up",
            "1 when the last refresh reached Qdrant and was authorised to list collections, else 0.",
            bool_value(up),
        ),
        build_info.finish(),
        success.finish(),
        supported.finish(),
        duration.finish(),
    ]
}

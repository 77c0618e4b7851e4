//! One refresh: reach Qdrant, run every collector, and assemble the snapshot
//! of metric families, including the exporter's own metrics about the refresh.

pub mod collections;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future;
use prometheus::proto::MetricFamily;

use crate::metrics::{bool_value, GaugeFamily};
use crate::qdrant::models::VersionInfo;
use crate::qdrant::{QdrantClient, QdrantError};

/// Git revision the binary was built from (set by build.rs).
pub const REVISION: &str = env!("QDRANT_EXPORTER_REVISION");

/// Everything one refresh produced.
pub struct Snapshot {
    /// Whether Qdrant answered the authorised collection listing.
    pub up: bool,
    pub families: Vec<MetricFamily>,
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
    current: Mutex<HashMap<&'static str, String>>,
}

impl ProblemLog {
    pub fn observe(&self, subject: &'static str, failure: Option<&Failure>) {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match (failure, current.get(subject)) {
            (Some(failure), Some(kind)) if *kind == failure.kind => {}
            (Some(failure), _) => {
                tracing::warn!(subject, hint = failure.hint, "{}", failure.message);
                current.insert(subject, failure.kind.clone());
            }
            (None, Some(_)) => {
                tracing::info!(subject, "recovered");
                current.remove(subject);
            }
            (None, None) => {}
        }
    }
}

struct CollectorReport {
    name: &'static str,
    success: bool,
    /// `None` when the collector did not run because Qdrant was unreachable.
    duration: Option<Duration>,
}

/// Runs one refresh, finishing by `deadline` whatever Qdrant does.
pub async fn refresh(
    client: &QdrantClient,
    problems: &ProblemLog,
    concurrency: usize,
    deadline: Instant,
) -> Snapshot {
    let budget = deadline.saturating_duration_since(Instant::now());
    let reach = future::join(client.version(), client.collection_names());
    let (version, names) = tokio::time::timeout_at(deadline.into(), reach)
        .await
        .unwrap_or((
            Err(QdrantError::Timeout(budget)),
            Err(QdrantError::Timeout(budget)),
        ));

    let mut families = Vec::new();
    if let Ok(version) = &version {
        families.push(info_family(version));
    }
    let mut reports = Vec::new();
    let up = match names {
        Ok(names) => {
            problems.observe("qdrant", None);
            families.push(GaugeFamily::single(
                "qdrant_collections",
                "Number of collections in Qdrant.",
                names.len() as f64,
            ));
            let started = Instant::now();
            let output = collections::collect(client, &names, concurrency, deadline).await;
            problems.observe(collections::NAME, output.failure.as_ref());
            reports.push(CollectorReport {
                name: collections::NAME,
                success: output.failure.is_none(),
                duration: Some(started.elapsed()),
            });
            families.extend(output.families);
            true
        }
        Err(error) => {
            let message = format!("cannot list collections at {}: {error}", client.base_url());
            problems.observe("qdrant", Some(&Failure::from_error(&error, message)));
            reports.push(CollectorReport {
                name: collections::NAME,
                success: false,
                duration: None,
            });
            false
        }
    };
    families.extend(exporter_families(up, &reports));
    families.extend(client.request_counter().families());
    Snapshot { up, families }
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

fn exporter_families(up: bool, reports: &[CollectorReport]) -> Vec<MetricFamily> {
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
    let mut duration = GaugeFamily::new(
        "qdrant_exporter_scrape_duration_seconds",
        "Time the collector's last refresh took.",
    );
    for report in reports {
        success.push(&[("collector", report.name)], bool_value(report.success));
        if let Some(elapsed) = report.duration {
            duration.push(&[("collector", report.name)], elapsed.as_secs_f64());
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
        duration.finish(),
    ]
}

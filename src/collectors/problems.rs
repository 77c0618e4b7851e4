//! Problems worth an operator's attention, logged once when they start or
//! change and once when they end, instead of on every refresh.

use std::collections::HashMap;
use std::sync::Mutex;

use super::Collector;
use crate::qdrant::QdrantError;

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

    pub fn unsupported(collector: Collector, why: &str) -> Self {
        Self {
            kind: "unsupported".into(),
            message: format!(
                "the {} collector is not supported by this Qdrant: {why}; it exports nothing",
                collector.name()
            ),
            hint: "upgrade Qdrant, or leave the collector out of QDRANT_EXPORTER_COLLECTORS",
        }
    }

    /// The collector reads per-collection requests instead of the shared telemetry.
    pub fn fallback(collector: Collector, why: &str) -> Self {
        Self {
            kind: format!("fallback: {why}"),
            message: format!(
                "the {} collector falls back to one request per collection: {why}",
                collector.name()
            ),
            hint: "Qdrant 1.15 and later report it all in one telemetry request to a key \
                   that may read GET /telemetry (the read-only key may): upgrading cuts the \
                   exporter's load on Qdrant",
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

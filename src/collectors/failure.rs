//! Why Qdrant or a collector failed, with what to check. The refresh logs
//! each problem once, under the name of the collector it concerns.

use crate::qdrant::QdrantError;

#[derive(Debug, Clone)]
pub struct Failure {
    /// Stable across refreshes for the same problem, so that it is logged when it starts.
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

    /// The cluster view's one source did not answer.
    pub fn cluster_view(error: &QdrantError) -> Self {
        let message = format!("cannot read the cluster through GET /cluster/telemetry: {error}");
        Self::from_error(error, message)
    }

    /// The collector cannot run against this Qdrant: an older version lacks what it reads.
    pub fn unsupported(why: &str) -> Self {
        Self {
            kind: "unsupported".into(),
            message: format!("not supported by this Qdrant: {why}; it exports nothing"),
            hint: "upgrade Qdrant, or leave the collector out of QDRANT_EXPORTER_COLLECTORS",
        }
    }

    /// The collector reads per-collection requests instead of the shared telemetry.
    pub fn fallback(why: &str) -> Self {
        Self {
            kind: format!("fallback: {why}"),
            message: format!("falls back to one request per collection: {why}"),
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

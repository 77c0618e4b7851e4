//! What one collector produced in one run.

use super::failure::Failure;
use crate::metrics::Family;

#[derive(Default)]
pub struct Output {
    pub families: Vec<Family>,
    /// Set when the collector did not fully succeed.
    pub failure: Option<Failure>,
    /// Worth one log line, but not a failure.
    pub warning: Option<Failure>,
    /// Why this Qdrant lacks what the collector reads (an older version).
    pub unsupported: Option<&'static str>,
    /// Exposition text appended as is (the native relay).
    pub relayed: String,
}

impl Output {
    pub fn families(families: Vec<Family>) -> Self {
        Self {
            families,
            ..Self::default()
        }
    }

    pub fn failed(failure: Failure) -> Self {
        Self {
            failure: Some(failure),
            ..Self::default()
        }
    }

    pub fn unsupported(why: &'static str) -> Self {
        Self {
            unsupported: Some(why),
            ..Self::default()
        }
    }

    /// This output came from per-collection requests instead of telemetry, for this reason.
    pub fn fell_back(self, why: &str) -> Self {
        Self {
            warning: Some(Failure::fallback(why)),
            ..self
        }
    }
}

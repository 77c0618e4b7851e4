//! Counts every request the client sends to Qdrant, by endpoint and outcome.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::locks::lock;

/// Requests so far, by endpoint template and status class (`2xx`..`5xx`,
/// `timeout`, `error`). The one figure that lives across refreshes: its keys
/// are bounded (a handful of endpoints times a handful of outcomes). Shared by
/// the clients of all workers.
#[derive(Clone, Default)]
pub struct RequestCounter(Arc<Mutex<BTreeMap<(&'static str, &'static str), u64>>>);

impl RequestCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts counting a request; it is counted when the returned record is dropped,
    /// so that a request abandoned at the refresh deadline counts too (as a timeout).
    pub(super) fn start(&self, endpoint: &'static str) -> RequestRecord<'_> {
        RequestRecord {
            counter: self,
            endpoint,
            status_class: "timeout",
        }
    }

    /// `((endpoint, status class), requests)`, sorted.
    pub fn counts(&self) -> Vec<((&'static str, &'static str), u64)> {
        lock(&self.0)
            .iter()
            .map(|(key, count)| (*key, *count))
            .collect()
    }
}

pub(super) struct RequestRecord<'a> {
    counter: &'a RequestCounter,
    endpoint: &'static str,
    pub(super) status_class: &'static str,
}

impl Drop for RequestRecord<'_> {
    fn drop(&mut self) {
        *lock(&self.counter.0)
            .entry((self.endpoint, self.status_class))
            .or_default() += 1;
    }
}

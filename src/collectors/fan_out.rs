//! One request per collection, all collectors' requests bounded together by
//! the client, gathered until the refresh deadline.

use std::future::Future;
use std::time::Instant;

use futures_util::stream::{FuturesUnordered, StreamExt};

use super::context::Context;
use super::failure::Failure;
use super::output::Output;
use crate::metrics::Family;
use crate::qdrant::QdrantError;

pub struct FanOut<'a, T> {
    /// Sorted by collection name.
    pub fetched: Vec<(&'a str, T)>,
    failed: Vec<(&'a str, QdrantError)>,
    /// Answered 404: deleted since listed, or, if all did, a route this Qdrant lacks.
    not_found: usize,
    total: usize,
    finished: bool,
}

/// Calls `fetch` for every name. A 404 means the collection was deleted since
/// it was listed: skipped, not a failure.
pub async fn fan_out<'a, T, Fut>(
    names: &'a [String],
    deadline: Instant,
    fetch: impl Fn(&'a str) -> Fut,
) -> FanOut<'a, T>
where
    Fut: Future<Output = Result<T, QdrantError>>,
{
    let mut fetched = Vec::with_capacity(names.len());
    let mut failed = Vec::new();
    let mut not_found = 0;
    let all = names
        .iter()
        .map(|name| {
            let request = fetch(name);
            async move { (name.as_str(), request.await) }
        })
        .collect::<FuturesUnordered<_>>()
        .for_each(|(name, result)| {
            match result {
                Ok(value) => fetched.push((name, value)),
                Err(QdrantError::NotFound) => {
                    not_found += 1;
                    tracing::debug!(collection = name, "collection vanished during refresh")
                }
                Err(error) => failed.push((name, error)),
            }
            futures_util::future::ready(())
        });
    let finished = tokio::time::timeout_at(deadline.into(), all).await.is_ok();
    fetched.sort_unstable_by(|a, b| a.0.cmp(b.0));
    FanOut {
        fetched,
        failed,
        not_found,
        total: names.len(),
        finished,
    }
}

/// An endpoint per collection that Qdrant added in some version.
pub struct AddedEndpoint {
    /// The first Qdrant version that has it.
    pub since: (u64, u64, u64),
    /// Why it is unsupported: on an older version, and when it answered 404 for every collection.
    pub older: &'static str,
    pub missing: &'static str,
    /// What the requests fetch, for the failure message.
    pub what: &'static str,
}

/// A collector reading `endpoint` for every selected collection: not asked of
/// an older Qdrant, unsupported where it is missing, the families of what came back.
pub async fn collect_per_collection<'a, T, Fut>(
    ctx: &'a Context<'a>,
    endpoint: AddedEndpoint,
    fetch: impl Fn(&'a str) -> Fut,
    families: impl FnOnce(&[(&str, T)]) -> Vec<Family>,
) -> Output
where
    Fut: Future<Output = Result<T, QdrantError>>,
{
    if !ctx.may_have(endpoint.since) {
        return Output::unsupported(endpoint.older);
    }
    let fetched = fan_out(ctx.selected, ctx.deadline, fetch).await;
    if fetched.route_missing() {
        return Output::unsupported(endpoint.missing);
    }
    Output {
        families: families(&fetched.fetched),
        failure: fetched.failure(endpoint.what),
        ..Output::default()
    }
}

impl<T> FanOut<'_, T> {
    /// Every collection answered 404: the endpoint, not the collections, is missing.
    pub fn route_missing(&self) -> bool {
        self.total > 0 && self.not_found == self.total
    }

    /// Why the fan-out did not fully succeed, if it did not.
    pub fn failure(&self, what: &str) -> Option<Failure> {
        if !self.finished {
            return Some(Failure::deadline(format!(
                "refresh deadline reached with {what} of {} of {} collections fetched",
                self.fetched.len() + self.failed.len(),
                self.total
            )));
        }
        self.failed.first().map(|(name, error)| {
            let message = format!(
                "{what} of {} of {} collections could not be fetched, e.g. {name:?}: {error}",
                self.failed.len(),
                self.total
            );
            Failure::from_error(error, message)
        })
    }
}

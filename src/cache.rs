//! A short-lived cache of one value (the last refresh's exposition), refreshed
//! single-flight: at most one refresh runs at a time, whoever asked for it.
//! The refresh belongs to no caller (see [`Cache::start_refresh`]), so a
//! caller that stops waiting does not end it, and each waiting caller waits
//! only as long as its own budget allows. A hit hands out a reference.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::locks::lock;

struct Stored<T> {
    value: Arc<T>,
    stored_at: Instant,
}

struct State<T> {
    current: Option<Stored<T>>,
    refreshing: bool,
}

pub struct Cache<T> {
    ttl: Duration,
    state: Mutex<State<T>>,
    /// Counts finished refreshes; waiters watch it.
    finished: watch::Sender<u64>,
}

/// What a lookup found in the cache.
pub enum Lookup<T> {
    /// Young enough to serve.
    Fresh(Arc<T>),
    /// Too old or absent: a refresh is due. Wait with [`Cache::wait`].
    Stale(watch::Receiver<u64>),
}

impl<T> Cache<T> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            state: Mutex::new(State {
                current: None,
                refreshing: false,
            }),
            finished: watch::channel(0).0,
        }
    }

    pub fn lookup(&self) -> Lookup<T> {
        // Subscribed before looking, so a refresh finishing in between is seen.
        let finished = self.finished.subscribe();
        match &self.lock().current {
            Some(current) if current.stored_at.elapsed() < self.ttl => {
                Lookup::Fresh(current.value.clone())
            }
            _ => Lookup::Stale(finished),
        }
    }

    /// Claims the one refresh in flight; `None` when one is already running.
    /// The caller runs it on a task of its own and hands the result to
    /// [`RefreshTicket::finish`]; a ticket dropped unfinished frees the claim.
    pub fn start_refresh(self: &Arc<Self>) -> Option<RefreshTicket<T>> {
        let mut state = self.lock();
        if state.refreshing {
            return None;
        }
        state.refreshing = true;
        Some(RefreshTicket {
            cache: self.clone(),
        })
    }

    /// Waits up to `budget` for a refresh to finish, then returns the newest
    /// value there is (older than the TTL if the refresh is still running).
    pub async fn wait(
        &self,
        mut finished: watch::Receiver<u64>,
        budget: Duration,
    ) -> Option<Arc<T>> {
        // A closed channel cannot happen (the cache owns the sender); either way, serve what there is.
        let _ = tokio::time::timeout(budget, finished.changed()).await;
        self.latest()
    }

    /// The newest value there is, however old; never starts a refresh.
    pub fn latest(&self) -> Option<Arc<T>> {
        self.lock()
            .current
            .as_ref()
            .map(|current| current.value.clone())
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        lock(&self.state)
    }
}

/// The right to store the result of the one refresh in flight.
pub struct RefreshTicket<T> {
    cache: Arc<Cache<T>>,
}

impl<T> RefreshTicket<T> {
    pub fn finish(self, value: T) {
        self.cache.lock().current = Some(Stored {
            value: Arc::new(value),
            stored_at: Instant::now(),
        });
        // Drop frees the claim and wakes the waiters.
    }
}

impl<T> Drop for RefreshTicket<T> {
    fn drop(&mut self) {
        self.cache.lock().refreshing = false;
        self.cache.finished.send_modify(|count| *count += 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn one_refresh_at_a_time_and_waiters_get_its_result() {
        let cache = Arc::new(Cache::new(Duration::from_secs(60)));
        let Lookup::Stale(finished) = cache.lookup() else {
            panic!("an empty cache is stale");
        };
        let ticket = cache.start_refresh().expect("the first claim");
        assert!(cache.start_refresh().is_none(), "single flight");
        // A waiter whose budget ends first gets what there is: nothing yet.
        assert!(cache.wait(finished.clone(), Duration::ZERO).await.is_none());
        ticket.finish("refreshed");
        let served = cache.wait(finished, Duration::from_secs(60)).await;
        assert_eq!(served.as_deref(), Some(&"refreshed"));
        assert!(matches!(cache.lookup(), Lookup::Fresh(_)));
        assert!(cache.start_refresh().is_some(), "the claim was freed");
    }

    #[test]
    fn a_ticket_dropped_unfinished_frees_the_claim_and_keeps_the_last_value() {
        let cache = Arc::new(Cache::new(Duration::ZERO));
        cache.start_refresh().unwrap().finish(1);
        drop(cache.start_refresh().unwrap());
        assert!(cache.start_refresh().is_some());
        assert!(cache.lock().current.as_ref().is_some_and(|c| *c.value == 1));
    }
}

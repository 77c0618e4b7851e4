//! The rendered exposition of the last refresh, served for a short TTL.
//!
//! Single-flight: the refresh runs while the lock is held, so scrapes that
//! arrive meanwhile wait for it and are then served its result (even with a
//! TTL of 0); they never start a refresh of their own. A cache hit costs a
//! reference-count increment.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::collectors::Snapshot;

#[derive(Clone)]
pub struct Rendered {
    pub body: Bytes,
    pub up: bool,
    pub refreshed_at: Instant,
    generation: u64,
}

pub struct Cache {
    ttl: Duration,
    slot: tokio::sync::Mutex<Option<Rendered>>,
    /// Generation of the newest refresh; read without the lock.
    completed: AtomicU64,
}

impl Cache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            slot: tokio::sync::Mutex::new(None),
            completed: AtomicU64::new(0),
        }
    }

    /// The cached exposition if fresh, or one made by `refresh`.
    pub async fn get<F, Fut>(&self, refresh: F) -> Rendered
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Snapshot>,
    {
        let completed_before_waiting = self.completed.load(Ordering::Acquire);
        let mut slot = self.slot.lock().await;
        if let Some(current) = slot.as_ref() {
            let finished_while_waiting = current.generation != completed_before_waiting;
            if finished_while_waiting || current.refreshed_at.elapsed() < self.ttl {
                return current.clone();
            }
        }
        let snapshot = refresh().await;
        let mut body = Vec::with_capacity(slot.as_ref().map_or(4096, |r| r.body.len() + 1024));
        crate::metrics::render(&snapshot.families, &mut body);
        body.extend_from_slice(snapshot.relayed.as_bytes());
        // Only the lock holder writes `completed`.
        let generation = self.completed.load(Ordering::Acquire) + 1;
        let rendered = Rendered {
            body: Bytes::from(body),
            up: snapshot.up,
            refreshed_at: Instant::now(),
            generation,
        };
        *slot = Some(rendered.clone());
        self.completed.store(generation, Ordering::Release);
        rendered
    }
}

//! One Qdrant the exporter reports on: how to reach it, which collectors run,
//! the cache of its last exposition and what lives from one refresh to the
//! next. `/metrics` serves the configured Qdrant; `/probe` one target per
//! allowed URL and module, each with its own cache, key and request counts.

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web;

use crate::cache::{Cache, Lookup, Rendered};
use crate::collectors::{self, RefreshState};
use crate::config::{CollectorConfig, QdrantConfig};
use crate::qdrant::{KeySource, QdrantClient, RequestCounter};

/// Tells targets apart for the clients the workers keep of them.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

pub struct Target {
    pub id: u64,
    qdrant: QdrantConfig,
    collectors: CollectorConfig,
    refresh_timeout: Duration,
    cache: Arc<Cache>,
    refresh: RefreshState,
    key: KeySource,
    requests: RequestCounter,
}

impl Target {
    pub fn new(
        qdrant: QdrantConfig,
        collectors: CollectorConfig,
        cache_ttl: Duration,
        refresh_timeout: Duration,
    ) -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            key: KeySource::new(&qdrant),
            qdrant,
            collectors,
            refresh_timeout,
            cache: Arc::new(Cache::new(cache_ttl)),
            refresh: RefreshState::default(),
            requests: RequestCounter::new(),
        }
    }

    /// A client for this target; awc clients are not `Send`: one per worker.
    pub fn client(&self) -> QdrantClient {
        QdrantClient::new(&self.qdrant, self.key.clone(), self.requests.clone())
    }

    pub fn refresh_timeout(&self) -> Duration {
        self.refresh_timeout
    }

    /// The exposition to serve: the cached one while young enough; else the
    /// one a refresh makes, if it finishes within `wait`; else the newest there is.
    ///
    /// The refresh runs on a task of its own, to the refresh deadline, whichever
    /// scrape started it and however long that scrape waits: a scraper with a
    /// tiny timeout cannot cut it short and make the others see `qdrant_up 0`.
    pub async fn exposition<C>(self: &Arc<Self>, client: &C, wait: Duration) -> Arc<Rendered>
    where
        C: Deref<Target = QdrantClient> + Clone + 'static,
    {
        let finished = match self.cache.lookup() {
            Lookup::Fresh(rendered) => return rendered,
            Lookup::Stale(finished) => finished,
        };
        if let Some(ticket) = self.cache.start_refresh() {
            let (target, client) = (self.clone(), client.clone());
            // On this worker's runtime: the awc client is not Send.
            actix_web::rt::spawn(async move {
                let deadline = Instant::now() + target.refresh_timeout;
                let snapshot =
                    collectors::refresh(&client, &target.refresh, &target.collectors, deadline)
                        .await;
                let rendered =
                    web::block(move || Rendered::from_snapshot(snapshot, Instant::now())).await;
                if let Ok(rendered) = rendered {
                    ticket.finish(rendered);
                }
            });
        }
        match self.cache.wait(finished, wait).await {
            Some(rendered) => rendered,
            None => Arc::new(Rendered::nothing_yet(&collectors::before_first_refresh(
                &self.collectors,
            ))),
        }
    }
}

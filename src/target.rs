//! One Qdrant the exporter reports on: how to reach it, which collectors run,
//! the cache of its last exposition and what lives from one refresh to the
//! next. `/metrics` serves the configured Qdrant; `/probe` one target per
//! allowed URL and module, each with its own cache, key and request counts.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
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

/// Clients a worker keeps: the configured target's and the probed ones'.
const CLIENTS_PER_WORKER: usize = crate::probe::MAX_TARGETS + 1;

thread_local! {
    /// This worker's clients, by target (awc clients are not Send).
    static CLIENTS: RefCell<HashMap<u64, Rc<QdrantClient>>> = RefCell::new(HashMap::new());
}

pub struct Target {
    id: u64,
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

    /// This worker's client of this target, made on first use. Bounded: when
    /// full, the clients of targets no longer probed go with the others.
    fn worker_client(&self) -> Rc<QdrantClient> {
        CLIENTS.with(|clients| {
            let mut clients = clients.borrow_mut();
            if clients.len() >= CLIENTS_PER_WORKER && !clients.contains_key(&self.id) {
                clients.clear();
            }
            clients
                .entry(self.id)
                .or_insert_with(|| {
                    Rc::new(QdrantClient::new(
                        &self.qdrant,
                        self.key.clone(),
                        self.requests.clone(),
                    ))
                })
                .clone()
        })
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
    pub async fn exposition(self: &Arc<Self>, wait: Duration) -> Arc<Rendered> {
        let finished = match self.cache.lookup() {
            Lookup::Fresh(rendered) => return rendered,
            Lookup::Stale(finished) => finished,
        };
        if let Some(ticket) = self.cache.start_refresh() {
            let (target, client) = (self.clone(), self.worker_client());
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

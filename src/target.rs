//! One Qdrant the exporter reports on: how to reach it, which collectors run,
//! the cache of its last exposition and what lives from one refresh to the
//! next. `/metrics` serves the configured Qdrant; `/probe` one target per
//! allowed URL and module, each with its own cache, key and request counts.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web;

use crate::cache::{Cache, Lookup};
use crate::collectors::CollectorConfig;
use crate::exposition::Rendered;
use crate::limits::MAX_PROBED_TARGETS;
use crate::metrics::{Family, FamilyFilter};
use crate::process;
use crate::qdrant::{KeySource, QdrantClient, QdrantConfig, RequestCounter, ResponseBudget};
use crate::refresh::{self, RefreshState};

/// A target's settings, validated.
#[derive(Debug, Clone)]
pub struct TargetConfig {
    pub qdrant: QdrantConfig,
    pub collectors: CollectorConfig,
    /// How long a refresh is served.
    pub cache_ttl: Duration,
    /// Upper bound of one whole refresh.
    pub refresh_timeout: Duration,
    /// Whether the answer carries the exporter's own `process_*` figures
    /// (`/metrics`'s does; a probed target's is about that target alone).
    pub process_metrics: bool,
    /// The metric allow and deny lists.
    pub families: FamilyFilter,
}

impl TargetConfig {
    /// These settings for the Qdrant at `url` (a probed target); `Err` says
    /// why they cannot reach it.
    pub fn for_url(&self, url: url::Url) -> Result<TargetConfig, &'static str> {
        Ok(TargetConfig {
            qdrant: self.qdrant.for_url(url)?,
            ..self.clone()
        })
    }
}

/// Tells targets apart for the clients the workers keep of them.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Clients a worker keeps: the configured target's and the probed ones'.
const CLIENTS_PER_WORKER: usize = MAX_PROBED_TARGETS + 1;

thread_local! {
    /// This worker's clients, by target (awc clients are not Send).
    static CLIENTS: RefCell<HashMap<u64, Rc<QdrantClient>>> = RefCell::new(HashMap::new());
}

pub struct Target {
    id: u64,
    config: TargetConfig,
    cache: Arc<Cache<Rendered>>,
    refresh: Arc<RefreshState>,
    key: KeySource,
    requests: RequestCounter,
    /// Whether a Qdrant echoing the key was logged (once: it is not expected to stop).
    warned_of_echoed_key: AtomicBool,
    /// What Qdrant's answers in flight may hold, shared by every target.
    budget: ResponseBudget,
}

impl Target {
    pub fn new(config: TargetConfig, budget: ResponseBudget) -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            key: KeySource::new(
                config.qdrant.api_key.as_ref(),
                config.qdrant.api_key_file.as_deref(),
            ),
            cache: Arc::new(Cache::new(config.cache_ttl)),
            config,
            refresh: Arc::default(),
            requests: RequestCounter::new(),
            warned_of_echoed_key: AtomicBool::new(false),
            budget,
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
                        &self.config.qdrant,
                        self.key.clone(),
                        self.requests.clone(),
                        self.budget.clone(),
                    ))
                })
                .clone()
        })
    }

    pub fn refresh_timeout(&self) -> Duration {
        self.config.refresh_timeout
    }

    /// Whether the last refresh reached Qdrant (`None` before the first has
    /// finished). Waits for nothing and starts no refresh.
    pub fn last_reached_qdrant(&self) -> Option<bool> {
        self.cache.latest().map(|rendered| rendered.up)
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
                let deadline = Instant::now() + target.config.refresh_timeout;
                let mut snapshot = refresh::refresh(
                    &client,
                    &target.refresh,
                    &target.config.collectors,
                    deadline,
                )
                .await;
                snapshot.families.extend(target.process_families());
                let served = &target.config.families;
                snapshot
                    .families
                    .retain(|family| served.serves(family.name()));
                let key = target.key.current();
                let rendered = web::block(move || Rendered::of(snapshot, key.as_ref())).await;
                if let Ok((rendered, left_out)) = rendered {
                    if left_out > 0 && !target.warned_of_echoed_key.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            lines = left_out,
                            hint = "is QDRANT_URL the Qdrant it should be? Rotate the key if not",
                            "Qdrant's answers hold the API key: the lines with it are left out"
                        );
                    }
                    ticket.finish(rendered);
                }
            });
        }
        match self.cache.wait(finished, wait).await {
            Some(rendered) => rendered,
            None => {
                let mut families = refresh::before_first_refresh(&self.config.collectors);
                families.extend(self.process_families());
                families.retain(|family| self.config.families.serves(family.name()));
                Arc::new(Rendered::nothing_yet(families))
            }
        }
    }

    fn process_families(&self) -> Vec<Family> {
        match self.config.process_metrics {
            true => process::families(),
            false => Vec::new(),
        }
    }
}

//! The last refresh's exposition, held as the bytes that are served: the text
//! and its gzip and zstd encodings, each made once per refresh. A cache hit
//! hands out a reference to those bytes: no copy, no compression.
//!
//! Single-flight: at most one refresh runs at a time, whoever asked for it;
//! it belongs to no scrape (see [`Cache::start_refresh`]), so a scrape that
//! stops waiting does not end it, and each waiting scrape waits only as long
//! as its own budget allows.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use crate::metrics::Family;
use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use tokio::sync::watch;

use crate::collectors::Snapshot;
use crate::metrics::{render, GaugeFamily};

/// One refresh's exposition, as served.
pub struct Rendered {
    pub text: Bytes,
    pub gzip: Bytes,
    pub zstd: Bytes,
    pub up: bool,
    pub refreshed_at: Instant,
}

impl Rendered {
    /// Renders and compresses the snapshot: CPU work, run off the event loop.
    pub fn from_snapshot(snapshot: Snapshot, refreshed_at: Instant) -> Rendered {
        let mut families = snapshot.families;
        families.push(refresh_timestamp_family());
        Self::from_parts(&families, &snapshot.relayed, snapshot.up, refreshed_at)
    }

    /// What a scrape gets before any refresh has finished: Qdrant has not answered yet.
    pub fn nothing_yet(families: &[Family]) -> Rendered {
        Self::from_parts(families, "", false, Instant::now())
    }

    fn from_parts(families: &[Family], relayed: &str, up: bool, refreshed_at: Instant) -> Rendered {
        let mut text = Vec::with_capacity(64 * 1024);
        render(families, &mut text);
        text.extend_from_slice(relayed.as_bytes());
        // The fast levels: exposition text compresses about twentyfold with
        // gzip even so, about seventyfold with zstd.
        let mut gzip = GzEncoder::new(Vec::with_capacity(text.len() / 8), Compression::fast());
        let gzip = gzip
            .write_all(&text)
            .and_then(|()| gzip.finish())
            .expect("compressing into a Vec cannot fail");
        let zstd =
            zstd::bulk::compress(&text, ZSTD_LEVEL).expect("compressing into a Vec cannot fail");
        Rendered {
            text: Bytes::from(text),
            gzip: Bytes::from(gzip),
            zstd: Bytes::from(zstd),
            up,
            refreshed_at,
        }
    }
}

/// zstd's fastest level: at 1,000 collections 62 KB of 4.3 MB against gzip's
/// 190 KB (the bodies `cargo bench --bench exporter -- serving` prints). Timed
/// once by hand on that text: 1.2 ms against gzip's 1.6 ms, and levels 2 and 3
/// made nothing smaller.
const ZSTD_LEVEL: i32 = 1;

/// When the served figures were fetched: constant between refreshes, so a
/// cache hit changes no byte; the age is `time() - ` this in PromQL.
fn refresh_timestamp_family() -> Family {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    GaugeFamily::single(
        "qdrant_exporter_last_refresh_timestamp_seconds",
        "When the served figures were fetched from Qdrant, as a Unix timestamp.",
        now.as_secs_f64(),
    )
}

struct State {
    current: Option<Arc<Rendered>>,
    refreshing: bool,
}

pub struct Cache {
    ttl: Duration,
    state: Mutex<State>,
    /// Counts finished refreshes; waiters watch it.
    finished: watch::Sender<u64>,
}

/// What a scrape found in the cache.
pub enum Lookup {
    /// Young enough to serve.
    Fresh(Arc<Rendered>),
    /// Too old or absent: a refresh is due. Wait with [`Cache::wait`].
    Stale(watch::Receiver<u64>),
}

impl Cache {
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

    pub fn lookup(&self) -> Lookup {
        // Subscribed before looking, so a refresh finishing in between is seen.
        let finished = self.finished.subscribe();
        match &self.lock().current {
            Some(current) if current.refreshed_at.elapsed() < self.ttl => {
                Lookup::Fresh(current.clone())
            }
            _ => Lookup::Stale(finished),
        }
    }

    /// Claims the one refresh in flight; `None` when one is already running.
    /// The caller runs it on a task of its own and hands the result to
    /// [`RefreshTicket::finish`]; a ticket dropped unfinished frees the claim.
    pub fn start_refresh(self: &Arc<Self>) -> Option<RefreshTicket> {
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
    /// exposition there is (older than the TTL if the refresh is still running).
    pub async fn wait(
        &self,
        mut finished: watch::Receiver<u64>,
        budget: Duration,
    ) -> Option<Arc<Rendered>> {
        // A closed channel cannot happen (the cache owns the sender); either way, serve what there is.
        let _ = tokio::time::timeout(budget, finished.changed()).await;
        self.lock().current.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The right to store the result of the one refresh in flight.
pub struct RefreshTicket {
    cache: Arc<Cache>,
}

impl RefreshTicket {
    pub fn finish(self, rendered: Rendered) {
        self.cache.lock().current = Some(Arc::new(rendered));
        // Drop frees the claim and wakes the waiters.
    }
}

impl Drop for RefreshTicket {
    fn drop(&mut self) {
        self.cache.lock().refreshing = false;
        self.cache.finished.send_modify(|count| *count += 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(up: bool) -> Rendered {
        let snapshot = Snapshot {
            up,
            families: vec![GaugeFamily::single(
                "qdrant_up",
                "up",
                if up { 1.0 } else { 0.0 },
            )],
            relayed: String::new(),
        };
        Rendered::from_snapshot(snapshot, Instant::now())
    }

    #[test]
    fn the_gzip_body_is_the_text_compressed() {
        let rendered = rendered(true);
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(&rendered.gzip[..]),
            &mut text,
        )
        .unwrap();
        assert_eq!(text.as_bytes(), &rendered.text[..]);
        assert!(text.contains("qdrant_exporter_last_refresh_timestamp_seconds "));
    }

    #[test]
    fn the_zstd_body_is_the_text_compressed() {
        let rendered = rendered(true);
        let text = zstd::stream::decode_all(&rendered.zstd[..]).unwrap();
        assert_eq!(text, &rendered.text[..]);
    }

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
        ticket.finish(rendered(true));
        let served = cache.wait(finished, Duration::from_secs(60)).await;
        assert!(served.is_some_and(|r| r.up));
        assert!(matches!(cache.lookup(), Lookup::Fresh(_)));
        assert!(cache.start_refresh().is_some(), "the claim was freed");
    }

    #[test]
    fn a_ticket_dropped_unfinished_frees_the_claim_and_keeps_the_last_exposition() {
        let cache = Arc::new(Cache::new(Duration::ZERO));
        cache.start_refresh().unwrap().finish(rendered(true));
        drop(cache.start_refresh().unwrap());
        assert!(cache.start_refresh().is_some());
        assert!(cache.lock().current.as_ref().is_some_and(|r| r.up));
    }
}

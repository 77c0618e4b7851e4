//! The cluster view's `GET /cluster/telemetry`, off the refresh's path.
//! Qdrant answers it by asking every peer, and while one peer hangs it takes
//! 9.3–9.4 s whatever the timeout it is given: joined with the node's own
//! requests under the refresh deadline (9 s), it failed every refresh, and a
//! single hung node read as `qdrant_up 0` for the whole cluster.
//!
//! So the answer is fetched on a task of its own, to the cluster requests'
//! timeout, one at a time: a refresh starts one when none is in flight, waits
//! for it a moment ([`WAIT`]: Qdrant answers in milliseconds when every peer
//! does), and reads the newest answer there is, with the time it was asked,
//! whether it is the one it started or an older one. The hung peer shows as
//! `responsive: false` once Qdrant answers, at the next refresh after.

use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::locks::lock;
use crate::qdrant::models::ClusterTelemetry;
use crate::qdrant::{QdrantClient, QdrantError};

/// How long a refresh waits for the answer it asked for before going on
/// with the newest it has: a scrape that waits for a refresh answers within
/// about this much more than the node's own requests take.
pub const WAIT: Duration = Duration::from_secs(1);

/// One answer, and when it was asked for.
pub struct Fetched {
    pub telemetry: Result<ClusterTelemetry, QdrantError>,
    pub asked_at: Instant,
}

#[derive(Default)]
pub struct ClusterView {
    /// The newest answer at the default level, or above.
    latest: Mutex<Option<Arc<Fetched>>>,
    /// The newest answer with every replica (`details_level=3`).
    latest_with_replicas: Mutex<Option<Arc<Fetched>>>,
    /// A fetch is in flight: no refresh starts another.
    in_flight: Mutex<bool>,
}

impl ClusterView {
    /// Starts a fetch (with every replica when `with_replicas`) unless one is
    /// in flight, waits for the one it started until `wait_until`, and
    /// returns the newest answer with the replicas if they are asked for,
    /// else the newest at all; `None` before any has come.
    pub async fn newest(
        self: &Arc<Self>,
        client: &Rc<QdrantClient>,
        with_replicas: bool,
        wait_until: Instant,
    ) -> Option<Arc<Fetched>> {
        let started = {
            let mut in_flight = lock(&self.in_flight);
            match *in_flight {
                true => None,
                false => {
                    *in_flight = true;
                    Some(self.start(client.clone(), with_replicas))
                }
            }
        };
        if let Some(fetch) = started {
            let _ = tokio::time::timeout_at(wait_until.into(), fetch).await;
        }
        let newest = match with_replicas {
            true => &self.latest_with_replicas,
            false => &self.latest,
        };
        lock(newest).clone()
    }

    /// The fetch, on this worker's runtime (the awc client is not Send);
    /// it records its answer however long the refresh that started it waits.
    fn start(
        self: &Arc<Self>,
        client: Rc<QdrantClient>,
        with_replicas: bool,
    ) -> actix_web::rt::task::JoinHandle<()> {
        let view = self.clone();
        actix_web::rt::spawn(async move {
            let _in_flight = InFlight(view.clone());
            let asked_at = Instant::now();
            let telemetry = match with_replicas {
                true => client.cluster_telemetry_with_replicas().await,
                false => client.cluster_telemetry().await,
            };
            let fetched = Arc::new(Fetched {
                telemetry,
                asked_at,
            });
            if with_replicas {
                *lock(&view.latest_with_replicas) = Some(fetched.clone());
            }
            *lock(&view.latest) = Some(fetched);
        })
    }
}

/// Frees the view for the next fetch when the fetch ends, answered or not
/// (the runtime stopping drops it unfinished).
struct InFlight(Arc<ClusterView>);

impl Drop for InFlight {
    fn drop(&mut self) {
        *lock(&self.0.in_flight) = false;
    }
}

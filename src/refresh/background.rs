//! The cluster-scope collectors' runs: on a task of their own, started by a
//! refresh and finished when Qdrant has answered, however long that takes
//! (a hung peer holds Qdrant's answer for about 9.4 s). No scrape waits for
//! them: the refreshes serve each one's last figures, with their age.

use std::collections::HashSet;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{timed, RefreshState};
use crate::collectors::{Collector, Context, Detail};
use crate::qdrant::models::{ClusterInfo, VersionInfo};
use crate::qdrant::{QdrantClient, QdrantError};

/// What a run needs of the refresh that started it, owned: the refresh ends first.
struct Inputs {
    client: Rc<QdrantClient>,
    version: Option<VersionInfo>,
    selected: Vec<String>,
    cluster: Result<ClusterInfo, QdrantError>,
    peer_id: Option<u64>,
    detail: Detail,
    distinct_collections: Option<HashSet<String>>,
}

/// Frees the collector for its next run if its task ends without a result
/// (the runtime stopping); a run that records its result has freed it already.
struct Running {
    state: Arc<RefreshState>,
    collector: Collector,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.state.schedule.abandon(self.collector);
    }
}

/// Starts a run of `collector` on this worker's runtime (the awc client is
/// not Send). It may take its interval, and at least one cluster-wide
/// request's timeout: a run never overlaps the next.
pub fn start(
    collector: Collector,
    client: &Rc<QdrantClient>,
    context: &Context<'_>,
    state: &Arc<RefreshState>,
    interval: Duration,
) {
    let inputs = Inputs {
        client: client.clone(),
        version: context.version.cloned(),
        selected: context.selected.to_vec(),
        cluster: context.cluster.clone(),
        peer_id: context.peer_id,
        detail: context.detail,
        distinct_collections: context.distinct_collections.cloned(),
    };
    let budget = interval.max(client.cluster_request_timeout());
    state.schedule.start(collector);
    let running = Running {
        state: state.clone(),
        collector,
    };
    actix_web::rt::spawn(run(collector, inputs, running, budget));
}

async fn run(collector: Collector, inputs: Inputs, running: Running, budget: Duration) {
    let started = Instant::now();
    let deadline = started + budget;
    let context = Context {
        client: &inputs.client,
        version: inputs.version.as_ref(),
        selected: &inputs.selected,
        cluster: &inputs.cluster,
        peer_id: inputs.peer_id,
        telemetry: None,
        reports_cluster: true,
        cluster_view: None,
        // The relay is a node-scope collector, run in the refresh.
        relay_per_collection: false,
        detail: inputs.detail,
        distinct_collections: inputs.distinct_collections.as_ref(),
        // The volumes are the node's: a node-scope collector, run in the refresh.
        volumes: &[],
        deadline,
    };
    let (collector, output, duration) =
        timed(collector, collector.collect(&context), deadline).await;
    running
        .state
        .record(collector, &output, duration, started, true);
}

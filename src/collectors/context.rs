//! What every collector of one run shares: the client, the selected
//! collections, the cluster status, the one telemetry snapshot, whether this
//! exporter reports the cluster, and the deadline.

use std::collections::HashSet;
use std::future::Future;
use std::time::Instant;

use super::failure::Failure;
use super::output::Output;
use crate::metrics::{Detail, Family};
use crate::qdrant::models::{
    ClusterCollectionTelemetry, ClusterInfo, ClusterTelemetry, CollectionTelemetry, Telemetry,
    VersionInfo,
};
use crate::qdrant::{QdrantClient, QdrantError};

pub struct Context<'a> {
    pub client: &'a QdrantClient,
    /// `GET /`, when it answered.
    pub version: Option<&'a VersionInfo>,
    /// The collections to export, sorted by name.
    pub selected: &'a [String],
    /// `GET /cluster`.
    pub cluster: &'a Result<ClusterInfo, QdrantError>,
    /// This node's raft peer id, where `/cluster` or telemetry says it.
    pub peer_id: Option<u64>,
    /// `GET /telemetry` (at the highest details level a collector due needs),
    /// narrowed to the exported collections; `None` when no collector due needs it.
    pub telemetry: Option<Result<Selected<'a>, &'a QdrantError>>,
    /// Whether this exporter is the cluster's reporter: the one that sends
    /// the requests that ask every peer and serves the cluster-scope figures.
    pub reports_cluster: bool,
    /// `cluster_view` on a multi-node cluster: the peers of the whole cluster,
    /// whichever node answered, and every replica when a collector due reads
    /// them; `None` in the node view.
    pub cluster_view: Option<Result<&'a ClusterTelemetry, &'a QdrantError>>,
    /// The native relay asks for Qdrant's request metrics per collection.
    pub relay_per_collection: bool,
    /// How much of each collection is exported.
    pub detail: Detail,
    /// The volumes whose filesystems the `volumes` collector reports.
    pub volumes: &'a [super::Volume],
    /// The collections with series of their own, as their label values are
    /// written (escaped), where the others are folded together.
    pub distinct_collections: Option<&'a HashSet<String>>,
    pub deadline: Instant,
}

/// Where a telemetry-backed collector gets its data this refresh.
enum Source<'s> {
    /// The selected collections' telemetry, sorted by name.
    Telemetry(&'s Selected<'s>),
    /// Telemetry cannot be read here (404, 403): this is why.
    Unavailable(String),
    Failed(Failure),
}

/// The selected collections' entries of one telemetry response.
pub struct Selected<'a> {
    pub telemetry: &'a Telemetry,
    pub collections: Vec<&'a CollectionTelemetry>,
}

impl<'a> Selected<'a> {
    /// The entries of `telemetry` for the exported collections, sorted by
    /// name, each name once (a listing that repeats one, from something
    /// answering as Qdrant, would repeat its series, and Prometheus refuses a
    /// scrape that does).
    pub fn of(telemetry: &'a Telemetry, exported: &[String]) -> Self {
        let exported: HashSet<&str> = exported.iter().map(String::as_str).collect();
        let mut collections: Vec<&CollectionTelemetry> = telemetry
            .collections
            .collections
            .iter()
            .filter(|collection| exported.contains(collection.id.as_str()))
            .collect();
        collections.sort_by(|a, b| a.id.cmp(&b.id));
        collections.dedup_by(|later, first| later.id == first.id);
        Self {
            telemetry,
            collections,
        }
    }

    /// This node's raft peer id: the one in telemetry's cluster status, or in
    /// single-node mode the only peer of a local replica set.
    pub fn own_peer_id(&self) -> Option<u64> {
        if let Some(peer_id) = self.telemetry.own_peer_id() {
            return Some(peer_id);
        }
        self.collections
            .iter()
            .flat_map(|collection| collection.shards.iter().flatten())
            .filter(|shard| shard.local.is_some())
            .find_map(|shard| match shard.replicate_states.as_deref()? {
                [(only, _)] => only.parse().ok(),
                _ => None,
            })
    }
}

impl<'a> Context<'a> {
    /// Whether this Qdrant may have an endpoint added in `version`: false only
    /// when its version is known and older, so that a development build is tried.
    pub fn may_have(&self, version: (u64, u64, u64)) -> bool {
        self.version
            .and_then(|info| info.at_least(version))
            .unwrap_or(true)
    }

    /// In the cluster view, a collector whose data is node-local (this node's
    /// segments, snapshots...) cannot describe the cluster through whichever
    /// node answered: unsupported, said once. `None` in the node view.
    pub fn node_local_in_cluster_view(&self) -> Option<Output> {
        self.cluster_view.is_some().then(|| {
            Output::unsupported(
                "its data is node-local, and the cluster view reads whichever node answers: \
                 run the exporter as a sidecar of each node for it",
            )
        })
    }

    /// Qdrant runs in distributed mode, as `/cluster` says.
    pub fn in_cluster_mode(&self) -> bool {
        matches!(self.cluster, Ok(ClusterInfo::Enabled(_)))
    }

    /// The exported collections' entries of the cluster view, sorted by name.
    pub fn cluster_view_collections<'v>(
        &self,
        view: &'v ClusterTelemetry,
    ) -> Vec<(&'v str, &'v ClusterCollectionTelemetry)> {
        view.collections
            .iter()
            // `selected` is sorted by name.
            .filter(|(name, _)| {
                self.selected
                    .binary_search_by(|selected| selected.as_str().cmp(name.as_str()))
                    .is_ok()
            })
            .map(|(name, collection)| (name.as_str(), collection))
            .collect()
    }

    fn telemetry_source(&self) -> Source<'_> {
        match &self.telemetry {
            Some(Ok(selected)) => Source::Telemetry(selected),
            Some(Err(error @ (QdrantError::NotFound | QdrantError::Forbidden))) => {
                Source::Unavailable(format!("cannot read GET /telemetry: {error}"))
            }
            Some(Err(error)) => {
                let message = format!("cannot read telemetry: {error}");
                Source::Failed(Failure::from_error(error, message))
            }
            None => Source::Unavailable("telemetry was not fetched".into()),
        }
    }

    /// The families `from_telemetry` makes of the shared telemetry, or, where
    /// telemetry cannot serve (an older Qdrant, a missing field, no access),
    /// the output of the collector's per-collection requests, with one warning saying why.
    pub async fn telemetry_or_per_collection<Fut>(
        &self,
        from_telemetry: impl FnOnce(&Selected<'_>) -> Result<Vec<Family>, &'static str>,
        per_collection: impl FnOnce() -> Fut,
    ) -> Output
    where
        Fut: Future<Output = Output>,
    {
        let why = match self.telemetry_source() {
            Source::Telemetry(selected) => match from_telemetry(selected) {
                Ok(families) => return Output::families(families),
                Err(lacks) => lacks.to_owned(),
            },
            Source::Unavailable(why) => why,
            Source::Failed(failure) => return Output::failed(failure),
        };
        per_collection().await.fell_back(&why)
    }

    /// What `from_telemetry` makes of the shared telemetry, for a collector
    /// that has no other source: an older Qdrant without telemetry makes the
    /// collector unsupported, no access to it fails it.
    pub fn telemetry_only(&self, from_telemetry: impl FnOnce(&Selected<'_>) -> Output) -> Output {
        match self.telemetry_source() {
            Source::Telemetry(selected) => from_telemetry(selected),
            Source::Unavailable(_)
                if matches!(self.telemetry, Some(Err(QdrantError::NotFound))) =>
            {
                Output::unsupported("GET /telemetry answered 404")
            }
            Source::Unavailable(why) => Output::failed(Failure {
                kind: "telemetry unavailable".into(),
                message: why,
                hint: "the API key must be allowed to read GET /telemetry (the read-only key is)",
            }),
            Source::Failed(failure) => Output::failed(failure),
        }
    }
}

//! Client for Qdrant's REST API: awc, the `api-key` header, a timeout and a
//! body-size limit on every request, and a count of every request it makes.
//!
//! awc clients are not `Send`: build one per actix worker.

mod bounded;
mod budget;
mod key;
pub mod models;
mod path;
mod requests;
mod tls;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use awc::http::StatusCode;
use serde::de::DeserializeOwned;
use url::Url;

use budget::Charge;
pub use budget::ResponseBudget;
pub use key::{ApiKey, KeySource};
use models::{
    ApiResponse, ClusterInfo, ClusterTelemetry, CollectionClusterInfo, CollectionInfo,
    CollectionList, CollectionMemory, IssueList, Optimizations, QuotaStatus, SnapshotDescription,
    Telemetry, VersionInfo,
};
use path::encode;
pub use requests::RequestCounter;
pub use tls::{ClientIdentity, TlsSettings};

/// How much `GET /telemetry` reports. Qdrant's cost grows with the level
/// (measured on 1,006 collections: 110 ms of CPU at 3, 150 ms at 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TelemetryDetail {
    /// Collection config, local shards (status, optimizer, points, vectors,
    /// sizes, update queue), every replica's state, transfers.
    Shards,
    /// All of the above and every segment of every local shard.
    Segments,
}

impl TelemetryDetail {
    pub fn level(self) -> u8 {
        match self {
            Self::Shards => 3,
            Self::Segments => 4,
        }
    }
}

/// Answers this large are parsed on the blocking pool, not on the event
/// loop: a large node's telemetry (30 MB at 5,000 collections) takes tens of
/// milliseconds to read, and every request this worker serves would wait.
const PARSED_OFF_THE_LOOP_FROM: usize = 1024 * 1024;

/// An answer's JSON. What it takes once read is bounded like its bytes: by
/// `max_response_bytes` (Qdrant's own telemetry of 5,000 collections, 30 MB
/// of text, takes 17 MiB).
fn parse<T: DeserializeOwned>(body: &[u8], allowance: usize) -> serde_json::Result<T> {
    match std::str::from_utf8(body) {
        Ok(text) => bounded::from_str(text, allowance),
        // A collection named in bytes that are not UTF-8 would fail the whole
        // answer: each bad sequence becomes U+FFFD instead, and the refresh
        // skips the names holding one (see `refresh::selection`).
        Err(_) => bounded::from_str(&String::from_utf8_lossy(body), allowance),
    }
}

/// A Qdrant endpoint the exporter calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// As the `endpoint` label shows it.
    pub path: &'static str,
    /// Qdrant answers it by asking other peers over gRPC (read in its source),
    /// so it costs every node and waits for the slowest peer: a hung one
    /// makes it take Qdrant's own peer timeout (about 9.4 s), or fail.
    pub asks_peers: bool,
}

/// The endpoints the exporter calls.
pub mod endpoint {
    use super::Endpoint;

    const fn node(path: &'static str) -> Endpoint {
        Endpoint {
            path,
            asks_peers: false,
        }
    }

    const fn cluster(path: &'static str) -> Endpoint {
        Endpoint {
            path,
            asks_peers: true,
        }
    }

    pub const ROOT: Endpoint = node("/");
    pub const COLLECTIONS: Endpoint = node("/collections");
    pub const COLLECTION: Endpoint = cluster("/collections/{name}");
    pub const COLLECTION_CLUSTER: Endpoint = node("/collections/{name}/cluster");
    pub const COLLECTION_SNAPSHOTS: Endpoint = node("/collections/{name}/snapshots");
    pub const COLLECTION_OPTIMIZATIONS: Endpoint = cluster("/collections/{name}/optimizations");
    pub const COLLECTION_MEMORY: Endpoint = cluster("/collections/{name}/memory");
    pub const CLUSTER: Endpoint = node("/cluster");
    pub const CLUSTER_TELEMETRY: Endpoint = cluster("/cluster/telemetry");
    pub const TELEMETRY: Endpoint = node("/telemetry");
    pub const ISSUES: Endpoint = node("/issues");
    pub const QUOTAS: Endpoint = cluster("/quotas");
    pub const METRICS: Endpoint = node("/metrics");

    /// Every endpoint above.
    pub const ALL: [Endpoint; 13] = [
        ROOT,
        COLLECTIONS,
        COLLECTION,
        COLLECTION_CLUSTER,
        COLLECTION_SNAPSHOTS,
        COLLECTION_OPTIMIZATIONS,
        COLLECTION_MEMORY,
        CLUSTER,
        CLUSTER_TELEMETRY,
        TELEMETRY,
        ISSUES,
        QUOTAS,
        METRICS,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QdrantError {
    #[error("cannot connect to Qdrant: {0}")]
    Connect(String),
    #[error("no answer from Qdrant within {0:?}")]
    Timeout(Duration),
    #[error("Qdrant answered 401 Unauthorized")]
    Unauthorized,
    #[error("Qdrant answered 401 Unauthorized: it requires an API key, and none is configured")]
    UnauthorizedWithoutKey,
    #[error("Qdrant answered 401 Unauthorized to the key read again from the key file")]
    UnauthorizedNewKey,
    #[error("Qdrant answered 403 Forbidden")]
    Forbidden,
    #[error("Qdrant answered 404 Not Found")]
    NotFound,
    /// Never followed: the API key would go with it, wherever it points.
    #[error(
        "Qdrant answered {status} redirecting to {location}, which the exporter does not follow"
    )]
    Redirect { status: u16, location: String },
    #[error("Qdrant answered HTTP {0}")]
    Status(u16),
    #[error("Qdrant's response is larger than {0} bytes")]
    TooLarge(usize),
    #[error("Qdrant's answers in flight together would hold more than {0} bytes")]
    OverBudget(usize),
    #[error("unexpected response from Qdrant: {0}")]
    InvalidResponse(String),
}

impl QdrantError {
    /// What an operator should check; logged next to the error.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Connect(_) => "is Qdrant running, and does QDRANT_URL point at its REST port (6333)?",
            Self::Timeout(_) => {
                "Qdrant is slow or hung; check its load, or raise QDRANT_EXPORTER_REQUEST_TIMEOUT_SECONDS"
            }
            Self::Unauthorized => "check QDRANT_API_KEY / QDRANT_API_KEY_FILE (the read-only key is enough)",
            Self::UnauthorizedWithoutKey => {
                "give the exporter Qdrant's key with QDRANT_API_KEY or QDRANT_API_KEY_FILE (the read-only key is \
                 enough; the official chart's Secret holds read-only-api-key only when readOnlyApiKey is set)"
            }
            Self::UnauthorizedNewKey => {
                "the key file changed and Qdrant refuses the new key: is Qdrant configured with it yet?"
            }
            Self::Forbidden => "the API key may not read collections; use Qdrant's read-only or full key",
            Self::NotFound => "does QDRANT_URL point at Qdrant's REST API root?",
            Self::Redirect { .. } => {
                "set QDRANT_URL to the address Qdrant answers on itself: a redirect is not followed, so the API key never goes to another host"
            }
            Self::Status(408) => {
                "Qdrant timed out asking another peer: is a peer hung? qdrant_cluster_peer_responsive says which"
            }
            Self::Status(_) => "Qdrant reported an error; check Qdrant's logs",
            Self::TooLarge(_) => "raise QDRANT_EXPORTER_MAX_RESPONSE_BYTES",
            Self::OverBudget(_) => {
                "is a Qdrant (or a probed target) sending endless or huge answers? Else raise QDRANT_EXPORTER_MAX_RESPONSE_BYTES"
            }
            Self::InvalidResponse(_) => {
                "does QDRANT_URL point at Qdrant's REST port (6333, not gRPC 6334)?"
            }
        }
    }

    /// A short, stable description: the same problem twice gives the same text,
    /// so that a problem is logged when it starts, not on every refresh.
    pub fn kind(&self) -> String {
        match self {
            Self::Connect(_) => "unreachable".into(),
            Self::Timeout(_) => "timeout".into(),
            Self::Unauthorized => "401".into(),
            Self::UnauthorizedWithoutKey => "401 without a key".into(),
            Self::UnauthorizedNewKey => "401 to the new key".into(),
            Self::Forbidden => "403".into(),
            Self::NotFound => "404".into(),
            Self::Redirect { status, location } => format!("{status} to {location}"),
            Self::Status(code) => code.to_string(),
            Self::TooLarge(_) => "too large".into(),
            Self::OverBudget(_) => "over the memory budget".into(),
            Self::InvalidResponse(_) => "invalid response".into(),
        }
    }
}

/// How to reach one Qdrant: the client's settings, validated.
#[derive(Debug, Clone)]
pub struct QdrantConfig {
    pub url: Url,
    /// The key as loaded at start.
    pub api_key: Option<ApiKey>,
    /// Where `api_key` was read from, to read it again when it changes.
    pub api_key_file: Option<PathBuf>,
    /// For an https URL.
    pub tls: TlsSettings,
    pub request_timeout: Duration,
    /// Of a request Qdrant answers by asking every peer ([`Endpoint::asks_peers`]).
    pub cluster_request_timeout: Duration,
    /// Requests in flight at once, of each of the two kinds.
    pub concurrency: usize,
    pub max_response_bytes: usize,
}

impl QdrantConfig {
    /// These settings for the Qdrant at `url`; `Err` says why they cannot reach it.
    pub fn for_url(&self, url: Url) -> Result<QdrantConfig, &'static str> {
        if self.tls.any() && url.scheme() != "https" {
            return Err("its TLS settings apply to an https:// target only");
        }
        Ok(QdrantConfig {
            url,
            ..self.clone()
        })
    }
}

/// Requests of one kind: how many may be in flight, and how long each may take.
struct Lane {
    in_flight: tokio::sync::Semaphore,
    timeout: Duration,
}

impl Lane {
    fn new(concurrency: usize, timeout: Duration) -> Self {
        Self {
            in_flight: tokio::sync::Semaphore::new(concurrency),
            timeout,
        }
    }
}

pub struct QdrantClient {
    http: awc::Client,
    /// Requests this node answers alone.
    node: Lane,
    /// Requests that ask every peer: a hung peer holds them for seconds, and
    /// they must not take the slots (or the connections) the node's own need.
    cluster: Lane,
    base_url: String,
    api_key: KeySource,
    max_response_bytes: usize,
    /// Shared with every client of every target.
    budget: ResponseBudget,
    requests: RequestCounter,
}

impl QdrantClient {
    pub fn new(
        config: &QdrantConfig,
        api_key: KeySource,
        requests: RequestCounter,
        budget: ResponseBudget,
    ) -> Self {
        let connector = awc::Connector::new()
            .rustls_0_23(Arc::new(tls::client_config(&config.tls)))
            .timeout(config.request_timeout)
            // Each lane's requests, at once.
            .limit(2 * config.concurrency);
        let http = awc::Client::builder()
            .connector(connector)
            // Each request runs under `timeout` below, body included.
            .disable_timeout()
            .disable_redirects()
            .add_default_header((
                awc::http::header::USER_AGENT,
                concat!("qdrant-exporter/", env!("CARGO_PKG_VERSION")),
            ))
            .finish();
        Self {
            http,
            node: Lane::new(config.concurrency, config.request_timeout),
            cluster: Lane::new(config.concurrency, config.cluster_request_timeout),
            base_url: config.url.as_str().trim_end_matches('/').to_owned(),
            api_key,
            max_response_bytes: config.max_response_bytes,
            budget,
            requests,
        }
    }

    /// The Qdrant URL, for log messages (it never holds credentials: see config).
    /// The key requests carry now (to conceal it in what Qdrant sends back).
    pub fn api_key(&self) -> Option<ApiKey> {
        self.api_key.current()
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn request_counter(&self) -> &RequestCounter {
        &self.requests
    }

    /// How long a request that asks every peer may take.
    pub fn cluster_request_timeout(&self) -> Duration {
        self.cluster.timeout
    }

    /// `GET /`: version and commit; needs no API key.
    pub async fn version(&self) -> Result<VersionInfo, QdrantError> {
        self.get_json(endpoint::ROOT, "/").await
    }

    /// `GET /collections`: the names of all collections.
    pub async fn collection_names(&self) -> Result<Vec<String>, QdrantError> {
        let list: CollectionList = self
            .get_result(endpoint::COLLECTIONS, "/collections")
            .await?;
        // Each name once: something answering as Qdrant may repeat one, and
        // each repeat would repeat its series, which Prometheus refuses.
        let mut seen = std::collections::HashSet::new();
        Ok(list
            .collections
            .into_iter()
            .map(|c| c.name)
            .filter(|name| seen.insert(name.clone()))
            .collect())
    }

    /// `GET /collections/{name}`: cluster-wide statistics and configuration.
    pub async fn collection(&self, name: &str) -> Result<CollectionInfo, QdrantError> {
        let path = format!("/collections/{}", encode(name));
        self.get_result(endpoint::COLLECTION, &path).await
    }

    /// `GET /collections/{name}/cluster`: this node's view of the collection's shards.
    pub async fn collection_cluster(
        &self,
        name: &str,
    ) -> Result<CollectionClusterInfo, QdrantError> {
        let path = format!("/collections/{}/cluster", encode(name));
        self.get_result(endpoint::COLLECTION_CLUSTER, &path).await
    }

    /// `GET /collections/{name}/snapshots`: the snapshots stored on this node.
    pub async fn collection_snapshots(
        &self,
        name: &str,
    ) -> Result<Vec<SnapshotDescription>, QdrantError> {
        let path = format!("/collections/{}/snapshots", encode(name));
        self.get_result(endpoint::COLLECTION_SNAPSHOTS, &path).await
    }

    /// `GET /collections/{name}/optimizations`: this node's optimizer queue
    /// and running optimizations (Qdrant 1.16.3 and later).
    pub async fn collection_optimizations(&self, name: &str) -> Result<Optimizations, QdrantError> {
        let path = format!("/collections/{}/optimizations", encode(name));
        self.get_result(endpoint::COLLECTION_OPTIMIZATIONS, &path)
            .await
    }

    /// `GET /collections/{name}/memory`: bytes on disk, in RAM and in the page
    /// cache of this node's shards, by component (Qdrant 1.18 and later).
    pub async fn collection_memory(&self, name: &str) -> Result<CollectionMemory, QdrantError> {
        let path = format!("/collections/{}/memory", encode(name));
        self.get_result(endpoint::COLLECTION_MEMORY, &path).await
    }

    /// `GET /quotas`: the resource quota and this node's and its peers' usage (Qdrant 1.19 and later).
    pub async fn quotas(&self) -> Result<QuotaStatus, QdrantError> {
        self.get_result(endpoint::QUOTAS, "/quotas").await
    }

    /// `GET /cluster`: raft state of this node.
    pub async fn cluster(&self) -> Result<ClusterInfo, QdrantError> {
        self.get_result(endpoint::CLUSTER, "/cluster").await
    }

    /// `GET /cluster/telemetry`: every peer as this node sees it (Qdrant 1.17 and later).
    pub async fn cluster_telemetry(&self) -> Result<ClusterTelemetry, QdrantError> {
        self.get_result(endpoint::CLUSTER_TELEMETRY, "/cluster/telemetry")
            .await
    }

    /// `GET /cluster/telemetry?details_level=3`: also every replica of every
    /// shard, whichever peer holds it: the cluster seen through any one node.
    pub async fn cluster_telemetry_with_replicas(&self) -> Result<ClusterTelemetry, QdrantError> {
        self.get_result(
            endpoint::CLUSTER_TELEMETRY,
            "/cluster/telemetry?details_level=3",
        )
        .await
    }

    /// `GET /telemetry?details_level=N`: this node's collections, shards and
    /// replica states in one request, however many collections there are.
    pub async fn telemetry(&self, detail: TelemetryDetail) -> Result<Telemetry, QdrantError> {
        let path = format!("/telemetry?details_level={}", detail.level());
        self.get_result(endpoint::TELEMETRY, &path).await
    }

    /// `GET /issues`: performance issues and configuration advice Qdrant found.
    pub async fn issues(&self) -> Result<IssueList, QdrantError> {
        self.get_result(endpoint::ISSUES, "/issues").await
    }

    /// `GET /metrics`: Qdrant's own exposition, as text; with `per_collection`
    /// its request metrics are also broken down by collection (Qdrant 1.17.1 and later).
    pub async fn native_metrics(&self, per_collection: bool) -> Result<String, QdrantError> {
        let path = match per_collection {
            true => "/metrics?per_collection=true",
            false => "/metrics",
        };
        let (body, _charge) = self.get(endpoint::METRICS, path).await?;
        String::from_utf8(Vec::from(body))
            .map_err(|e| QdrantError::InvalidResponse(format!("/metrics: {e}")))
    }

    /// The `result` of Qdrant's JSON envelope.
    async fn get_result<T: DeserializeOwned + Send + 'static>(
        &self,
        endpoint: Endpoint,
        path: &str,
    ) -> Result<T, QdrantError> {
        let response: ApiResponse<T> = self.get_json(endpoint, path).await?;
        Ok(response.result)
    }

    async fn get_json<T: DeserializeOwned + Send + 'static>(
        &self,
        endpoint: Endpoint,
        path: &str,
    ) -> Result<T, QdrantError> {
        // The answer's share of the budget is held until it is parsed.
        let (body, _charge) = self.get(endpoint, path).await?;
        let allowance = self.max_response_bytes;
        let parsed = if body.len() < PARSED_OFF_THE_LOOP_FROM {
            parse(&body, allowance)
        } else {
            tokio::task::spawn_blocking(move || parse(&body, allowance))
                .await
                .map_err(|_| QdrantError::InvalidResponse(format!("{path}: parsing was stopped")))?
        };
        parsed.map_err(|e| QdrantError::InvalidResponse(format!("{path}: {e}")))
    }

    /// One request: waits for a free slot of its lane, counts it, bounds it in
    /// time and size; the body, and what it holds of the budget.
    async fn get(
        &self,
        endpoint: Endpoint,
        path: &str,
    ) -> Result<(bytes::Bytes, Charge), QdrantError> {
        let lane = match endpoint.asks_peers {
            true => &self.cluster,
            false => &self.node,
        };
        let _slot = lane
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let mut record = self.requests.start(endpoint.path);
        let (status, body) = match tokio::time::timeout(lane.timeout, self.get_body(path)).await {
            Err(_elapsed) => return Err(QdrantError::Timeout(lane.timeout)),
            Ok(Err(error @ QdrantError::Redirect { .. })) => {
                record.status_class = "3xx";
                return Err(error);
            }
            Ok(Err(error)) => {
                record.status_class = "error";
                return Err(error);
            }
            Ok(Ok(answer)) => answer,
        };
        record.status_class = status_class(status);
        match check_status(status) {
            // `GET /` needs no key: its answer proves nothing about it.
            Ok(()) if endpoint != self::endpoint::ROOT => self.api_key.accepted(),
            Ok(()) => {}
            Err(QdrantError::Unauthorized) if self.api_key.changed_since_accepted() => {
                return Err(QdrantError::UnauthorizedNewKey)
            }
            Err(QdrantError::Unauthorized) if self.api_key.current().is_none() => {
                return Err(QdrantError::UnauthorizedWithoutKey)
            }
            Err(error) => return Err(error),
        }
        Ok(body)
    }

    async fn get_body(
        &self,
        path: &str,
    ) -> Result<(StatusCode, (bytes::Bytes, Charge)), QdrantError> {
        let url = format!("{}{path}", self.base_url);
        let mut request = self.http.get(&url);
        let key = self.api_key.current();
        if let Some(key) = &key {
            request = request.insert_header(("api-key", key.expose()));
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| QdrantError::Connect(e.to_string()))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(QdrantError::Redirect {
                status: status.as_u16(),
                location: redirect_target(&url, response.headers(), key.as_ref()),
            });
        }
        let mut charge = Charge::new(&self.budget);
        let body = read_body(&mut response, self.max_response_bytes, &mut charge)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge => QdrantError::TooLarge(self.max_response_bytes),
                BodyError::OverBudget => QdrantError::OverBudget(self.budget.bytes()),
                BodyError::Payload(other) => QdrantError::InvalidResponse(format!(
                    "{path}: reading the body failed: {other}"
                )),
            })?;
        Ok((status, (body, charge)))
    }
}

/// Why a body was not read whole.
enum BodyError {
    TooLarge,
    OverBudget,
    Payload(awc::error::PayloadError),
}

/// The body, at most `limit` bytes, in one buffer of the length Qdrant
/// announces (bounded by `limit`): growing it by doubling as chunks arrive
/// held up to twice a large body, the old and the new copy at once. Each byte
/// is covered by `charge` before it is held.
async fn read_body<S>(
    response: &mut awc::ClientResponse<S>,
    limit: usize,
    charge: &mut Charge,
) -> Result<bytes::Bytes, BodyError>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, awc::error::PayloadError>> + Unpin,
{
    use futures_util::StreamExt;
    let announced = response
        .headers()
        .get(awc::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Err(BodyError::TooLarge);
    }
    let reserved = announced.unwrap_or(0);
    if !charge.cover(reserved) {
        return Err(BodyError::OverBudget);
    }
    let mut body: Vec<u8> = Vec::with_capacity(reserved);
    while let Some(chunk) = response.next().await {
        let chunk = chunk.map_err(BodyError::Payload)?;
        let length = body.len() + chunk.len();
        if length > limit {
            return Err(BodyError::TooLarge);
        }
        // Grown as a Vec grows (doubling, here within the limit), and
        // charged for all it takes before it takes it.
        let capacity = match length > body.capacity() {
            true => (2 * body.capacity()).clamp(length, limit),
            false => body.capacity(),
        };
        if !charge.cover(capacity) {
            return Err(BodyError::OverBudget);
        }
        body.reserve_exact(capacity - body.len());
        body.extend_from_slice(&chunk);
    }
    Ok(bytes::Bytes::from(body))
}

/// Where a redirect points, safe for a log line: only its origin (a path or
/// query may carry anything the server likes), short, and never the key, which
/// the server received and could echo.
fn redirect_target(
    requested: &str,
    headers: &awc::http::header::HeaderMap,
    key: Option<&ApiKey>,
) -> String {
    const MAX: usize = 200;
    let location = headers
        .get(awc::http::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|location| url::Url::parse(requested).ok()?.join(location).ok());
    let Some(location) = location else {
        return "an unreadable or missing Location".into();
    };
    let origin: String = location
        .origin()
        .ascii_serialization()
        .chars()
        .take(MAX)
        .collect();
    let echoes_key = key.is_some_and(|key| {
        origin
            .to_ascii_lowercase()
            .contains(&key.expose().to_ascii_lowercase())
    });
    match echoes_key {
        true => "a host named after the API key (not shown)".into(),
        false => origin,
    }
}

fn check_status(status: StatusCode) -> Result<(), QdrantError> {
    match status.as_u16() {
        200..=299 => Ok(()),
        401 => Err(QdrantError::Unauthorized),
        403 => Err(QdrantError::Forbidden),
        404 => Err(QdrantError::NotFound),
        code => Err(QdrantError::Status(code)),
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{fixture_dir, rotate, RECORDED};

    /// A client's settings for `mock`, without a key, one request at a time.
    fn settings(mock: &mock_qdrant::MockQdrant) -> QdrantConfig {
        QdrantConfig {
            url: Url::parse(&mock.url()).unwrap(),
            api_key: None,
            api_key_file: None,
            tls: TlsSettings::default(),
            request_timeout: Duration::from_secs(5),
            cluster_request_timeout: Duration::from_secs(15),
            concurrency: 1,
            max_response_bytes: 1024 * 1024,
        }
    }

    fn target(location: &str) -> String {
        let mut headers = awc::http::header::HeaderMap::new();
        headers.insert(
            awc::http::header::LOCATION,
            awc::http::header::HeaderValue::from_str(location).unwrap(),
        );
        let key = ApiKey::parse("Key-123").unwrap();
        redirect_target("http://qdrant:6333/collections", &headers, Some(&key))
    }

    #[actix_web::test]
    async fn a_refused_new_key_is_told_apart_from_a_wrong_key() {
        let secrets = tempfile::tempdir().unwrap();
        let key_file = secrets.path().join("api-key");
        rotate(&key_file, "first-key");
        let mock = mock_qdrant::MockQdrant::start(fixture_dir(RECORDED)).unwrap();
        mock.require_api_key(Some("first-key"));
        let config = QdrantConfig {
            api_key: Some(ApiKey::read_file(&key_file).unwrap()),
            api_key_file: Some(key_file.clone()),
            ..settings(&mock)
        };
        let client = QdrantClient::new(
            &config,
            KeySource::new(config.api_key.as_ref(), config.api_key_file.as_deref()),
            RequestCounter::new(),
            ResponseBudget::new(config.max_response_bytes),
        );
        assert!(client.collection_names().await.is_ok());
        // The Secret changed before Qdrant did.
        rotate(&key_file, "second-key");
        assert_eq!(
            client.collection_names().await.unwrap_err(),
            QdrantError::UnauthorizedNewKey
        );
        assert!(QdrantError::UnauthorizedNewKey
            .hint()
            .contains("the key file changed"));
        // Qdrant catches up: accepted, and later refusals are plain ones again.
        mock.require_api_key(Some("second-key"));
        assert!(client.collection_names().await.is_ok());
        mock.require_api_key(Some("third-key"));
        assert_eq!(
            client.collection_names().await.unwrap_err(),
            QdrantError::Unauthorized
        );
        assert_eq!(
            client.request_counter().counts(),
            [(("/collections", "2xx"), 2), (("/collections", "4xx"), 2)]
        );
    }

    #[actix_web::test]
    async fn a_401_without_any_key_says_that_none_was_given() {
        let mock = mock_qdrant::MockQdrant::start(fixture_dir(RECORDED)).unwrap();
        mock.require_api_key(Some("the-key"));
        let config = settings(&mock);
        let client = QdrantClient::new(
            &config,
            KeySource::new(None, None),
            RequestCounter::new(),
            ResponseBudget::new(config.max_response_bytes),
        );
        let error = client.collection_names().await.unwrap_err();
        assert_eq!(error, QdrantError::UnauthorizedWithoutKey);
        assert!(error.to_string().contains("none is configured"));
        assert!(error.hint().contains("readOnlyApiKey"), "{}", error.hint());
    }

    /// Endless answers read at once, by the clients of two targets sharing
    /// one budget: together they hold at most the budget, so some are
    /// refused for it before reaching their own bound; each held the sum
    /// to clients × lanes × concurrency × the bound before.
    #[actix_web::test]
    async fn endless_answers_in_flight_together_stay_within_the_budget() {
        let mock = mock_qdrant::MockQdrant::start(fixture_dir(RECORDED)).unwrap();
        mock.fail_all(mock_qdrant::Fault::Endless);
        let config = QdrantConfig {
            request_timeout: Duration::from_secs(20),
            cluster_request_timeout: Duration::from_secs(20),
            concurrency: 8,
            max_response_bytes: 4 * 1024 * 1024,
            ..settings(&mock)
        };
        let budget = ResponseBudget::new(config.max_response_bytes);
        let clients: Vec<QdrantClient> = (0..2)
            .map(|_| {
                let key = KeySource::new(None, None);
                QdrantClient::new(&config, key, RequestCounter::new(), budget.clone())
            })
            .collect();
        let reads = clients
            .iter()
            .flat_map(|client| (0..8).map(move |_| client.native_metrics(false)));
        let errors: Vec<QdrantError> = futures_util::future::join_all(reads)
            .await
            .into_iter()
            .map(|read| read.unwrap_err())
            .collect();
        let over_budget = errors
            .iter()
            .filter(|error| **error == QdrantError::OverBudget(4 * 1024 * 1024))
            .count();
        assert!(over_budget > 0, "{errors:?}");
        assert!(errors
            .iter()
            .all(|error| matches!(error, QdrantError::OverBudget(_) | QdrantError::TooLarge(_))));
        // Everything was given back.
        let mut all = Charge::new(&budget);
        assert!(all.cover(4 * 1024 * 1024));
    }

    #[test]
    fn a_redirect_is_shown_by_its_origin_and_never_with_the_key() {
        assert_eq!(
            target("https://other:8443/x?key=Key-123"),
            "https://other:8443"
        );
        assert_eq!(target("/elsewhere"), "http://qdrant:6333");
        assert_eq!(
            target("http://key-123.evil.example/"),
            "a host named after the API key (not shown)"
        );
        assert_eq!(
            redirect_target("http://qdrant:6333/", &Default::default(), None),
            "an unreadable or missing Location"
        );
    }
}

//! One layer of settings, as read from a source: defaults, YAML file, environment or flags.
//!
//! Every setting is optional in a layer; layers are merged (later wins) and then
//! validated into [`super::Config`]. The field name is the YAML key; the flag and the
//! environment variable are derived from it (see [`super::names`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use super::error::ConfigError;
use super::yaml::read_yaml_text;
use crate::collectors::Collector;
use crate::endpoints::DEFAULT_PORT;
use crate::limits::DEFAULT_MAX_CONNECTIONS;
use crate::qdrant::ApiKey;
use crate::redaction::without_values;

#[derive(Debug, Default, Clone, Deserialize, Serialize, clap::Args)]
pub struct Settings {
    /// Address and port to listen on; `:PORT` is every IPv4 and IPv6 address
    #[arg(long, visible_alias = "web.listen-address", value_name = "ADDR:PORT")]
    pub listen_address: Option<String>,

    /// Base URL of Qdrant's REST API (http or https)
    #[arg(long, value_name = "URL")]
    pub qdrant_url: Option<String>,

    // No flag (names::WITHOUT_FLAG): a command line is visible to every process on the node.
    #[arg(skip)]
    #[serde(skip_serializing, default, deserialize_with = "api_key")]
    pub qdrant_api_key: Option<ApiKey>,

    /// File holding the API key (a mounted Secret); surrounding whitespace is trimmed
    #[arg(long, value_name = "PATH")]
    pub qdrant_api_key_file: Option<PathBuf>,

    /// PEM bundle of CA certificates to trust for an https Qdrant URL (added to the public roots)
    #[arg(long, value_name = "PATH")]
    pub qdrant_ca_file: Option<PathBuf>,

    /// Verify Qdrant's certificate for this name instead of the URL's host (e.g. https://127.0.0.1 with a certificate for the Service)
    #[arg(long, value_name = "NAME")]
    pub qdrant_tls_server_name: Option<String>,

    /// PEM certificate chain the exporter presents to a Qdrant that requires client certificates
    #[arg(long, value_name = "PATH")]
    pub qdrant_client_cert_file: Option<PathBuf>,

    /// PEM private key of that certificate
    #[arg(long, value_name = "PATH")]
    pub qdrant_client_key_file: Option<PathBuf>,

    /// Accept any certificate from Qdrant (no verification; logged as a warning at start)
    #[arg(long, value_name = "BOOL")]
    pub qdrant_tls_insecure_skip_verify: Option<bool>,

    /// Timeout of one request to Qdrant, response body included
    #[arg(long, value_name = "SECONDS")]
    pub request_timeout_seconds: Option<f64>,

    /// Timeout of one request Qdrant answers by asking every peer (the cluster-scope collectors'); Qdrant gives up on a hung peer after about 9.4 s
    #[arg(long, value_name = "SECONDS")]
    pub cluster_request_timeout_seconds: Option<f64>,

    /// Upper bound of one whole refresh, whoever waits; a scrape waits at most its own timeout
    #[arg(long, value_name = "SECONDS")]
    pub refresh_timeout_seconds: Option<f64>,

    /// How long a refresh is served from cache; 0 refreshes on every scrape
    #[arg(long, value_name = "SECONDS")]
    pub cache_ttl_seconds: Option<f64>,

    /// Most requests to Qdrant in flight at once during a refresh
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// Largest response body accepted from Qdrant
    #[arg(long, value_name = "BYTES")]
    pub max_response_bytes: Option<usize>,

    /// Web configuration file in the Prometheus exporter-toolkit format: TLS, client certificates, basic auth, headers
    #[arg(long, visible_alias = "web.config.file", value_name = "PATH")]
    pub web_config_file: Option<PathBuf>,

    /// Multi-target scraping (/probe): the allowed targets and the settings of each module
    #[arg(long, value_name = "PATH")]
    pub probe_config_file: Option<PathBuf>,

    /// Serve /healthz and /readyz without basic auth (the kubelet sends no credentials)
    #[arg(long, value_name = "BOOL")]
    pub probes_without_auth: Option<bool>,

    /// A second address serving only /healthz and /readyz, on a thread of its own: kubelet probes never queue behind scrapes
    #[arg(long, value_name = "ADDR:PORT")]
    pub health_listen_address: Option<String>,

    /// Most client connections the main listener holds at once; more wait in the kernel's queue
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,

    /// Make /readyz fail while Qdrant cannot be reached (off: the sidecar must not unready the Qdrant pod)
    #[arg(long, value_name = "BOOL")]
    pub readiness_requires_qdrant: Option<bool>,

    /// Collectors to run, comma-separated, of
    #[arg(long, value_name = "LIST")]
    pub collectors: Option<String>,

    /// Seconds between runs of a collector, overriding its default: e.g. snapshots=600,issues=30 (0: every refresh)
    #[arg(long, value_name = "LIST")]
    pub collector_intervals: Option<String>,

    /// Append Qdrant's own /metrics to the output (fetched with the exporter's key)
    #[arg(long, value_name = "BOOL")]
    pub native_metrics_relay: Option<bool>,

    /// Relay Qdrant's request metrics per collection too (GET /metrics?per_collection=true, Qdrant 1.17.1 and later): latency per collection
    #[arg(long, value_name = "BOOL")]
    pub native_metrics_per_collection: Option<bool>,

    /// Most collections exported per refresh; the rest are counted in qdrant_exporter_collections_skipped
    #[arg(long, value_name = "N")]
    pub max_collections: Option<usize>,

    /// Filesystems whose use the volumes collector reports, comma-separated NAME=PATH: Qdrant's volumes mounted read-only into the sidecar, e.g. storage=/qdrant/storage
    #[arg(long, value_name = "LIST")]
    pub volumes: Option<String>,

    /// Most collections with series of their own (the first by name); the figures of the rest are folded into collection="/other"
    #[arg(long, value_name = "N")]
    pub max_distinct_collections: Option<usize>,

    /// Export only collections whose name matches this regular expression
    #[arg(long, value_name = "REGEX")]
    pub collections_include: Option<String>,

    /// Leave out collections whose name matches this regular expression
    #[arg(long, value_name = "REGEX")]
    pub collections_exclude: Option<String>,

    /// Serve only the metric families matching one of these comma-separated regular expressions (whole names; `qdrant-exporter list-metrics` lists them)
    #[arg(long, value_name = "REGEXES")]
    pub metric_allowlist: Option<String>,

    /// Serve every metric family but those matching one of these comma-separated regular expressions (whole names)
    #[arg(long, value_name = "REGEXES")]
    pub metric_denylist: Option<String>,

    /// How much of each collection is exported: collection (a few figures per collection, no shard or peer labels), shard (what every alert, rule and dashboard panel reads; per shard only what tells replicas apart) or full (every figure with every label)
    #[arg(long, value_name = "LEVEL", value_parser = ["collection", "shard", "full"])]
    pub detail: Option<String>,

    /// Report the whole cluster through whichever node answers (a load-balanced URL): every replica and peer, labelled by peer
    #[arg(long, value_name = "BOOL")]
    pub cluster_view: Option<bool>,

    /// Serve the exporter's own process_* metrics (memory, CPU, file descriptors, threads, start time) on /metrics
    #[arg(long, value_name = "BOOL")]
    pub process_metrics: Option<bool>,

    /// Log filter: a level (error, warn, info, debug, trace) or tracing directives
    #[arg(long, visible_alias = "log.level", value_name = "FILTER")]
    pub log_level: Option<String>,

    /// Log line format: text or json
    #[arg(long, visible_alias = "log.format", value_name = "FORMAT", value_parser = ["text", "json"])]
    pub log_format: Option<String>,
}

impl Settings {
    /// The built-in defaults; every setting that has a default is `Some` here.
    pub fn defaults() -> Self {
        Self {
            listen_address: Some(format!(":{DEFAULT_PORT}")),
            qdrant_url: Some("http://localhost:6333".into()),
            qdrant_api_key: None,
            qdrant_api_key_file: None,
            qdrant_ca_file: None,
            qdrant_tls_server_name: None,
            qdrant_client_cert_file: None,
            qdrant_client_key_file: None,
            qdrant_tls_insecure_skip_verify: Some(false),
            request_timeout_seconds: Some(5.0),
            cluster_request_timeout_seconds: Some(15.0),
            refresh_timeout_seconds: Some(9.0),
            cache_ttl_seconds: Some(5.0),
            concurrency: Some(8),
            max_response_bytes: Some(32 * 1024 * 1024),
            health_listen_address: None,
            max_connections: Some(DEFAULT_MAX_CONNECTIONS),
            web_config_file: None,
            probe_config_file: None,
            probes_without_auth: Some(false),
            readiness_requires_qdrant: Some(false),
            collectors: Some(default_collectors()),
            collector_intervals: None,
            native_metrics_relay: Some(false),
            native_metrics_per_collection: Some(false),
            max_collections: Some(5000),
            volumes: None,
            max_distinct_collections: None,
            collections_include: None,
            collections_exclude: None,
            metric_allowlist: None,
            metric_denylist: None,
            detail: Some("shard".into()),
            cluster_view: Some(false),
            process_metrics: Some(true),
            log_level: Some("info".into()),
            log_format: Some("text".into()),
        }
    }

    /// `self` overridden by every setting `higher` has.
    pub fn merge(self, higher: Settings) -> Settings {
        Settings {
            listen_address: higher.listen_address.or(self.listen_address),
            qdrant_url: higher.qdrant_url.or(self.qdrant_url),
            qdrant_api_key: higher.qdrant_api_key.or(self.qdrant_api_key),
            qdrant_api_key_file: higher.qdrant_api_key_file.or(self.qdrant_api_key_file),
            qdrant_ca_file: higher.qdrant_ca_file.or(self.qdrant_ca_file),
            qdrant_tls_server_name: higher
                .qdrant_tls_server_name
                .or(self.qdrant_tls_server_name),
            qdrant_client_cert_file: higher
                .qdrant_client_cert_file
                .or(self.qdrant_client_cert_file),
            qdrant_client_key_file: higher
                .qdrant_client_key_file
                .or(self.qdrant_client_key_file),
            qdrant_tls_insecure_skip_verify: higher
                .qdrant_tls_insecure_skip_verify
                .or(self.qdrant_tls_insecure_skip_verify),
            request_timeout_seconds: higher
                .request_timeout_seconds
                .or(self.request_timeout_seconds),
            cluster_request_timeout_seconds: higher
                .cluster_request_timeout_seconds
                .or(self.cluster_request_timeout_seconds),
            refresh_timeout_seconds: higher
                .refresh_timeout_seconds
                .or(self.refresh_timeout_seconds),
            cache_ttl_seconds: higher.cache_ttl_seconds.or(self.cache_ttl_seconds),
            concurrency: higher.concurrency.or(self.concurrency),
            max_response_bytes: higher.max_response_bytes.or(self.max_response_bytes),
            health_listen_address: higher.health_listen_address.or(self.health_listen_address),
            max_connections: higher.max_connections.or(self.max_connections),
            web_config_file: higher.web_config_file.or(self.web_config_file),
            probe_config_file: higher.probe_config_file.or(self.probe_config_file),
            probes_without_auth: higher.probes_without_auth.or(self.probes_without_auth),
            readiness_requires_qdrant: higher
                .readiness_requires_qdrant
                .or(self.readiness_requires_qdrant),
            collectors: higher.collectors.or(self.collectors),
            collector_intervals: higher.collector_intervals.or(self.collector_intervals),
            native_metrics_relay: higher.native_metrics_relay.or(self.native_metrics_relay),
            native_metrics_per_collection: higher
                .native_metrics_per_collection
                .or(self.native_metrics_per_collection),
            max_collections: higher.max_collections.or(self.max_collections),
            volumes: higher.volumes.or(self.volumes),
            max_distinct_collections: higher
                .max_distinct_collections
                .or(self.max_distinct_collections),
            collections_include: higher.collections_include.or(self.collections_include),
            collections_exclude: higher.collections_exclude.or(self.collections_exclude),
            metric_allowlist: higher.metric_allowlist.or(self.metric_allowlist),
            metric_denylist: higher.metric_denylist.or(self.metric_denylist),
            detail: higher.detail.or(self.detail),
            cluster_view: higher.cluster_view.or(self.cluster_view),
            process_metrics: higher.process_metrics.or(self.process_metrics),
            log_level: higher.log_level.or(self.log_level),
            log_format: higher.log_format.or(self.log_format),
        }
    }

    /// Reads a YAML file; an unknown key is an error (it is almost always a typo).
    pub fn from_yaml_file(path: &Path) -> Result<Settings, ConfigError> {
        let file_error = |problem: String| ConfigError::File {
            path: path.to_owned(),
            problem,
        };
        let text = read_yaml_text(path).map_err(file_error)?;
        if text.trim().is_empty() {
            return Ok(Settings::default());
        }
        let mut unknown = Vec::new();
        let settings: Settings =
            serde_ignored::deserialize(serde_yaml::Deserializer::from_str(&text), |key| {
                unknown.push(key.to_string())
            })
            .map_err(|e| file_error(without_values(&e.to_string())))?;
        match unknown.first() {
            Some(key) => Err(file_error(unknown_setting(key))),
            None => Ok(settings),
        }
    }
}

/// Settings of earlier versions, and why they are gone.
const REMOVED: [(&str, &str); 1] = [(
    "cluster_wide_metrics_on_leader_only",
    "the cluster-scope figures always come from the raft leader's exporter alone now: delete the line",
)];

/// Why a key is not a setting: a typo, or a setting that was removed.
pub fn unknown_setting(key: &str) -> String {
    match REMOVED.iter().find(|(removed, _)| *removed == key) {
        Some((_, why)) => format!("`{key}` was removed: {why}"),
        None => format!("unknown setting `{key}`"),
    }
}

/// The collectors on by default, as the `collectors` setting lists them.
fn default_collectors() -> String {
    Collector::ALL
        .iter()
        .filter(|collector| collector.facts().on_by_default)
        .map(|collector| collector.name())
        .collect::<Vec<_>>()
        .join(",")
}

/// The key in the YAML file; the parser's own message would not name the setting.
fn api_key<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<ApiKey>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| ApiKey::parse(&text))
        .transpose()
        .map_err(|problem| serde::de::Error::custom(format!("qdrant_api_key {problem}")))
}

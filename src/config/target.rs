//! The settings of one Qdrant reported on, validated: how to reach it, and
//! which collectors run over which collections. For `/metrics`'s Qdrant and
//! for each `/probe` module alike.

use rustls_pki_types::ServerName;

use super::error::{invalid, ConfigError};
use super::files::{read_api_key_file, read_ca_file, read_client_identity};
use super::parse::{self, positive_seconds, seconds, within};
use super::settings::Settings;
use crate::collectors::CollectorConfig;
use crate::qdrant::{QdrantConfig, TlsSettings};
use crate::target::TargetConfig;

/// The most requests in flight to Qdrant a configuration may ask for: far
/// above any useful value, and far below what would exhaust the semaphore.
const MAX_CONCURRENCY: usize = 256;

/// `s` is a merged layer with every default filled in.
pub fn target_config(s: &Settings) -> Result<TargetConfig, ConfigError> {
    Ok(TargetConfig {
        qdrant: qdrant_config(s)?,
        collectors: CollectorConfig {
            enabled: parse::collectors(
                s.collectors.as_deref().unwrap_or_default(),
                s.native_metrics_relay,
            )?,
            intervals: parse::intervals(s.collector_intervals.as_deref().unwrap_or_default())?,
            max_collections: within("max_collections", s.max_collections, 1, 1_000_000)?,
            max_distinct_collections: s
                .max_distinct_collections
                .map(|n| within("max_distinct_collections", Some(n), 1, 1_000_000))
                .transpose()?,
            include: parse::regex("collections_include", s.collections_include.clone())?,
            exclude: parse::regex("collections_exclude", s.collections_exclude.clone())?,
            detail: parse::detail(s.detail.as_deref().unwrap_or_default())?,
            volumes: parse::volumes(s.volumes.as_deref().unwrap_or_default())?,
            cluster_view: s.cluster_view.unwrap_or(false),
            relay_per_collection: relay_per_collection(s)?,
        },
        cache_ttl: seconds("cache_ttl_seconds", s.cache_ttl_seconds, 0.0)?,
        refresh_timeout: positive_seconds("refresh_timeout_seconds", s.refresh_timeout_seconds)?,
        process_metrics: s.process_metrics.unwrap_or(true),
        families: parse::family_filter(
            s.metric_allowlist.as_deref(),
            s.metric_denylist.as_deref(),
        )?,
    })
}

/// Per collection, the relay asks more of Qdrant: only with the relay on.
fn relay_per_collection(s: &Settings) -> Result<bool, ConfigError> {
    match (
        s.native_metrics_per_collection.unwrap_or(false),
        s.native_metrics_relay.unwrap_or(false),
    ) {
        (true, false) => Err(invalid(
            "native_metrics_per_collection",
            "needs native_metrics_relay: it is how the relay asks for Qdrant's metrics",
        )),
        (per_collection, _) => Ok(per_collection),
    }
}

fn qdrant_config(s: &Settings) -> Result<QdrantConfig, ConfigError> {
    let api_key = match (&s.qdrant_api_key, &s.qdrant_api_key_file) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "qdrant_api_key_file",
                "set either the key or the key file, not both",
            ))
        }
        (Some(key), None) => Some(key.clone()),
        (None, Some(path)) => Some(read_api_key_file(path)?),
        (None, None) => None,
    };
    let url = parse::qdrant_url(s.qdrant_url.as_deref().unwrap_or_default())?;
    let tls_insecure_skip_verify = s.qdrant_tls_insecure_skip_verify.unwrap_or(false);
    let tls_settings = [
        ("qdrant_ca_file", s.qdrant_ca_file.is_some()),
        ("qdrant_tls_server_name", s.qdrant_tls_server_name.is_some()),
        (
            "qdrant_client_cert_file",
            s.qdrant_client_cert_file.is_some(),
        ),
        ("qdrant_client_key_file", s.qdrant_client_key_file.is_some()),
        ("qdrant_tls_insecure_skip_verify", tls_insecure_skip_verify),
    ];
    if let Some((setting, _)) = tls_settings
        .iter()
        .find(|(_, set)| *set && url.scheme() != "https")
    {
        return Err(invalid(setting, "applies to an https:// QDRANT_URL only"));
    }
    Ok(QdrantConfig {
        url,
        api_key,
        api_key_file: s.qdrant_api_key_file.clone(),
        tls: TlsSettings {
            ca_certificates: match &s.qdrant_ca_file {
                Some(path) => read_ca_file(path)?,
                None => Vec::new(),
            },
            server_name: s
                .qdrant_tls_server_name
                .clone()
                .map(|name| {
                    ServerName::try_from(name).map_err(|_| {
                        invalid(
                            "qdrant_tls_server_name",
                            "is not a DNS name or an IP address",
                        )
                    })
                })
                .transpose()?,
            client_identity: read_client_identity(
                s.qdrant_client_cert_file.as_deref(),
                s.qdrant_client_key_file.as_deref(),
            )?,
            insecure_skip_verify: tls_insecure_skip_verify,
        },
        request_timeout: positive_seconds("request_timeout_seconds", s.request_timeout_seconds)?,
        cluster_request_timeout: positive_seconds(
            "cluster_request_timeout_seconds",
            s.cluster_request_timeout_seconds,
        )?,
        concurrency: within("concurrency", s.concurrency, 1, MAX_CONCURRENCY)?,
        max_response_bytes: within(
            "max_response_bytes",
            s.max_response_bytes,
            1024,
            1024 * 1024 * 1024,
        )?,
    })
}

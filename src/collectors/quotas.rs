//! The `quotas` collector (Qdrant 1.19 and later): `GET /quotas` for the
//! limits in force, this node's memory and disk usage and what every peer
//! that answered reports, and this node's own verdict (is it refusing writes,
//! over which resource) from the shared telemetry. One request per refresh.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::{Context, Failure, Output};
use crate::metrics::{bool_value, Family, GaugeFamily};
use crate::qdrant::models::{QuotaExceeded, QuotaStatus, QuotaUsage};
use crate::qdrant::QdrantError;

/// The endpoint appeared in Qdrant 1.19.0.
const SINCE: (u64, u64, u64) = (1, 19, 0);

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    async move {
        if !ctx.may_have(SINCE) {
            return Output::unsupported("GET /quotas needs Qdrant 1.19 or later");
        }
        match ctx.client.quotas().await {
            Ok(mut status) => {
                let verdict = match (&ctx.telemetry, ctx.cluster_view) {
                    // The answering node varies in the cluster view: each peer's
                    // figures by its id (`peers`) are what stays true.
                    (_, Some(_)) => {
                        status.usage = QuotaUsage::default();
                        None
                    }
                    (Some(Ok(selected)), None) => selected.telemetry.quota.as_ref(),
                    _ => None,
                };
                Output::families(families(&status, verdict.map(|quota| &quota.exceeded)))
            }
            Err(QdrantError::NotFound) => Output::unsupported("GET /quotas answered 404"),
            Err(error @ QdrantError::Forbidden) => Output::failed(Failure {
                hint: "GET /quotas needs a key with access to the whole cluster (the read-only \
                       API key has it, a collection-scoped JWT does not); otherwise leave \
                       `quotas` out of QDRANT_EXPORTER_COLLECTORS",
                ..Failure::from_error(&error, format!("cannot read GET /quotas: {error}"))
            }),
            Err(error) => {
                let message = format!("cannot read GET /quotas: {error}");
                Output::failed(Failure::from_error(&error, message))
            }
        }
    }
    .boxed_local()
}

/// `verdict`: this node's, from telemetry; without it (a key without global
/// access) this node's refusal is seen only in the peers' figures.
pub fn families(status: &QuotaStatus, verdict: Option<&QuotaExceeded>) -> Vec<Family> {
    let mut enabled = GaugeFamily::new(
        "qdrant_quota_enabled",
        "Whether Qdrant enforces its resource quota (1) or not (0). Cluster-wide setting.",
    );
    let mut limit = GaugeFamily::new(
        "qdrant_quota_limit_percent",
        "Usage, in percent, at which a node refuses writes, by resource; absent where no limit is set.",
    );
    let mut margin = GaugeFamily::new(
        "qdrant_quota_release_margin_percent",
        "Percentage points below its limit a resource must fall before a refusing node accepts writes again; absent while Qdrant's built-in default applies.",
    );
    let mut usage = GaugeFamily::new(
        "qdrant_quota_usage_percent",
        "This node's usage, in percent, by resource: resident_memory of the memory available to Qdrant, disk_usage of its storage filesystem.",
    );
    let mut exceeded = GaugeFamily::new(
        "qdrant_quota_exceeded",
        "1 while this node refuses writes because the resource is over its quota (Qdrant keeps it until usage falls a margin below); absent for a resource not enforced.",
    );
    let mut peer_usage = GaugeFamily::new(
        "qdrant_quota_peer_usage_percent",
        "Usage, in percent, by resource, as each peer that answered this node reports it. Cluster mode only.",
    );
    let mut peer_exceeded = GaugeFamily::new(
        "qdrant_quota_peer_exceeded",
        "1 while the peer refuses writes over one of the enforced limits, as it reports to this node. Cluster mode only.",
    );

    enabled.push(&[], bool_value(status.config.enabled));
    let config = &status.config;
    for (resource, percent) in [
        ("resident_memory", config.max_resident_memory_percent),
        ("disk_usage", config.max_disk_usage_percent),
    ] {
        limit.push_some(&[("resource", resource)], percent);
    }
    margin.push_some(&[], config.release_margin_percent);
    for (resource, percent) in [
        ("resident_memory", status.usage.resident_memory_percent),
        ("disk_usage", status.usage.disk_usage_percent),
    ] {
        usage.push_some(&[("resource", resource)], percent);
    }
    if let Some(verdict) = verdict {
        for (resource, over) in [
            ("resident_memory", verdict.resident_memory),
            ("disk_usage", verdict.disk_usage),
        ] {
            if let Some(over) = over {
                exceeded.push(&[("resource", resource)], bool_value(over));
            }
        }
    }
    for (peer_id, peer) in status.peers.iter().flatten() {
        for (resource, percent) in [
            ("resident_memory", peer.resident_memory_percent),
            ("disk_usage", peer.disk_usage_percent),
        ] {
            peer_usage.push_some(&[("peer_id", peer_id), ("resource", resource)], percent);
        }
        peer_exceeded.push(&[("peer_id", peer_id)], bool_value(peer.exceeded));
    }
    [
        enabled,
        limit,
        margin,
        usage,
        exceeded,
        peer_usage,
        peer_exceeded,
    ]
    .into_iter()
    .map(GaugeFamily::finish)
    .collect()
}

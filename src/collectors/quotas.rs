//! The `quotas` collector (Qdrant 1.19 and later): `GET /quotas` for the
//! limits in force, this node's memory and disk usage and what every peer
//! that answered reports, and this node's own verdict (is it refusing writes,
//! over which resource) from the shared telemetry. One request per refresh.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::Context;
use super::failure::Failure;
use super::output::Output;
use crate::metrics::{bool_value, Family, FamilySpec, GaugeFamily};
use crate::qdrant::models::{QuotaExceeded, QuotaStatus, QuotaUsage};
use crate::qdrant::QdrantError;

/// The endpoint appeared in Qdrant 1.19.0.
const SINCE: (u64, u64, u64) = (1, 19, 0);

static ENABLED: FamilySpec = FamilySpec::gauge(
    "qdrant_quota_enabled",
    "Whether Qdrant enforces its resource quota (1) or not (0). Cluster-wide setting.",
);
static LIMIT: FamilySpec = FamilySpec::gauge(
    "qdrant_quota_limit_percent",
    "Usage, in percent, at which a node refuses writes, by resource; absent where no limit is set.",
);
static MARGIN: FamilySpec = FamilySpec::gauge(
    "qdrant_quota_release_margin_percent",
    "Percentage points below its limit a resource must fall before a refusing node accepts writes again; absent while Qdrant's built-in default applies.",
);
static USAGE: FamilySpec = FamilySpec::gauge(
    "qdrant_quota_usage_percent",
    "This node's usage, in percent, by resource: resident_memory of the memory available to Qdrant, disk_usage of its storage filesystem.",
);
static EXCEEDED: FamilySpec = FamilySpec::gauge(
    "qdrant_quota_exceeded",
    "1 while this node refuses writes because the resource is over its quota (Qdrant keeps it until usage falls a margin below); absent for a resource not enforced.",
);
static PEER_USAGE: FamilySpec = FamilySpec::gauge(
    "qdrant_quota_peer_usage_percent",
    "Usage, in percent, by resource, as each peer that answered this node reports it. Cluster mode only.",
);
static PEER_EXCEEDED: FamilySpec = FamilySpec::gauge(
    "qdrant_quota_peer_exceeded",
    "1 while the peer refuses writes over one of the enforced limits, as it reports to this node. Cluster mode only.",
);

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
fn families(status: &QuotaStatus, verdict: Option<&QuotaExceeded>) -> Vec<Family> {
    let mut enabled = GaugeFamily::new(&ENABLED);
    let mut limit = GaugeFamily::new(&LIMIT);
    let mut margin = GaugeFamily::new(&MARGIN);
    let mut usage = GaugeFamily::new(&USAGE);
    let mut exceeded = GaugeFamily::new(&EXCEEDED);
    let mut peer_usage = GaugeFamily::new(&PEER_USAGE);
    let mut peer_exceeded = GaugeFamily::new(&PEER_EXCEEDED);

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qdrant::models::Telemetry;
    use crate::test_support::{result, sample, text, value, HANDMADE_V1_19};

    #[test]
    fn quotas_of_a_node_refusing_writes_over_disk() {
        let status: QuotaStatus = result(HANDMADE_V1_19, "quotas.json");
        let telemetry: Telemetry = result(HANDMADE_V1_19, "telemetry-details-level-3.json");
        let verdict = &telemetry
            .quota
            .as_ref()
            .expect("1.19 telemetry has the quota")
            .exceeded;
        let m = text(&families(&status, Some(verdict)));
        assert_eq!(value(&m, "qdrant_quota_enabled", ""), 1.0);
        assert_eq!(
            value(&m, "qdrant_quota_limit_percent", r#"resource="disk_usage""#),
            90.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_quota_limit_percent",
                r#"resource="resident_memory""#
            ),
            85.0
        );
        assert_eq!(value(&m, "qdrant_quota_release_margin_percent", ""), 5.0);
        assert_eq!(
            value(&m, "qdrant_quota_usage_percent", r#"resource="disk_usage""#),
            91.0
        );
        assert_eq!(
            value(&m, "qdrant_quota_exceeded", r#"resource="disk_usage""#),
            1.0
        );
        assert_eq!(
            value(&m, "qdrant_quota_exceeded", r#"resource="resident_memory""#),
            0.0
        );
        let (a, b, c) = ("8326746331167863", "7708955329324187", "4606499160228025");
        let peer = |id: &str| format!(r#"peer_id="{id}""#);
        assert_eq!(value(&m, "qdrant_quota_peer_exceeded", &peer(a)), 1.0);
        assert_eq!(value(&m, "qdrant_quota_peer_exceeded", &peer(b)), 0.0);
        assert_eq!(
            value(
                &m,
                "qdrant_quota_peer_usage_percent",
                &format!(r#"peer_id="{b}",resource="disk_usage""#)
            ),
            62.0
        );
        // Peer C cannot measure its memory: no series rather than a made-up 0.
        assert_eq!(
            sample(
                &m,
                "qdrant_quota_peer_usage_percent",
                &format!(r#"peer_id="{c}",resource="resident_memory""#)
            ),
            None
        );
    }
}

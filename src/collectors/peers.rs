//! The `peers` collector: `GET /cluster/telemetry` (Qdrant 1.17 and later, in
//! cluster mode), which asks every peer: whether the reporter reaches each,
//! the most direct signal of a peer down or hung, and the version each runs
//! (a rolling upgrade stuck half way). Cluster scope: the
//! reporter alone asks, at its own pace, so a hung peer (Qdrant waits about
//! 9.4 s for it) holds no scrape and is reported as 0, not missing. In the
//! cluster view it reads the answer the refresh fetched for every collector
//! (off the refresh's path too), and asks nothing itself.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::Context;
use super::failure::Failure;
use super::output::Output;
use crate::metrics::label::PEER_ID;
use crate::metrics::{bool_value, Family, FamilySpec, GaugeFamily};
use crate::qdrant::models::ClusterTelemetry;
use crate::qdrant::QdrantError;

/// The endpoint appeared in Qdrant 1.17.0.
const SINCE: (u64, u64, u64) = (1, 17, 0);

static RESPONSIVE: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_cluster_peer_responsive",
    &[PEER_ID],
    "1 when the reporter reaches the peer, 0 when it cannot (GET /cluster/telemetry, Qdrant 1.17 and later).",
);

static VERSION: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_cluster_peer_version_info",
    &[PEER_ID, "version"],
    "The Qdrant version each peer that answered runs; always 1. Two versions at once: an upgrade in progress.",
);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] = &[&RESPONSIVE, &VERSION];

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    async move {
        if !ctx.in_cluster_mode() {
            return Output::default();
        }
        if !ctx.may_have(SINCE) {
            return Output::unsupported("GET /cluster/telemetry needs Qdrant 1.17 or later");
        }
        let asked;
        let telemetry = match ctx.cluster_view {
            Some(view) => view,
            None => {
                asked = ctx.client.cluster_telemetry().await;
                asked.as_ref()
            }
        };
        match telemetry {
            Ok(telemetry) => Output::families(vec![responsive(telemetry), versions(telemetry)]),
            Err(QdrantError::NotFound) => {
                Output::unsupported("GET /cluster/telemetry answered 404")
            }
            Err(error) => {
                let message = format!("cannot read cluster telemetry: {error}");
                Output::failed(Failure::from_error(error, message))
            }
        }
    }
    .boxed_local()
}

fn responsive(telemetry: &ClusterTelemetry) -> Family {
    let mut responsive = GaugeFamily::new(&RESPONSIVE);
    for (peer_id, peer) in &telemetry.cluster.peers {
        responsive.push(&[(PEER_ID, peer_id)], bool_value(peer.responsive));
    }
    responsive.finish()
}

fn versions(telemetry: &ClusterTelemetry) -> Family {
    let mut versions = GaugeFamily::new(&VERSION);
    for (peer_id, peer) in &telemetry.cluster.peers {
        if let Some(version) = peer.details.as_ref().and_then(|d| d.version.as_deref()) {
            versions.push(&[(PEER_ID, peer_id), ("version", version)], 1.0);
        }
    }
    versions.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{result, sample, text, value};

    #[test]
    fn a_hung_peer_is_unresponsive_not_missing() {
        let telemetry: ClusterTelemetry = result(
            "transitions-v1.18.3-peer-b-stopped-node-a",
            "cluster-telemetry.json",
        );
        let m = text(&[responsive(&telemetry)]);
        let peer = |id: &str| format!(r#"peer_id="{id}""#);
        assert_eq!(
            value(
                &m,
                "qdrant_cluster_peer_responsive",
                &peer("1935277854019665")
            ),
            0.0
        );
        assert_eq!(
            value(
                &m,
                "qdrant_cluster_peer_responsive",
                &peer("1833886028127767")
            ),
            1.0
        );
    }

    #[test]
    fn each_peers_version_and_none_for_a_peer_that_did_not_answer() {
        let telemetry: ClusterTelemetry = result("handmade-v1.19.0", "cluster-telemetry.json");
        let m = text(&[versions(&telemetry)]);
        let version = |peer: &str, version: &str| {
            sample(
                &m,
                "qdrant_cluster_peer_version_info",
                &format!(r#"peer_id="{peer}",version="{version}""#),
            )
        };
        assert_eq!(version("4606499160228025", "1.18.3"), Some(1.0));
        assert_eq!(version("8326746331167863", "1.19.0"), Some(1.0));
        assert_eq!(version("7708955329324187", "1.19.0"), Some(1.0));
        let hung: ClusterTelemetry = result(
            "transitions-v1.18.3-peer-b-stopped-node-a",
            "cluster-telemetry.json",
        );
        let m = text(&[versions(&hung)]);
        assert!(!m.contains("1935277854019665"), "{m}");
        assert!(
            m.contains(r#"peer_id="1833886028127767",version="1.18.3""#),
            "{m}"
        );
    }

    #[test]
    fn a_key_scoped_to_some_collections_reads_no_peers() {
        let telemetry: ClusterTelemetry =
            serde_json::from_str(r#"{"collections": {"orders": {"id": "orders"}}}"#).unwrap();
        assert!(text(&[responsive(&telemetry)]).is_empty());
    }
}

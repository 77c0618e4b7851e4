//! The `quota_usage` collector (Qdrant 1.19 and later): `GET /quotas`, which
//! asks every peer what it uses of the resources the quota limits: the
//! cluster's figure, asked by its reporter alone. A peer that did not answer
//! is left out by Qdrant, which is itself worth seeing.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::Context;
use super::failure::Failure;
use super::output::Output;
use crate::metrics::label::PEER_ID;
use crate::metrics::{bool_value, Family, FamilySpec, GaugeFamily};
use crate::qdrant::models::QuotaStatus;
use crate::qdrant::QdrantError;

/// The endpoint appeared in Qdrant 1.19.0.
const SINCE: (u64, u64, u64) = (1, 19, 0);

static USAGE: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_quota_usage_percent",
    &[PEER_ID, "resource"],
    "Each peer's usage, in percent, by resource, as it reports it: resident_memory of the memory \
     available to Qdrant, disk_usage of its storage filesystem; absent where the peer cannot tell, \
     or did not answer.",
);
static PEER_EXCEEDED: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_quota_peer_exceeded",
    &[PEER_ID],
    "1 while the peer refuses writes over one of the enforced limits, as it reports.",
);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] = &[&USAGE, &PEER_EXCEEDED];

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    async move {
        if !ctx.may_have(SINCE) {
            return Output::unsupported("GET /quotas needs Qdrant 1.19 or later");
        }
        match ctx.client.quotas().await {
            Ok(status) => Output::families(families(&status, ctx.peer_id)),
            Err(QdrantError::NotFound) => Output::unsupported("GET /quotas answered 404"),
            Err(error @ QdrantError::Forbidden) => Output::failed(Failure {
                hint: "GET /quotas needs a key with access to the whole cluster (the read-only \
                       API key has it, a collection-scoped JWT does not); otherwise leave \
                       `quota_usage` out of QDRANT_EXPORTER_COLLECTORS",
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

/// A single node lists no peers: its own usage is the answering node's,
/// under its own peer id (`own_peer`) where that is known.
fn families(status: &QuotaStatus, own_peer: Option<u64>) -> Vec<Family> {
    let mut usage = GaugeFamily::new(&USAGE);
    let mut exceeded = GaugeFamily::new(&PEER_EXCEEDED);
    let single = own_peer.map(|peer_id| (peer_id.to_string(), &status.usage));
    let peers: Vec<(String, &_)> = match &status.peers {
        Some(peers) => peers
            .iter()
            .map(|(peer_id, peer)| (peer_id.clone(), &peer.usage))
            .collect(),
        None => single.into_iter().collect(),
    };
    for (peer_id, peer) in peers {
        for (resource, percent) in [
            ("resident_memory", peer.resident_memory_percent),
            ("disk_usage", peer.disk_usage_percent),
        ] {
            usage.push_some(&[(PEER_ID, &peer_id), ("resource", resource)], percent);
        }
    }
    for (peer_id, peer) in status.peers.iter().flatten() {
        exceeded.push(&[(PEER_ID, peer_id)], bool_value(peer.exceeded));
    }
    vec![usage.finish(), exceeded.finish()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{result, sample, text, value, HANDMADE_V1_19};

    const A: &str = "8326746331167863";
    const B: &str = "7708955329324187";
    const C: &str = "4606499160228025";

    #[test]
    fn every_peers_usage_as_it_reports() {
        let status: QuotaStatus = result(HANDMADE_V1_19, "quotas.json");
        let m = text(&families(&status, Some(A.parse().unwrap())));
        let peer = |id: &str| format!(r#"peer_id="{id}""#);
        assert_eq!(value(&m, "qdrant_quota_peer_exceeded", &peer(A)), 1.0);
        assert_eq!(value(&m, "qdrant_quota_peer_exceeded", &peer(B)), 0.0);
        assert_eq!(
            value(
                &m,
                "qdrant_quota_usage_percent",
                &format!(r#"peer_id="{B}",resource="disk_usage""#)
            ),
            62.0
        );
        // Peer C cannot measure its memory: no series rather than a made-up 0.
        assert_eq!(
            sample(
                &m,
                "qdrant_quota_usage_percent",
                &format!(r#"peer_id="{C}",resource="resident_memory""#)
            ),
            None
        );
    }

    #[test]
    fn a_single_node_reports_its_own_usage_under_its_peer_id() {
        let mut status: QuotaStatus = result(HANDMADE_V1_19, "quotas.json");
        status.peers = None;
        let m = text(&families(&status, Some(7)));
        assert_eq!(
            value(
                &m,
                "qdrant_quota_usage_percent",
                r#"peer_id="7",resource="disk_usage""#
            ),
            91.0
        );
        assert!(!m.contains("qdrant_quota_peer_exceeded{"));
    }
}

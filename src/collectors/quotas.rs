//! The `quotas` collector (Qdrant 1.19 and later): the resource quota this
//! node enforces (its limits are the cluster's: cluster scope) and whether it
//! refuses writes now, over which resource (node scope), from the `quota` of
//! the shared telemetry: no request of its own. Each peer's usage is
//! `quota_usage`'s.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::{Context, Selected};
use super::failure::Failure;
use super::output::Output;
use crate::metrics::{bool_value, Family, FamilySpec, GaugeFamily};
use crate::qdrant::models::QuotaTelemetry;

/// Telemetry carries the quota from Qdrant 1.19.0 on.
const SINCE: (u64, u64, u64) = (1, 19, 0);

static ENABLED: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_quota_enabled",
    &[],
    "Whether Qdrant enforces its resource quota (1) or not (0).",
);
static LIMIT: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_quota_limit_percent",
    &["resource"],
    "Usage, in percent, at which a node refuses writes, by resource; absent where no limit is set.",
);
static MARGIN: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_quota_release_margin_percent",
    &[],
    "Percentage points below its limit a resource must fall before a refusing node accepts writes again; absent while Qdrant's built-in default applies.",
);
static EXCEEDED: FamilySpec = FamilySpec::gauge(
    "qdrant_quota_exceeded",
    &["resource"],
    "1 while this node refuses writes because the resource is over its quota (Qdrant keeps it until usage falls a margin below); absent for a resource not enforced.",
);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] = &[&ENABLED, &LIMIT, &MARGIN, &EXCEEDED];

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    let output = match ctx.may_have(SINCE) {
        false => Output::unsupported("Qdrant reports its quota from 1.19 on"),
        // In the cluster view the answering node varies: its verdict is not the cluster's.
        true => ctx.telemetry_only(|selected| from_telemetry(selected, ctx.cluster_view.is_none())),
    };
    futures_util::future::ready(output).boxed_local()
}

fn from_telemetry(selected: &Selected, with_verdict: bool) -> Output {
    match &selected.telemetry.quota {
        Some(quota) => Output::families(families(quota, with_verdict)),
        None => Output::failed(Failure {
            kind: "no quota in telemetry".into(),
            message: "telemetry carries no quota".into(),
            hint: "Qdrant reports its quota only to a key with access to the whole cluster (the \
                   read-only API key has it, a collection-scoped JWT does not); otherwise leave \
                   `quotas` out of QDRANT_EXPORTER_COLLECTORS",
        }),
    }
}

fn families(quota: &QuotaTelemetry, with_verdict: bool) -> Vec<Family> {
    let mut limit = GaugeFamily::new(&LIMIT);
    let mut margin = GaugeFamily::new(&MARGIN);
    let mut exceeded = GaugeFamily::new(&EXCEEDED);
    let config = &quota.config;
    for (resource, percent) in [
        ("resident_memory", config.max_resident_memory_percent),
        ("disk_usage", config.max_disk_usage_percent),
    ] {
        limit.push_some(&[("resource", resource)], percent);
    }
    margin.push_some(&[], config.release_margin_percent);
    let verdict = &quota.exceeded;
    for (resource, over) in [
        ("resident_memory", verdict.resident_memory),
        ("disk_usage", verdict.disk_usage),
    ] {
        if let Some(over) = over.filter(|_| with_verdict) {
            exceeded.push(&[("resource", resource)], bool_value(over));
        }
    }
    vec![
        GaugeFamily::single(&ENABLED, bool_value(config.enabled)),
        limit.finish(),
        margin.finish(),
        exceeded.finish(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qdrant::models::Telemetry;
    use crate::test_support::{result, text, value, HANDMADE_V1_19};

    #[test]
    fn a_node_refusing_writes_over_disk() {
        let telemetry: Telemetry = result(HANDMADE_V1_19, "telemetry-details-level-3.json");
        let quota = telemetry.quota.expect("1.19 telemetry has the quota");
        let m = text(&families(&quota, true));
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
            value(&m, "qdrant_quota_exceeded", r#"resource="disk_usage""#),
            1.0
        );
        assert_eq!(
            value(&m, "qdrant_quota_exceeded", r#"resource="resident_memory""#),
            0.0
        );
        assert!(!text(&families(&quota, false)).contains("qdrant_quota_exceeded{"));
    }
}

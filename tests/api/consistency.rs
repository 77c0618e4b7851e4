//! Every metric the dashboard, the alert rules and the PromQL examples of docs/metrics.md
//! name is one the exporter emits, so a renamed metric cannot silently break a
//! panel, an alert or the docs.

use std::collections::BTreeSet;

use regex::Regex;

use crate::helpers::served_families;
use crate::promql::{
    dashboard_expressions, documented_expressions, recorded_names, rule_expressions,
};

/// Metric names in PromQL: ours by prefix, any other as a selector (`name{`).
fn metric_names(expressions: &[String]) -> BTreeSet<String> {
    let ours = Regex::new(r"\bqdrant[_:][a-z0-9_:]+").unwrap();
    let selector = Regex::new(r"(?:^|[^a-z0-9_:])([a-z_][a-z0-9_]*)\{").unwrap();
    expressions
        .iter()
        .flat_map(|e| {
            let ours = ours.find_iter(e).map(|m| m.as_str().to_owned());
            let selected = selector.captures_iter(e).map(|c| c[1].to_owned());
            ours.chain(selected).collect::<Vec<_>>()
        })
        .collect()
}

/// What the memory alert reads where they run: cAdvisor's working set and
/// kube-state-metrics' container limits (the exporter cannot see the Qdrant
/// container's cgroup from its own); what the disk rules read where no
/// sidecar reads the volume: kubelet's figures of the storage claims; and
/// Prometheus's own alerts, which the dashboard counts.
const OTHER_EXPORTERS: [&str; 7] = [
    "container_memory_working_set_bytes",
    "kube_pod_container_resource_limits",
    "kubelet_volume_stats_available_bytes",
    "kubelet_volume_stats_capacity_bytes",
    "kubelet_volume_stats_inodes_free",
    "kubelet_volume_stats_inodes",
    "ALERTS",
];

#[actix_web::test]
async fn the_dashboard_rules_and_docs_only_name_metrics_the_exporter_serves() {
    let served: BTreeSet<String> = served_families().await.into_keys().collect();
    let recorded: BTreeSet<String> = recorded_names().into_iter().collect();
    for (source, expressions) in [
        ("dashboard", dashboard_expressions()),
        ("alert rules", rule_expressions()),
        ("docs/metrics.md", documented_expressions()),
    ] {
        assert!(
            expressions.len() >= 5,
            "{source}: found only {expressions:?}"
        );
        let named = metric_names(&expressions);
        // A histogram's series are named after its family with a suffix.
        let in_histogram = |name: &str| {
            ["_bucket", "_sum", "_count"].iter().any(|suffix| {
                name.strip_suffix(suffix)
                    .is_some_and(|family| served.contains(family))
            })
        };
        let unknown: Vec<&String> = named
            .difference(&served)
            .filter(|name| !recorded.contains(*name) && !in_histogram(name))
            .filter(|name| !OTHER_EXPORTERS.contains(&name.as_str()))
            .collect();
        assert!(
            unknown.is_empty(),
            "{source} names metrics the exporter does not serve: {unknown:?}"
        );
    }
}

#[test]
fn the_name_extraction_finds_ours_and_selected_ones_but_not_labels_or_functions() {
    let names = metric_names(&[
        "max by (collection) (qdrant_up) + rate(rest_responses_total{job=~\"$job\"}[5m])".into(),
    ]);
    assert_eq!(
        names,
        BTreeSet::from(["qdrant_up".to_owned(), "rest_responses_total".to_owned()])
    );
}

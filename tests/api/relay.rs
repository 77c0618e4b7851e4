//! The native relay: Qdrant's own /metrics appended, collisions dropped, output valid.

use crate::helpers::{
    collector_success, promtool_check_metrics, sample, shard_0, spawn_app_with, value, RECORDED,
};

/// Qdrant's own families break promtool's naming lint (`cluster_term` is a
/// counter without `_total`, `collections_total` a gauge with it). The relay
/// passes them on unchanged, so: no parse error at all (exit code 1), and every
/// lint complaint (exit code 3) about a relayed family, none about ours.
#[track_caller]
pub fn assert_valid_with_lint_only_in_native_families(exposition: &str) {
    match promtool_check_metrics(exposition) {
        (Some(0), _) => {}
        (Some(3), complaints) => {
            for complaint in complaints.lines().filter(|l| !l.trim().is_empty()) {
                assert!(
                    !complaint.starts_with("qdrant_"),
                    "lint complaint about an exporter family: {complaint}"
                );
            }
        }
        (code, complaints) => panic!("promtool check metrics failed ({code:?}): {complaints}"),
    }
}

#[actix_web::test]
async fn the_relay_appends_native_metrics_fetched_with_the_key() {
    let app = spawn_app_with(RECORDED, |s| {
        s.native_metrics_relay = Some(true);
        s.qdrant_api_key = Some(qdrant_exporter::config::ApiKey::new("secret-ro"));
    })
    .await;
    app.mock.require_api_key(Some("secret-ro"));
    let m = app.scrape().await;
    assert_eq!(collector_success(&m, "native_relay"), 1.0);
    let native =
        std::fs::read_to_string(crate::helpers::fixture_dir(RECORDED).join("metrics.txt")).unwrap();
    assert!(
        m.contains(native.trim_end()),
        "Qdrant's exposition is relayed unchanged"
    );
    assert_eq!(value(&m, "collections_total", ""), 5.0);
    assert_eq!(
        value(&m, "qdrant_shard_local_points", &shard_0("docs")),
        2000.0
    );
    assert_valid_with_lint_only_in_native_families(&m);
}

#[actix_web::test]
async fn native_families_in_the_exporters_namespace_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let recorded = crate::helpers::fixture_dir(RECORDED);
    for file in [
        "root.json",
        "collections.json",
        "collection-docs.json",
        "collection-empty.json",
        "collection-images.json",
        "collection-ondisk_quantized.json",
        "collection-sparse.json",
    ] {
        std::fs::copy(recorded.join(file), dir.path().join(file)).unwrap();
    }
    // A future Qdrant exporting a family under one of the exporter's names.
    let native = std::fs::read_to_string(recorded.join("metrics.txt")).unwrap()
        + "# HELP qdrant_up a clash\n# TYPE qdrant_up gauge\nqdrant_up 1\n";
    std::fs::write(dir.path().join("metrics.txt"), native).unwrap();
    let app = spawn_app_with(dir.path().to_str().unwrap(), |s| {
        s.collectors = Some("collections".into());
        s.native_metrics_relay = Some(true);
        s.cache_ttl_seconds = Some(0.0);
    })
    .await;
    app.mock
        .fail_path("/collections", mock_qdrant::Fault::Status(500));
    let m = app.scrape().await;
    // Qdrant is down for the exporter, but the relayed `qdrant_up 1` is not served.
    assert_eq!(m.matches("# TYPE qdrant_up gauge").count(), 1);
    assert_eq!(sample(&m, "qdrant_up", ""), Some(0.0));
    assert!(!m.contains("a clash"));
    app.mock.clear_faults();
    let m = app.scrape().await;
    assert_eq!(m.matches("# TYPE qdrant_up gauge").count(), 1);
    assert!(!m.contains("a clash"));
    assert_eq!(
        collector_success(&m, "native_relay"),
        1.0,
        "dropping a family is not a failure"
    );
    assert_valid_with_lint_only_in_native_families(&m);
}

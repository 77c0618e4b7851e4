//! The native relay: Qdrant's own /metrics appended, checked and renamed so
//! that the answer stays valid whatever Qdrant sends.

use crate::helpers::{
    assert_promtool_accepts, collector_success, promtool_check_metrics, sample, shard_0,
    spawn_app_with, value, RECORDED,
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

/// Qdrant's recorded exposition as the relay passes it on: `process_*` as `qdrant_process_*`.
fn recorded_as_relayed() -> String {
    let native =
        std::fs::read_to_string(crate::helpers::fixture_dir(RECORDED).join("metrics.txt")).unwrap();
    native
        .lines()
        .map(|line| {
            for start in ["# HELP ", "# TYPE ", ""] {
                if let Some(rest) = line.strip_prefix(&format!("{start}process_")) {
                    return format!("{start}qdrant_process_{rest}\n");
                }
            }
            format!("{line}\n")
        })
        .collect()
}

#[actix_web::test]
async fn the_relay_appends_native_metrics_fetched_with_the_key() {
    let app = spawn_app_with(RECORDED, |s| {
        s.native_metrics_relay = Some(true);
        s.qdrant_api_key = Some(qdrant_exporter::config::ApiKey::parse("secret-ro").unwrap());
        // The exporter's own process_* off: any left would be Qdrant's, passed off as ours.
        s.process_metrics = Some(false);
    })
    .await;
    app.mock.require_api_key(Some("secret-ro"));
    let m = app.scrape().await;
    assert_eq!(collector_success(&m, "native_relay"), 1.0);
    assert!(
        m.contains(recorded_as_relayed().trim_end()),
        "Qdrant's exposition is relayed unchanged but for process_*"
    );
    assert_eq!(value(&m, "collections_total", ""), 5.0);
    assert_eq!(value(&m, "qdrant_process_open_fds", ""), 43.0);
    assert!(
        !m.contains("\nprocess_"),
        "process_* would describe the exporter"
    );
    assert_eq!(
        value(&m, "qdrant_shard_local_points", &shard_0("docs")),
        2000.0
    );
    assert_valid_with_lint_only_in_native_families(&m);
}

/// The exporter against the recorded single node, with `metrics.txt` replaced
/// by `native`; the directory lives as long as the returned handle.
pub async fn with_native_body(native: &str) -> (tempfile::TempDir, crate::helpers::TestApp) {
    let temporary = tempfile::tempdir().unwrap();
    let dir = temporary.path();
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
        std::fs::copy(recorded.join(file), dir.join(file)).unwrap();
    }
    std::fs::write(dir.join("metrics.txt"), native).unwrap();
    let app = spawn_app_with(dir.to_str().unwrap(), |s| {
        s.collectors = Some("collections".into());
        s.native_metrics_relay = Some(true);
        s.cache_ttl_seconds = Some(0.0);
    })
    .await;
    (temporary, app)
}

#[actix_web::test]
async fn native_families_in_the_exporters_namespace_are_dropped() {
    let recorded = crate::helpers::fixture_dir(RECORDED);
    // A future Qdrant exporting a family under one of the exporter's names.
    let native = std::fs::read_to_string(recorded.join("metrics.txt")).unwrap()
        + "# HELP qdrant_up a clash\n# TYPE qdrant_up gauge\nqdrant_up 1\n";
    let (_fixtures, app) = with_native_body(&native).await;
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

/// Qdrant's configuration example sets `metrics_prefix: qdrant_`: every family
/// then sits in the exporter's namespace, and used to be dropped.
#[actix_web::test]
async fn a_prefixed_qdrant_keeps_its_metrics() {
    let recorded =
        std::fs::read_to_string(crate::helpers::fixture_dir(RECORDED).join("metrics.txt")).unwrap();
    let prefixed: String = recorded
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(comment) => {
                let (keyword, rest) = comment.split_once(' ').unwrap();
                format!("# {keyword} qdrant_{rest}\n")
            }
            None => format!("qdrant_{line}\n"),
        })
        .collect();
    let (_fixtures, app) = with_native_body(&prefixed).await;
    let m = app.scrape().await;
    assert_eq!(collector_success(&m, "native_relay"), 1.0);
    assert!(
        m.contains(recorded_as_relayed().trim_end()),
        "relayed under Qdrant's default names"
    );
    assert_eq!(m.matches("# TYPE qdrant_up gauge").count(), 1);
    assert_valid_with_lint_only_in_native_families(&m);
}

#[actix_web::test]
async fn a_native_body_that_is_not_the_text_format_is_not_relayed() {
    let (_fixtures, app) = with_native_body("<html><body>502 Bad Gateway</body></html>").await;
    let m = app.scrape().await;
    assert_eq!(value(&m, "qdrant_up", ""), 1.0);
    assert_eq!(collector_success(&m, "native_relay"), 0.0);
    assert_eq!(collector_success(&m, "collections"), 1.0);
    assert_eq!(value(&m, "qdrant_exporter_relay_dropped_lines", ""), 1.0);
    assert_promtool_accepts(&m);
}

/// Lines that fail promtool or make Prometheus refuse the whole scrape (which
/// would lose the exporter's own series too) are left out one by one; the
/// rest of Qdrant's exposition is relayed.
#[actix_web::test]
async fn each_native_line_that_would_break_the_scrape_is_dropped_and_counted() {
    let recorded =
        std::fs::read_to_string(crate::helpers::fixture_dir(RECORDED).join("metrics.txt")).unwrap();
    let hostile = [
        "# TYPE collections_total gauge",
        "collections_total 6",
        "# HELP hostile_values a family of bad lines",
        "# HELP hostile_values a second HELP",
        "# TYPE hostile_values gauge",
        "hostile_values{kind=\"huge\"} 1e999",
        "hostile_values{kind=\"twice\",kind=\"again\"} 1",
        "hostile_values{__name__=\"other\"} 1",
        "hostile_values{kind=\"\\q\"} 1",
        "hostile_values{kind=\"fine\"} 1 ",
    ];
    let native = format!("{recorded}{}\n", hostile.join("\n"));
    let (_fixtures, app) = with_native_body(&native).await;
    let m = app.scrape().await;
    assert_eq!(collector_success(&m, "native_relay"), 1.0);
    assert_eq!(value(&m, "qdrant_exporter_relay_dropped_lines", ""), 7.0);
    assert_eq!(
        value(&m, "collections_total", ""),
        5.0,
        "the first one stays"
    );
    assert_eq!(value(&m, "hostile_values", "kind=\"fine\""), 1.0);
    assert!(!m.contains("1e999") && !m.contains("__name__") && !m.contains("\\q"));
    assert_valid_with_lint_only_in_native_families(&m);
}

#[actix_web::test]
async fn per_collection_the_relay_carries_qdrants_request_metrics_by_collection() {
    let relay_only = |per_collection: bool| {
        move |s: &mut qdrant_exporter::config::Settings| {
            s.native_metrics_relay = Some(true);
            s.native_metrics_per_collection = Some(per_collection);
            s.collectors = Some("cluster".into());
        }
    };
    let app = spawn_app_with(RECORDED, relay_only(true)).await;
    let m = app.scrape().await;
    assert_eq!(collector_success(&m, "native_relay"), 1.0);
    let by_collection = r#"rest_responses_total{method="POST",endpoint="/collections/{collection_name}/points/query",status="200",collection="sparse"} 5"#;
    assert!(m.contains(by_collection), "{m}");
    assert_valid_with_lint_only_in_native_families(&m);
    // Off (the default), Qdrant's metrics come whole, with no collection label.
    let app = spawn_app_with(RECORDED, relay_only(false)).await;
    let m = app.scrape().await;
    assert!(m.contains("\nrest_responses_total{"), "{m}");
    assert!(!m.contains(r#"collection="sparse"}"#), "{m}");
}

#[test]
fn per_collection_without_the_relay_is_refused() {
    let error = qdrant_exporter::config::Config::from_settings(qdrant_exporter::config::Settings {
        native_metrics_per_collection: Some(true),
        ..Default::default()
    })
    .unwrap_err()
    .to_string();
    assert!(error.contains("native_metrics_per_collection"), "{error}");
    assert!(error.contains("native_metrics_relay"), "{error}");
}

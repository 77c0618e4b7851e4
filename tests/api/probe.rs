//! Multi-target scraping: `/probe?target=<url>&module=<name>` reaches only
//! allowed targets, each with its module's key, each with its own refresh.

use mock_qdrant::MockQdrant;

use crate::helpers::{fixture_dir, spawn_app_with, value, TestApp, RECORDED};

/// The exporter with this probe configuration (the file lives as long as the app).
async fn exporter_probing(config: &str) -> (TestApp, tempfile::NamedTempFile) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), config).unwrap();
    let path = file.path().to_owned();
    let app = spawn_app_with(RECORDED, move |s| s.probe_config_file = Some(path)).await;
    (app, file)
}

fn probe_path(target: &str, module: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("target", target);
    if let Some(module) = module {
        query.append_pair("module", module);
    }
    format!("/probe?{}", query.finish())
}

#[actix_web::test]
async fn a_target_outside_the_allowlist_is_refused_and_never_reached() {
    let allowed = MockQdrant::start(fixture_dir(RECORDED)).unwrap();
    let elsewhere = MockQdrant::start(fixture_dir(RECORDED)).unwrap();
    let (app, _config) =
        exporter_probing(&format!("allowed_targets:\n  - {}\n", allowed.url())).await;
    for (target, module) in [
        (elsewhere.url(), None),
        (format!("{}/collections", allowed.url()), None),
        (allowed.url().replace("http://", "http://user:pass@"), None),
        ("not a url".to_owned(), None),
        (allowed.url(), Some("no-such-module")),
    ] {
        let response = app.get(&probe_path(&target, module)).await;
        assert_eq!(
            response.status, 400,
            "{target} {module:?}: {}",
            response.body
        );
        assert!(!response.body.contains("pass"), "{}", response.body);
    }
    assert_eq!(app.get("/probe").await.status, 400, "no target");
    assert_eq!(
        elsewhere.requests(),
        [],
        "nothing reached the refused target"
    );
    let response = app.get(&probe_path(&allowed.url(), None)).await;
    assert_eq!(response.status, 200);
    assert_eq!(value(&response.body, "qdrant_up", ""), 1.0);
}

#[actix_web::test]
async fn each_target_receives_only_its_own_modules_key() {
    let first = MockQdrant::start(fixture_dir(RECORDED)).unwrap();
    let second = MockQdrant::start(fixture_dir(RECORDED)).unwrap();
    first.require_api_key(Some("key-of-first"));
    second.require_api_key(Some("key-of-second"));
    let secrets = tempfile::tempdir().unwrap();
    let second_key = secrets.path().join("second");
    std::fs::write(&second_key, "key-of-second\n").unwrap();
    let config = format!(
        "allowed_targets:\n  - {}\n  - {}\nmodules:\n  first:\n    qdrant_api_key: key-of-first\n  second:\n    qdrant_api_key_file: {}\n    collectors: collections,shards\n",
        first.url(),
        second.url(),
        second_key.display()
    );
    let (app, _config) = exporter_probing(&config).await;
    for (mock, module) in [(&first, "first"), (&second, "second")] {
        let response = app.get(&probe_path(&mock.url(), Some(module))).await;
        assert_eq!(value(&response.body, "qdrant_up", ""), 1.0, "{module}");
    }
    assert!(first
        .requests()
        .iter()
        .all(|r| r.api_key.as_deref() == Some("key-of-first") || r.raw_path == "/"));
    assert!(second
        .requests()
        .iter()
        .all(|r| r.api_key.as_deref() == Some("key-of-second")));
    // The module's collectors, and its own request counts.
    let second_answer = app
        .get(&probe_path(&second.url(), Some("second")))
        .await
        .body;
    assert!(!second_answer.contains(r#"collector="snapshots""#));
    // /metrics still serves the configured Qdrant, which the probes did not touch.
    assert_eq!(value(&app.scrape().await, "qdrant_up", ""), 1.0);
}

#[actix_web::test]
async fn concurrent_probes_of_one_target_share_one_refresh() {
    let qdrant = MockQdrant::start(fixture_dir(RECORDED)).unwrap();
    qdrant.set_latency(std::time::Duration::from_millis(200));
    let (app, _config) =
        exporter_probing(&format!("allowed_targets:\n  - {}\n", qdrant.url())).await;
    let path = probe_path(&qdrant.url(), None);
    let probes = (0..10).map(|_| app.get(&path));
    for response in futures_util::future::join_all(probes).await {
        assert_eq!(value(&response.body, "qdrant_up", ""), 1.0);
    }
    assert_eq!(
        qdrant.count("/collections"),
        1,
        "one refresh for ten probes"
    );
}

#[test]
fn a_probe_configuration_that_cannot_work_is_refused_at_start() {
    use qdrant_exporter::config::{Config, Settings};
    for (text, named) in [
        ("allowed_targets: []\n", "allowed_targets is empty"),
        ("allowed_targets: [qdrant:6333]\n", "qdrant:6333"),
        (
            "allowed_targets: [https://*.x]\nmodules:\n  a:\n    listen_address: 0.0.0.0:1\n",
            "listen_address",
        ),
        (
            "allowed_targets: [https://*.x]\nmodules:\n  a:\n    colectors: shards\n",
            "colectors",
        ),
        (
            "allowed_targets: [https://*.x]\nmodules:\n  a:\n    collectors: tea\n",
            "tea",
        ),
        (
            "allowed_targets: [https://*.x]\nmodules:\n  a:\n    qdrant_api_key: \"s3\\acret\"\n",
            "qdrant_api_key",
        ),
    ] {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        let error = Config::from_settings(Settings {
            probe_config_file: Some(file.path().to_owned()),
            ..Settings::default()
        })
        .unwrap_err()
        .to_string();
        assert!(error.contains("probe_config_file"), "{error}");
        assert!(error.contains(named), "{named}: {error}");
        assert!(!error.contains("acret"), "the key never shows: {error}");
    }
}

#[actix_web::test]
async fn the_exporters_own_process_is_on_metrics_only_and_can_be_turned_off() {
    let probed = MockQdrant::start(fixture_dir(RECORDED)).unwrap();
    let (app, _config) =
        exporter_probing(&format!("allowed_targets:\n  - {}\n", probed.url())).await;
    let metrics = app.scrape().await;
    assert!(value(&metrics, "process_resident_memory_bytes", "") > 1e6);
    assert!(value(&metrics, "process_open_fds", "") >= 3.0);
    assert!(value(&metrics, "process_max_fds", "") >= value(&metrics, "process_open_fds", ""));
    assert!(value(&metrics, "process_threads", "") >= 1.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = value(&metrics, "process_start_time_seconds", "");
    assert!(started <= now + 1.0 && started > now - 3600.0, "{started}");
    let probe = app.get(&probe_path(&probed.url(), None)).await;
    assert_eq!(value(&probe.body, "qdrant_up", ""), 1.0);
    assert!(!probe.body.contains("process_"), "{}", probe.body);

    let off = spawn_app_with(RECORDED, |s| s.process_metrics = Some(false)).await;
    let metrics = off.scrape().await;
    assert_eq!(value(&metrics, "qdrant_up", ""), 1.0);
    assert!(!metrics.contains("\nprocess_"), "{metrics}");
}

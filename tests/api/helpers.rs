use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use mock_qdrant::MockQdrant;
use qdrant_exporter::collectors::REGISTRY;
use qdrant_exporter::config::{Config, Settings};
use qdrant_exporter::startup::Application;

/// Recorded responses of a real single-node Qdrant v1.18.3.
pub const RECORDED: &str = "qdrant-v1.18.3";
/// `qdrant_info` labels of the recorded server.
pub const RECORDED_INFO: &str =
    r#"version="1.18.3",commit="db8fa43fcb6aedec1e739487e17a99731b74590a""#;
/// The raft peer id of the recorded single node.
pub const RECORDED_PEER: &str = "4688170328447976";

/// Labels of shard 0 of a recorded (or synthetic) single-node collection, on that node.
pub fn shard_0(collection: &str) -> String {
    format!(r#"collection="{collection}",shard_id="0",peer_id="{RECORDED_PEER}""#)
}

/// Hand-made responses in the shape of older Qdrant versions.
pub const HANDMADE_V1_12: &str = "handmade-v1.12.0";
pub const HANDMADE_V1_15: &str = "handmade-v1.15.0";
/// Hand-made from the v1.19.0 OpenAPI spec (quotas, and the shapes of every endpoint read).
pub const HANDMADE_V1_19: &str = "handmade-v1.19.0";
/// Recorded `GET /collections/{name}/memory` answers of a real Qdrant v1.18.3.
pub const MEMORY: &str = "qdrant-v1.18.3-memory";

pub fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub struct TestApp {
    pub address: String,
    pub mock: MockQdrant,
    pub http: awc::Client,
}

pub struct Response {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    pub body: String,
}

/// The exporter against the mock serving the recorded v1.18.3 responses.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(RECORDED, |_| {}).await
}

pub async fn spawn_app_with(fixtures: &str, customize: impl FnOnce(&mut Settings)) -> TestApp {
    let mock = MockQdrant::start(fixture_dir(fixtures)).expect("mock Qdrant starts");
    let mut settings = Settings {
        listen_address: Some("127.0.0.1:0".into()),
        qdrant_url: Some(mock.url()),
        ..Settings::default()
    };
    customize(&mut settings);
    let config = Config::from_settings(settings).expect("test configuration is valid");
    let application = Application::build(config).expect("exporter binds");
    let address = format!("http://127.0.0.1:{}", application.port());
    actix_web::rt::spawn(application.run_until_stopped());
    let http = awc::Client::builder()
        .timeout(Duration::from_secs(20))
        .finish();
    TestApp {
        address,
        mock,
        http,
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Response {
        self.get_with(path, &[]).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = self.http.get(format!("{}{path}", self.address));
        for header in headers {
            request = request.insert_header(*header);
        }
        let mut response = request.send().await.expect("exporter answers");
        let body = response
            .body()
            .limit(64 * 1024 * 1024)
            .await
            .expect("body arrives");
        Response {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: String::from_utf8(body.to_vec()).expect("UTF-8 body"),
        }
    }

    /// `/metrics`, which must answer 200 whatever Qdrant does.
    pub async fn scrape(&self) -> String {
        let response = self.get("/metrics").await;
        assert_eq!(response.status, 200, "{}", response.body);
        response.body
    }
}

/// Every family served (name → type), with every collector and the relay on,
/// over scenarios that between them produce all of them.
pub async fn served_families() -> std::collections::BTreeMap<String, String> {
    let mut families = std::collections::BTreeMap::new();
    for scenario in [
        RECORDED,
        "cluster-v1.18.3-steady-node-a",
        "cluster-v1.18.3-node-a",
        "cluster-v1.18.3-node-b",
        HANDMADE_V1_19,
    ] {
        let app = spawn_app_with(scenario, every_collector).await;
        let exposition = app.scrape().await;
        for (name, kind) in exposition
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split_once(' '))
        {
            families.insert(name.to_owned(), kind.to_owned());
        }
    }
    families
}

/// The `collector` label of every collector, the native relay included, from the registry.
pub fn all_collectors() -> Vec<&'static str> {
    REGISTRY
        .iter()
        .map(|registration| registration.name)
        .collect()
}

/// Every collector on, the native relay included.
pub fn every_collector(settings: &mut Settings) {
    settings.collectors = Some(all_collectors().join(","));
}

/// The value of the sample `name{labels}`, labels given in exposition order and escaping.
pub fn sample(exposition: &str, name: &str, labels: &str) -> Option<f64> {
    let series = if labels.is_empty() {
        format!("{name} ")
    } else {
        format!("{name}{{{labels}}} ")
    };
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(series.as_str()))
        .map(|value| value.parse().expect("numeric sample value"))
}

/// Like [`sample`], but the series must exist.
#[track_caller]
pub fn value(exposition: &str, name: &str, labels: &str) -> f64 {
    sample(exposition, name, labels)
        .unwrap_or_else(|| panic!("no series {name}{{{labels}}} in:\n{exposition}"))
}

/// `qdrant_exporter_scrape_success` of one collector.
#[track_caller]
pub fn collector_success(exposition: &str, collector: &str) -> f64 {
    value(
        exposition,
        "qdrant_exporter_scrape_success",
        &format!(r#"collector="{collector}""#),
    )
}

/// `qdrant_exporter_collector_supported` of one collector.
#[track_caller]
pub fn collector_supported(exposition: &str, collector: &str) -> f64 {
    value(
        exposition,
        "qdrant_exporter_collector_supported",
        &format!(r#"collector="{collector}""#),
    )
}

/// Runs the real `promtool check metrics` on the exposition: (exit code, what it printed).
pub fn promtool_check_metrics(exposition: &str) -> (Option<i32>, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is on PATH (the test command installs it: scripts/test.sh)");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(exposition.as_bytes())
        .expect("promtool reads the exposition");
    let output = child.wait_with_output().expect("promtool finishes");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), printed)
}

/// `promtool check metrics` finds neither a parse error nor a lint problem.
#[track_caller]
pub fn assert_promtool_accepts(exposition: &str) {
    let (code, printed) = promtool_check_metrics(exposition);
    assert_eq!(
        code,
        Some(0),
        "promtool check metrics failed:\n{printed}\n--- exposition ---\n{exposition}"
    );
}

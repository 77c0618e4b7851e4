use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use mock_qdrant::MockQdrant;
use qdrant_exporter::config::{Config, Settings};
use qdrant_exporter::startup::Application;
use qdrant_exporter::{Collector, Scope};

#[path = "../../src/test_support/shared.rs"]
mod shared;
pub use shared::*;

/// `qdrant_info` labels of the recorded server.
pub const RECORDED_INFO: &str =
    r#"version="1.18.3",commit="db8fa43fcb6aedec1e739487e17a99731b74590a""#;
/// Labels of shard 0 of a recorded (or synthetic) single-node collection, on that node.
pub fn shard_0(collection: &str) -> String {
    format!(r#"collection="{collection}",shard_id="0",peer_id="{RECORDED_PEER}""#)
}

pub struct TestApp {
    pub address: String,
    pub mock: MockQdrant,
    pub http: awc::Client,
    /// The enabled collectors that run in the background, on the reporter.
    background: Vec<&'static str>,
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

/// The exporter against the mock serving `fixtures` (a directory of
/// `tests/fixtures`, or an absolute path); every scrape refreshes
/// (a TTL of 0) unless `customize` sets a TTL.
pub async fn spawn_app_with(fixtures: &str, customize: impl FnOnce(&mut Settings)) -> TestApp {
    let mock = MockQdrant::start(fixture_dir(fixtures)).expect("mock Qdrant starts");
    let mut settings = Settings {
        listen_address: Some("127.0.0.1:0".into()),
        qdrant_url: Some(mock.url()),
        cache_ttl_seconds: Some(0.0),
        ..Settings::default()
    };
    customize(&mut settings);
    let config = Config::from_settings(settings).expect("test configuration is valid");
    let background = config
        .server
        .target
        .collectors
        .enabled
        .iter()
        .filter(|collector| collector.facts().scope == Scope::Cluster)
        .map(|collector| collector.name())
        .collect();
    let application = Application::build(config.server).expect("exporter binds");
    let address = format!("http://127.0.0.1:{}", application.port());
    actix_web::rt::spawn(application.run_until_stopped());
    let http = awc::Client::builder()
        .timeout(Duration::from_secs(20))
        .finish();
    TestApp {
        address,
        mock,
        http,
        background,
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

    /// The first scrape in which every cluster-scope collector has reported,
    /// where this exporter is the reporter: they run in the background, after
    /// the refresh that starts them. Needs a TTL of 0 (the default here).
    pub async fn scrape_settled(&self) -> String {
        for _ in 0..500 {
            let m = self.scrape().await;
            let settled = sample(&m, "qdrant_exporter_cluster_reporter", "") != Some(1.0)
                || self.background.iter().all(|collector| {
                    let labels = format!(r#"collector="{collector}""#);
                    sample(&m, "qdrant_exporter_scrape_success", &labels).is_some()
                });
            if settled {
                return m;
            }
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "the cluster-scope collectors {:?} never reported",
            self.background
        );
    }
}

/// The recorded single node with optimizations running
/// ([`telemetry_with_running_optimizations`]), in a directory of its own.
pub fn optimizing_directory() -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture_dir(RECORDED)).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, directory.path().join(path.file_name().unwrap())).unwrap();
    }
    let telemetry = telemetry_with_running_optimizations().to_string();
    std::fs::write(
        directory.path().join("telemetry-details-level-4.json"),
        telemetry,
    )
    .unwrap();
    directory
}

/// `node` or `cluster`, as a family's help text (`# HELP` line less its
/// prefix) says; none for a relayed family.
pub fn scope_of(help: &str) -> Option<&'static str> {
    [("node", "Node scope: "), ("cluster", "Cluster scope: ")]
        .into_iter()
        .find(|(_, sentence)| help.contains(sentence))
        .map(|(scope, _)| scope)
}

/// A family as the exporter serves it.
pub struct ServedFamily {
    /// `gauge`, `counter`, …
    pub kind: String,
    /// `node` or `cluster`, as its help text says; none for relayed families.
    pub scope: Option<&'static str>,
}

/// What is served with every collector and the relay on, at full detail, over
/// scenarios that between them produce every family.
pub async fn served_expositions() -> Vec<String> {
    let optimizing = optimizing_directory();
    let mut expositions = Vec::new();
    for scenario in [
        RECORDED,
        "cluster-v1.18.3-steady-node-a",
        "cluster-v1.18.3-node-a",
        "cluster-v1.18.3-node-b",
        "transitions-v1.18.3-transfer-source-node-c",
        "cluster-v1.18.3-transfer-node-a",
        HANDMADE_V1_19,
        optimizing.path().to_str().unwrap(),
    ] {
        let app = spawn_app_with(scenario, everything).await;
        expositions.push(app.scrape_settled().await);
    }
    expositions
}

/// Every family served, by name, in [`served_expositions`].
pub async fn served_families() -> std::collections::BTreeMap<String, ServedFamily> {
    let mut families = std::collections::BTreeMap::new();
    for exposition in served_expositions().await {
        let mut scope = None;
        for line in exposition.lines() {
            if let Some(help) = line.strip_prefix("# HELP ") {
                scope = scope_of(help);
            } else if let Some((name, kind)) =
                line.strip_prefix("# TYPE ").and_then(|l| l.split_once(' '))
            {
                let kind = kind.to_owned();
                families.insert(name.to_owned(), ServedFamily { kind, scope });
            }
        }
    }
    families
}

/// The `collector` label of every collector, the native relay included, from the catalog.
pub fn all_collectors() -> Vec<&'static str> {
    Collector::ALL
        .iter()
        .map(|collector| collector.name())
        .collect()
}

/// Every collector on, the native relay included, at full detail, the
/// checkout's filesystem as the storage volume: every figure.
pub fn everything(settings: &mut Settings) {
    settings.collectors = Some(all_collectors().join(","));
    settings.volumes = Some(format!("storage={}", env!("CARGO_MANIFEST_DIR")));
    full_detail(settings);
}

/// Every figure with every label.
pub fn full_detail(settings: &mut Settings) {
    settings.detail = Some("full".into());
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

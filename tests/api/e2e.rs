//! A real Prometheus (Debian's package, on 127.0.0.1, a temporary data dir)
//! scrapes the exporter with `examples/prometheus.yml` and the alert rules,
//! while the exporter reads the mock Qdrant; then the mock fails.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use mock_qdrant::Fault;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::helpers::{spawn_app_with, RECORDED};
use crate::promql::{
    alert_names, dashboard_expressions, dashboard_variable_selectors, documented_expressions,
    recorded_names, rule_names_of_group, REQUESTS_GROUP, RULES_PATH, SHARD_DETAIL_GROUP,
};
use crate::relay::{assert_valid_with_lint_only_in_native_families, with_native_body};

const CONFIG: &str = include_str!("../../examples/prometheus.yml");
/// How long any one condition may take to show up in Prometheus.
const PATIENCE: Duration = Duration::from_secs(60);

/// The Prometheus process; killed when dropped, also when a check fails.
struct Prometheus {
    child: Child,
    url: String,
    http: awc::Client,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    fn start(exporter_address: &str, data: &Path) -> Prometheus {
        // The example config, pointed at this exporter, with this checkout's rules file and
        // one-second intervals. Each replacement must apply: a changed example fails loudly.
        let mut config = CONFIG.to_owned();
        for (from, to) in [
            (
                "exporter:9999",
                exporter_address.trim_start_matches("http://"),
            ),
            ("/etc/prometheus/rules/alerts.yaml", RULES_PATH),
            ("scrape_interval: 15s", "scrape_interval: 1s"),
            ("scrape_timeout: 10s", "scrape_timeout: 1s"),
            ("evaluation_interval: 15s", "evaluation_interval: 1s"),
        ] {
            assert!(
                config.contains(from),
                "examples/prometheus.yml no longer has {from:?}"
            );
            config = config.replace(from, to);
        }
        Prometheus::run(&config, data)
    }

    /// Prometheus with `config`, its data in `data`.
    fn run(config: &str, data: &Path) -> Prometheus {
        let config_path = data.join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(data.join("prometheus.log")).unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                data.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("prometheus is on PATH (scripts/test.sh installs Debian's prometheus package)");
        Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: awc::Client::builder()
                .timeout(Duration::from_secs(10))
                .finish(),
        }
    }

    /// GET an API path; `None` while Prometheus is not answering yet.
    async fn api(&self, path: &str) -> Option<Value> {
        let mut response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .ok()?;
        let body: Value = response.json().limit(16 * 1024 * 1024).await.ok()?;
        Some(body)
    }

    async fn query(&self, promql: &str) -> Value {
        let path = format!(
            "/api/v1/query?query={}",
            utf8_percent_encode(promql, NON_ALPHANUMERIC)
        );
        self.api(&path).await.unwrap_or(Value::Null)
    }

    /// The single value of an instant query, if it has exactly one sample.
    async fn value(&self, promql: &str) -> Option<f64> {
        let answer = self.query(promql).await;
        match answer["data"]["result"].as_array().map(Vec::as_slice) {
            Some([sample]) => sample["value"][1].as_str()?.parse().ok(),
            _ => None,
        }
    }

    /// Waits until `check` holds, polling; fails with `what` after PATIENCE.
    async fn eventually<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let started = Instant::now();
        while !check().await {
            assert!(
                started.elapsed() < PATIENCE,
                "Prometheus never showed: {what}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Alert name → state (inactive, pending, firing) of every alerting rule loaded.
    async fn alert_states(&self) -> Vec<(String, String)> {
        let rules = self
            .api("/api/v1/rules?type=alert")
            .await
            .unwrap_or(Value::Null);
        rules["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|group| group["rules"].as_array().cloned().unwrap_or_default())
            .map(|rule| {
                (
                    rule["name"].as_str().unwrap_or_default().to_owned(),
                    rule["state"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

/// A dashboard query with its variables filled in as Grafana would here: no
/// cluster, namespace or probe target label (each variable then has no
/// value, and `=~""` matches the label's absence), the one job, every
/// instance and collection.
fn filled(expr: &str) -> String {
    expr.replace("$cluster", "")
        .replace("$namespace", "")
        .replace("$job", "qdrant-exporter")
        .replace("$target", "")
        .replace("$instance", ".*")
        .replace("$collection", ".*")
        .replace("$__rate_interval", "1m")
}

/// The dashboard's queries, filled in.
fn dashboard_queries() -> Vec<String> {
    dashboard_expressions()
        .iter()
        .map(|expr| filled(expr))
        .collect()
}

#[actix_web::test]
async fn a_real_prometheus_scrapes_alerts_and_sees_qdrant_go_down() {
    let app = spawn_app_with(RECORDED, |s| s.cache_ttl_seconds = Some(0.0)).await;
    let data = tempfile::tempdir().unwrap();
    let prometheus = Prometheus::start(&app.address, data.path());

    prometheus
        .eventually("up{job=\"qdrant-exporter\"} == 1", || async {
            prometheus.value(r#"up{job="qdrant-exporter"}"#).await == Some(1.0)
        })
        .await;
    prometheus
        .eventually(
            "qdrant_up 1, and the recording rules' 2000 points and green for docs",
            || async {
                prometheus.value("qdrant_up").await == Some(1.0)
                    && prometheus
                        .value(r#"qdrant:collection_points:sum{collection="docs"}"#)
                        .await
                        == Some(2000.0)
                    && prometheus
                        .value(
                            r#"qdrant:collection_status:worst{collection="docs",status="green"}"#,
                        )
                        .await
                        == Some(1.0)
            },
        )
        .await;

    // The rules file is loaded; with this data only the snapshot rule is not inactive: the
    // recorded snapshots were taken on 2026-11-21, more than a day before the test runs.
    prometheus
        .eventually("every alerting rule loaded and evaluated", || async {
            let states = prometheus.alert_states().await;
            states.len() == alert_names().len()
                && states.iter().all(|(name, state)| {
                    (name == "QdrantNoRecentSnapshot") != (state == "inactive")
                })
        })
        .await;

    // The variables a scrape of one exporter fills have values (a family of every detail level).
    for (variable, selector) in dashboard_variable_selectors() {
        if ["job", "instance", "collection"].contains(&variable.as_str()) {
            let selector = filled(&selector);
            prometheus
                .eventually(&format!("${variable} from {selector}"), || async {
                    let answer = prometheus.query(&selector).await;
                    answer["data"]["result"]
                        .as_array()
                        .is_some_and(|r| !r.is_empty())
                })
                .await;
        }
    }

    // Every dashboard query and every example of docs/metrics.md parses and runs in a real Prometheus.
    for query in dashboard_queries()
        .into_iter()
        .chain(documented_expressions())
    {
        let answer = prometheus.query(&query).await;
        assert_eq!(answer["status"], "success", "{query}: {answer}");
    }

    app.mock.fail_all(Fault::Status(500));
    prometheus
        .eventually("qdrant_up 0 once Qdrant fails", || async {
            prometheus.value("qdrant_up").await == Some(0.0)
        })
        .await;
    prometheus
        .eventually("the cannot-reach-Qdrant alert pending", || async {
            prometheus.alert_states().await.iter().any(|(name, state)| {
                name == "QdrantExporterCannotReachQdrant" && state == "pending"
            })
        })
        .await;
    // The exporter itself stayed up for Prometheus all along.
    assert_eq!(
        prometheus.value(r#"up{job="qdrant-exporter"}"#).await,
        Some(1.0)
    );
}

/// Bodies of Qdrant's /metrics whose lines Prometheus refused, failing the
/// whole scrape, when they were relayed as they came, and the text format's
/// edge cases: each relayed line is written again or left out.
const HOSTILE_NATIVE_BODIES: &[&str] = &[
    "# TYPE  extra_whitespace \t gauge\nextra_whitespace 1",
    "plus_nan +NaN",
    "minus_nan -nan",
    "lower_nan nan",
    "spelled_infinity Infinity",
    "unicode_whitespace{\u{2003}x=\"1\"} 1",
    "vertical_tab{x=\"1\",\u{0b}y=\"2\"} 1",
    "form_feed 1\u{0c}",
    "plus_timestamp 1 +1700000000000",
    "huge_timestamp 1 99999999999999999999",
    "# HELP unknown_help_escape a \\q in help\nunknown_help_escape 1",
    "# HELP trailing_backslash ends with \\\ntrailing_backslash 1",
    "carriage_return 1\r",
    "# EOF",
    "exemplar_total 1 # {trace_id=\"abc\"} 1",
    "hex_float 0x1p3",
    "tab_before_labels\t{x=\"1\"} 1",
    "spaced_labels{ x = \"1\" , y=\"2\" , } 1",
    "unknown_label_escape{x=\"\\q\"} 1",
    "twice{x=\"1\",x=\"2\"} 1",
    "reserved{__name__=\"other\"} 1",
    "dotted.name 1",
    "# TYPE stateset_type stateset\nstateset_type 1",
    "# TYPE late_type gauge\nlate_type 1\n# TYPE late_type counter",
    "met_again 1\nother 2\nmet_again 3",
    "negative_zero -0",
    "underflow 1e-400",
    "overflow 1e999",
];

/// Each hostile body, relayed by an exporter of its own, passes promtool, and
/// one real Prometheus scraping all of them stores every exporter's own
/// series: no relayed line fails a scrape.
#[actix_web::test]
async fn a_real_prometheus_ingests_every_hostile_relayed_body() {
    let recorded =
        std::fs::read_to_string(crate::helpers::fixture_dir(RECORDED).join("metrics.txt")).unwrap();
    let mut exporters = Vec::new();
    for body in HOSTILE_NATIVE_BODIES {
        let (fixtures, app) = with_native_body(&format!("{recorded}{body}\n")).await;
        let exposition = app.scrape().await;
        assert!(exposition.contains("\nqdrant_up 1\n"), "{body:?}");
        assert_valid_with_lint_only_in_native_families(&exposition);
        exporters.push((fixtures, app));
    }
    let targets: Vec<String> = exporters
        .iter()
        .map(|(_, app)| format!("{:?}", app.address.trim_start_matches("http://")))
        .collect();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  \
         - job_name: relay\n    static_configs:\n      - targets: [{}]\n",
        targets.join(", ")
    );
    let data = tempfile::tempdir().unwrap();
    let prometheus = Prometheus::run(&config, data.path());
    let every = HOSTILE_NATIVE_BODIES.len() as f64;
    prometheus
        .eventually("every relaying exporter scraped whole", || async {
            prometheus.value(r#"count(up{job="relay"} == 1)"#).await == Some(every)
                && prometheus
                    .value(r#"count(qdrant_up{job="relay"} == 1)"#)
                    .await
                    == Some(every)
        })
        .await;
}

/// The recording rules that read the exporter's figures: all but those of
/// Qdrant's own request metrics, which a scrape of recordings leaves flat; of
/// volumes, which these sidecars have none of (node_alerts.rs fills a real
/// one); and of the container's memory, which cAdvisor gives.
fn exporters_rules() -> Vec<String> {
    let requests = rule_names_of_group(REQUESTS_GROUP);
    recorded_names()
        .into_iter()
        .filter(|name| {
            !requests.contains(name)
                && !name.starts_with("qdrant:volume_")
                && name != "qdrant:container_memory_used:ratio"
        })
        .collect()
}

/// Every series of the answer to `promql` for `job`, as its labels (less
/// `job`, `instance`, which is where the job's sidecar of that node listens,
/// and those in `dropped` where it is about a collection) and value, sorted,
/// each once.
async fn answers_of(
    prometheus: &Prometheus,
    promql: &str,
    job: &str,
    dropped: &[&str],
) -> Vec<String> {
    let answer = prometheus.query(promql).await;
    let mut series: Vec<String> = answer["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|sample| sample["metric"]["job"] == job)
        .map(|sample| {
            let mut labels = sample["metric"].as_object().cloned().unwrap_or_default();
            labels.remove("job");
            labels.remove("instance");
            if labels.contains_key("collection") {
                labels.retain(|name, _| !dropped.contains(&name.as_str()));
            }
            format!("{labels:?} {}", sample["value"][1])
        })
        .collect();
    series.sort();
    series.dedup();
    series
}

/// The recorded single node, steady cluster and cluster with a peer killed,
/// each scraped through its sidecars at each detail level (one job per
/// level). At `shard`, every recording rule and alert answers as at `full`.
/// At `collection`, each answers as at `full` with the shard and peer labels
/// left out, but the rules of the shard-detail group, which do not answer
/// (the chart leaves them out there), and the points of the cluster with a
/// dead peer, which the replication factor cannot make whole. The steady
/// cluster's collections cost at most 30 series per node at `shard`, 10 at
/// `collection`.
#[actix_web::test]
async fn every_rule_and_alert_answers_the_same_at_each_detail() {
    const CLUSTERS: [(&str, &[&str]); 3] = [
        // The cluster recordings have no level-4 telemetry: segments come from the single node.
        ("single", &[RECORDED]),
        (
            "steady",
            &[
                "cluster-v1.18.3-steady-node-a",
                "cluster-v1.18.3-steady-node-b",
                "cluster-v1.18.3-steady-node-c",
            ],
        ),
        (
            "peer-killed",
            &[
                "transitions-v1.18.3-peer-c-killed-node-a",
                "transitions-v1.18.3-peer-c-killed-node-b",
            ],
        ),
    ];
    const BUDGET: [(&str, usize); 2] = [("collection", 10), ("shard", 30)];
    let mut apps = Vec::new();
    let mut scrape_configs = String::new();
    for (cluster, sidecars) in CLUSTERS {
        for detail in ["collection", "shard", "full"] {
            let mut targets = Vec::new();
            for fixtures in sidecars {
                let app = spawn_app_with(fixtures, |s| {
                    s.detail = Some(detail.into());
                    s.cache_ttl_seconds = Some(0.0);
                })
                .await;
                targets.push(format!("'{}'", app.address.trim_start_matches("http://")));
                apps.push((cluster, detail, app));
            }
            scrape_configs.push_str(&format!(
                "  - job_name: {cluster}-{detail}\n    static_configs:\n      - targets: [{}]\n",
                targets.join(", ")
            ));
        }
    }
    for (cluster, detail, app) in &apps {
        let m = app.scrape_settled().await;
        let Some((_, budget)) = BUDGET.iter().find(|(level, _)| level == detail) else {
            continue;
        };
        if *cluster == "steady" {
            for collection in ["orders", "small"] {
                let series = m.matches(&format!("collection=\"{collection}\"")).count();
                assert!(
                    series <= *budget,
                    "{detail}: {collection} costs {series} series"
                );
            }
        }
    }
    let data = tempfile::tempdir().unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         rule_files: ['{RULES_PATH}']\nscrape_configs:\n{scrape_configs}"
    );
    let prometheus = Prometheus::run(&config, data.path());
    let shard_detail = rule_names_of_group(SHARD_DETAIL_GROUP);
    let outside = |name: &str| !shard_detail.iter().any(|rule| rule == name);
    let alerts_outside = format!("ALERTS{{alertname!~\"{}\"}}", shard_detail.join("|"));
    let alerts_inside = format!("ALERTS{{alertname=~\"{}\"}}", shard_detail.join("|"));
    let compared = || async {
        let mut differences = Vec::new();
        // The optimizer's time to green needs points optimized over time: recordings stand still.
        let mut unanswered: Vec<String> = exporters_rules()
            .into_iter()
            .filter(|name| name != "qdrant:collection_optimizer_eta:seconds")
            .collect();
        for (cluster, _) in CLUSTERS {
            let job = |detail: &str| format!("{cluster}-{detail}");
            for query in exporters_rules().into_iter().chain(["ALERTS".to_owned()]) {
                let full = answers_of(&prometheus, &query, &job("full"), &[]).await;
                if !full.is_empty() {
                    unanswered.retain(|name| *name != query);
                }
                let shard = answers_of(&prometheus, &query, &job("shard"), &[]).await;
                if shard != full {
                    differences.push(format!("{cluster} shard {query}:\n  {shard:?}\n  {full:?}"));
                }
            }
            let mut per_collection: Vec<String> = exporters_rules()
                .into_iter()
                .filter(|name| outside(name))
                .filter(|name| cluster != "peer-killed" || name != "qdrant:collection_points:sum")
                .collect();
            per_collection.push(alerts_outside.clone());
            for query in per_collection {
                let dropped = ["shard_id", "peer_id"];
                let full = answers_of(&prometheus, &query, &job("full"), &dropped).await;
                let collection = answers_of(&prometheus, &query, &job("collection"), &[]).await;
                if collection != full {
                    differences.push(format!(
                        "{cluster} collection {query}:\n  {collection:?}\n  {full:?}"
                    ));
                }
            }
            for query in shard_detail
                .iter()
                .filter(|name| name.starts_with("qdrant:"))
                .chain([&alerts_inside])
            {
                let collection = answers_of(&prometheus, query, &job("collection"), &[]).await;
                if !collection.is_empty() {
                    differences.push(format!(
                        "{cluster} collection answers {query}: {collection:?}"
                    ));
                }
            }
        }
        (unanswered, differences)
    };
    let started = Instant::now();
    let (mut unanswered, mut differences) = compared().await;
    while (!unanswered.is_empty() || !differences.is_empty()) && started.elapsed() < PATIENCE {
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        (unanswered, differences) = compared().await;
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert!(
        unanswered.is_empty(),
        "rules without an answer: {unanswered:?}"
    );
}

/// Two installs in one Prometheus: two recorded clusters (the steady one, and
/// the transitions' steady one, with other collections and figures), each
/// scraped through its three sidecars as the same job in a namespace of its
/// own, and again as a probe target of one job in a shared namespace. Every
/// recording rule and alert answers for each cluster the same wherever it is
/// installed: none folds two into one.
#[actix_web::test]
async fn two_installs_in_one_prometheus_never_merge() {
    // (namespace, target, the cluster's recordings)
    const INSTALLS: [(&str, &str, &str); 4] = [
        ("a", "", "cluster-v1.18.3-steady-node"),
        ("b", "", "transitions-v1.18.3-steady-node"),
        ("c", "x", "cluster-v1.18.3-steady-node"),
        ("c", "y", "transitions-v1.18.3-steady-node"),
    ];
    let mut apps = Vec::new();
    let mut groups = String::new();
    for (namespace, target, cluster) in INSTALLS {
        let mut targets = Vec::new();
        for node in ["a", "b", "c"] {
            let app = spawn_app_with(&format!("{cluster}-{node}"), |s| {
                s.cache_ttl_seconds = Some(0.0);
            })
            .await;
            app.scrape_settled().await;
            targets.push(format!("'{}'", app.address.trim_start_matches("http://")));
            apps.push(app);
        }
        let target = match target {
            "" => String::new(),
            name => format!(", target: {name}"),
        };
        groups.push_str(&format!(
            "      - targets: [{}]\n        labels: {{namespace: {namespace}{target}}}\n",
            targets.join(", ")
        ));
    }
    let data = tempfile::tempdir().unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         rule_files: ['{RULES_PATH}']\nscrape_configs:\n  - job_name: qdrant-exporter\n    \
         static_configs:\n{groups}"
    );
    let prometheus = Prometheus::run(&config, data.path());
    let answers = |query: String| {
        let prometheus = &prometheus;
        async move {
            let answer = prometheus.query(&query).await;
            let mut by_install: std::collections::BTreeMap<(String, String), Vec<String>> =
                INSTALLS
                    .iter()
                    .map(|(n, t, _)| ((n.to_string(), t.to_string()), Vec::new()))
                    .collect();
            for sample in answer["data"]["result"].as_array().into_iter().flatten() {
                let mut labels = sample["metric"].as_object().cloned().unwrap_or_default();
                let label = |name: &str| {
                    let value = labels.get(name).and_then(|value| value.as_str());
                    value.unwrap_or_default().to_owned()
                };
                let install = (label("namespace"), label("target"));
                labels.remove("namespace");
                labels.remove("target");
                // Each install's sidecars listen on addresses of their own.
                labels.remove("instance");
                let series = format!("{labels:?} {}", sample["value"][1]);
                by_install.entry(install).or_default().push(series);
            }
            for series in by_install.values_mut() {
                series.sort();
            }
            by_install
        }
    };
    let install = |namespace: &str, target: &str| (namespace.to_owned(), target.to_owned());
    // What both clusters answer (no level-4 telemetry: no segments or indexed vectors).
    let expected = [
        "qdrant:collection_points:sum",
        "qdrant:collection_status:worst",
        "qdrant:collection_optimizer_ok:min",
        "qdrant:shard_active_replicas:count",
        "qdrant:collection_shards_without_active_replica",
    ];
    let compared = || async {
        let mut differences = Vec::new();
        let mut answered = Vec::new();
        for query in exporters_rules().into_iter().chain(["ALERTS".to_owned()]) {
            let by_install = answers(query.clone()).await;
            let (steady, other) = (
                &by_install[&install("a", "")],
                &by_install[&install("b", "")],
            );
            if by_install.len() != INSTALLS.len()
                || &by_install[&install("c", "x")] != steady
                || &by_install[&install("c", "y")] != other
            {
                differences.push(format!("{query}: {by_install:?}"));
            }
            if !steady.is_empty() && !other.is_empty() && steady != other {
                answered.push(query);
            }
        }
        (answered, differences)
    };
    let all_answered = |answered: &[String]| {
        expected
            .iter()
            .all(|rule| answered.iter().any(|a| a == rule))
    };
    let started = Instant::now();
    let (mut answered, mut differences) = compared().await;
    while (!all_answered(&answered) || !differences.is_empty()) && started.elapsed() < PATIENCE {
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        (answered, differences) = compared().await;
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert!(
        all_answered(&answered),
        "answered, each cluster its own: {answered:?}"
    );

    // Every dashboard query, with the variables set to one install as Grafana
    // would, shows that install's series alone: the same as where the same
    // cluster is installed again (its own exporters: instances and the
    // exporters' own figures differ, so label sets less the instance and
    // the install's own labels).
    let panel = |expr: &str, namespace: &str, target: &str| {
        let query = expr
            .replace("$cluster", "")
            .replace("$namespace", namespace)
            .replace("$job", "qdrant-exporter")
            .replace("$target", target)
            .replace("$instance", ".*")
            .replace("$collection", ".*")
            .replace("$__rate_interval", "1m");
        let prometheus = &prometheus;
        async move {
            let answer = prometheus.query(&query).await;
            assert_eq!(answer["status"], "success", "{query}: {answer}");
            let mut series: Vec<String> = answer["data"]["result"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|sample| {
                    let mut labels = sample["metric"].as_object().cloned().unwrap_or_default();
                    for install in ["instance", "namespace", "target"] {
                        labels.remove(install);
                    }
                    format!("{labels:?}")
                })
                .collect();
            series.sort();
            series.dedup();
            series
        }
    };
    // Rates need two scrapes of each install: compared until they settle.
    let panels_compared = || async {
        let (mut differences, mut shown) = (Vec::new(), 0);
        for expr in dashboard_expressions() {
            let steady = panel(&expr, "a", "").await;
            let other = panel(&expr, "b", "").await;
            let (again, other_again) = (panel(&expr, "c", "x").await, panel(&expr, "c", "y").await);
            if again != steady || other_again != other {
                differences.push(format!(
                    "{expr}:\n  {steady:?} {again:?}\n  {other:?} {other_again:?}"
                ));
            }
            shown += usize::from(!steady.is_empty() && steady != other);
        }
        (differences, shown)
    };
    let started = Instant::now();
    let (mut differences, mut shown) = panels_compared().await;
    while !differences.is_empty() && started.elapsed() < PATIENCE {
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        (differences, shown) = panels_compared().await;
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert!(shown >= 5, "{shown} panels tell the two clusters apart");
}

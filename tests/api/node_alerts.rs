//! The alerts about one node's own trouble (a restart, recovery and
//! low-memory modes, memory, failing and slow requests, a full disk), on what
//! its sidecar serves when its Qdrant is in that trouble: the recorded single
//! node with the trouble written into its answers (telemetry, and Qdrant's own
//! `/metrics` through the relay), or a real filesystem filled up. Judged by
//! the real `promtool test rules`: exactly the alert about the trouble fires.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mock_qdrant::MockQdrant;
use serde_json::Value;

use crate::alerting::{assert_alerts, instance, Expected, Served};
use crate::helpers::{fixture_dir, spawn_app_with, RECORDED};

const NODE: &str = "a";
const BINARY: &str = env!("CARGO_BIN_EXE_qdrant-exporter");

/// The recorded single node, in a directory of its own, with `edit` applied.
fn recorded_with(edit: impl FnOnce(&Path)) -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture_dir(RECORDED)).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, directory.path().join(path.file_name().unwrap())).unwrap();
    }
    edit(directory.path());
    directory
}

/// Edits every recorded telemetry answer (its `result`).
fn edit_telemetry(directory: &Path, edit: impl Fn(&mut Value)) {
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("telemetry") && name.ends_with(".json")) {
            continue;
        }
        let mut telemetry: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        // Not every recorded answer is telemetry (one is Qdrant's error for a bad timeout).
        if let Some(result) = telemetry.get_mut("result").filter(|r| r.is_object()) {
            edit(result);
            std::fs::write(&path, telemetry.to_string()).unwrap();
        }
    }
}

/// Edits the `app` section of every recorded telemetry answer.
fn edit_app(directory: &Path, edit: impl Fn(&mut Value)) {
    edit_telemetry(directory, |result| {
        if let Some(app) = result.get_mut("app") {
            edit(app);
        }
    });
}

/// Rewrites each sample of the recorded `/metrics` as `edit(series, value)`
/// says; a series `born` names after an existing one joins its family there.
fn edit_metrics(directory: &Path, edit: impl Fn(&str, f64) -> f64, born: &[(String, String)]) {
    let path = directory.join("metrics.txt");
    let mut text = String::new();
    for line in std::fs::read_to_string(&path).unwrap().lines() {
        match line.rsplit_once(' ') {
            Some((series, value)) if !line.starts_with('#') => {
                let value = edit(series, value.parse().unwrap());
                text.push_str(&format!("{series} {value}\n"));
                for (_, new_line) in born.iter().filter(|(after, _)| after == series) {
                    text.push_str(&format!("{new_line}\n"));
                }
            }
            _ => text.push_str(&format!("{line}\n")),
        }
    }
    std::fs::write(&path, text).unwrap();
}

/// What the sidecar, relaying Qdrant's own `/metrics`, serves for the node
/// recorded in `directory`.
async fn answer(directory: &Path) -> String {
    let fixtures = directory.to_str().unwrap();
    let app = spawn_app_with(fixtures, |s| s.native_metrics_relay = Some(true)).await;
    app.scrape_settled().await
}

async fn answer_of_recorded_with(edit: impl FnOnce(&Path)) -> String {
    answer(recorded_with(edit).path()).await
}

fn node(served: Served) -> BTreeMap<String, Served> {
    BTreeMap::from([(NODE.to_owned(), served)])
}

fn on_the_node(alert: &'static str) -> Expected {
    Expected::new(alert, &[("instance", &instance(NODE))])
}

/// The recorded node restarted `minutes` after it started.
fn restarted(app: &mut Value, minutes: i64) {
    let startup = app["startup"].as_str().unwrap();
    let started = chrono::DateTime::parse_from_rfc3339(startup).unwrap();
    let again = started + chrono::Duration::minutes(minutes);
    app["startup"] = Value::String(again.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
}

/// The recorded node, with the relay, raises nothing, even after the
/// longest `for`.
#[actix_web::test]
async fn a_healthy_node_raises_no_alert() {
    let served = Served::Steady(answer(&fixture_dir(RECORDED)).await);
    assert_alerts("healthy-node", &node(served), 180, &[]);
}

/// A restart pages once, for 15 minutes.
#[actix_web::test]
async fn a_restart_raises_its_alert_for_15_minutes() {
    let mut answers = vec![answer(&fixture_dir(RECORDED)).await];
    answers.push(answer_of_recorded_with(|d| edit_app(d, |app| restarted(app, 20))).await);
    let served = || Served::Stages {
        answers: answers.clone(),
        minutes_each: 20,
    };
    let restart = [on_the_node("QdrantRestarted")];
    assert_alerts("restarted", &node(served()), 25, &restart);
    assert_alerts("restarted-long-ago", &node(served()), 40, &[]);
}

/// Three restarts in 30 minutes: a loop, which pages instead of each restart.
#[actix_web::test]
async fn restarts_every_five_minutes_raise_the_loop_alone() {
    let mut answers = vec![answer(&fixture_dir(RECORDED)).await];
    for minutes in [5, 10, 15] {
        answers.push(answer_of_recorded_with(|d| edit_app(d, |app| restarted(app, minutes))).await);
    }
    let served = Served::Stages {
        answers,
        minutes_each: 5,
    };
    let expected = [on_the_node("QdrantRestartLoop").showing("3")];
    assert_alerts("restart-loop", &node(served), 17, &expected);
}

/// Qdrant started with `storage.recovery_mode` set: every other figure looks
/// healthy.
#[actix_web::test]
async fn recovery_mode_raises_its_alert() {
    let served = Served::Steady(
        answer_of_recorded_with(|d| {
            edit_app(d, |app| {
                app["features"]["recovery_mode"] = Value::Bool(true)
            })
        })
        .await,
    );
    assert_alerts(
        "recovery-mode",
        &node(served),
        5,
        &[on_the_node("QdrantRecoveryMode")],
    );
}

/// Qdrant loaded its segments without keeping them resident.
#[actix_web::test]
async fn low_memory_mode_raises_its_alert() {
    let served = Served::Steady(
        answer_of_recorded_with(|d| {
            edit_app(d, |app| app["low_memory_mode"] = "no_resident".into())
        })
        .await,
    );
    let expected = [Expected::new(
        "QdrantLowMemoryMode",
        &[("instance", &instance(NODE)), ("mode", "no_resident")],
    )];
    assert_alerts("low-memory-mode", &node(served), 20, &expected);
}

/// Qdrant's allocator resident in 90 % of the memory telemetry says it may
/// use (the machine's, before 1.19).
#[actix_web::test]
async fn memory_near_the_limit_raises_its_alert() {
    let served = Served::Steady(
        answer_of_recorded_with(|d| {
            edit_telemetry(d, |result| {
                if let Some(ram_kib) = result["app"]["system"]["ram_size"].as_f64() {
                    let resident = (ram_kib * 1024.0 * 0.9).round() as u64;
                    result["memory"]["resident_bytes"] = resident.into();
                }
            })
        })
        .await,
    );
    let expected = [on_the_node("QdrantMemoryNearLimit").showing("90%")];
    assert_alerts("memory-near-limit", &node(served), 10, &expected);
}

/// The labels of the recorded successful searches, less the closing brace.
const SEARCHES: &str =
    r#"{method="POST",endpoint="/collections/{collection_name}/points/query",status="200""#;

/// A minute of Qdrant's traffic in which a fifth of 1,000 searches failed.
#[actix_web::test]
async fn failing_searches_burn_the_error_budget() {
    let first = answer(&fixture_dir(RECORDED)).await;
    let then = answer_of_recorded_with(|d| {
        let succeeded = format!("rest_responses_total{SEARCHES}}}");
        let failed = SEARCHES.replace(r#"status="200""#, r#"status="500""#);
        edit_metrics(
            d,
            |series, value| match series == succeeded {
                true => value + 800.0,
                false => value,
            },
            &[(
                succeeded.clone(),
                format!("rest_responses_total{failed}}} 200"),
            )],
        )
    })
    .await;
    let served = Served::Trend {
        first,
        then,
        minutes_apart: 1.0,
    };
    let burning = |alert| Expected::new(alert, &[("transport", "rest")]).showing("20%");
    let expected = [
        burning("QdrantErrorBudgetBurningFast"),
        burning("QdrantErrorBudgetBurningSlow"),
    ];
    assert_alerts("failing-searches", &node(served), 75, &expected);
}

/// A minute of Qdrant's traffic in which 300 of 1,000 searches took 0.5 to
/// 1 s, longer than the objective's 0.5 s; the other 700 0.05 to 0.1 s.
#[actix_web::test]
async fn slow_searches_burn_the_latency_budget() {
    let first = answer(&fixture_dir(RECORDED)).await;
    let then = answer_of_recorded_with(|d| {
        edit_metrics(
            d,
            |series, value| {
                let Some((name, labels)) = series.split_once('{') else {
                    return value;
                };
                if !format!("{{{labels}").starts_with(SEARCHES) {
                    return value;
                }
                let bound = || {
                    let (_, bound) = labels.rsplit_once(r#"le=""#).unwrap();
                    bound.trim_end_matches("\"}").parse::<f64>().unwrap()
                };
                value
                    + match name {
                        "rest_responses_total" | "rest_responses_duration_seconds_count" => 1000.0,
                        "rest_responses_duration_seconds_sum" => 700.0 * 0.075 + 300.0 * 0.75,
                        "rest_responses_duration_seconds_bucket" => match bound() {
                            bound if bound >= 1.0 => 1000.0,
                            bound if bound >= 0.1 => 700.0,
                            _ => 0.0,
                        },
                        _ => 0.0,
                    }
            },
            &[],
        )
    })
    .await;
    let served = Served::Trend {
        first,
        then,
        minutes_apart: 1.0,
    };
    let burning = |alert, share| Expected::new(alert, &[("transport", "rest")]).showing(share);
    // Over 6 hours of series 75 minutes old, rate()'s extrapolation towards
    // zero shaves the recorded answers' head start unevenly off the buckets.
    let expected = [
        burning("QdrantLatencyBudgetBurningFast", "30%"),
        burning("QdrantLatencyBudgetBurningSlow", "29.99%"),
    ];
    assert_alerts("slow-searches", &node(served), 75, &expected);
}

/// The exporter, in a mount namespace of its own, reading a tmpfs of
/// 100 MiB and `inodes` inodes as its storage volume, after `used_mib` MiB
/// and `files` files were written to it. Killed when dropped.
struct SidecarOnAVolume {
    child: Child,
    port: u16,
    _mock: MockQdrant,
    _mount_point: tempfile::TempDir,
}

impl Drop for SidecarOnAVolume {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether this machine lets a process mount a tmpfs in a namespace of its
/// own (`unshare`, from util-linux; a user namespace where not root).
fn private_mounts_work() -> bool {
    Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg("mount -t tmpfs tmpfs /mnt")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

async fn sidecar_on_a_volume(used_mib: u32, inodes: u32, files: u32) -> String {
    let mock = MockQdrant::start(fixture_dir(RECORDED)).unwrap();
    let mount_point = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = r#"set -e
        mount -t tmpfs -o size=100m,nr_inodes="$2" tmpfs "$1"
        head -c "$3" /dev/zero > "$1/segment"
        i=1; while [ "$i" -lt "$4" ]; do : > "$1/file-$i"; i=$((i + 1)); done
        exec "$5""#;
    let child = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(mount_point.path())
        .arg(inodes.to_string())
        .arg((u64::from(used_mib) << 20).to_string())
        .arg(files.to_string())
        .arg(BINARY)
        .env_clear()
        .env("QDRANT_URL", mock.url())
        .env(
            "QDRANT_EXPORTER_LISTEN_ADDRESS",
            format!("127.0.0.1:{port}"),
        )
        .env("QDRANT_EXPORTER_CACHE_TTL_SECONDS", "0")
        .env(
            "QDRANT_EXPORTER_VOLUMES",
            format!("storage={}", mount_point.path().display()),
        )
        .stdout(Stdio::null())
        .spawn()
        .expect("unshare runs (util-linux)");
    let sidecar = SidecarOnAVolume {
        child,
        port,
        _mock: mock,
        _mount_point: mount_point,
    };
    let http = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish();
    let url = format!("http://127.0.0.1:{}/metrics", sidecar.port);
    for _ in 0..200 {
        if let Ok(mut response) = http.get(&url).send().await {
            let body = response.body().limit(16 << 20).await.unwrap();
            return String::from_utf8(body.to_vec()).unwrap();
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the exporter on its own volume never answered");
}

/// A storage volume 85 % full, then one that 10 % more an hour fills within
/// 4 hours, then one out of inodes: each raises its alert alone.
#[actix_web::test]
async fn a_filling_volume_raises_the_disk_alerts() {
    if !private_mounts_work() {
        eprintln!(
            "SKIPPED a_filling_volume_raises_the_disk_alerts: this machine refuses a tmpfs \
             mount in a namespace of the test's own (unshare --user --mount)"
        );
        return;
    }
    let storage = |alert| {
        Expected::new(
            alert,
            &[("instance", &instance(NODE)), ("volume", "storage")],
        )
    };
    let full = Served::Steady(sidecar_on_a_volume(85, 1000, 1).await);
    let expected = [storage("QdrantDiskAlmostFull").showing("85%")];
    assert_alerts("disk-almost-full", &node(full), 10, &expected);

    let filling = Served::Trend {
        first: sidecar_on_a_volume(60, 1000, 1).await,
        then: sidecar_on_a_volume(70, 1000, 1).await,
        minutes_apart: 60.0,
    };
    let expected = [storage("QdrantDiskFillingUp")];
    assert_alerts("disk-filling-up", &node(filling), 75, &expected);

    // 95 files and the root directory of 100 inodes.
    let no_inodes = Served::Steady(sidecar_on_a_volume(1, 100, 95).await);
    let expected = [storage("QdrantInodesAlmostFull").showing("96%")];
    assert_alerts("inodes-almost-full", &node(no_inodes), 20, &expected);
}

//! The real binary: exit codes for bad configuration, and what it logs.

use std::process::Command;
use std::time::Duration;

use mock_qdrant::MockQdrant;

use crate::helpers::{fixture_dir, RECORDED};

const BINARY: &str = env!("CARGO_BIN_EXE_qdrant-exporter");

/// Runs the binary with only the given environment; returns (exit code, stdout, stderr).
fn run(args: &[&str], vars: &[(&str, &str)]) -> (i32, String, String) {
    let output = Command::new(BINARY)
        .args(args)
        .env_clear()
        .envs(vars.iter().copied())
        .output()
        .expect("binary runs");
    (
        output.status.code().expect("exited, not killed"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_configuration_exits_2_with_one_line_naming_the_setting() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 10] = [
        (&["--cache-ttl-seconds=-1"], &[], "cache_ttl_seconds"),
        (&[], &[("QDRANT_URL", "qdrant:6333")], "qdrant_url"),
        (
            &[],
            &[("QDRANT_API_KEY_FILE", "/nonexistent/secret")],
            "qdrant_api_key_file",
        ),
        (
            &["--config", "/nonexistent/config.yaml"],
            &[],
            "/nonexistent/config.yaml",
        ),
        (&["--concurrency", "lots"], &[], "--concurrency"),
        (&["--no-such-flag"], &[], "--no-such-flag"),
        (&["--detail", "some"], &[], "--detail"),
        (
            &[],
            &[(
                "QDRANT_EXPORTER_METRIC_DENYLIST",
                "qdrant_shard_replica_states",
            )],
            "metric_denylist",
        ),
        (
            &["--metric-allowlist", "qdrant_up,("],
            &[],
            "metric_allowlist",
        ),
        (
            &[
                "--metric-allowlist",
                "qdrant_up",
                "--metric-denylist",
                "qdrant_info",
            ],
            &[],
            "metric_denylist",
        ),
    ];
    for (args, vars, named) in cases {
        let (code, stdout, stderr) = run(args, vars);
        assert_eq!(code, 2, "{args:?} {vars:?}: {stderr}");
        assert_eq!(stdout, "", "nothing on stdout");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
        assert!(stderr.contains(named), "{named} not named in {stderr:?}");
    }
}

#[test]
fn list_metrics_prints_the_catalog() {
    let (code, stdout, _) = run(&["list-metrics"], &[]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("family\ttype\tlabels\tscope\tsource\thelp\n"));
    assert!(stdout.contains(
        "\nqdrant_shard_replica_state\tgauge\tcollection,shard_id,peer_id,state\tnode\tshards\t"
    ));
}

#[test]
fn help_and_version_exit_0() {
    let (code, stdout, _) = run(&["--help"], &[]);
    assert_eq!(code, 0);
    assert!(stdout.contains("QDRANT_EXPORTER_CACHE_TTL_SECONDS"));
    let (code, stdout, _) = run(&["--version"], &[]);
    assert_eq!(code, 0);
    assert!(stdout.contains(env!("CARGO_PKG_VERSION")));
}

/// Qdrant rejects the key on three scrapes, then accepts it: the problem is
/// logged once with a hint, the recovery once, and the key never.
#[actix_web::test]
async fn the_key_never_appears_in_logs_and_problems_are_logged_once() {
    const KEY: &str = "very-secret-key-4f1c9a";
    let mock = MockQdrant::start(fixture_dir(RECORDED)).unwrap();
    mock.require_api_key(Some("the-right-key"));
    // Files, not pipes: trace-level output would fill a pipe nobody reads yet and block the exporter.
    let stdout = tempfile::NamedTempFile::new().unwrap();
    let stderr = tempfile::NamedTempFile::new().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(BINARY)
        .env_clear()
        .env("QDRANT_URL", mock.url())
        .env("QDRANT_API_KEY", KEY)
        .env(
            "QDRANT_EXPORTER_LISTEN_ADDRESS",
            format!("127.0.0.1:{port}"),
        )
        .env("QDRANT_EXPORTER_CACHE_TTL_SECONDS", "0")
        // The most verbose level a user could pick, dependencies included.
        .env("QDRANT_EXPORTER_LOG_LEVEL", "trace")
        .env("QDRANT_EXPORTER_LOG_FORMAT", "json")
        .stdout(stdout.reopen().unwrap())
        .stderr(stderr.reopen().unwrap())
        .spawn()
        .unwrap();

    let http = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish();
    let url = format!("http://127.0.0.1:{port}/metrics");
    let mut served = None;
    for _ in 0..100 {
        if let Ok(mut response) = http.get(&url).send().await {
            served = Some(response.body().await.unwrap());
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served.is_some(), "the exporter came up");
    for _ in 0..2 {
        http.get(&url).send().await.unwrap().body().await.unwrap();
    }
    mock.require_api_key(Some(KEY));
    let recovered = http.get(&url).send().await.unwrap().body().await.unwrap();
    assert!(String::from_utf8_lossy(&recovered).contains("qdrant_up 1"));
    http.get(&format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .unwrap();

    // SIGTERM, as Kubernetes sends: a graceful stop with exit code 0.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let logs = std::fs::read_to_string(stdout.path()).unwrap()
        + &std::fs::read_to_string(stderr.path()).unwrap();
    assert!(status.success(), "graceful stop: {status:?}\n{logs}");
    assert!(!logs.contains(KEY), "the API key leaked into the logs");
    assert!(
        !logs.contains(&KEY[..12]),
        "part of the API key leaked into the logs"
    );
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("\"level\":\"WARN\"") && l.contains("401"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning for three failed refreshes:\n{logs}"
    );
    assert!(
        warnings[0].contains("check QDRANT_API_KEY"),
        "{}",
        warnings[0]
    );
    // One line per request, when it ends; successful ones (probes, scrapes) below info level.
    let request_lines = |route: &str| -> Vec<&str> {
        logs.lines()
            .filter(|l| {
                l.contains("\"message\":\"request\"")
                    && l.contains(&format!("\"route\":\"{route}\""))
            })
            .collect()
    };
    let probes = request_lines("/healthz");
    assert_eq!(probes.len(), 1, "{logs}");
    assert!(probes[0].contains("\"level\":\"DEBUG\""), "{}", probes[0]);
    let scrapes = request_lines("/metrics");
    assert_eq!(scrapes.len(), 4, "{logs}");
    assert!(scrapes.iter().all(|l| l.contains("\"level\":\"DEBUG\"")
        && l.contains("\"status\":200")
        && l.contains("\"method\":\"GET\"")
        && l.contains("\"latency_ms\":")));
    let recoveries = logs
        .lines()
        .filter(|l| l.contains("\"level\":\"INFO\"") && l.contains("recovered"))
        .count();
    assert_eq!(recoveries, 1, "{logs}");
}

#[test]
fn the_soft_open_file_limit_is_raised_to_the_hard_limit() {
    // Started with a low soft limit, as many systems set it (1,024).
    let mut child = Command::new("sh")
        .args(["-c", &format!("ulimit -Sn 256 && exec {BINARY}")])
        .env_clear()
        .env("QDRANT_EXPORTER_LISTEN_ADDRESS", "127.0.0.1:0")
        .env("QDRANT_URL", "http://127.0.0.1:9")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let limits_file = format!("/proc/{}/limits", child.id());
    let open_files = || -> Option<(String, String)> {
        let limits = std::fs::read_to_string(&limits_file).ok()?;
        let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
        let mut fields = line["Max open files".len()..].split_whitespace();
        Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
    };
    // The exporter raises it before it listens: wait until it serves.
    let mut raised = None;
    for _ in 0..100 {
        if let Some((soft, hard)) = open_files().filter(|(soft, _)| soft != "256") {
            raised = Some((soft, hard));
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (soft, hard) = raised.expect("the soft limit was raised from 256");
    assert_eq!(soft, hard);
}

/// Runs the binary with `vars` (values as raw bytes) and at most `seconds`:
/// (exit code, stderr). A binary still running then is a failure.
fn run_bounded(args: &[&str], vars: &[(&str, &[u8])], seconds: u64) -> (i32, String) {
    use std::os::unix::ffi::OsStrExt;
    let stderr = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(BINARY)
        .args(args)
        .env_clear()
        .envs(
            vars.iter()
                .map(|(name, value)| (name, std::ffi::OsStr::from_bytes(value))),
        )
        .stdout(std::process::Stdio::null())
        .stderr(stderr.reopen().unwrap())
        .spawn()
        .expect("binary runs");
    for _ in 0..seconds * 20 {
        if let Some(status) = child.try_wait().unwrap() {
            let code = status.code().expect("exited, not killed");
            return (code, std::fs::read_to_string(stderr.path()).unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    panic!("{args:?} still running after {seconds} s");
}

/// Each defect of the careless-operator review: exit 2, one line naming the
/// setting, nothing secret in it, and never a panic or a hang.
#[test]
fn careless_configuration_is_refused_in_one_line_without_secrets() {
    let fifo = tempfile::tempdir().unwrap();
    let fifo_path = fifo.path().join("key");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo_path)
        .status()
        .unwrap();
    assert!(made.success());
    let plain_string = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(plain_string.path(), "qdrant_api_key s3cret-in-yaml\n").unwrap();
    let listen = ["--listen-address", "127.0.0.1:0"];
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a [u8])>, &'a str);
    let mut cases: Vec<Case> = vec![
        (
            vec![],
            vec![("QDRANT_API_KEY", b"abc\xffs3cret")],
            "QDRANT_API_KEY",
        ),
        (
            vec!["--config", plain_string.path().to_str().unwrap()],
            vec![],
            "config file",
        ),
        (
            vec![],
            vec![("QDRANT_URL", b"http://user:s3cret@[::1")],
            "qdrant_url",
        ),
        (
            vec![],
            vec![("QDRANT_API_KEY", b"a\ns3cret")],
            "QDRANT_API_KEY",
        ),
        (
            vec!["--concurrency", "18446744073709551615"],
            vec![],
            "concurrency",
        ),
        (vec!["--collectors", ""], vec![], "collectors"),
        (vec!["--collectors", " , "], vec![], "collectors"),
        (
            vec!["--qdrant-api-key-file", fifo_path.to_str().unwrap()],
            vec![],
            "qdrant_api_key_file",
        ),
    ];
    for level in [
        "warning",
        "verbose",
        "information",
        "debig",
        "",
        "info,qdrant_exporter=loud",
    ] {
        cases.push((
            vec![],
            vec![("QDRANT_EXPORTER_LOG_LEVEL", level.as_bytes())],
            "log_level",
        ));
    }
    for (args, vars, named) in cases {
        let args: Vec<&str> = listen.iter().copied().chain(args).collect();
        let (code, stderr) = run_bounded(&args, &vars, 10);
        assert_eq!(code, 2, "{args:?} {vars:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
        assert!(stderr.contains(named), "{named} not named in {stderr:?}");
        assert!(!stderr.contains("s3cret"), "a secret in {stderr:?}");
        assert!(!stderr.contains("Some("), "{stderr:?}");
    }
}

#[test]
fn messages_say_how_a_setting_is_really_given_and_what_the_value_was() {
    let (code, stderr) = run_bounded(&[], &[("QDRANT_API_KEY", b"   ")], 10);
    assert_eq!(code, 2);
    assert!(stderr.contains("env QDRANT_API_KEY"), "{stderr}");
    assert!(
        !stderr.contains("--qdrant-api-key"),
        "no such flag: {stderr}"
    );
    let (code, stderr) = run_bounded(&["--concurrency", "0"], &[], 10);
    assert_eq!(code, 2);
    assert!(stderr.contains("got 0"), "{stderr}");
}

#[test]
fn a_port_in_use_is_one_line_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let (code, stderr) = run_bounded(
        &["--listen-address", &address],
        &[("RUST_BACKTRACE", b"1")],
        10,
    );
    assert_eq!(code, 1, "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains(&address), "{stderr}");
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
}

#[test]
fn skipping_certificate_verification_is_warned_about_at_start() {
    let stdout = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(BINARY)
        .args(["--listen-address", "127.0.0.1:0"])
        .args(["--qdrant-url", "https://127.0.0.1:1"])
        .args(["--qdrant-tls-insecure-skip-verify", "true"])
        .env_clear()
        .stdout(stdout.reopen().unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut logs = String::new();
    for _ in 0..200 {
        logs = std::fs::read_to_string(stdout.path()).unwrap();
        if logs.contains("serving") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let warning = logs
        .lines()
        .find(|line| line.contains("WARN"))
        .unwrap_or_else(|| panic!("no warning in:\n{logs}"));
    assert!(warning.contains("not verified"), "{warning}");
}

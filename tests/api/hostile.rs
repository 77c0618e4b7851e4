//! What a hostile client, file or upstream could do to the sidecar, one case
//! each: every test here failed before its fix.

use std::io::Write;
use std::time::Duration;

use qdrant_exporter::config::{Cli, Config};

use crate::helpers::{fixture_dir, RECORDED};

fn load_config_file(path: &str) -> String {
    let cli = Cli::try_parse_args(["qdrant-exporter", "--config", path]).expect("valid flags");
    Config::load(cli, Vec::<(String, String)>::new())
        .expect_err(path)
        .to_string()
}

#[test]
fn a_pseudo_file_is_bounded_by_what_is_read_not_by_its_reported_size() {
    // It reports a size of 0, and reading it would fill memory.
    let error = load_config_file("/proc/self/pagemap");
    assert!(error.contains("larger than 1048576 bytes"), "{error}");
}

#[test]
fn deeply_nested_yaml_is_refused_before_it_is_parsed() {
    for nested in ["[".repeat(100_000), "- ".repeat(100_000) + "x"] {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(nested.as_bytes()).unwrap();
        let error = load_config_file(file.path().to_str().unwrap());
        assert!(error.contains("nests deeper than 256 levels"), "{error}");
    }
}

/// The exporter with a health listener, against the recorded single node;
/// returns (main port, health port) and the mock.
fn spawn_with_health_listener() -> (u16, u16, mock_qdrant::MockQdrant) {
    use qdrant_exporter::config::Settings;
    use qdrant_exporter::startup::Application;
    let mock = mock_qdrant::MockQdrant::start(fixture_dir(RECORDED)).unwrap();
    let config = Config::from_settings(Settings {
        listen_address: Some("127.0.0.1:0".into()),
        health_listen_address: Some("127.0.0.1:0".into()),
        qdrant_url: Some(mock.url()),
        ..Settings::default()
    })
    .unwrap();
    let application = Application::build(config.server).unwrap();
    let ports = (application.port(), application.health_port().unwrap());
    actix_web::rt::spawn(application.run_until_stopped());
    (ports.0, ports.1, mock)
}

/// The kubelet's default probe timeout.
const KUBELET_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[actix_web::test]
async fn idle_sockets_on_the_health_listener_do_not_hold_up_the_probes() {
    let (_, health, _mock) = spawn_with_health_listener();
    let http = awc::Client::builder()
        .timeout(KUBELET_PROBE_TIMEOUT)
        .finish();
    let probe = |path: &str| http.get(format!("http://127.0.0.1:{health}{path}")).send();
    assert_eq!(probe("/healthz").await.unwrap().status(), 200, "serving");
    let idle: Vec<std::net::TcpStream> = (0..300)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", health)).unwrap())
        .collect();
    for path in ["/healthz", "/readyz"] {
        let response = probe(path)
            .await
            .unwrap_or_else(|e| panic!("{path} behind {} idle sockets: {e}", idle.len()));
        assert_eq!(response.status(), 200);
    }
}

/// Sockets that each sent one complete request, read its answer, and then,
/// once all had, one byte of the next (sent at once, the byte can come before
/// actix has armed its keep-alive timer, which then closes the connection).
fn one_byte_into_the_next_request(port: u16, count: usize) -> Vec<std::net::TcpStream> {
    use std::io::Read;
    let mut sockets: Vec<std::net::TcpStream> = (0..count)
        .map(|_| {
            let mut socket = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            socket
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: exporter\r\n\r\n")
                .unwrap();
            let mut answer = [0; 256];
            let read = socket.read(&mut answer).unwrap();
            assert!(answer[..read].starts_with(b"HTTP/1.1 200"));
            socket
        })
        .collect();
    for socket in &mut sockets {
        socket.write_all(b"G").unwrap();
    }
    sockets
}

/// Whether the exporter closed the socket within `wait`.
fn closed_within(mut socket: std::net::TcpStream, wait: Duration) -> bool {
    use std::io::Read;
    socket.set_read_timeout(Some(wait)).unwrap();
    match socket.read(&mut [0; 64]) {
        Ok(0) => true,
        Ok(_) => false,
        Err(error) => !matches!(
            error.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

/// actix times a connection's first request head and the idle gap after an
/// answer, but nothing once a byte of a later request has come: such sockets
/// stayed open for good, and 512 of them kept the kubelet's probes out of the
/// health listener. Held by hundreds of such sockets, the health listener
/// answers a probe within 1 s, and the main one, every connection of it
/// taken, serves a scrape once they reach their deadline (5 s); every one of
/// them is closed.
#[actix_web::test]
async fn one_byte_after_a_complete_request_cannot_hold_a_connection() {
    let (main, health, _mock) = spawn_with_health_listener();
    let (health_held, main_held) = actix_web::rt::task::spawn_blocking(move || {
        (
            one_byte_into_the_next_request(health, 400),
            one_byte_into_the_next_request(main, 64),
        )
    })
    .await
    .unwrap();
    let probe = awc::Client::builder()
        .timeout(Duration::from_secs(1))
        .finish()
        .get(format!("http://127.0.0.1:{health}/healthz"))
        .send()
        .await;
    assert_eq!(probe.map(|r| r.status().as_u16()).ok(), Some(200));
    let scrape = awc::Client::builder()
        .timeout(Duration::from_secs(15))
        .finish()
        .get(format!("http://127.0.0.1:{main}/metrics"))
        .send()
        .await
        .expect("a scrape behind 64 held connections")
        .body()
        .limit(16 << 20)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&scrape).contains("\nqdrant_up 1\n"));
    let open = actix_web::rt::task::spawn_blocking(move || {
        [(health_held, 3), (main_held, 3)].map(|(sockets, seconds)| {
            let wait = Duration::from_secs(seconds);
            sockets
                .into_iter()
                .filter(|socket| !closed_within(socket.try_clone().unwrap(), wait))
                .count()
        })
    })
    .await
    .unwrap();
    assert_eq!(open, [0, 0], "sockets still open");
}

/// A free port on the loopback, for the real binary to listen on.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One request over a fresh connection; the whole answer, as the client got it.
fn raw_get(port: u16, path: &str) -> String {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: exporter\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn send_signal(child: &std::process::Child, signal: &str) {
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Polls `done` until it holds, letting the mock (on this thread) serve meanwhile.
async fn until(mut done: impl FnMut() -> bool) {
    while !done() {
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The real binary against `mock`, listening on the returned port, once it
/// accepts connections; its log goes to `log`.
async fn exporter_process(
    mock: &mock_qdrant::MockQdrant,
    vars: &[(&str, &str)],
    log: std::process::Stdio,
) -> (std::process::Child, u16) {
    let port = free_port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_qdrant-exporter"))
        .env_clear()
        .env("QDRANT_URL", mock.url())
        .env(
            "QDRANT_EXPORTER_LISTEN_ADDRESS",
            format!("127.0.0.1:{port}"),
        )
        .envs(vars.iter().copied())
        .stdout(log)
        .spawn()
        .unwrap();
    until(|| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()).await;
    (child, port)
}

/// SIGTERM lets a scrape in flight finish, with the health listener set (the
/// sidecar's default) as without it; SIGHUP does not end the process.
#[actix_web::test]
async fn sigterm_drains_the_scrapes_in_flight_and_sighup_is_ignored() {
    let mock = mock_qdrant::MockQdrant::start(fixture_dir(RECORDED)).unwrap();
    mock.set_latency(Duration::from_millis(600));
    for health in [true, false] {
        mock.reset_requests();
        let health_address = format!("127.0.0.1:{}", free_port());
        let vars: &[(&str, &str)] = match health {
            true => &[("QDRANT_EXPORTER_HEALTH_LISTEN_ADDRESS", &health_address)],
            false => &[],
        };
        let (mut child, port) = exporter_process(&mock, vars, std::process::Stdio::null()).await;
        send_signal(&child, "-HUP");
        let scrape = std::thread::spawn(move || raw_get(port, "/metrics"));
        until(|| !mock.requests().is_empty() || child.try_wait().unwrap().is_some()).await;
        send_signal(&child, "-TERM");
        let mut status = None;
        until(|| {
            status = child.try_wait().unwrap();
            status.is_some() && scrape.is_finished()
        })
        .await;
        let answer = scrape.join().unwrap();
        assert!(
            status.is_some_and(|status| status.success()),
            "health listener {health}: {status:?}"
        );
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.contains("qdrant_up 1"),
            "health listener {health}: the scrape in flight was cut: {answer:?}"
        );
    }
}

/// A client that sends malformed requests writes no ERROR line, and at most a
/// line per ten seconds at info.
#[actix_web::test]
async fn malformed_requests_cannot_flood_the_log() {
    let mock = mock_qdrant::MockQdrant::start(fixture_dir(RECORDED)).unwrap();
    let log = tempfile::NamedTempFile::new().unwrap();
    let vars = [("QDRANT_EXPORTER_LOG_LEVEL", "debug")];
    let (mut child, port) = exporter_process(&mock, &vars, log.reopen().unwrap().into()).await;
    let malformed: [&[u8]; 3] = [
        b"GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    ];
    let sent = actix_web::rt::task::spawn_blocking(move || {
        use std::io::Read;
        for request in malformed.iter().cycle().take(300) {
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream.write_all(request).unwrap();
            let _ = stream.read_to_end(&mut Vec::new());
        }
        raw_get(port, "/healthz")
    })
    .await
    .unwrap();
    assert!(sent.starts_with("HTTP/1.1 200"), "still serving: {sent}");
    send_signal(&child, "-TERM");
    child.wait().unwrap();
    let logs = std::fs::read_to_string(log.path()).unwrap();
    let errors = logs.lines().filter(|line| line.contains("ERROR")).count();
    let failed = logs
        .lines()
        .filter(|line| line.contains("client connection failed"))
        .count();
    assert_eq!(errors, 0, "{logs}");
    assert!((1..=2).contains(&failed), "{failed} lines:\n{logs}");
}

/// Ordinary 4xx from a client with an 8 KB user agent: one info line per ten
/// seconds, the user agent cut short (one such client wrote 71 MB of log in
/// 5 s, a line per request with the whole header).
#[actix_web::test]
async fn client_errors_cannot_flood_the_log() {
    let mock = mock_qdrant::MockQdrant::start(fixture_dir(RECORDED)).unwrap();
    let log = tempfile::NamedTempFile::new().unwrap();
    let (mut child, port) = exporter_process(&mock, &[], log.reopen().unwrap().into()).await;
    let started = std::time::Instant::now();
    actix_web::rt::task::spawn_blocking(move || {
        use std::io::Read;
        let agent = "A".repeat(8 << 10);
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_nodelay(true).unwrap();
        for _ in 0..100 {
            write!(
                stream,
                "GET /nope HTTP/1.1\r\nHost: exporter\r\nUser-Agent: {agent}\r\n\r\n"
            )
            .unwrap();
            let mut answer = [0; 512];
            let read = stream.read(&mut answer).unwrap();
            assert!(answer[..read].starts_with(b"HTTP/1.1 404"));
        }
    })
    .await
    .unwrap();
    send_signal(&child, "-TERM");
    child.wait().unwrap();
    let logs = std::fs::read_to_string(log.path()).unwrap();
    let lines: Vec<&str> = logs.lines().filter(|l| l.contains("status=404")).collect();
    let most = 1 + started.elapsed().as_secs() / 10;
    assert!((1..=most as usize).contains(&lines.len()), "{logs}");
    assert!(
        lines[0].contains("(8192 bytes)") && lines[0].len() < 1024,
        "{}",
        lines[0]
    );
}

/// A Qdrant that echoes the key (compromised, or another server on its
/// address) in its version and a collection's name, which a warning quotes:
/// the key reaches neither `/metrics` nor the log, in any form (a key holding
/// `"` reached 9 warnings JSON-escaped, `{:?}`-escaped or percent-encoded).
#[actix_web::test]
async fn a_qdrant_echoing_the_key_gets_it_into_no_metric_and_no_log_line() {
    for key in ["echoed-secret-7d2e91", r#"echoed"sec\ret-7d2e91"#] {
        let (answer, logs) = echoing_qdrant(key).await;
        assert!(answer.contains("qdrant_up 1"), "{answer}");
        assert!(answer.contains("collection=\"docs\""), "the rest is served");
        assert!(logs.contains("hold the API key"), "{logs}");
        assert!(
            logs.contains("(the API key)"),
            "a warning quoted it: {logs}"
        );
        // The key's tail survives every escape: it is in no form anywhere.
        for text in [&answer, &logs] {
            assert!(!text.contains("7d2e91"), "{key}: {text}");
        }
    }
}

/// The scrape and the log of the real binary, with `key`, against a Qdrant
/// that echoes it in its version, as a collection's name and in the path of
/// a request that fails.
async fn echoing_qdrant(key: &str) -> (String, String) {
    let fixtures = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture_dir(RECORDED)).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, fixtures.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        fixtures.path().join("root.json"),
        serde_json::json!({"title": "qdrant", "version": key, "commit": key}).to_string(),
    )
    .unwrap();
    let mock = mock_qdrant::MockQdrant::start(fixtures.path()).unwrap();
    mock.require_api_key(Some(key));
    mock.synthesize_names(vec![
        key.to_owned(),
        format!("{key}\"quoted"),
        "docs".into(),
    ]);
    let snapshots = format!("/collections/{key}/snapshots");
    mock.fail_path(&snapshots, mock_qdrant::Fault::Status(500));
    let log = tempfile::NamedTempFile::new().unwrap();
    let vars = [
        ("QDRANT_API_KEY", key),
        ("QDRANT_EXPORTER_COLLECTORS", "collections,shards,snapshots"),
        ("QDRANT_EXPORTER_LOG_FORMAT", "json"),
    ];
    let (mut child, port) = exporter_process(&mock, &vars, log.reopen().unwrap().into()).await;
    let answer = actix_web::rt::task::spawn_blocking(move || raw_get(port, "/metrics"))
        .await
        .unwrap();
    send_signal(&child, "-TERM");
    child.wait().unwrap();
    (answer, std::fs::read_to_string(log.path()).unwrap())
}

/// 40 pipelined scrapes on a cold cache (the first 16 wait on the first
/// refresh, and are answered at once when it ends) are all answered, on the
/// one connection.
#[actix_web::test]
async fn pipelined_scrapes_on_a_cold_cache_are_all_answered() {
    const PIPELINED: usize = 40;
    let app = crate::helpers::spawn_app_with(RECORDED, |s| s.cache_ttl_seconds = Some(60.0)).await;
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let answered = actix_web::rt::task::spawn_blocking(move || {
        use std::io::Read;
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let request = "GET /metrics HTTP/1.1\r\nHost: exporter\r\n\r\n";
        stream
            .write_all(request.repeat(PIPELINED).as_bytes())
            .unwrap();
        let (mut answer, mut chunk) = (Vec::new(), vec![0; 1 << 16]);
        let answers = |answer: &[u8]| {
            String::from_utf8_lossy(answer)
                .matches("HTTP/1.1 200 OK")
                .count()
        };
        // Until the last answer has begun and ended, or the exporter closes.
        while answers(&answer) < PIPELINED || !answer.ends_with(b"\n") {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(read) => answer.extend_from_slice(&chunk[..read]),
            }
        }
        answers(&answer)
    })
    .await
    .unwrap();
    assert_eq!(answered, PIPELINED);
}

/// The recorded single node in a directory of its own, with `changes` written over it.
fn recorded_with(changes: &[(&str, &[u8])]) -> tempfile::TempDir {
    let fixtures = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture_dir(RECORDED)).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, fixtures.path().join(path.file_name().unwrap())).unwrap();
    }
    for (file, content) in changes {
        std::fs::write(fixtures.path().join(file), content).unwrap();
    }
    fixtures
}

#[actix_web::test]
async fn a_collection_named_in_invalid_utf8_is_skipped_not_the_whole_listing() {
    let listing: &[u8] =
        b"{\"result\":{\"collections\":[{\"name\":\"docs\"},{\"name\":\"bad\xff\xfename\"}]},\"status\":\"ok\"}";
    let fixtures = recorded_with(&[("collections.json", listing)]);
    let app = crate::helpers::spawn_app_with(fixtures.path().to_str().unwrap(), |s| {
        s.collectors = Some("collections".into());
    })
    .await;
    let m = app.scrape().await;
    assert_eq!(
        crate::helpers::sample(&m, "qdrant_up", ""),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        crate::helpers::sample(
            &m,
            "qdrant_exporter_collections_skipped",
            r#"reason="invalid_name""#
        ),
        Some(1.0)
    );
    assert!(m.contains(r#"collection="docs""#));
    assert!(!m.contains("bad"), "{m}");
}

#[actix_web::test]
async fn collections_named_dot_and_dot_dot_are_sent_encoded() {
    let app = crate::helpers::spawn_app_with(RECORDED, |s| {
        s.collectors = Some("collections,snapshots".into());
    })
    .await;
    app.mock.synthesize_names(vec![".".into(), "..".into()]);
    app.scrape().await;
    let paths: Vec<String> = app
        .mock
        .requests()
        .into_iter()
        .map(|r| r.raw_path)
        .collect();
    for sent in [
        "/collections/%2E/snapshots",
        "/collections/%2E%2E/snapshots",
    ] {
        assert!(paths.iter().any(|path| path == sent), "{sent} in {paths:?}");
    }
    assert!(
        !paths.iter().any(|path| path.starts_with("/collections/./") || path.starts_with("/collections/../")),
        "{paths:?}"
    );
}

#[test]
fn port_0_and_booleans_get_errors_naming_what_is_accepted() {
    let error = |vars: &[(&str, &str)]| {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let cli = Cli::try_parse_args(["qdrant-exporter"]).unwrap();
        Config::load(cli, vars).unwrap_err().to_string()
    };
    let port_0 = error(&[("QDRANT_URL", "http://qdrant:0")]);
    assert!(
        port_0.contains("qdrant_url") && port_0.contains("port 0"),
        "{port_0}"
    );
    let boolean = error(&[("QDRANT_EXPORTER_NATIVE_METRICS_RELAY", "yes")]);
    assert!(boolean.contains("true or false"), "{boolean}");
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"native_metrics_relay: yes\n").unwrap();
    let in_file = load_config_file(file.path().to_str().unwrap());
    assert!(in_file.contains("true or false"), "{in_file}");
}

/// bcrypt reads 72 bytes of a password: a longer one is refused, rather
/// than let in on its start.
#[actix_web::test]
async fn a_password_longer_than_bcrypt_reads_is_refused() {
    use base64::Engine;
    let password = "p".repeat(72);
    let hash = bcrypt::hash(&password, 4).unwrap();
    let web_config =
        crate::certificates::pem_file(&format!("basic_auth_users:\n  admin: {hash}\n"));
    let path = web_config.path().to_owned();
    let app =
        crate::helpers::spawn_app_with(RECORDED, move |s| s.web_config_file = Some(path)).await;
    let status = |password: String| {
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("admin:{password}"));
        let request = app.http.get(format!("{}/metrics", app.address));
        async move {
            request
                .insert_header(("Authorization", format!("Basic {credentials}")))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(password.clone()).await, 200);
    assert_eq!(status(format!("{password}anything")).await, 401);
}

/// A Qdrant that lists a collection twice (or something answering as one)
/// gets each series once: Prometheus refuses a scrape that repeats one.
#[actix_web::test]
async fn a_collection_listed_twice_is_exported_once() {
    let app = crate::helpers::spawn_app_with(RECORDED, |_| {}).await;
    app.mock
        .synthesize_names(["docs", "docs", "news", "docs"].map(String::from).to_vec());
    let text = app.scrape_settled().await;
    let mut seen = std::collections::HashSet::new();
    let repeated: Vec<&str> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' ').map(|(series, _)| series))
        .filter(|series| !seen.insert(*series))
        .collect();
    assert!(repeated.is_empty(), "{repeated:#?}");
    assert!(text.contains(r#"collection="news""#), "{text}");
    assert!(
        text.contains("\nqdrant_collections 2\n"),
        "each name counted once"
    );
    crate::helpers::assert_promtool_accepts(&text);
}

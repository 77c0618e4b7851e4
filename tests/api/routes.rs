//! Probes, landing page, compression and the connection cap.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use mock_qdrant::Fault;
use qdrant_exporter::config::{Config, Settings};
use qdrant_exporter::startup::Application;

use crate::helpers::{assert_promtool_accepts, spawn_app, spawn_app_with, TestApp, RECORDED};

#[actix_web::test]
async fn probes_answer_200_while_qdrant_is_down_and_never_call_it() {
    let app = spawn_app().await;
    app.mock.fail_all(Fault::Status(500));
    for path in ["/healthz", "/readyz"] {
        let response = app.get(path).await;
        assert_eq!(response.status, 200, "{path}");
    }
    assert!(
        app.mock.requests().is_empty(),
        "probes must not touch Qdrant"
    );
}

#[actix_web::test]
async fn opt_in_readiness_follows_the_last_refresh_and_qdrants_recovery() {
    let app = spawn_app_with(RECORDED, |s| {
        s.readiness_requires_qdrant = Some(true);
        s.cache_ttl_seconds = Some(0.0);
    })
    .await;
    // The first probe starts the first refresh, and answers without waiting for it.
    let first = app.get("/readyz").await;
    assert_eq!(first.status, 503, "{}", first.body);
    assert!(first.body.contains("no refresh has finished yet"));
    app.scrape_settled().await;
    let requests = app.mock.requests().len();
    for _ in 0..4 {
        assert_eq!(app.get("/readyz").await.status, 200);
    }
    assert_eq!(
        app.mock.requests().len(),
        requests,
        "probes read the last outcome: they neither start nor wait for a refresh"
    );
    app.mock.fail_all(Fault::Status(401));
    app.scrape().await;
    assert_eq!(app.get("/readyz").await.status, 503);
    assert_eq!(
        app.get("/healthz").await.status,
        200,
        "liveness never depends on Qdrant"
    );
    // Qdrant recovers and nobody scrapes: the probes alone find it out.
    app.mock.clear_faults();
    let mut probes = 0;
    while app.get("/readyz").await.status != 200 {
        probes += 1;
        assert!(probes < 500, "readiness never followed Qdrant's recovery");
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
}

#[actix_web::test]
async fn the_landing_page_links_the_routes_and_holds_no_secret() {
    let app = spawn_app_with(RECORDED, |s| {
        s.qdrant_api_key =
            Some(qdrant_exporter::config::ApiKey::parse("landing-page-secret").unwrap());
    })
    .await;
    let response = app.get("/").await;
    assert_eq!(response.status, 200);
    assert!(response
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    for link in [
        "href=\"/metrics\"",
        "href=\"/healthz\"",
        "href=\"/readyz\"",
        env!("CARGO_PKG_VERSION"),
    ] {
        assert!(
            response.body.contains(link),
            "{link} missing from:\n{}",
            response.body
        );
    }
    assert!(!response.body.contains("landing-page-secret"));
    assert!(
        response.body.contains("/probe: not configured"),
        "{}",
        response.body
    );
    assert!(response
        .body
        .contains("href=\"https://github.com/qdrant-exporter/qdrant-exporter#readme\""));
}

#[actix_web::test]
async fn with_a_probe_configuration_the_landing_page_has_a_probe_form() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        "allowed_targets: [\"https://*.cloud.qdrant.io:6333\"]\nmodules:\n  <cloud>: {}\n",
    )
    .unwrap();
    let path = file.path().to_owned();
    let app = spawn_app_with(RECORDED, move |s| s.probe_config_file = Some(path)).await;
    let body = app.get("/").await.body;
    for part in [
        "<form action=\"/probe\" method=\"get\">",
        "name=\"target\"",
        "<option value=\"&lt;cloud&gt;\">&lt;cloud&gt;</option>",
        "<option value=\"default\">default</option>",
    ] {
        assert!(body.contains(part), "{part} missing from:\n{body}");
    }
}

/// The raw body, not decompressed by the client.
async fn raw(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (awc::http::header::HeaderMap, Vec<u8>) {
    let mut request = app
        .http
        .get(format!("{}{path}", app.address))
        .no_decompress();
    for header in headers {
        request = request.insert_header(*header);
    }
    let mut response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.body().limit(64 * 1024 * 1024).await.unwrap();
    (response.headers().clone(), body.to_vec())
}

#[actix_web::test]
async fn compressed_hits_are_the_cached_compressed_bytes() {
    let app = spawn_app_with(RECORDED, |s| s.cache_ttl_seconds = Some(3600.0)).await;
    // What Prometheus sends: gzip; zstd too where its `zstd-scrape` feature is on.
    let accept = (
        "Accept",
        "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1",
    );
    let mut texts = Vec::new();
    for (accepted, coding) in [("gzip", "gzip"), ("zstd, gzip", "zstd")] {
        let request = [("Accept-Encoding", accepted), accept];
        let (headers, first) = raw(&app, "/metrics", &request).await;
        assert_eq!(headers.get("content-encoding").unwrap(), coding);
        assert_eq!(headers.get("vary").unwrap(), "accept-encoding");
        assert_eq!(headers.get("cache-control").unwrap(), "no-store");
        assert!(headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
        for _ in 0..20 {
            assert_eq!(
                raw(&app, "/metrics", &request).await.1,
                first,
                "the same {coding} bytes on every hit"
            );
        }
        let mut text = String::new();
        match coding {
            "gzip" => flate2::read::GzDecoder::new(&first[..]).read_to_string(&mut text),
            _ => zstd::stream::Decoder::new(&first[..])
                .unwrap()
                .read_to_string(&mut text),
        }
        .unwrap();
        texts.push(text);
    }
    // Made once, by the one refresh: hits neither refresh nor compress again.
    assert_eq!(app.mock.count("/collections"), 1);
    assert_eq!(texts[0], texts[1], "both encode the same text");
    let text = &texts[0];
    assert_promtool_accepts(text);
    for identity in [
        &[][..],
        &[("Accept-Encoding", "identity")],
        &[("Accept-Encoding", "gzip;q=0, br")],
    ] {
        let (headers, plain) = raw(&app, "/metrics", identity).await;
        assert!(headers.get("content-encoding").is_none(), "{identity:?}");
        assert_eq!(plain, text.as_bytes(), "{identity:?}");
    }
}

#[actix_web::test]
async fn head_answers_like_get_without_a_body() {
    let app = spawn_app().await;
    for path in ["/metrics", "/healthz", "/readyz", "/"] {
        let mut response = app
            .http
            .head(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.body().await.unwrap().is_empty(), "{path}");
    }
}

#[actix_web::test]
async fn unknown_paths_are_404() {
    let app = spawn_app().await;
    assert_eq!(app.get("/nope").await.status, 404);
}

/// Serves `settings` with both listeners on `address`; their ports, main first.
fn serve_with_a_health_listener(address: &str, settings: Settings) -> (u16, u16) {
    let config = Config::from_settings(Settings {
        listen_address: Some(address.into()),
        health_listen_address: Some(address.into()),
        ..settings
    })
    .unwrap();
    let application = Application::build(config.server).unwrap();
    let ports = (application.port(), application.health_port().unwrap());
    actix_web::rt::spawn(application.run_until_stopped());
    ports
}

/// With `health_listen_address`, the probes have a listener and a thread of
/// their own, serve nothing else, and ask for no credentials.
#[actix_web::test]
async fn the_health_listener_serves_the_probes_alone_without_credentials() {
    let mock =
        mock_qdrant::MockQdrant::start(crate::helpers::fixture_dir(crate::helpers::RECORDED))
            .unwrap();
    let web_config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        web_config.path(),
        "basic_auth_users:\n  admin: $2b$12$hNf2lSsxfm0.i4a.1kVpSOVyBCfIB51VRjgBUyv6kdnyTlgWj81Ay\n",
    )
    .unwrap();
    let (main, health) = serve_with_a_health_listener(
        "127.0.0.1:0",
        Settings {
            qdrant_url: Some(mock.url()),
            web_config_file: Some(web_config.path().to_owned()),
            ..Settings::default()
        },
    );
    let http = awc::Client::default();
    let status = |port: u16, path: &'static str| {
        let request = http.get(format!("http://127.0.0.1:{port}{path}"));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(health, "/healthz").await, 200);
    assert_eq!(status(health, "/readyz").await, 200);
    assert_eq!(status(health, "/metrics").await, 404, "only the probes");
    assert_eq!(
        status(main, "/healthz").await,
        401,
        "the main listener keeps its auth"
    );
}

/// `:PORT`, the default, takes IPv4 and IPv6 on both listeners: on an IPv6
/// cluster the kubelet probes the pod's IPv6 address, and a refused probe
/// makes the Qdrant pod unready.
#[actix_web::test]
async fn every_listener_answers_over_ipv4_and_ipv6_by_default() {
    let mock =
        mock_qdrant::MockQdrant::start(crate::helpers::fixture_dir(crate::helpers::RECORDED))
            .unwrap();
    let (main, health) = serve_with_a_health_listener(
        ":0",
        Settings {
            qdrant_url: Some(mock.url()),
            ..Settings::default()
        },
    );
    let http = awc::Client::default();
    for host in ["127.0.0.1", "[::1]"] {
        for (port, path) in [(main, "/metrics"), (health, "/healthz")] {
            let url = format!("http://{host}:{port}{path}");
            let mut response = http
                .get(&url)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(response.status(), 200, "{url}");
            let body = response.body().limit(16 << 20).await.unwrap();
            if path == "/metrics" {
                let text = String::from_utf8_lossy(&body);
                assert!(text.contains("\nqdrant_up 1\n"), "{url}");
            }
        }
    }
}

/// One request on a raw connection; the first bytes of the answer, or the
/// read error when none came within `wait`.
fn ask_healthz(stream: &mut TcpStream, wait: Duration) -> std::io::Result<String> {
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: exporter\r\n\r\n")?;
    stream.set_read_timeout(Some(wait))?;
    let mut answer = [0; 512];
    let read = stream.read(&mut answer)?;
    Ok(String::from_utf8_lossy(&answer[..read]).into_owned())
}

#[actix_web::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    // actix caps connections per worker: one each, as many workers as cores.
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let app = spawn_app_with(RECORDED, |s| s.max_connections = Some(workers)).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    // Blocking sockets, off the runtime that runs the server's own task.
    actix_web::rt::task::spawn_blocking(move || {
        let connect = || TcpStream::connect(&address).unwrap();
        let mut held: Vec<TcpStream> = (0..workers).map(|_| connect()).collect();
        for stream in &mut held {
            let answer = ask_healthz(stream, Duration::from_secs(10)).unwrap();
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        }
        let mut waiting = connect();
        let early = ask_healthz(&mut waiting, Duration::from_millis(300));
        assert!(
            early.is_err(),
            "answered beyond the cap of {workers}: {early:?}"
        );
        held.pop();
        let mut answer = [0; 512];
        waiting
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let read = waiting.read(&mut answer).unwrap();
        assert!(
            answer[..read].starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&answer[..read])
        );
    })
    .await
    .unwrap();
}

//! Qdrant failing in every way it can: /metrics still answers 200, with
//! `qdrant_up 0` and the exporter's own metrics, within the refresh deadline.

use std::time::{Duration, Instant};

use mock_qdrant::Fault;

use crate::helpers::{
    all_collectors, collector_success, everything, sample, shard_0, spawn_app, spawn_app_with,
    value, RECORDED, RECORDED_INFO,
};

/// Short timeouts so that a hanging Qdrant costs the test about a second.
fn quick_timeouts(settings: &mut qdrant_exporter::config::Settings) {
    settings.request_timeout_seconds = Some(1.0);
    settings.refresh_timeout_seconds = Some(1.5);
    settings.cache_ttl_seconds = Some(0.0);
}

#[track_caller]
fn assert_down_but_answering(m: &str) {
    assert_eq!(value(m, "qdrant_up", ""), 0.0, "{m}");
    assert_eq!(collector_success(m, "collections"), 0.0);
    assert_eq!(
        sample(m, "qdrant_collections", ""),
        None,
        "no stale data on failure"
    );
    assert!(
        !m.contains("qdrant_collection_points"),
        "no stale data on failure"
    );
    assert!(m.contains("qdrant_exporter_build_info{"));
}

#[actix_web::test]
async fn every_kind_of_failure_gives_qdrant_up_0_and_a_200() {
    for (fault, class) in [
        (Fault::Status(401), "4xx"),
        (Fault::Status(403), "4xx"),
        (Fault::Status(500), "5xx"),
        (Fault::Status(503), "5xx"),
        (Fault::Garbage, "2xx"),
        (Fault::Hang, "timeout"),
    ] {
        let app = spawn_app_with(RECORDED, quick_timeouts).await;
        app.mock.fail_all(fault.clone());
        let m = app.scrape().await;
        assert_down_but_answering(&m);
        let requests = format!(r#"endpoint="/collections",status_class="{class}""#);
        assert_eq!(
            value(&m, "qdrant_exporter_qdrant_requests_total", &requests),
            1.0,
            "{fault:?}"
        );
    }
}

#[actix_web::test]
async fn connection_refused_gives_qdrant_up_0() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let app = spawn_app_with(RECORDED, |s| {
        quick_timeouts(s);
        s.qdrant_url = Some(format!("http://127.0.0.1:{closed_port}"));
    })
    .await;
    let m = app.scrape().await;
    assert_down_but_answering(&m);
    assert_eq!(sample(&m, "qdrant_info", ""), None);
    assert_eq!(
        value(
            &m,
            "qdrant_exporter_qdrant_requests_total",
            r#"endpoint="/collections",status_class="error""#
        ),
        1.0
    );
}

#[actix_web::test]
async fn a_scrape_waits_no_longer_than_its_timeout_and_gets_the_previous_exposition() {
    // Every scrape asks for a refresh; the configured limits are far above the scrape timeout.
    let app = spawn_app_with(RECORDED, |s| {
        s.cache_ttl_seconds = Some(0.0);
        s.request_timeout_seconds = Some(300.0);
        s.refresh_timeout_seconds = Some(300.0);
    })
    .await;
    let previous = app.scrape().await;
    assert_eq!(value(&previous, "qdrant_up", ""), 1.0);
    app.mock.set_latency(Duration::from_secs(30));
    let started = Instant::now();
    let response = app
        .get_with("/metrics", &[("X-Prometheus-Scrape-Timeout-Seconds", "2")])
        .await;
    let waited = started.elapsed();
    assert_eq!(response.status, 200);
    // It waits its timeout less the 0.5 s margin, then answers: Prometheus gets an answer.
    assert!(waited < Duration::from_secs(2), "answered after {waited:?}");
    // The previous refresh's figures, with the time they were fetched: honestly aged.
    assert_eq!(response.body, previous);
    assert_eq!(
        app.mock.count("/collections"),
        2,
        "the slow refresh runs on"
    );
}

#[actix_web::test]
async fn a_tiny_client_timeout_does_not_change_what_the_next_scraper_sees() {
    let app = spawn_app_with(RECORDED, |s| s.cache_ttl_seconds = Some(0.0)).await;
    app.mock.set_latency(Duration::from_millis(300));
    // This client gives up at once: before any refresh finished it gets qdrant_up 0 ...
    let impatient = app
        .get_with(
            "/metrics",
            &[("X-Prometheus-Scrape-Timeout-Seconds", "0.001")],
        )
        .await;
    assert_eq!(impatient.status, 200);
    assert_eq!(value(&impatient.body, "qdrant_up", ""), 0.0);
    // ... but the refresh it started runs to the end, and the next scraper gets its figures.
    let m = app.scrape().await;
    assert_eq!(value(&m, "qdrant_up", ""), 1.0);
    assert_eq!(app.mock.count("/collections"), 1, "one refresh served both");
}

#[actix_web::test]
async fn qdrant_recovering_is_seen_on_the_next_refresh() {
    let app = spawn_app_with(RECORDED, quick_timeouts).await;
    app.mock.fail_all(Fault::Status(500));
    assert_eq!(value(&app.scrape().await, "qdrant_up", ""), 0.0);
    app.mock.clear_faults();
    let m = app.scrape().await;
    assert_eq!(value(&m, "qdrant_up", ""), 1.0);
    assert_eq!(
        value(&m, "qdrant_shard_local_points", &shard_0("docs")),
        2000.0
    );
}

#[actix_web::test]
async fn one_failing_collection_fails_the_collector_but_not_the_others() {
    // The snapshots collector asks per collection: one failing listing fails it alone.
    let app = spawn_app().await;
    app.mock
        .fail_path("/collections/images/snapshots", Fault::Status(500));
    let m = app.scrape().await;
    assert_eq!(value(&m, "qdrant_up", ""), 1.0);
    assert_eq!(collector_success(&m, "snapshots"), 0.0);
    assert_eq!(collector_success(&m, "collections"), 1.0);
    let images = r#"collection="images""#;
    assert_eq!(sample(&m, "qdrant_collection_snapshots", images), None);
    assert_eq!(
        value(&m, "qdrant_collection_snapshots", r#"collection="docs""#),
        0.0
    );
    assert_eq!(
        value(&m, "qdrant_shard_local_points", &shard_0("images")),
        500.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_exporter_qdrant_requests_total",
            r#"endpoint="/collections/{name}/snapshots",status_class="5xx""#
        ),
        1.0
    );
}

#[actix_web::test]
async fn a_collection_deleted_between_list_and_fetch_is_skipped_without_failing() {
    let app = spawn_app().await;
    app.mock.vanish_collection("images");
    let m = app.scrape().await;
    assert_eq!(value(&m, "qdrant_up", ""), 1.0);
    assert_eq!(collector_success(&m, "snapshots"), 1.0);
    assert_eq!(value(&m, "qdrant_collections", ""), 5.0);
    assert_eq!(
        sample(&m, "qdrant_collection_snapshots", r#"collection="images""#),
        None
    );
    assert_eq!(
        value(&m, "qdrant_collection_snapshots", r#"collection="sparse""#),
        0.0
    );
}

#[actix_web::test]
async fn the_api_key_header_is_sent_on_every_request() {
    let app = spawn_app_with(RECORDED, |s| {
        s.qdrant_api_key = Some(qdrant_exporter::config::ApiKey::parse("secret-ro").unwrap());
        everything(s);
    })
    .await;
    app.mock.require_api_key(Some("secret-ro"));
    let m = app.scrape_settled().await;
    assert_eq!(value(&m, "qdrant_up", ""), 1.0);
    for collector in all_collectors() {
        assert_eq!(collector_success(&m, collector), 1.0, "{collector}");
    }
    let requests = app.mock.requests();
    // Every refresh: /, /collections, /cluster, /telemetry (and /metrics); once:
    // /issues and, for each of the 5 collections, its snapshots, optimizations
    // and memory (/quotas is not asked of 1.18; a single node asks no peers).
    assert!(requests.len() >= 4 + 1 + 3 * 5, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|r| r.api_key.as_deref() == Some("secret-ro")),
        "{requests:?}"
    );
}

#[actix_web::test]
async fn no_api_key_header_without_a_key() {
    let app = spawn_app().await;
    app.scrape().await;
    let requests = app.mock.requests();
    assert!(!requests.is_empty());
    assert!(requests.iter().all(|r| r.api_key.is_none()), "{requests:?}");
}

#[actix_web::test]
async fn a_wrong_or_missing_key_is_qdrant_up_0() {
    for key in [None, Some("wrong-key")] {
        let app = spawn_app_with(RECORDED, |s| {
            s.qdrant_api_key = key.map(|key| qdrant_exporter::config::ApiKey::parse(key).unwrap());
        })
        .await;
        app.mock.require_api_key(Some("secret-ro"));
        let m = app.scrape().await;
        assert_down_but_answering(&m);
        // GET / needs no key, so the version is still known.
        assert_eq!(value(&m, "qdrant_info", RECORDED_INFO), 1.0);
        assert!(!m.contains("secret-ro") && !m.contains("wrong-key"));
    }
}

#[actix_web::test]
async fn a_response_over_the_size_limit_fails_that_request_only() {
    // The listing (~170 B) fits; the telemetry (35 KiB) does not.
    let app = spawn_app_with(RECORDED, |s| s.max_response_bytes = Some(1024)).await;
    let m = app.scrape().await;
    assert_eq!(value(&m, "qdrant_up", ""), 1.0);
    assert_eq!(value(&m, "qdrant_collections", ""), 5.0);
    assert_eq!(collector_success(&m, "collections"), 0.0);
    assert_eq!(
        sample(&m, "qdrant_shard_local_points", &shard_0("docs")),
        None
    );
}

/// What an answer takes once read is bounded like its bytes: a telemetry
/// within `max_response_bytes` whose thousands of entries would take more
/// once read fails the collectors it feeds, and nothing else.
#[actix_web::test]
async fn an_answer_that_would_take_too_much_once_read_fails_that_request_only() {
    let sized = mock_qdrant::MockQdrant::start(crate::helpers::fixture_dir(RECORDED)).unwrap();
    sized.synthesize(1000);
    let body = awc::Client::default()
        .get(format!("{}/telemetry?details_level=3", sized.url()))
        .send()
        .await
        .unwrap()
        .body()
        .limit(64 << 20)
        .await
        .unwrap();
    // The 1.4 MB answer of 1,000 collections takes about 2.2 MiB once read.
    for (limit, read) in [(body.len() * 5 / 4, false), (body.len() * 2, true)] {
        let app = spawn_app_with(RECORDED, |s| {
            s.collectors = Some("collections".into());
            s.max_response_bytes = Some(limit);
        })
        .await;
        app.mock.synthesize(1000);
        let m = app.scrape().await;
        assert_eq!(value(&m, "qdrant_up", ""), 1.0);
        assert_eq!(value(&m, "qdrant_collections", ""), 1000.0);
        assert_eq!(
            collector_success(&m, "collections"),
            f64::from(u8::from(read)),
            "limit {limit}"
        );
    }
}

/// A redirect would take the API key wherever it points: it is not followed.
#[actix_web::test]
async fn a_redirect_is_not_followed_and_the_key_stays_home() {
    let elsewhere = mock_qdrant::MockQdrant::start(crate::helpers::fixture_dir(RECORDED)).unwrap();
    let app = spawn_app_with(RECORDED, |s| {
        quick_timeouts(s);
        s.qdrant_api_key = Some(qdrant_exporter::config::ApiKey::parse("secret-ro").unwrap());
    })
    .await;
    app.mock
        .fail_all(Fault::Redirect(format!("{}/collections", elsewhere.url())));
    let m = app.scrape().await;
    assert_down_but_answering(&m);
    assert_eq!(
        value(
            &m,
            "qdrant_exporter_qdrant_requests_total",
            r#"endpoint="/collections",status_class="3xx""#
        ),
        1.0
    );
    assert_eq!(elsewhere.requests(), [], "nothing reached the other host");
}

/// A name no Qdrant accepts (a 100 kB one; one with a `/`, refused in every
/// version, which keeps `collection="/other"` free for the folded
/// collections) is skipped with its reason, not asked about in vain on every
/// refresh.
#[actix_web::test]
async fn a_collection_name_qdrant_would_refuse_is_skipped() {
    let app = spawn_app_with(RECORDED, |s| {
        s.collectors = Some("collections,snapshots".into());
    })
    .await;
    app.mock.synthesize_names(vec![
        "n".repeat(100_000),
        "fine".into(),
        "slash/inside".into(),
        "/other".into(),
    ]);
    let m = app.scrape().await;
    assert_eq!(
        value(
            &m,
            "qdrant_exporter_collections_skipped",
            r#"reason="invalid_name""#
        ),
        3.0
    );
    assert!(!m.contains("slash/inside") && !m.contains(r#"collection="/other""#));
    assert_eq!(collector_success(&m, "collections"), 1.0);
    assert_eq!(collector_success(&m, "snapshots"), 1.0);
    assert_eq!(
        value(&m, "qdrant_collection_snapshots", r#"collection="fine""#),
        0.0
    );
    assert!(app
        .mock
        .requests()
        .iter()
        .all(|request| request.raw_path.len() < 1000));
    assert!(!m.contains("nnnnnnnnnn"));
}

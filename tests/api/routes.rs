//! Probes, landing page and compression.

use std::io::Read;

use mock_qdrant::Fault;

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
async fn opt_in_readiness_follows_qdrant() {
    let app = spawn_app_with(RECORDED, |s| {
        s.readiness_requires_qdrant = Some(true);
        s.cache_ttl_seconds = Some(0.0);
    })
    .await;
    assert_eq!(app.get("/readyz").await.status, 200);
    app.mock.fail_all(Fault::Status(401));
    assert_eq!(app.get("/readyz").await.status, 503);
    assert_eq!(
        app.get("/healthz").await.status,
        200,
        "liveness never depends on Qdrant"
    );
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
async fn gzip_hits_are_the_cached_compressed_bytes() {
    let app = spawn_app_with(RECORDED, |s| s.cache_ttl_seconds = Some(3600.0)).await;
    // What Prometheus sends.
    let gzip = [
        ("Accept-Encoding", "gzip"),
        ("Accept", "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1"),
    ];
    let (headers, first) = raw(&app, "/metrics", &gzip).await;
    assert_eq!(headers.get("content-encoding").unwrap(), "gzip");
    assert_eq!(headers.get("vary").unwrap(), "accept-encoding");
    assert!(headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    for _ in 0..20 {
        assert_eq!(
            raw(&app, "/metrics", &gzip).await.1,
            first,
            "the same bytes on every hit"
        );
    }
    // Made once, by the one refresh: hits neither refresh nor compress again.
    assert_eq!(app.mock.count("/collections"), 1);
    let mut text = String::new();
    flate2::read::GzDecoder::new(&first[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_promtool_accepts(&text);
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

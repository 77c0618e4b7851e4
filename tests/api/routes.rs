//! Probes, landing page and compression.

use mock_qdrant::Fault;

use crate::helpers::{spawn_app, spawn_app_with, RECORDED};

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
        s.qdrant_api_key = Some(qdrant_exporter::config::ApiKey::new("landing-page-secret"));
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

#[actix_web::test]
async fn metrics_are_gzipped_when_the_scraper_asks() {
    let app = spawn_app().await;
    // awc decompresses transparently, so look at the header awc leaves in place.
    let response = app
        .http
        .get(format!("{}/metrics", app.address))
        .insert_header(("Accept-Encoding", "gzip"))
        .no_decompress()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("content-encoding").unwrap(), "gzip");
    let plain = app
        .get_with("/metrics", &[("Accept-Encoding", "identity")])
        .await;
    assert!(plain
        .headers
        .get("content-encoding")
        .is_none_or(|e| e == "identity"));
    assert!(plain
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
}

#[actix_web::test]
async fn unknown_paths_are_404() {
    let app = spawn_app().await;
    assert_eq!(app.get("/nope").await.status, 404);
}

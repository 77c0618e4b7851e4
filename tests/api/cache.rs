//! The cache: single-flight refreshes, TTL, and series that vanish with their collection.

use std::time::Duration;

use futures_util::future::join_all;

use crate::helpers::{collector_success, sample, shard_0, spawn_app_with, value, RECORDED};

#[actix_web::test]
async fn fifty_concurrent_scrapes_on_a_cold_cache_cause_one_refresh() {
    // The cache is empty while the first refresh runs, so without single-flight every scrape
    // arriving meanwhile would refresh too. A long TTL keeps a scrape that a slow machine
    // delays past that refresh from counting as a second one.
    let app = spawn_app_with(RECORDED, |s| s.cache_ttl_seconds = Some(600.0)).await;
    // Slow enough that the fifty arrive while the first refresh is running.
    app.mock.set_latency(Duration::from_millis(200));
    let scrapes = join_all((0..50).map(|_| app.scrape())).await;
    assert_eq!(
        app.mock.count("/collections"),
        1,
        "one refresh for all concurrent scrapes"
    );
    assert_eq!(app.mock.count("/telemetry"), 1);
    for m in &scrapes {
        assert_eq!(
            value(m, "qdrant_shard_local_points", &shard_0("docs")),
            2000.0
        );
    }
}

#[actix_web::test]
async fn scrapes_within_the_ttl_are_served_from_cache() {
    let app = spawn_app_with(RECORDED, |s| s.cache_ttl_seconds = Some(3600.0)).await;
    for _ in 0..5 {
        app.scrape().await;
    }
    assert_eq!(app.mock.count("/collections"), 1);
    assert_eq!(app.mock.count("/"), 1);
}

#[actix_web::test]
async fn ttl_zero_refreshes_on_every_scrape() {
    let app = spawn_app_with(RECORDED, |s| s.cache_ttl_seconds = Some(0.0)).await;
    for _ in 0..3 {
        app.scrape().await;
    }
    assert_eq!(app.mock.count("/collections"), 3);
}

#[actix_web::test]
async fn an_expired_ttl_refreshes_and_a_deleted_collection_vanishes() {
    let ttl = Duration::from_secs(1);
    let app = spawn_app_with(RECORDED, |s| s.cache_ttl_seconds = Some(ttl.as_secs_f64())).await;
    let before = app.scrape().await;
    assert_eq!(
        value(&before, "qdrant_shard_local_points", &shard_0("images")),
        500.0
    );

    app.mock.delete_collection("images");
    // Still within the TTL (the figures are at most `ttl` old): the cached answer.
    let cached = app.scrape().await;
    assert_eq!(app.mock.count("/collections"), 1);
    assert_eq!(cached, before, "a cache hit serves the same bytes");

    // Past the TTL, whatever the machine's speed.
    actix_web::rt::time::sleep(ttl).await;
    let after = app.scrape().await;
    assert_eq!(app.mock.count("/collections"), 2);
    assert_eq!(value(&after, "qdrant_collections", ""), 4.0);
    assert!(
        !after.contains(r#"collection="images""#),
        "every series of the deleted collection is gone"
    );
    assert_eq!(
        sample(&after, "qdrant_shard_local_points", &shard_0("docs")),
        Some(2000.0)
    );
}

#[actix_web::test]
async fn a_failed_refresh_is_cached_too_so_a_struggling_qdrant_is_not_hammered() {
    let app = spawn_app_with(RECORDED, |s| s.cache_ttl_seconds = Some(3600.0)).await;
    app.mock.fail_all(mock_qdrant::Fault::Status(503));
    for _ in 0..5 {
        assert_eq!(value(&app.scrape().await, "qdrant_up", ""), 0.0);
    }
    assert_eq!(app.mock.count("/collections"), 1);
}

#[actix_web::test]
async fn the_fan_out_is_bounded_by_concurrency_in_requests_and_connections() {
    let app = spawn_app_with(RECORDED, |s| s.concurrency = Some(4)).await;
    app.mock.synthesize(200);
    // Latency keeps requests overlapping, so that the bound is what limits them.
    app.mock.set_latency(Duration::from_millis(10));
    let m = app.scrape().await;
    assert_eq!(value(&m, "qdrant_collections", ""), 200.0);
    assert_eq!(collector_success(&m, "collections"), 1.0);
    let most = app.mock.most_in_flight();
    assert!(
        (2..=4).contains(&most),
        "in flight at once: {most}, expected parallel but at most 4"
    );
    let connections = app.mock.connections();
    assert!(
        connections <= 4,
        "{connections} connections for 202 requests"
    );
}

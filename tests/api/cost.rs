//! What a refresh costs Qdrant: a fixed number of requests whatever the number
//! of collections, and slow collectors only once per interval.

use crate::helpers::{collector_success, shard_0, spawn_app_with, value, RECORDED};

/// Requests of one refresh with the default collectors, after the first (which
/// also runs the collectors that have an interval).
async fn requests_of_a_later_refresh(collections: usize) -> Vec<String> {
    let app = spawn_app_with(RECORDED, |s| s.cache_ttl_seconds = Some(0.0)).await;
    app.mock.synthesize(collections);
    // The first refresh starts the cluster-scope collectors in the background.
    app.scrape_settled().await;
    app.mock.reset_requests();
    let m = app.scrape().await;
    assert_eq!(value(&m, "qdrant_collections", ""), collections as f64);
    let last = format!("collection-{:04}", collections - 1);
    assert_eq!(
        value(&m, "qdrant_shard_local_points", &shard_0(&last)),
        100.0 * collections as f64,
        "every collection exported"
    );
    let mut paths: Vec<String> = app
        .mock
        .requests()
        .into_iter()
        .map(|r| r.raw_path)
        .collect();
    paths.sort();
    paths
}

#[actix_web::test]
async fn the_requests_of_a_refresh_do_not_depend_on_the_number_of_collections() {
    let few = requests_of_a_later_refresh(10).await;
    // The telemetry's collectors have an interval (25 s): within it, a later
    // refresh serves their figures again and asks only these.
    assert_eq!(few, ["/", "/cluster", "/collections"]);
    for collections in [100, 1000] {
        assert_eq!(
            requests_of_a_later_refresh(collections).await,
            few,
            "{collections}"
        );
    }
}

fn data_age(m: &str, collector: &str) -> f64 {
    value(
        m,
        "qdrant_exporter_collector_data_age_seconds",
        &format!(r#"collector="{collector}""#),
    )
}

#[actix_web::test]
async fn a_collector_with_an_interval_runs_once_per_interval_and_says_how_old_its_figures_are() {
    let app = spawn_app_with(RECORDED, |s| {
        s.cache_ttl_seconds = Some(0.0);
        s.collector_intervals = Some("snapshots=3600,issues=0".into());
    })
    .await;
    let first = app.scrape().await;
    assert_eq!(data_age(&first, "snapshots"), 0.0);
    let mut ages = Vec::new();
    let mut later = String::new();
    for _ in 0..3 {
        later = app.scrape().await;
        ages.push(data_age(&later, "snapshots"));
    }
    assert_eq!(app.mock.count("/collections/images/snapshots"), 1);
    assert_eq!(
        app.mock.count("/issues"),
        4,
        "an interval of 0 runs on every refresh"
    );
    assert_eq!(app.mock.count("/collections"), 4);
    assert_eq!(
        app.mock.count("/telemetry"),
        1,
        "the telemetry is read once per its collectors' interval"
    );
    // Served again, unchanged, with its age.
    assert_eq!(
        value(
            &later,
            "qdrant_collection_snapshots",
            r#"collection="images""#
        ),
        1.0
    );
    assert_eq!(collector_success(&later, "snapshots"), 1.0);
    assert!(
        ages.windows(2).all(|pair| pair[0] < pair[1]) && ages[0] > 0.0,
        "the age grows from refresh to refresh: {ages:?}"
    );
    assert_eq!(data_age(&later, "cluster"), 0.0);
    assert!(data_age(&later, "collections") > 0.0);

    // A collection deleted meanwhile leaves the reused figures at once.
    app.mock.delete_collection("images");
    let after = app.scrape().await;
    assert_eq!(app.mock.count("/collections/images/snapshots"), 1);
    assert!(!after.contains(r#"collection="images""#), "{after}");
}

/// One telemetry read serves every collector reading it at that level or
/// below, whatever their intervals: it costs Qdrant nothing more.
#[actix_web::test]
async fn a_telemetry_read_runs_every_collector_that_reads_it_at_that_level() {
    for (intervals, level_4_read) in [("collections=0", false), ("segments=0", true)] {
        let app = spawn_app_with(RECORDED, |s| {
            s.cache_ttl_seconds = Some(0.0);
            s.collector_intervals = Some(intervals.into());
        })
        .await;
        app.scrape_settled().await;
        app.mock.reset_requests();
        let later = app.scrape().await;
        assert_eq!(app.mock.count("/telemetry"), 1, "{intervals}");
        for collector in ["collections", "shards", "system"] {
            assert_eq!(data_age(&later, collector), 0.0, "{intervals}: {collector}");
        }
        for collector in ["segments", "optimizations"] {
            assert_eq!(
                data_age(&later, collector) == 0.0,
                level_4_read,
                "{intervals}: {collector}"
            );
        }
    }
}

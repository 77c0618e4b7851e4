//! Every metric of the collections collector and the exporter itself, with the
//! values of the recorded and hand-made fixtures.

use mock_qdrant::Fault;

use crate::helpers::{
    assert_promtool_accepts, collector_success, collector_supported, everything, full_detail,
    sample, shard_0, spawn_app_with, value, HANDMADE_V1_12, HANDMADE_V1_15, RECORDED,
    RECORDED_INFO, RECORDED_PEER,
};
use crate::paths::per_collection_sum;

#[actix_web::test]
async fn recorded_fixtures_give_the_expected_values() {
    let app = spawn_app_with(RECORDED, full_detail).await;
    let m = app.scrape().await;

    assert_eq!(value(&m, "qdrant_up", ""), 1.0);
    assert_eq!(value(&m, "qdrant_info", RECORDED_INFO), 1.0);
    assert_eq!(value(&m, "qdrant_collections", ""), 5.0);

    for (collection, points, indexed, segments, shards) in [
        ("docs", 2000.0, 0.0, 2.0, 1.0),
        ("empty", 0.0, 0.0, 2.0, 1.0),
        ("images", 500.0, 0.0, 2.0, 1.0),
        ("ondisk_quantized", 1000.0, 1000.0, 4.0, 2.0),
        ("sparse", 300.0, 600.0, 2.0, 1.0),
    ] {
        let c = format!(r#"collection="{collection}""#);
        let nodes = [m.clone()];
        for (family, expected) in [
            ("qdrant_shard_local_points", points),
            ("qdrant_shard_indexed_vectors", indexed),
            ("qdrant_shard_segments", segments),
            ("qdrant_shard_update_queue_length", 0.0),
            ("qdrant_shard_deleted_points", 0.0),
        ] {
            assert_eq!(
                per_collection_sum(&nodes, family)[collection],
                expected,
                "{family} {collection}"
            );
        }
        assert_eq!(
            value(&m, "qdrant_collection_shard_number", &c),
            shards,
            "{collection}"
        );
        assert_eq!(value(&m, "qdrant_collection_replication_factor", &c), 1.0);
        assert_eq!(
            value(&m, "qdrant_collection_write_consistency_factor", &c),
            1.0
        );
        for shard in 0..shards as u32 {
            let s = format!(r#"{c},shard_id="{shard}",peer_id="{RECORDED_PEER}""#);
            assert_eq!(value(&m, "qdrant_shard_optimizer_ok", &s), 1.0);
            // Only the current status has a series.
            for (status, expected) in [
                ("green", Some(1.0)),
                ("yellow", None),
                ("grey", None),
                ("red", None),
            ] {
                assert_eq!(
                    sample(
                        &m,
                        "qdrant_shard_status",
                        &format!(r#"{s},status="{status}""#)
                    ),
                    expected
                );
            }
        }
    }
    // Vectors by name, per shard; the unnamed vector is "default".
    assert_eq!(
        value(
            &m,
            "qdrant_shard_vectors",
            &format!(r#"{},vector="default""#, shard_0("docs"))
        ),
        2000.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_shard_vectors",
            &format!(r#"{},vector="clip""#, shard_0("images"))
        ),
        500.0
    );

    for (collection, vector, dimensions, distance, on_disk) in [
        ("docs", "default", 1536.0, "Cosine", "false"),
        ("empty", "default", 4.0, "Cosine", "false"),
        ("images", "clip", 512.0, "Dot", "false"),
        ("images", "thumb", 128.0, "Euclid", "false"),
        ("ondisk_quantized", "default", 256.0, "Cosine", "true"),
        ("sparse", "dense", 64.0, "Cosine", "false"),
    ] {
        let cv = format!(r#"collection="{collection}",vector="{vector}""#);
        assert_eq!(
            value(&m, "qdrant_collection_vector_dimensions", &cv),
            dimensions
        );
        let info = format!(r#"{cv},distance="{distance}",on_disk="{on_disk}""#);
        assert_eq!(value(&m, "qdrant_collection_vector_info", &info), 1.0);
    }
    // Sparse vectors have no dimension.
    assert_eq!(
        sample(
            &m,
            "qdrant_collection_vector_dimensions",
            r#"collection="sparse",vector="text""#
        ),
        None
    );

    assert_eq!(collector_success(&m, "collections"), 1.0);
    assert!(
        value(
            &m,
            "qdrant_exporter_scrape_duration_seconds",
            r#"collector="collections""#
        ) > 0.0
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let refreshed = value(&m, "qdrant_exporter_last_refresh_timestamp_seconds", "");
    assert!(
        refreshed <= now && refreshed > now - 60.0,
        "{refreshed} {now}"
    );
    let build = format!(
        r#"version="{}",revision="{}""#,
        env!("CARGO_PKG_VERSION"),
        qdrant_exporter::REVISION
    );
    assert_eq!(value(&m, "qdrant_exporter_build_info", &build), 1.0);

    assert_eq!(
        value(
            &m,
            "qdrant_exporter_qdrant_requests_total",
            r#"endpoint="/",status_class="2xx""#
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_exporter_qdrant_requests_total",
            r#"endpoint="/collections",status_class="2xx""#
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_exporter_qdrant_requests_total",
            r#"endpoint="/telemetry",status_class="2xx""#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &m,
            "qdrant_exporter_qdrant_requests_total",
            r#"endpoint="/collections/{name}",status_class="2xx""#
        ),
        None,
        "no request per collection but the snapshot listings"
    );
    assert_promtool_accepts(&m);
}

/// The metric allow and deny lists pick families by whole name, and the
/// exporter's own figures are families like any other.
#[actix_web::test]
async fn the_metric_lists_serve_only_the_families_they_allow() {
    let families = |m: &str| -> std::collections::BTreeSet<String> {
        m.lines()
            .filter_map(|line| line.strip_prefix("# TYPE "))
            .map(|line| line.split(' ').next().unwrap().to_owned())
            .collect()
    };
    let app = spawn_app_with(RECORDED, |s| {
        s.metric_allowlist = Some("qdrant_up, qdrant_shard_.*_points".into());
    })
    .await;
    assert_eq!(
        families(&app.scrape().await),
        ["qdrant_shard_local_points", "qdrant_up"]
            .map(String::from)
            .into()
    );
    let app = spawn_app_with(RECORDED, |s| {
        s.metric_denylist = Some("qdrant_shard_.*,process_.*".into());
    })
    .await;
    let served = families(&app.scrape().await);
    assert!(served.contains("qdrant_up") && served.contains("qdrant_collection_shards"));
    assert!(
        served
            .iter()
            .all(|name| !name.starts_with("qdrant_shard_") && !name.starts_with("process_")),
        "{served:?}"
    );
}

#[actix_web::test]
async fn a_yellow_collection_is_yellow_only() {
    // The one recording taken while optimizers were still running, served as collection "busy".
    let dir = tempfile::tempdir().unwrap();
    let recorded = crate::helpers::fixture_dir(crate::helpers::RECORDED);
    std::fs::copy(recorded.join("root.json"), dir.path().join("root.json")).unwrap();
    std::fs::write(
        dir.path().join("collections.json"),
        r#"{"result":{"collections":[{"name":"busy"}]},"status":"ok","time":0}"#,
    )
    .unwrap();
    std::fs::copy(
        recorded.join("collection-ondisk_quantized-right-after-upsert.json"),
        dir.path().join("collection-busy.json"),
    )
    .unwrap();
    let app = spawn_app_with(dir.path().to_str().unwrap(), full_detail).await;
    let m = app.scrape().await;
    for (status, expected) in [
        ("green", None),
        ("yellow", Some(1.0)),
        ("grey", None),
        ("red", None),
    ] {
        assert_eq!(
            sample(
                &m,
                "qdrant_collection_status",
                &format!(r#"collection="busy",status="{status}""#)
            ),
            expected
        );
    }
    assert_eq!(
        value(&m, "qdrant_collection_segments", r#"collection="busy""#),
        6.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_indexed_vectors",
            r#"collection="busy""#
        ),
        0.0
    );
}

#[actix_web::test]
async fn qdrant_1_12_shapes_are_exported() {
    // The per-collection path on the older shapes (telemetry: see `older_telemetry_shapes`).
    // The hand-made node is a raft follower: with its /cluster unanswered it
    // cannot tell, and serves the cluster-scope figures read here.
    let app = spawn_app_with(HANDMADE_V1_12, full_detail).await;
    app.mock.fail_path("/telemetry", Fault::Status(404));
    app.mock.fail_path("/cluster", Fault::Status(500));
    let m = app.scrape().await;
    assert_eq!(value(&m, "qdrant_up", ""), 1.0);
    assert_eq!(
        value(&m, "qdrant_info", r#"version="1.12.0",commit="unknown""#),
        1.0
    );

    assert_eq!(
        value(
            &m,
            "qdrant_collection_status",
            r#"collection="legacy",status="grey""#
        ),
        1.0
    );
    assert_eq!(
        value(&m, "qdrant_collection_points", r#"collection="legacy""#),
        3500.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_shard_number",
            r#"collection="legacy""#
        ),
        3.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_replication_factor",
            r#"collection="legacy""#
        ),
        2.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_vector_info",
            r#"collection="legacy",vector="title",distance="Manhattan",on_disk="false""#
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_vector_info",
            r#"collection="legacy",vector="body",distance="Cosine",on_disk="true""#
        ),
        1.0
    );
    // No update queue before 1.16: no series rather than a made-up 0.
    assert_eq!(
        sample(
            &m,
            "qdrant_collection_update_queue_length",
            r#"collection="legacy""#
        ),
        None
    );

    assert_eq!(
        value(
            &m,
            "qdrant_collection_status",
            r#"collection="broken",status="red""#
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_optimizer_ok",
            r#"collection="broken""#
        ),
        0.0
    );
    assert!(
        !m.contains("No space left"),
        "the optimizer error text must not become a label"
    );
    assert_eq!(
        sample(&m, "qdrant_collection_points", r#"collection="broken""#),
        None
    );
    assert_eq!(collector_success(&m, "collections"), 1.0);
    assert_promtool_accepts(&m);
}

#[actix_web::test]
async fn qdrant_1_15_and_unknown_future_shapes_never_fail_a_refresh() {
    // The per-collection path on the older shapes (telemetry: see `older_telemetry_shapes`).
    let app = spawn_app_with(HANDMADE_V1_15, full_detail).await;
    app.mock.fail_path("/telemetry", Fault::Status(404));
    let m = app.scrape().await;
    assert_eq!(value(&m, "qdrant_up", ""), 1.0);
    assert_eq!(collector_success(&m, "collections"), 1.0);

    assert_eq!(
        value(
            &m,
            "qdrant_collection_status",
            r#"collection="sparse_only",status="yellow""#
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_points",
            r#"collection="sparse_only""#
        ),
        600.0
    );
    assert!(
        !m.contains(r#"collection="sparse_only",vector="#),
        "no dense vectors, no vector series"
    );

    // Unknown status and unknown optimizer state: no series.
    assert_eq!(
        m.matches(r#"qdrant_collection_status{collection="future_shape","#)
            .count(),
        0
    );
    assert_eq!(
        sample(
            &m,
            "qdrant_collection_optimizer_ok",
            r#"collection="future_shape""#
        ),
        None
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_points",
            r#"collection="future_shape""#
        ),
        42.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_update_queue_length",
            r#"collection="future_shape""#
        ),
        3.0
    );
    assert_eq!(
        value(
            &m,
            "qdrant_collection_vector_info",
            r#"collection="future_shape",vector="default",distance="Hamming",on_disk="false""#
        ),
        1.0
    );
    assert_promtool_accepts(&m);
}

#[actix_web::test]
async fn older_telemetry_shapes_fall_back_only_where_they_lack() {
    // v1.12 telemetry has no local point counts: shards falls back, collections does not.
    let app = spawn_app_with(HANDMADE_V1_12, full_detail).await;
    let m = app.scrape().await;
    for collector in ["collections", "shards", "segments"] {
        assert_eq!(collector_success(&m, collector), 1.0, "{collector}");
    }
    let legacy_0 = r#"collection="legacy",shard_id="0",peer_id="111""#;
    assert_eq!(
        value(
            &m,
            "qdrant_shard_status",
            &format!(r#"{legacy_0},status="grey""#)
        ),
        1.0
    );
    for segment in [
        r#"segment_type="indexed",appendable="false""#,
        r#"segment_type="plain",appendable="true""#,
    ] {
        let labels = format!("{legacy_0},{segment}");
        assert_eq!(
            value(&m, "qdrant_shard_segments", &labels),
            1.0,
            "{segment}"
        );
    }
    assert_eq!(value(&m, "qdrant_shard_deleted_points", legacy_0), 25.0);
    assert_eq!(value(&m, "qdrant_shard_local_points", legacy_0), 1200.0);
    assert_eq!(
        app.mock.count("/collections/legacy/cluster"),
        1,
        "local points come from the per-collection fallback"
    );
    assert_eq!(app.mock.count("/collections/legacy"), 0);
    // Endpoints newer than 1.12 are not even asked for.
    for collector in ["optimizations", "quotas"] {
        assert_eq!(collector_supported(&m, collector), 0.0, "{collector}");
        assert_eq!(collector_success(&m, collector), 1.0, "{collector}");
    }
    let requests = app.mock.requests();
    assert!(
        !requests
            .iter()
            .any(|r| r.raw_path.ends_with("/optimizations") || r.raw_path == "/quotas"),
        "{requests:?}"
    );
    assert_promtool_accepts(&m);

    // v1.15 telemetry carries all of it: no request per collection but snapshots.
    let app = spawn_app_with(HANDMADE_V1_15, full_detail).await;
    let m = app.scrape().await;
    let sparse_0 = r#"collection="sparse_only",shard_id="0",peer_id="333""#;
    assert_eq!(
        value(
            &m,
            "qdrant_shard_status",
            &format!(r#"{sparse_0},status="yellow""#)
        ),
        1.0
    );
    assert_eq!(value(&m, "qdrant_shard_local_points", sparse_0), 300.0);
    let future_0 = r#"collection="future_shape",shard_id="0",peer_id="333""#;
    assert_eq!(
        m.matches(&format!("qdrant_shard_status{{{future_0},"))
            .count(),
        0
    );
    // An unknown replica state is Unknown, so that the replica still counts as not active.
    let states: Vec<&str> = m
        .lines()
        .filter(|line| line.starts_with(&format!("qdrant_shard_replica_state{{{future_0},")))
        .collect();
    assert_eq!(
        states,
        [format!(
            r#"qdrant_shard_replica_state{{{future_0},state="Unknown"}} 1"#
        )]
    );
    assert_eq!(sample(&m, "qdrant_shard_optimizer_ok", future_0), None);
    assert_eq!(
        value(
            &m,
            "qdrant_collection_resharding_operations",
            r#"collection="sparse_only""#
        ),
        1.0
    );
    let per_collection = app
        .mock
        .requests()
        .into_iter()
        .filter(|r| r.raw_path.starts_with("/collections/") && !r.raw_path.ends_with("/snapshots"))
        .count();
    assert_eq!(per_collection, 0);
    assert_promtool_accepts(&m);
}

/// Beyond `max_distinct_collections`, each family's figures of the other
/// collections are one series under `collection="/other"`, without shard and
/// peer labels: their sum (the lowest health flag, the latest timestamp, the
/// fullest ratio), measured here against the same figures served one by one;
/// none where figures do not add up. The first collections by name are
/// served as they are.
#[actix_web::test]
async fn the_collections_beyond_the_limit_fold_into_series_that_add_them_up() {
    use std::collections::BTreeMap;
    type Series = BTreeMap<BTreeMap<String, String>, f64>;
    let one_by_one = spawn_app_with(RECORDED, everything).await;
    let one_by_one = one_by_one.scrape_settled().await;
    let folded = spawn_app_with(RECORDED, |s| {
        everything(s);
        s.max_distinct_collections = Some(2);
    })
    .await;
    let folded = folded.scrape_settled().await;
    let distinct = ["docs", "empty"];
    let about = |m: &str, name: &str, keep: &dyn Fn(&str) -> bool| -> Series {
        crate::paths::series(m, name)
            .into_iter()
            .filter(|(labels, _)| labels.get("collection").is_some_and(|c| keep(c)))
            .collect()
    };
    let mut folded_families = 0;
    for entry in qdrant_exporter::catalog::entries() {
        let name = entry.spec.name;
        let across = format!("{:?}", entry.spec.across_collections);
        let is_distinct = |c: &str| distinct.contains(&c);
        assert_eq!(
            about(&folded, name, &is_distinct),
            about(&one_by_one, name, &is_distinct),
            "{name}: the distinct collections as they are"
        );
        let mut expected = Series::new();
        for (mut labels, value) in about(&one_by_one, name, &|c| !is_distinct(c)) {
            labels.insert("collection".into(), "/other".into());
            labels.remove("shard_id");
            labels.remove("peer_id");
            let total = expected.entry(labels).or_insert(match across.as_str() {
                "Lowest" => f64::INFINITY,
                "Highest" => f64::NEG_INFINITY,
                _ => 0.0,
            });
            *total = match across.as_str() {
                "Lowest" => total.min(value),
                "Highest" => total.max(value),
                _ => *total + value,
            };
        }
        if across == "LeftOut" {
            expected.clear();
        }
        let served = about(&folded, name, &|c| c == "/other");
        assert_eq!(
            served, expected,
            "{name} ({across}) of the other collections"
        );
        folded_families += usize::from(!served.is_empty());
    }
    assert!(folded_families >= 20, "{folded_families} families folded");
    // (Qdrant's own relayed figures are Qdrant's, as it serves them.)
    assert!(
        !folded
            .lines()
            .any(|line| line.starts_with("qdrant_") && line.contains(r#"collection="images""#)),
        "no series of its own beyond the limit"
    );
}

/// Snapshots being taken and recovered, from the telemetry every refresh
/// reads: at full detail every collection's, by default only those running.
#[actix_web::test]
async fn snapshots_in_progress_come_from_telemetry() {
    let app = spawn_app_with(RECORDED, full_detail).await;
    let m = app.scrape().await;
    let images = r#"collection="images""#;
    assert_eq!(
        value(&m, "qdrant_collection_snapshots_created_total", images),
        2.0
    );
    assert_eq!(
        value(&m, "qdrant_collection_snapshots_running", images),
        0.0
    );
    assert_eq!(
        value(&m, "qdrant_collection_snapshot_recoveries_running", images),
        0.0
    );
    let app = spawn_app_with(RECORDED, |_| {}).await;
    let m = app.scrape().await;
    for family in [
        "qdrant_collection_snapshots_created_total",
        "qdrant_collection_snapshots_running",
        "qdrant_collection_snapshot_recoveries_running",
    ] {
        assert!(
            !m.contains(&format!("{family}{{")),
            "{family} at the default detail"
        );
    }
}

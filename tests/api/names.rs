//! Collection names that are hard to put in a URL or a label value.

use mock_qdrant::Fault;

use crate::helpers::{
    assert_promtool_accepts, collector_success, shard_0, spawn_app_with, value, RECORDED,
};

const AWKWARD_NAMES: [&str; 8] = [
    "with space",
    "with \"quotes\"",
    r"back\slash",
    "new\nline",
    "ünïcödé-名前",
    "pipe|angle<>",
    "question?mark#hash%percent",
    "comma,equals=brace}",
];

#[actix_web::test]
async fn awkward_names_give_valid_exposition_and_encoded_paths() {
    let app = spawn_app_with(RECORDED, |_| {}).await;
    app.mock
        .synthesize_names(AWKWARD_NAMES.map(String::from).to_vec());
    // Telemetry labels them the same way; here, every name must also go into a URL.
    let from_telemetry = app.scrape().await;
    assert_promtool_accepts(&from_telemetry);
    for (index, name) in AWKWARD_NAMES.iter().enumerate() {
        let label = name
            .replace('\\', r"\\")
            .replace('"', r#"\""#)
            .replace('\n', r"\n");
        let points = value(
            &from_telemetry,
            "qdrant_shard_local_points",
            &shard_0(&label),
        );
        assert_eq!(points, 100.0 * (index as f64 + 1.0), "{name}");
    }
    let app = spawn_app_with(RECORDED, |_| {}).await;
    app.mock
        .synthesize_names(AWKWARD_NAMES.map(String::from).to_vec());
    app.mock.fail_path("/telemetry", Fault::Status(404));
    let m = app.scrape().await;
    assert_promtool_accepts(&m);
    assert_eq!(collector_success(&m, "collections"), 1.0);

    // Label values escape backslash, quote and newline; everything else is literal UTF-8.
    for (index, escaped) in [
        "with space",
        r#"with \"quotes\""#,
        r"back\\slash",
        r"new\nline",
        "ünïcödé-名前",
        "pipe|angle<>",
        "question?mark#hash%percent",
        "comma,equals=brace}",
    ]
    .iter()
    .enumerate()
    {
        // The mock's synthetic collection number `index` has 100 * (index + 1) points.
        let points = value(
            &m,
            "qdrant_collection_points",
            &format!(r#"collection="{escaped}""#),
        );
        assert_eq!(points, 100.0 * (index as f64 + 1.0), "{escaped}");
    }

    // Each collection is fetched for its info, its shards (the fallback), its
    // optimizations and its snapshots, always encoded.
    let mut paths: Vec<String> = app
        .mock
        .requests()
        .into_iter()
        .map(|r| r.raw_path)
        .filter(|p| p.starts_with("/collections/"))
        .collect();
    paths.sort();
    let encoded = [
        "back%5Cslash",
        "comma%2Cequals%3Dbrace%7D",
        "new%0Aline",
        "question%3Fmark%23hash%25percent",
        "pipe%7Cangle%3C%3E",
        "with%20%22quotes%22",
        "with%20space",
        "%C3%BCn%C3%AFc%C3%B6d%C3%A9-%E5%90%8D%E5%89%8D",
    ];
    let mut expected: Vec<String> = encoded
        .iter()
        .flat_map(|name| {
            ["", "/cluster", "/optimizations", "/snapshots"]
                .map(|suffix| format!("/collections/{name}{suffix}"))
        })
        .collect();
    expected.sort();
    assert_eq!(paths, expected);
}

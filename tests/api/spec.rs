//! The hand-made v1.19 fixtures cover every endpoint the exporter reads that
//! Qdrant's v1.19.0 spec documents (their shapes are checked against the spec
//! by tests/chart/test_qdrant_shapes.py).

use std::collections::BTreeSet;

use crate::helpers::{everything, spawn_app_with, HANDMADE_V1_19};

#[actix_web::test]
async fn every_endpoint_read_that_the_v1_19_spec_documents_has_a_fixture() {
    let spec: serde_json::Value =
        serde_json::from_str(include_str!("../schemas/qdrant-openapi-v1.19.0.json")).unwrap();
    let documented: BTreeSet<String> = spec["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|path| path.replace("{collection_name}", "{name}"))
        .collect();
    assert!(
        !documented.contains("/collections/{name}/memory"),
        "the memory endpoint reached the spec: give it a v1.19 fixture"
    );
    let app = spawn_app_with(HANDMADE_V1_19, everything).await;
    let m = app.scrape_settled().await;
    // `qdrant_exporter_qdrant_requests_total{endpoint="...",status_class="..."} n`
    let answered: Vec<(&str, &str)> = m
        .lines()
        .filter_map(|line| line.strip_prefix("qdrant_exporter_qdrant_requests_total{endpoint=\""))
        .filter_map(|rest| {
            let (endpoint, rest) = rest.split_once("\",status_class=\"")?;
            Some((endpoint, rest.split_once('"')?.0))
        })
        .collect();
    assert!(answered.len() >= 8, "{m}");
    for (endpoint, status_class) in answered {
        // Qdrant's own exposition is text, not a shape of the spec's.
        if documented.contains(endpoint) && endpoint != "/metrics" {
            assert_eq!(status_class, "2xx", "{endpoint} has no v1.19 fixture");
        }
    }
}

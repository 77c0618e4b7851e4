//! The models read every recorded response of the endpoints the exporter uses.

use std::path::Path;

use qdrant_exporter::qdrant::models::{
    ApiResponse, CollectionInfo, CollectionList, CollectionStatus, OptimizerStatus, VectorsConfig,
    VersionInfo,
};

use crate::helpers::{fixture_dir, HANDMADE_V1_12, HANDMADE_V1_15, RECORDED};

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn every_recorded_collection_info_parses() {
    let dir = fixture_dir(RECORDED);
    let list: ApiResponse<CollectionList> =
        serde_json::from_str(&read(&dir, "collections.json")).unwrap();
    let mut files: Vec<String> = list
        .result
        .collections
        .iter()
        .map(|c| format!("collection-{}.json", c.name))
        .collect();
    // The same endpoint recorded in other circumstances.
    files.extend(
        [
            "collection-docs-current-via-alias.json",
            "collection-ondisk_quantized-right-after-upsert.json",
            "auth-collection-docs-read-only-key.json",
        ]
        .map(String::from),
    );
    assert_eq!(files.len(), 8);
    for file in files {
        let info: ApiResponse<CollectionInfo> =
            serde_json::from_str(&read(&dir, &file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let info = info.result;
        assert_ne!(info.status, CollectionStatus::Unknown, "{file}");
        assert_eq!(info.optimizer_status, OptimizerStatus::Ok, "{file}");
        assert!(
            info.points_count.is_some() && info.segments_count.is_some(),
            "{file}"
        );
        let params = info.config.expect("config").params;
        assert!(
            matches!(
                params.vectors,
                Some(VectorsConfig::Unnamed(_) | VectorsConfig::Named(_))
            ),
            "{file}"
        );
        assert!(params.shard_number.is_some(), "{file}");
        assert_eq!(info.update_queue.and_then(|q| q.length), Some(0), "{file}");
    }
}

#[test]
fn every_recorded_listing_and_version_parses() {
    let dir = fixture_dir(RECORDED);
    for file in [
        "collections.json",
        "auth-collections-read-only-key.json",
        "auth-collections-full-key.json",
        "auth-collections-bearer-read-only-key.json",
    ] {
        let list: ApiResponse<CollectionList> =
            serde_json::from_str(&read(&dir, file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(list.result.collections.len(), 5, "{file}");
    }
    for file in ["root.json", "auth-root-no-key.json"] {
        let version: VersionInfo = serde_json::from_str(&read(&dir, file)).unwrap();
        assert_eq!(version.version, "1.18.3");
        assert_eq!(
            version.commit.as_deref(),
            Some("db8fa43fcb6aedec1e739487e17a99731b74590a")
        );
    }
}

#[test]
fn every_recorded_json_fixture_is_json() {
    // The mock serves these byte for byte; a broken copy would make tests meaningless.
    let dir = fixture_dir(RECORDED);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            count += 1;
        }
    }
    assert!(
        count >= 72,
        "expected the whole recorded set, found {count} JSON files"
    );
}

#[test]
fn older_versions_parse_with_vectors_count_and_without_update_queue() {
    let dir = fixture_dir(HANDMADE_V1_12);
    let legacy: ApiResponse<CollectionInfo> =
        serde_json::from_str(&read(&dir, "collection-legacy.json")).unwrap();
    assert_eq!(legacy.result.status, CollectionStatus::Grey);
    assert!(legacy.result.update_queue.is_none());
    let broken: ApiResponse<CollectionInfo> =
        serde_json::from_str(&read(&dir, "collection-broken.json")).unwrap();
    assert_eq!(broken.result.status, CollectionStatus::Red);
    assert!(
        matches!(broken.result.optimizer_status, OptimizerStatus::Error(ref e) if e.contains("No space left"))
    );
    assert_eq!(broken.result.points_count, None);

    let dir = fixture_dir(HANDMADE_V1_15);
    let sparse: ApiResponse<CollectionInfo> =
        serde_json::from_str(&read(&dir, "collection-sparse_only.json")).unwrap();
    assert!(
        matches!(sparse.result.config.unwrap().params.vectors, Some(VectorsConfig::Named(ref named)) if named.is_empty())
    );
    let future: ApiResponse<CollectionInfo> =
        serde_json::from_str(&read(&dir, "collection-future_shape.json")).unwrap();
    assert_eq!(future.result.status, CollectionStatus::Unknown);
    assert_eq!(future.result.optimizer_status, OptimizerStatus::Unknown);
}

#[test]
fn an_unknown_vectors_shape_or_missing_config_still_parses() {
    for body in [
        r#"{"result":{"status":"green","optimizer_status":"ok","segments_count":1,"config":{"params":{"vectors":"something new"}}}}"#,
        r#"{"result":{"status":"green","optimizer_status":"ok","segments_count":1}}"#,
        r#"{"result":{}}"#,
    ] {
        let info: ApiResponse<CollectionInfo> =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"));
        assert!(!matches!(
            info.result.config.and_then(|c| c.params.vectors),
            Some(VectorsConfig::Unnamed(_) | VectorsConfig::Named(_))
        ));
    }
}

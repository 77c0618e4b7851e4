//! Secrets over time: a key file rotated in place is picked up without a
//! restart, and a refused new key says so.

use qdrant_exporter::config::{Config, Settings};
use qdrant_exporter::qdrant::{KeySource, QdrantClient, QdrantError, RequestCounter};

use crate::helpers::{spawn_app_with, value, RECORDED};

/// Replaces the file as Kubernetes updates a mounted Secret: a new file
/// renamed over the old one (a new inode), never a half-written file.
fn rotate(path: &std::path::Path, key: &str) {
    let next = path.with_extension("next");
    std::fs::write(&next, format!("{key}\n")).unwrap();
    std::fs::rename(&next, path).unwrap();
}

#[actix_web::test]
async fn a_rotated_key_file_is_used_without_a_restart() {
    let secrets = tempfile::tempdir().unwrap();
    let key_file = secrets.path().join("api-key");
    rotate(&key_file, "first-key");
    let path = key_file.clone();
    let app = spawn_app_with(RECORDED, move |s| {
        s.qdrant_api_key_file = Some(path);
        s.cache_ttl_seconds = Some(0.0);
    })
    .await;
    app.mock.require_api_key(Some("first-key"));
    assert_eq!(value(&app.scrape().await, "qdrant_up", ""), 1.0);

    // Qdrant and the Secret move to a new key.
    app.mock.require_api_key(Some("second-key"));
    rotate(&key_file, "second-key");
    assert_eq!(value(&app.scrape().await, "qdrant_up", ""), 1.0);
    let last = app.mock.requests().pop().unwrap();
    assert_eq!(last.api_key.as_deref(), Some("second-key"));

    // A file that cannot be read mid-update leaves the last good key in use.
    std::fs::remove_file(&key_file).unwrap();
    assert_eq!(value(&app.scrape().await, "qdrant_up", ""), 1.0);
}

#[actix_web::test]
async fn a_refused_new_key_is_told_apart_from_a_wrong_key() {
    let secrets = tempfile::tempdir().unwrap();
    let key_file = secrets.path().join("api-key");
    rotate(&key_file, "first-key");
    let mock = mock_qdrant::MockQdrant::start(crate::helpers::fixture_dir(RECORDED)).unwrap();
    mock.require_api_key(Some("first-key"));
    let config = Config::from_settings(Settings {
        qdrant_url: Some(mock.url()),
        qdrant_api_key_file: Some(key_file.clone()),
        ..Settings::default()
    })
    .unwrap();
    let client = QdrantClient::new(
        &config.qdrant,
        KeySource::new(&config.qdrant),
        RequestCounter::new(),
    );
    assert!(client.collection_names().await.is_ok());
    // The Secret changed before Qdrant did.
    rotate(&key_file, "second-key");
    assert_eq!(
        client.collection_names().await.unwrap_err(),
        QdrantError::UnauthorizedNewKey
    );
    assert!(QdrantError::UnauthorizedNewKey
        .hint()
        .contains("the key file changed"));
    // Qdrant catches up: accepted, and later refusals are plain ones again.
    mock.require_api_key(Some("second-key"));
    assert!(client.collection_names().await.is_ok());
    mock.require_api_key(Some("third-key"));
    assert_eq!(
        client.collection_names().await.unwrap_err(),
        QdrantError::Unauthorized
    );
}

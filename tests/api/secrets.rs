//! Secrets over time: a key file rotated in place is picked up without a
//! restart (that a refused new key says so is the client's unit test).

use crate::helpers::{rotate, spawn_app_with, value, RECORDED};

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

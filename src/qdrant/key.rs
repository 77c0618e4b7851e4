//! The API key the client sends, and where it comes from: the configuration,
//! or a file read again when it changes, since Kubernetes updates a mounted
//! Secret in place and a rotated key should need no restart.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::{read_api_key_file, ApiKey, QdrantConfig};

/// Shared by the clients of all workers.
#[derive(Clone)]
pub struct KeySource(Arc<Source>);

enum Source {
    Fixed(Option<ApiKey>),
    File {
        path: PathBuf,
        state: Mutex<FileKey>,
    },
}

struct FileKey {
    key: ApiKey,
    /// What the file looked like when `key` was read.
    stamp: Option<Stamp>,
    /// Read since Qdrant last accepted a request.
    unproven: bool,
    /// Why the file cannot be read now, once logged.
    problem: Option<String>,
}

/// Identity and content markers of the file: a Secret update swaps a symlink
/// (new inode), an edit in place changes the time or the length.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    device: u64,
    inode: u64,
    modified_nanos: i128,
    length: u64,
}

fn stamp(path: &std::path::Path) -> std::io::Result<Stamp> {
    let metadata = std::fs::metadata(path)?;
    Ok(Stamp {
        device: metadata.dev(),
        inode: metadata.ino(),
        modified_nanos: i128::from(metadata.mtime()) * 1_000_000_000
            + i128::from(metadata.mtime_nsec()),
        length: metadata.len(),
    })
}

impl KeySource {
    /// The key the configuration loaded (validated at start), and its file if any.
    pub fn new(config: &QdrantConfig) -> Self {
        let source = match (&config.api_key_file, &config.api_key) {
            (Some(path), Some(key)) => Source::File {
                path: path.clone(),
                state: Mutex::new(FileKey {
                    key: key.clone(),
                    stamp: stamp(path).ok(),
                    unproven: false,
                    problem: None,
                }),
            },
            (_, key) => Source::Fixed(key.clone()),
        };
        Self(Arc::new(source))
    }

    /// The key to send now; a changed file is read first (one `stat` per
    /// request tells). If the new file cannot be read (mid-update, or wrong),
    /// the last good key stays in use.
    pub fn current(&self) -> Option<ApiKey> {
        match &*self.0 {
            Source::Fixed(key) => key.clone(),
            Source::File { path, state } => {
                let mut state = lock(state);
                refresh(path, &mut state);
                Some(state.key.clone())
            }
        }
    }

    /// Qdrant accepted a request: the key in use is proven.
    pub fn accepted(&self) {
        if let Source::File { state, .. } = &*self.0 {
            lock(state).unproven = false;
        }
    }

    /// Whether the key was read again from its file since Qdrant last accepted one.
    pub fn changed_since_accepted(&self) -> bool {
        match &*self.0 {
            Source::Fixed(_) => false,
            Source::File { state, .. } => lock(state).unproven,
        }
    }
}

fn refresh(path: &std::path::Path, state: &mut FileKey) {
    let now = stamp(path).ok();
    if now.is_some() && now == state.stamp {
        return;
    }
    match read_api_key_file(path) {
        Ok(key) => {
            if key != state.key {
                tracing::info!(file = %path.display(), "the API key file changed: using the new key");
                state.key = key;
                state.unproven = true;
            }
            state.stamp = now;
            state.problem = None;
        }
        Err(error) => {
            let problem = error.to_string();
            if state.problem.as_ref() != Some(&problem) {
                tracing::warn!(
                    hint = "the last key read is still used",
                    "cannot read the API key file again: {problem}"
                );
                state.problem = Some(problem);
            }
        }
    }
}

fn lock(state: &Mutex<FileKey>) -> MutexGuard<'_, FileKey> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

//! The one way the exporter takes a lock.

use std::sync::{Mutex, MutexGuard};

/// The guard, even if a thread panicked while holding the lock: every value
/// kept behind a lock here stays consistent between statements, and one
/// panic must not stop every later scrape.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

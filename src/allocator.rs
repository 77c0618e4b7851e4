//! The allocator of every build (set in `main.rs`): mimalloc, told to give memory back.
//!
//! musl's own allocator is slow under concurrent load, and glibc's keeps a
//! burst's memory in per-thread arenas; mimalloc is fast on both. By default
//! it commits its arenas eagerly and purges freed memory only after a delay,
//! which left the exporter at 89 MB after refreshes of 1,000 collections, with
//! 102 MB at the peak; with these two settings, 23 MB and 32 MB (BENCHMARKS.md).

#[cfg(test)]
use libmimalloc_sys::mi_option_get;
use libmimalloc_sys::{mi_option_set, mi_option_t};

// Positions in mimalloc v3's `mi_option_e` (include/mimalloc.h); libmimalloc-sys
// does not export them. A test checks them against the linked library's defaults.
/// Whether arenas are committed when reserved.
const ARENA_EAGER_COMMIT: mi_option_t = 4;
/// How long freed memory waits before it is returned, in milliseconds.
const PURGE_DELAY: mi_option_t = 15;

/// Commit arena memory as it is used, and return freed memory at once. Must
/// run before the first allocation: `main.rs` runs it as a load-time constructor.
pub fn give_memory_back() {
    // SAFETY: plain option setters; not thread safe, and run before any thread exists.
    unsafe {
        mi_option_set(ARENA_EAGER_COMMIT, 0);
        mi_option_set(PURGE_DELAY, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_numbers_are_those_of_the_linked_mimalloc() {
        // Nothing in the test binary sets them: each reads its documented default.
        // SAFETY: plain option getters.
        let defaults = unsafe {
            (
                mi_option_get(ARENA_EAGER_COMMIT),
                mi_option_get(PURGE_DELAY),
            )
        };
        assert_eq!(defaults, (2, 1000));
    }
}

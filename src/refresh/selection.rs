//! Which collections a refresh exports: valid names, filtered by name, then capped.

use crate::collectors::{CollectorConfig, Failure};

/// Qdrant refuses longer collection names; a longer one comes from something
/// else answering as Qdrant, and each request about it would fail.
const MAX_NAME_CHARS: usize = 255;

/// Whether a request about the collection could name it: not too long, sent
/// as UTF-8 (the client reads other bytes as U+FFFD, a name Qdrant would not
/// know), without `/` (Qdrant refuses it in every version; the folded
/// collections' label value has one).
fn is_valid_name(name: &str) -> bool {
    name.chars().count() <= MAX_NAME_CHARS
        && !name.contains(char::REPLACEMENT_CHARACTER)
        && !name.contains('/')
}

/// The collections to export: valid names, filtered by name, then capped.
pub struct Selection {
    pub names: Vec<String>,
    invalid: Vec<String>,
    /// Left out by `collections_include` or `collections_exclude`.
    pub filtered_out: usize,
    /// Left out by `max_collections`.
    pub over_limit: usize,
}

pub fn select_collections(names: &[String], config: &CollectorConfig) -> Selection {
    let (valid, invalid): (Vec<&String>, Vec<&String>) =
        names.iter().partition(|name| is_valid_name(name));
    let mut matching: Vec<String> = valid
        .iter()
        .copied()
        .filter(|name| {
            config
                .include
                .as_ref()
                .is_none_or(|include| include.is_match(name))
        })
        .filter(|name| {
            config
                .exclude
                .as_ref()
                .is_none_or(|exclude| !exclude.is_match(name))
        })
        .cloned()
        .collect();
    let filtered_out = valid.len() - matching.len();
    // Sorted so that the same collections are kept on every refresh and every node.
    matching.sort_unstable();
    let over_limit = matching.len().saturating_sub(config.max_collections);
    matching.truncate(config.max_collections);
    Selection {
        names: matching,
        invalid: invalid.into_iter().cloned().collect(),
        filtered_out,
        over_limit,
    }
}

impl Selection {
    /// Names skipped because Qdrant would refuse them.
    pub fn invalid_names(&self) -> usize {
        self.invalid.len()
    }

    /// Worth one log line while some names are skipped as invalid; the line
    /// quotes the start of one, never a whole 100 kB name.
    pub fn invalid_names_warning(&self) -> Option<Failure> {
        let example = self.invalid.first()?;
        let start: String = example.chars().take(40).collect();
        Some(Failure {
            kind: format!("{} invalid names", self.invalid.len()),
            message: format!(
                "{} collection name(s) longer than {MAX_NAME_CHARS} characters, not UTF-8 or with a '/' skipped, e.g. {:?}… ({} characters)",
                self.invalid.len(),
                start,
                example.chars().count()
            ),
            hint: "Qdrant refuses such names: does QDRANT_URL point at Qdrant itself?",
        })
    }
}

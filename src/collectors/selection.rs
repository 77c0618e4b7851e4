//! Which collections a refresh exports: filtered by name, then capped.

use crate::metrics::Family;

use crate::config::CollectorConfig;
use crate::metrics::GaugeFamily;

/// The collections to export: filtered by name, then capped.
pub struct Selection {
    pub names: Vec<String>,
    filtered_out: usize,
    over_limit: usize,
}

pub fn select_collections(names: &[String], config: &CollectorConfig) -> Selection {
    let mut matching: Vec<String> = names
        .iter()
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
    let filtered_out = names.len() - matching.len();
    // Sorted so that the same collections are kept on every refresh and every node.
    matching.sort_unstable();
    let over_limit = matching.len().saturating_sub(config.max_collections);
    matching.truncate(config.max_collections);
    Selection {
        names: matching,
        filtered_out,
        over_limit,
    }
}

impl Selection {
    pub fn skipped_family(&self) -> Family {
        let mut skipped = GaugeFamily::new(
            "qdrant_exporter_collections_skipped",
            "Collections not exported: filtered out by name, or over max_collections.",
        );
        skipped.push(&[("reason", "filtered")], self.filtered_out as f64);
        skipped.push(&[("reason", "limit")], self.over_limit as f64);
        skipped.finish()
    }
}

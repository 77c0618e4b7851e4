//! Every family the exporter can serve, once: where each comes from, and what
//! it says of itself. `qdrant-exporter list-metrics` prints it, the metric
//! allow and deny lists are checked against it, and docs/metrics.md's table
//! is checked against it.

use std::fmt::Write;

use crate::collectors::Collector;
use crate::metrics::{FamilySpec, Kind, Scope};
use crate::process;
use crate::refresh::EXPORTER_FAMILIES;

/// One family and what fills it: a collector's name, `exporter` for the
/// exporter's own, `process` for its process figures.
pub struct Entry {
    pub spec: &'static FamilySpec,
    pub source: &'static str,
}

pub fn entries() -> Vec<Entry> {
    let own = EXPORTER_FAMILIES.iter().map(|spec| (spec, "exporter"));
    let process = process::FAMILIES.iter().map(|spec| (spec, "process"));
    let collectors = Collector::ALL.iter().flat_map(|collector| {
        collector
            .families()
            .iter()
            .map(|spec| (spec, collector.name()))
    });
    own.chain(collectors)
        .chain(process)
        .map(|(spec, source)| Entry { spec, source })
        .collect()
}

/// Every family name.
pub fn names() -> impl Iterator<Item = &'static str> {
    entries().into_iter().map(|entry| entry.spec.name)
}

/// The catalog as tab-separated lines under a header: name, type, labels
/// (comma-separated), scope, source, help (what the family is below full
/// detail included).
pub fn listing() -> String {
    let mut out = String::from("family\ttype\tlabels\tscope\tsource\thelp\n");
    for Entry { spec, source } in entries() {
        let kind = match spec.kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        };
        let scope = match spec.scope {
            Scope::Node => "node",
            Scope::Cluster => "cluster",
        };
        let _ = writeln!(
            out,
            "{}\t{kind}\t{}\t{scope}\t{source}\t{}",
            spec.name,
            spec.labels.join(","),
            spec.described()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_family_is_listed_once() {
        let names: Vec<&str> = names().collect();
        let unique: BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(names.len(), unique.len());
        assert!(unique.contains("qdrant_up"));
        assert!(unique.contains("qdrant_shard_replica_state"));
        assert!(unique.contains("process_resident_memory_bytes"));
    }

    #[test]
    fn the_listing_has_a_line_per_family_with_its_source() {
        let listing = listing();
        assert_eq!(listing.lines().count(), names().count() + 1);
        assert!(listing.contains(
            "\nqdrant_shard_segments\tgauge\tcollection,shard_id,peer_id,segment_type,appendable\tnode\tsegments\tSegments of "
        ));
        assert!(listing.contains("Below detail=full, summed over segment_type and appendable."));
    }
}

//! The collectors and their catalog. Each collector is one module that turns
//! what Qdrant answered into metric families, over the refresh's shared
//! [`Context`]; this file lists them with their static facts (which the
//! settings, `--help` and the README's collector table read) and dispatches
//! to them, and holds their settings. Adding a collector: its module, its
//! entry here (the compiler asks for its facts and its dispatch), and its
//! README rows.

mod cluster;
mod collections;
mod context;
mod failure;
mod fan_out;
mod issues;
mod memory;
mod optimizations;
mod output;
mod quotas;
mod relay;
mod segments;
mod shards;
mod snapshots;
mod timestamps;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use regex::Regex;

pub use context::{Context, Selected};
pub use failure::Failure;
pub use output::Output;

use crate::qdrant::TelemetryDetail;

/// Declares the collectors: the enum, and the list of every variant, from
/// one list of names, so that no collector can be left out of the list.
macro_rules! catalog {
    ($($collector:ident),+ $(,)?) => {
        /// A collector's identity.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Collector {
            $($collector),+
        }

        impl Collector {
            /// Every collector, in the catalog's order.
            pub const ALL: &'static [Collector] = &[$(Collector::$collector),+];
        }
    };
}

catalog!(
    Collections,
    Shards,
    Segments,
    Cluster,
    Snapshots,
    Optimizations,
    Memory,
    Quotas,
    Issues,
    NativeRelay,
);

/// What is known of a collector without running it.
pub struct Facts {
    /// The `collector` label value and the name in the `collectors` setting.
    pub name: &'static str,
    /// What it asks Qdrant for, per refresh in which it runs (the README's collector table says the same).
    pub reads: &'static str,
    pub on_by_default: bool,
    /// How often it runs by default; zero means on every refresh.
    pub default_interval: Duration,
    /// The telemetry it reads from the refresh's one `GET /telemetry`.
    pub telemetry: Option<TelemetryDetail>,
    /// Reads what only the answering node knows: unsupported in the cluster view.
    pub node_local: bool,
}

const EVERY_REFRESH: Duration = Duration::ZERO;

impl Collector {
    pub const fn facts(self) -> Facts {
        match self {
            Collector::Collections => Facts {
                name: "collections",
                reads: "GET /telemetry?details_level=3 (shared); GET /collections/{name} per collection only as the fallback",
                on_by_default: true,
                default_interval: EVERY_REFRESH,
                telemetry: Some(TelemetryDetail::Shards),
                node_local: false,
            },
            Collector::Shards => Facts {
                name: "shards",
                reads: "GET /telemetry?details_level=3 (shared); GET /collections/{name}/cluster per collection only as the fallback",
                on_by_default: true,
                default_interval: EVERY_REFRESH,
                telemetry: Some(TelemetryDetail::Shards),
                node_local: false,
            },
            Collector::Segments => Facts {
                name: "segments",
                reads: "GET /telemetry?details_level=4 (shared: that refresh asks level 4 instead of 3)",
                on_by_default: true,
                default_interval: Duration::from_secs(60),
                telemetry: Some(TelemetryDetail::Segments),
                node_local: true,
            },
            Collector::Cluster => Facts {
                name: "cluster",
                reads: "GET /cluster; in cluster mode also GET /cluster/telemetry (Qdrant ≥ 1.17)",
                on_by_default: true,
                default_interval: EVERY_REFRESH,
                telemetry: None,
                node_local: false,
            },
            Collector::Snapshots => Facts {
                name: "snapshots",
                reads: "GET /collections/{name}/snapshots per collection",
                on_by_default: true,
                default_interval: Duration::from_secs(300),
                telemetry: None,
                node_local: true,
            },
            Collector::Optimizations => Facts {
                name: "optimizations",
                reads: "GET /collections/{name}/optimizations per collection (Qdrant ≥ 1.16.3)",
                on_by_default: true,
                default_interval: Duration::from_secs(60),
                telemetry: None,
                node_local: true,
            },
            Collector::Memory => Facts {
                name: "memory",
                reads: "GET /collections/{name}/memory per collection (Qdrant ≥ 1.18; ~2 ms of Qdrant CPU each)",
                on_by_default: false,
                default_interval: Duration::from_secs(300),
                telemetry: None,
                node_local: true,
            },
            Collector::Quotas => Facts {
                name: "quotas",
                reads: "GET /quotas (Qdrant ≥ 1.19); this node's verdict from GET /telemetry?details_level=3 (shared)",
                on_by_default: true,
                default_interval: EVERY_REFRESH,
                telemetry: Some(TelemetryDetail::Shards),
                node_local: false,
            },
            Collector::Issues => Facts {
                name: "issues",
                reads: "GET /issues",
                on_by_default: true,
                default_interval: Duration::from_secs(60),
                telemetry: None,
                node_local: false,
            },
            Collector::NativeRelay => Facts {
                name: "native_relay",
                reads: "GET /metrics",
                on_by_default: false,
                default_interval: EVERY_REFRESH,
                telemetry: None,
                node_local: true,
            },
        }
    }

    /// The `collector` label value.
    pub const fn name(self) -> &'static str {
        self.facts().name
    }

    pub fn from_name(name: &str) -> Option<Collector> {
        Collector::ALL
            .iter()
            .copied()
            .find(|collector| collector.name() == name)
    }

    /// Runs the collector over the refresh's context.
    pub(crate) fn collect<'a>(self, ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
        match self {
            Collector::Collections => collections::collect(ctx),
            Collector::Shards => shards::collect(ctx),
            Collector::Segments => segments::collect(ctx),
            Collector::Cluster => cluster::collect(ctx),
            Collector::Snapshots => snapshots::collect(ctx),
            Collector::Optimizations => optimizations::collect(ctx),
            Collector::Memory => memory::collect(ctx),
            Collector::Quotas => quotas::collect(ctx),
            Collector::Issues => issues::collect(ctx),
            Collector::NativeRelay => relay::collect(ctx),
        }
    }
}

/// The collectors' settings, validated: which run, how often, over which collections.
#[derive(Debug, Clone)]
pub struct CollectorConfig {
    pub enabled: BTreeSet<Collector>,
    /// How often each collector runs where not its default; zero means on every refresh.
    pub intervals: BTreeMap<Collector, Duration>,
    pub max_collections: usize,
    pub include: Option<Regex>,
    pub exclude: Option<Regex>,
    /// Only the raft leader's exporter emits the cluster-wide series.
    pub cluster_wide_on_leader_only: bool,
    /// Report the whole cluster through whichever node answers.
    pub cluster_view: bool,
}

impl CollectorConfig {
    pub fn interval(&self, collector: Collector) -> Duration {
        self.intervals
            .get(&collector)
            .copied()
            .unwrap_or(collector.facts().default_interval)
    }
}

#[cfg(test)]
mod tests {
    use super::Collector;

    #[test]
    fn every_collector_is_found_by_its_name_alone() {
        for &collector in Collector::ALL {
            assert_eq!(Collector::from_name(collector.name()), Some(collector));
        }
        assert_eq!(Collector::from_name("nope"), None);
    }
}

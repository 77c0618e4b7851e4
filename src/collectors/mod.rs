//! The collectors and their catalog. Each collector is one module that turns
//! what Qdrant answered into metric families, over the refresh's shared
//! [`Context`]; this file lists them with their static facts (which the
//! settings, `--help` and the collector table of docs/metrics.md read), dispatches to
//! them, and holds their settings. Adding a collector: its module, its entry
//! here (the compiler asks for its facts and its dispatch), and its rows in docs/metrics.md.

mod cluster;
mod collections;
mod context;
mod failure;
mod fan_out;
mod issues;
mod memory;
mod optimizations;
mod optimizer_queue;
mod output;
mod peers;
mod quota_usage;
mod quotas;
mod relay;
mod segments;
mod shards;
mod snapshots;
mod system;
mod timestamps;
mod volumes;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;
use regex::Regex;

pub use context::{Context, Selected};
pub use failure::Failure;
pub use output::Output;

use crate::metrics::FamilySpec;
pub use crate::metrics::{Detail, Scope};
use crate::qdrant::TelemetryDetail;

/// The `vector` label of a vector name: Qdrant names the unnamed vector `""`.
pub(crate) fn vector_label(name: &str) -> &str {
    match name {
        "" => "default",
        named => named,
    }
}

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
    Optimizations,
    Cluster,
    Peers,
    Snapshots,
    OptimizerQueue,
    Memory,
    Quotas,
    QuotaUsage,
    Issues,
    System,
    Volumes,
    NativeRelay,
);

/// What is known of a collector without running it.
pub struct Facts {
    /// The `collector` label value and the name in the `collectors` setting.
    pub name: &'static str,
    /// What it asks Qdrant for, per refresh in which it runs (the collector table of docs/metrics.md says the same).
    pub reads: &'static str,
    pub on_by_default: bool,
    /// How often it runs by default; zero means on every refresh.
    pub default_interval: Duration,
    /// The telemetry it reads from the refresh's one `GET /telemetry`.
    pub telemetry: Option<TelemetryDetail>,
    /// `Node`: it asks this node alone, on every exporter, within the refresh.
    /// `Cluster`: Qdrant answers what it asks by asking every peer, so it runs
    /// on the cluster's reporter alone, off the refresh deadline, and what it
    /// exports is the cluster's.
    pub scope: Scope,
    /// It can describe the cluster through whichever node answers (the cluster view).
    pub in_cluster_view: bool,
    /// In the cluster view it reads `GET /cluster/telemetry`, which the
    /// refresh fetches once for all of them.
    pub reads_cluster_view: bool,
}

const EVERY_REFRESH: Duration = Duration::ZERO;

/// How often the collectors reading the level-3 telemetry run. That telemetry
/// is most of what a sidecar costs its node (about half of Qdrant's own
/// `/metrics`), so 15 s scrapes read it every other time (BENCHMARKS.md has
/// the cost); 25 s, not 30, so that a scrape arriving a little early still
/// finds it due.
const TELEMETRY_INTERVAL: Duration = Duration::from_secs(25);

/// How often a level-4 read (every segment, the optimizer log) takes the place
/// of a level-3 one: it costs Qdrant up to twice as much. Every 2 minutes at
/// 15 s scrapes, 5 s short of that for the reason above.
const SEGMENTS_INTERVAL: Duration = Duration::from_secs(115);

impl Collector {
    pub const fn facts(self) -> Facts {
        match self {
            Collector::Collections => Facts {
                name: "collections",
                reads: "GET /telemetry?details_level=3 (shared); GET /collections/{name} per collection, on the reporter, only as the fallback",
                on_by_default: true,
                default_interval: TELEMETRY_INTERVAL,
                telemetry: Some(TelemetryDetail::Shards),
                scope: Scope::Node,
                reads_cluster_view: true,
                in_cluster_view: true,
            },
            Collector::Shards => Facts {
                name: "shards",
                reads: "GET /telemetry?details_level=3 (shared); GET /collections/{name}/cluster per collection only as the fallback",
                on_by_default: true,
                default_interval: TELEMETRY_INTERVAL,
                telemetry: Some(TelemetryDetail::Shards),
                scope: Scope::Node,
                reads_cluster_view: true,
                in_cluster_view: true,
            },
            Collector::Segments => Facts {
                name: "segments",
                reads: "GET /telemetry?details_level=4 (shared: that refresh asks level 4 instead of 3)",
                on_by_default: true,
                default_interval: SEGMENTS_INTERVAL,
                telemetry: Some(TelemetryDetail::Segments),
                scope: Scope::Node,
                reads_cluster_view: false,
                in_cluster_view: false,
            },
            Collector::Optimizations => Facts {
                name: "optimizations",
                reads: "GET /telemetry?details_level=4 (shared: the optimizer log of this node's shards)",
                on_by_default: true,
                default_interval: SEGMENTS_INTERVAL,
                telemetry: Some(TelemetryDetail::Segments),
                scope: Scope::Node,
                reads_cluster_view: false,
                in_cluster_view: false,
            },
            Collector::Cluster => Facts {
                name: "cluster",
                reads: "GET /cluster (every refresh reads it: it tells whether this node is the reporter)",
                on_by_default: true,
                default_interval: EVERY_REFRESH,
                telemetry: None,
                scope: Scope::Node,
                reads_cluster_view: true,
                in_cluster_view: true,
            },
            Collector::Peers => Facts {
                name: "peers",
                reads: "GET /cluster/telemetry in cluster mode (Qdrant ≥ 1.17)",
                on_by_default: true,
                default_interval: EVERY_REFRESH,
                telemetry: None,
                scope: Scope::Cluster,
                reads_cluster_view: true,
                in_cluster_view: true,
            },
            Collector::Snapshots => Facts {
                name: "snapshots",
                reads: "GET /collections/{name}/snapshots per collection",
                on_by_default: true,
                default_interval: Duration::from_secs(600),
                telemetry: None,
                scope: Scope::Node,
                reads_cluster_view: false,
                in_cluster_view: false,
            },
            Collector::OptimizerQueue => Facts {
                name: "optimizer_queue",
                reads: "GET /collections/{name}/optimizations per collection (Qdrant ≥ 1.16.3)",
                on_by_default: true,
                default_interval: Duration::from_secs(300),
                telemetry: None,
                scope: Scope::Cluster,
                reads_cluster_view: false,
                in_cluster_view: true,
            },
            Collector::Memory => Facts {
                name: "memory",
                reads: "GET /collections/{name}/memory per collection (Qdrant ≥ 1.18; ~2 ms of CPU on every node holding a replica)",
                on_by_default: false,
                default_interval: Duration::from_secs(300),
                telemetry: None,
                scope: Scope::Cluster,
                reads_cluster_view: false,
                in_cluster_view: true,
            },
            Collector::Quotas => Facts {
                name: "quotas",
                reads: "GET /telemetry?details_level=3 (shared: its quota, Qdrant ≥ 1.19)",
                on_by_default: true,
                default_interval: TELEMETRY_INTERVAL,
                telemetry: Some(TelemetryDetail::Shards),
                scope: Scope::Node,
                reads_cluster_view: false,
                in_cluster_view: true,
            },
            Collector::QuotaUsage => Facts {
                name: "quota_usage",
                reads: "GET /quotas (Qdrant ≥ 1.19)",
                on_by_default: true,
                default_interval: EVERY_REFRESH,
                telemetry: None,
                scope: Scope::Cluster,
                reads_cluster_view: false,
                in_cluster_view: true,
            },
            Collector::Issues => Facts {
                name: "issues",
                reads: "GET /issues",
                on_by_default: true,
                default_interval: Duration::from_secs(60),
                telemetry: None,
                scope: Scope::Node,
                reads_cluster_view: false,
                in_cluster_view: true,
            },
            Collector::System => Facts {
                name: "system",
                reads: "GET /telemetry?details_level=3 (shared: its app and memory sections)",
                on_by_default: true,
                default_interval: TELEMETRY_INTERVAL,
                telemetry: Some(TelemetryDetail::Shards),
                scope: Scope::Node,
                reads_cluster_view: false,
                in_cluster_view: false,
            },
            Collector::Volumes => Facts {
                name: "volumes",
                reads: "statvfs of each volume of the volumes setting (the sidecar's read-only mount of Qdrant's storage); no request to Qdrant",
                on_by_default: true,
                default_interval: EVERY_REFRESH,
                telemetry: None,
                scope: Scope::Node,
                reads_cluster_view: false,
                in_cluster_view: false,
            },
            Collector::NativeRelay => Facts {
                name: "native_relay",
                reads: "GET /metrics",
                on_by_default: false,
                default_interval: EVERY_REFRESH,
                telemetry: None,
                scope: Scope::Node,
                reads_cluster_view: false,
                in_cluster_view: false,
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

    /// The families the collector fills, as the catalog lists them.
    pub fn families(self) -> &'static [&'static FamilySpec] {
        match self {
            Collector::Collections => collections::FAMILIES,
            Collector::Shards => shards::FAMILIES,
            Collector::Segments => segments::FAMILIES,
            Collector::Optimizations => optimizations::FAMILIES,
            Collector::Cluster => cluster::FAMILIES,
            Collector::Peers => peers::FAMILIES,
            Collector::Snapshots => snapshots::FAMILIES,
            Collector::OptimizerQueue => optimizer_queue::FAMILIES,
            Collector::Memory => memory::FAMILIES,
            Collector::Quotas => quotas::FAMILIES,
            Collector::QuotaUsage => quota_usage::FAMILIES,
            Collector::Issues => issues::FAMILIES,
            Collector::System => system::FAMILIES,
            Collector::Volumes => volumes::FAMILIES,
            Collector::NativeRelay => relay::FAMILIES,
        }
    }

    /// Runs the collector over the refresh's context; what it produced, as
    /// the context's detail exports it.
    pub(crate) fn collect<'a>(self, ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
        let run = self.run(ctx);
        async move {
            let mut output = run.await;
            for family in &mut output.families {
                family.reduce(ctx.detail);
                if let Some(distinct) = ctx.distinct_collections {
                    family.fold_collections(distinct);
                }
            }
            output
        }
        .boxed_local()
    }

    fn run<'a>(self, ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
        match self {
            Collector::Collections => collections::collect(ctx),
            Collector::Shards => shards::collect(ctx),
            Collector::Segments => segments::collect(ctx),
            Collector::Optimizations => optimizations::collect(ctx),
            Collector::Cluster => cluster::collect(ctx),
            Collector::Peers => peers::collect(ctx),
            Collector::Snapshots => snapshots::collect(ctx),
            Collector::OptimizerQueue => optimizer_queue::collect(ctx),
            Collector::Memory => memory::collect(ctx),
            Collector::Quotas => quotas::collect(ctx),
            Collector::QuotaUsage => quota_usage::collect(ctx),
            Collector::Issues => issues::collect(ctx),
            Collector::System => system::collect(ctx),
            Collector::Volumes => volumes::collect(ctx),
            Collector::NativeRelay => relay::collect(ctx),
        }
    }
}

/// A filesystem whose use the `volumes` collector reports: Qdrant's storage,
/// mounted into the sidecar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// The `volume` label.
    pub name: String,
    pub path: std::path::PathBuf,
}

/// The collectors' settings, validated: which run, how often, over which collections.
#[derive(Debug, Clone)]
pub struct CollectorConfig {
    pub enabled: BTreeSet<Collector>,
    /// How often each collector runs where not its default; zero means on every refresh.
    pub intervals: BTreeMap<Collector, Duration>,
    pub max_collections: usize,
    /// Most collections with series of their own; the rest are folded together.
    pub max_distinct_collections: Option<usize>,
    pub include: Option<Regex>,
    pub exclude: Option<Regex>,
    /// How much of each collection is exported.
    pub detail: Detail,
    /// The volumes whose filesystems the `volumes` collector reports.
    pub volumes: Vec<Volume>,
    /// Report the whole cluster through whichever node answers.
    pub cluster_view: bool,
    /// The native relay asks for Qdrant's request metrics per collection.
    pub relay_per_collection: bool,
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

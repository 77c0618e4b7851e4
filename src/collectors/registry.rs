//! The one list of collectors. The `collectors` and `collector_intervals`
//! settings, `--help`, the README's collector table (checked by a test) and
//! the tests' lists all derive from [`REGISTRY`]: adding a collector means its
//! module, one line here and its README rows.

use std::time::Duration;

use futures_util::future::LocalBoxFuture;

use super::{
    cluster, collections, issues, memory, optimizations, quotas, relay, segments, shards, snapshots,
};
use super::{Context, Output};
use crate::qdrant::TelemetryDetail;

/// A collector's identity; its index in [`REGISTRY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Collector {
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
}

/// Every collector has this one signature over the refresh's shared context.
pub type CollectFn = for<'a> fn(&'a Context<'a>) -> LocalBoxFuture<'a, Output>;

pub struct Registration {
    pub collector: Collector,
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
    pub collect: CollectFn,
}

const EVERY_REFRESH: Duration = Duration::ZERO;

pub const REGISTRY: [Registration; 10] = [
    Registration {
        collector: Collector::Collections,
        name: "collections",
        reads: "GET /telemetry?details_level=3 (shared); GET /collections/{name} per collection only as the fallback",
        on_by_default: true,
        default_interval: EVERY_REFRESH,
        telemetry: Some(TelemetryDetail::Shards),
        node_local: false,
        collect: collections::collect,
    },
    Registration {
        collector: Collector::Shards,
        name: "shards",
        reads: "GET /telemetry?details_level=3 (shared); GET /collections/{name}/cluster per collection only as the fallback",
        on_by_default: true,
        default_interval: EVERY_REFRESH,
        telemetry: Some(TelemetryDetail::Shards),
        node_local: false,
        collect: shards::collect,
    },
    Registration {
        collector: Collector::Segments,
        name: "segments",
        reads: "GET /telemetry?details_level=4 (shared: that refresh asks level 4 instead of 3)",
        on_by_default: true,
        default_interval: Duration::from_secs(60),
        telemetry: Some(TelemetryDetail::Segments),
        node_local: true,
        collect: segments::collect,
    },
    Registration {
        collector: Collector::Cluster,
        name: "cluster",
        reads: "GET /cluster; in cluster mode also GET /cluster/telemetry (Qdrant ≥ 1.17)",
        on_by_default: true,
        default_interval: EVERY_REFRESH,
        telemetry: None,
        node_local: false,
        collect: cluster::collect,
    },
    Registration {
        collector: Collector::Snapshots,
        name: "snapshots",
        reads: "GET /collections/{name}/snapshots per collection",
        on_by_default: true,
        default_interval: Duration::from_secs(300),
        telemetry: None,
        node_local: true,
        collect: snapshots::collect,
    },
    Registration {
        collector: Collector::Optimizations,
        name: "optimizations",
        reads: "GET /collections/{name}/optimizations per collection (Qdrant ≥ 1.16.3)",
        on_by_default: true,
        default_interval: Duration::from_secs(60),
        telemetry: None,
        node_local: true,
        collect: optimizations::collect,
    },
    Registration {
        collector: Collector::Memory,
        name: "memory",
        reads: "GET /collections/{name}/memory per collection (Qdrant ≥ 1.18; ~2 ms of Qdrant CPU each)",
        on_by_default: false,
        default_interval: Duration::from_secs(300),
        telemetry: None,
        node_local: true,
        collect: memory::collect,
    },
    Registration {
        collector: Collector::Quotas,
        name: "quotas",
        reads: "GET /quotas (Qdrant ≥ 1.19); this node's verdict from GET /telemetry?details_level=3 (shared)",
        on_by_default: true,
        default_interval: EVERY_REFRESH,
        telemetry: Some(TelemetryDetail::Shards),
        node_local: false,
        collect: quotas::collect,
    },
    Registration {
        collector: Collector::Issues,
        name: "issues",
        reads: "GET /issues",
        on_by_default: true,
        default_interval: Duration::from_secs(60),
        telemetry: None,
        node_local: false,
        collect: issues::collect,
    },
    Registration {
        collector: Collector::NativeRelay,
        name: "native_relay",
        reads: "GET /metrics",
        on_by_default: false,
        default_interval: EVERY_REFRESH,
        telemetry: None,
        node_local: true,
        collect: relay::collect,
    },
];

impl Collector {
    pub fn registration(self) -> &'static Registration {
        &REGISTRY[self as usize]
    }

    /// The `collector` label value.
    pub fn name(self) -> &'static str {
        self.registration().name
    }

    pub fn from_name(name: &str) -> Option<Collector> {
        REGISTRY
            .iter()
            .find(|registration| registration.name == name)
            .map(|registration| registration.collector)
    }

    /// Every collector, in registry order.
    pub fn all() -> impl Iterator<Item = Collector> {
        REGISTRY.iter().map(|registration| registration.collector)
    }
}

/// The default of the `collectors` setting.
pub fn default_selection() -> String {
    REGISTRY
        .iter()
        .filter(|registration| registration.on_by_default)
        .map(|registration| registration.name)
        .collect::<Vec<_>>()
        .join(",")
}

/// The collectors that do not run on every refresh, as `name=seconds` (for `--help`).
pub fn default_intervals() -> String {
    REGISTRY
        .iter()
        .filter(|registration| !registration.default_interval.is_zero())
        .map(|registration| {
            format!(
                "{}={}",
                registration.name,
                registration.default_interval.as_secs()
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_collector_sits_at_its_own_index() {
        for (index, registration) in REGISTRY.iter().enumerate() {
            assert_eq!(
                registration.collector as usize, index,
                "{}",
                registration.name
            );
            assert_eq!(
                Collector::from_name(registration.name),
                Some(registration.collector)
            );
        }
    }
}

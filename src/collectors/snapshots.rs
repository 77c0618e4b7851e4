//! The `snapshots` collector: `GET /collections/{name}/snapshots` for every
//! collection. Snapshots are stored per node, so these figures are per node.
//! The one collector whose requests grow with the number of collections:
//! snapshots change rarely, so by default it runs every 5 minutes.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::Context;
use super::fan_out::fan_out;
use super::output::Output;
use super::timestamps::unix_seconds;
use crate::metrics::label::COLLECTION;
use crate::metrics::{Across, Detail, Family, FamilySpec, GaugeFamily};
use crate::qdrant::models::SnapshotDescription;

static COUNT: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_snapshots",
    &[COLLECTION],
    "Snapshots of the collection stored on this node.",
)
.exported_from(Detail::Shard);
static SIZE: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_snapshots_size_bytes",
    &[COLLECTION],
    "Total size of the collection's snapshots stored on this node.",
)
.exported_from(Detail::Shard);
static NEWEST: FamilySpec = FamilySpec::gauge(
    "qdrant_collection_snapshot_latest_timestamp_seconds",
    &[COLLECTION],
    "Creation time of the collection's newest snapshot on this node, as a Unix timestamp; absent without snapshots.",
)
.across_collections(Across::Highest);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] = &[&COUNT, &SIZE, &NEWEST];

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    async move {
        let fetched = fan_out(ctx.selected, ctx.deadline, |name| {
            ctx.client.collection_snapshots(name)
        })
        .await;
        Output {
            families: families(&fetched.fetched),
            failure: fetched.failure("snapshot lists"),
            ..Output::default()
        }
    }
    .boxed_local()
}

fn families(collections: &[(&str, Vec<SnapshotDescription>)]) -> Vec<Family> {
    let mut count = GaugeFamily::new(&COUNT);
    let mut size = GaugeFamily::new(&SIZE);
    let mut newest = GaugeFamily::new(&NEWEST);
    for (collection, snapshots) in collections {
        let labels = [(COLLECTION, *collection)];
        count.push(&labels, snapshots.len() as f64);
        size.push(
            &labels,
            snapshots.iter().map(|s| s.size).sum::<u64>() as f64,
        );
        let latest = snapshots
            .iter()
            .filter_map(|s| s.creation_time.as_deref().and_then(unix_seconds))
            .reduce(f64::max);
        if let Some(latest) = latest {
            newest.push(&labels, latest);
        }
    }
    [count, size, newest]
        .into_iter()
        .map(GaugeFamily::finish)
        .collect()
}

//! The `snapshots` collector: `GET /collections/{name}/snapshots` for every
//! collection. Snapshots are stored per node, so these figures are per node.
//! The one collector whose requests grow with the number of collections:
//! snapshots change rarely, so by default it runs every 5 minutes.

use crate::metrics::Family;
use chrono::{DateTime, NaiveDateTime};

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::fan_out::fan_out;
use super::{Context, Output};
use crate::metrics::GaugeFamily;
use crate::qdrant::models::SnapshotDescription;

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
    let mut count = GaugeFamily::new(
        "qdrant_collection_snapshots",
        "Snapshots of the collection stored on this node.",
    );
    let mut size = GaugeFamily::new(
        "qdrant_collection_snapshots_size_bytes",
        "Total size of the collection's snapshots stored on this node.",
    );
    let mut newest = GaugeFamily::new(
        "qdrant_collection_snapshot_latest_timestamp_seconds",
        "Creation time of the collection's newest snapshot on this node, as a Unix timestamp; absent without snapshots.",
    );
    for (collection, snapshots) in collections {
        let labels = [("collection", *collection)];
        count.push(&labels, snapshots.len() as f64);
        size.push(
            &labels,
            snapshots.iter().map(|s| s.size).sum::<u64>() as f64,
        );
        let latest = snapshots
            .iter()
            .filter_map(|s| s.creation_time.as_deref().and_then(unix_seconds))
            .max();
        if let Some(latest) = latest {
            newest.push(&labels, latest as f64);
        }
    }
    [count, size, newest]
        .into_iter()
        .map(GaugeFamily::finish)
        .collect()
}

/// Qdrant writes `2026-11-21T06:47:17` (UTC, no offset); accept RFC 3339 too.
fn unix_seconds(time: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(time)
        .map(|t| t.timestamp())
        .or_else(|_| {
            NaiveDateTime::parse_from_str(time, "%Y-%m-%dT%H:%M:%S%.f")
                .map(|t| t.and_utc().timestamp())
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::unix_seconds;

    #[test]
    fn qdrant_snapshot_times_are_utc() {
        assert_eq!(unix_seconds("2026-11-21T06:47:17"), Some(1_795_243_637));
        assert_eq!(unix_seconds("2026-11-21T06:47:17.5"), Some(1_795_243_637));
        assert_eq!(
            unix_seconds("2026-11-21T07:47:17+01:00"),
            Some(1_795_243_637)
        );
        assert_eq!(unix_seconds("yesterday"), None);
    }
}

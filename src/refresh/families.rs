//! What the refresh reports itself, beside the collectors' figures: whether
//! Qdrant was reached, its version, how many collections it has, and the
//! exporter's own metrics (each collector's success, support, duration and
//! data age, skipped collections, whether it reports the cluster, requests
//! sent, when the figures were fetched).

use std::time::{Duration, SystemTime};

use crate::collectors::Collector;
use crate::metrics::{bool_value, Family, FamilySpec, GaugeFamily};
use crate::qdrant::models::VersionInfo;
use crate::qdrant::RequestCounter;

use super::selection::Selection;

/// Git revision the binary was built from (set by build.rs).
pub const REVISION: &str = env!("QDRANT_EXPORTER_REVISION");

static UP: FamilySpec = FamilySpec::gauge(
    "qdrant_up",
    &[],
    "1 when the last refresh reached Qdrant and was authorised to list collections, else 0.",
);
static INFO: FamilySpec = FamilySpec::gauge(
    "qdrant_info",
    &["version", "commit"],
    "Version and commit of the Qdrant server. Always 1.",
);
static COLLECTIONS: FamilySpec = FamilySpec::cluster_gauge(
    "qdrant_collections",
    &[],
    "Number of collections in Qdrant.",
);
static BUILD_INFO: FamilySpec = FamilySpec::gauge(
    "qdrant_exporter_build_info",
    &["version", "revision"],
    "Version and git revision of this exporter. Always 1.",
);
static SCRAPE_SUCCESS: FamilySpec = FamilySpec::gauge(
    "qdrant_exporter_scrape_success",
    &["collector"],
    "1 when the collector's last refresh succeeded completely, else 0.",
);
static COLLECTOR_SUPPORTED: FamilySpec = FamilySpec::gauge(
    "qdrant_exporter_collector_supported",
    &["collector"],
    "0 when the Qdrant version lacks what the collector reads; the collector then exports nothing.",
);
static SCRAPE_DURATION: FamilySpec = FamilySpec::gauge(
    "qdrant_exporter_scrape_duration_seconds",
    &["collector"],
    "Time the collector's last run took.",
);
static DATA_AGE: FamilySpec = FamilySpec::gauge(
    "qdrant_exporter_collector_data_age_seconds",
    &["collector"],
    "Seconds between the collector's last fetch from Qdrant and this refresh: \
     about 0 for collectors that run on every refresh, up to their interval for the others.",
);
static COLLECTIONS_SKIPPED: FamilySpec = FamilySpec::gauge(
    "qdrant_exporter_collections_skipped",
    &["reason"],
    "Collections not exported: filtered out by name, over max_collections, or with a name Qdrant would refuse.",
);
static CLUSTER_REPORTER: FamilySpec = FamilySpec::gauge(
    "qdrant_exporter_cluster_reporter",
    &[],
    "1 when this exporter reports the cluster-scope figures and sends the requests that ask every \
     peer (it is the raft leader's, a single node's, or the cluster view), else 0.",
);
static QDRANT_REQUESTS: FamilySpec = FamilySpec::counter(
    "qdrant_exporter_qdrant_requests_total",
    &["endpoint", "status_class"],
    "Requests the exporter sent to Qdrant, by endpoint and status class (2xx..5xx, timeout, error).",
);
static LAST_REFRESH: FamilySpec = FamilySpec::gauge(
    "qdrant_exporter_last_refresh_timestamp_seconds",
    &[],
    "When the served figures were fetched from Qdrant, as a Unix timestamp.",
);

/// Every family this module fills, for the catalog.
pub static FAMILIES: &[&FamilySpec] = &[
    &UP,
    &INFO,
    &COLLECTIONS,
    &BUILD_INFO,
    &SCRAPE_SUCCESS,
    &COLLECTOR_SUPPORTED,
    &SCRAPE_DURATION,
    &DATA_AGE,
    &COLLECTIONS_SKIPPED,
    &CLUSTER_REPORTER,
    &QDRANT_REQUESTS,
    &LAST_REFRESH,
];

/// How one enabled collector fared, for the exporter's own metrics.
pub struct Report {
    pub collector: Collector,
    pub success: bool,
    pub supported: bool,
    /// How long its last run took; `None` when it could not run (Qdrant unreachable).
    pub duration: Option<Duration>,
    /// How old the figures it serves are; `None` when it serves none.
    pub data_age: Option<Duration>,
}

pub fn info(version: &VersionInfo) -> Family {
    let mut info = GaugeFamily::new(&INFO);
    let commit = version.commit.as_deref().unwrap_or("unknown");
    info.push(&[("version", &version.version), ("commit", commit)], 1.0);
    info.finish()
}

pub fn collections(count: usize) -> Family {
    GaugeFamily::single(&COLLECTIONS, count as f64)
}

pub fn skipped(selection: &Selection) -> Family {
    let mut skipped = GaugeFamily::new(&COLLECTIONS_SKIPPED);
    skipped.push(&[("reason", "filtered")], selection.filtered_out as f64);
    skipped.push(&[("reason", "limit")], selection.over_limit as f64);
    skipped.push(
        &[("reason", "invalid_name")],
        selection.invalid_names() as f64,
    );
    skipped.finish()
}

pub fn exporter(up: bool, reports: &[Report]) -> Vec<Family> {
    let mut build_info = GaugeFamily::new(&BUILD_INFO);
    build_info.push(
        &[
            ("version", env!("CARGO_PKG_VERSION")),
            ("revision", REVISION),
        ],
        1.0,
    );
    let mut success = GaugeFamily::new(&SCRAPE_SUCCESS);
    let mut supported = GaugeFamily::new(&COLLECTOR_SUPPORTED);
    let mut duration = GaugeFamily::new(&SCRAPE_DURATION);
    let mut data_age = GaugeFamily::new(&DATA_AGE);
    for report in reports {
        let label = [("collector", report.collector.name())];
        success.push(&label, bool_value(report.success));
        supported.push(&label, bool_value(report.supported));
        if let Some(elapsed) = report.duration {
            duration.push(&label, elapsed.as_secs_f64());
        }
        if let Some(age) = report.data_age {
            data_age.push(&label, age.as_secs_f64());
        }
    }
    vec![
        GaugeFamily::single(&UP, bool_value(up)),
        build_info.finish(),
        success.finish(),
        supported.finish(),
        duration.finish(),
        data_age.finish(),
    ]
}

pub fn reporter(reports_cluster: bool) -> Family {
    GaugeFamily::single(&CLUSTER_REPORTER, bool_value(reports_cluster))
}

pub fn requests(counter: &RequestCounter) -> Family {
    let mut family = Family::new(&QDRANT_REQUESTS);
    for ((endpoint, status_class), count) in counter.counts() {
        family.push(
            &[("endpoint", endpoint), ("status_class", status_class)],
            count as f64,
        );
    }
    family
}

/// When the served figures were fetched: constant between refreshes, so a
/// cache hit changes no byte; the age is `time() - ` this in PromQL.
pub fn refreshed_now() -> Family {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    GaugeFamily::single(&LAST_REFRESH, now.as_secs_f64())
}

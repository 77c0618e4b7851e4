//! The exporter's own metrics about a refresh: Qdrant's version, whether Qdrant
//! was reached, and each collector's success, support, duration and data age.

use std::time::Duration;

use crate::metrics::Family;

use super::Collector;
use crate::metrics::{bool_value, GaugeFamily};
use crate::qdrant::models::VersionInfo;

/// Git revision the binary was built from (set by build.rs).
pub const REVISION: &str = env!("QDRANT_EXPORTER_REVISION");

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

pub fn info_family(version: &VersionInfo) -> Family {
    let mut info = GaugeFamily::new(
        "qdrant_info",
        "Version and commit of the Qdrant server. Always 1.",
    );
    let commit = version.commit.as_deref().unwrap_or("unknown");
    info.push(&[("version", &version.version), ("commit", commit)], 1.0);
    info.finish()
}

pub fn exporter_families(up: bool, reports: &[Report]) -> Vec<Family> {
    let mut build_info = GaugeFamily::new(
        "qdrant_exporter_build_info",
        "Version and git revision of this exporter. Always 1.",
    );
    build_info.push(
        &[
            ("version", env!("CARGO_PKG_VERSION")),
            ("revision", REVISION),
        ],
        1.0,
    );
    let mut success = GaugeFamily::new(
        "qdrant_exporter_scrape_success",
        "1 when the collector's last refresh succeeded completely, else 0.",
    );
    let mut supported = GaugeFamily::new(
        "qdrant_exporter_collector_supported",
        "0 when the Qdrant version lacks what the collector reads; the collector then exports nothing.",
    );
    let mut duration = GaugeFamily::new(
        "qdrant_exporter_scrape_duration_seconds",
        "Time the collector's last run took.",
    );
    let mut data_age = GaugeFamily::new(
        "qdrant_exporter_collector_data_age_seconds",
        "Seconds between the collector's last fetch from Qdrant and this refresh: \
         about 0 for collectors that run on every refresh, up to their interval for the others.",
    );
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
        GaugeFamily::single(
            "qdrant_up",
            "1 when the last refresh reached Qdrant and was authorised to list collections, else 0.",
            bool_value(up),
        ),
        build_info.finish(),
        success.finish(),
        supported.finish(),
        duration.finish(),
        data_age.finish(),
    ]
}

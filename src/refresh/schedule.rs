//! Per-collector intervals: what each collector served last, and when it is
//! due again. A collector with an interval runs on the first refresh after its
//! interval has passed; in between its last output is served again, less the
//! series of collections that are no longer exported (no stale series).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::collectors::Collector;
use crate::locks::lock;
use crate::metrics::Family;

/// How one collector's last run went.
#[derive(Clone, Copy)]
pub struct RunReport {
    /// When it started fetching from Qdrant.
    pub fetched_at: Instant,
    pub success: bool,
    pub supported: bool,
    pub duration: Duration,
}

/// What a collector with an interval exported, to serve again until it runs again.
pub type Kept = (Vec<Family>, String);

struct LastRun {
    report: RunReport,
    kept: Option<Kept>,
}

#[derive(Default)]
pub struct Schedule {
    last_runs: Mutex<BTreeMap<Collector, LastRun>>,
}

impl Schedule {
    /// Whether the collector should run in a refresh starting `now`.
    pub fn is_due(&self, collector: Collector, interval: Duration, now: Instant) -> bool {
        self.lock().get(&collector).is_none_or(|last| {
            interval.is_zero() || now.saturating_duration_since(last.report.fetched_at) >= interval
        })
    }

    /// Remembers a run, with its output where it will be served again.
    pub fn record(&self, collector: Collector, report: RunReport, kept: Option<Kept>) {
        self.lock().insert(collector, LastRun { report, kept });
    }

    pub fn report(&self, collector: Collector) -> Option<RunReport> {
        self.lock().get(&collector).map(|last| last.report)
    }

    /// A copy of what the collector's last run exported, to serve again.
    pub fn kept(&self, collector: Collector) -> Kept {
        self.lock()
            .get(&collector)
            .and_then(|last| last.kept.clone())
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Collector, LastRun>> {
        lock(&self.last_runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_at(fetched_at: Instant) -> RunReport {
        RunReport {
            fetched_at,
            success: true,
            supported: true,
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn a_collector_is_due_first_then_once_per_interval() {
        let schedule = Schedule::default();
        let start = Instant::now();
        let minute = Duration::from_secs(60);
        assert!(schedule.is_due(Collector::Snapshots, minute, start));
        schedule.record(Collector::Snapshots, run_at(start), None);
        assert!(!schedule.is_due(
            Collector::Snapshots,
            minute,
            start + Duration::from_secs(59)
        ));
        assert!(schedule.is_due(Collector::Snapshots, minute, start + minute));
        // Without an interval, it runs on every refresh.
        schedule.record(Collector::Issues, run_at(start), None);
        assert!(schedule.is_due(Collector::Issues, Duration::ZERO, start));
    }
}

//! Per-collector intervals: what each collector served last, and when it is
//! due again. A collector with an interval runs on the first refresh after its
//! interval has passed; in between its last output is served again, less the
//! series of collections that are no longer exported (no stale series). A
//! collector that runs in the background is due only once its last run ended.

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
struct Entry {
    last: Option<LastRun>,
    /// A run is under way in the background.
    running: bool,
}

#[derive(Default)]
pub struct Schedule {
    entries: Mutex<BTreeMap<Collector, Entry>>,
}

impl Schedule {
    /// Whether the collector should run in a refresh starting `now`.
    pub fn is_due(&self, collector: Collector, interval: Duration, now: Instant) -> bool {
        let entries = self.lock();
        let Some(entry) = entries.get(&collector) else {
            return true;
        };
        !entry.running
            && entry.last.as_ref().is_none_or(|last| {
                interval.is_zero()
                    || now.saturating_duration_since(last.report.fetched_at) >= interval
            })
    }

    /// Marks a run under way until [`Schedule::record`] or [`Schedule::abandon`].
    pub fn start(&self, collector: Collector) {
        self.lock().entry(collector).or_default().running = true;
    }

    /// A run that ended without a result (its task was dropped).
    pub fn abandon(&self, collector: Collector) {
        self.lock().entry(collector).or_default().running = false;
    }

    /// Remembers a run, with its output where it will be served again.
    pub fn record(&self, collector: Collector, report: RunReport, kept: Option<Kept>) {
        let mut entries = self.lock();
        let entry = entries.entry(collector).or_default();
        entry.last = Some(LastRun { report, kept });
        entry.running = false;
    }

    pub fn report(&self, collector: Collector) -> Option<RunReport> {
        self.lock()
            .get(&collector)
            .and_then(|entry| Some(entry.last.as_ref()?.report))
    }

    /// Forgets the last run (its run under way, if any, goes on): nothing of
    /// it is served again, and the collector is due at once.
    pub fn forget(&self, collector: Collector) {
        if let Some(entry) = self.lock().get_mut(&collector) {
            entry.last = None;
        }
    }

    /// A copy of what the collector's last run exported, to serve again.
    pub fn kept(&self, collector: Collector) -> Kept {
        self.lock()
            .get(&collector)
            .and_then(|entry| entry.last.as_ref()?.kept.clone())
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Collector, Entry>> {
        lock(&self.entries)
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

    #[test]
    fn a_run_under_way_is_not_started_again_until_it_ends() {
        let schedule = Schedule::default();
        let start = Instant::now();
        schedule.start(Collector::Peers);
        assert!(!schedule.is_due(Collector::Peers, Duration::ZERO, start));
        schedule.record(Collector::Peers, run_at(start), None);
        assert!(schedule.is_due(Collector::Peers, Duration::ZERO, start));
        schedule.start(Collector::Peers);
        schedule.abandon(Collector::Peers);
        assert!(schedule.is_due(Collector::Peers, Duration::ZERO, start));
    }

    #[test]
    fn a_forgotten_run_is_not_served_and_the_collector_is_due() {
        let schedule = Schedule::default();
        let start = Instant::now();
        let interval = Duration::from_secs(300);
        schedule.record(Collector::OptimizerQueue, run_at(start), None);
        assert!(!schedule.is_due(Collector::OptimizerQueue, interval, start));
        schedule.forget(Collector::OptimizerQueue);
        assert!(schedule.report(Collector::OptimizerQueue).is_none());
        assert!(schedule.is_due(Collector::OptimizerQueue, interval, start));
    }
}

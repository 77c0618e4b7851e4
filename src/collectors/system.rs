//! The `system` collector: what Qdrant says of the machine it runs on and of
//! its own process, from the `app` and `memory` sections of the shared
//! telemetry (no request of its own): capacity and memory used for the places
//! without cAdvisor (standalone, Qdrant Cloud), when the process started, and
//! the modes it started in (recovery, low memory), in which a node looks
//! healthy to every other figure.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::{Context, Selected};
use super::output::Output;
use super::timestamps::unix_seconds;
use crate::metrics::{bool_value, Family, FamilySpec, GaugeFamily};

/// Qdrant reports memory and disk sizes in KiB.
const KIB: f64 = 1024.0;

static CPU_CORES: FamilySpec = FamilySpec::gauge(
    "qdrant_system_cpu_cores",
    &[],
    "CPU cores Qdrant counts on (from 1.19 within its cgroup's limit; before, the host's).",
);
static CPU_CORES_USED: FamilySpec = FamilySpec::gauge(
    "qdrant_system_cpu_cores_used",
    &[],
    "CPU cores Qdrant's process used, averaged over about the last two seconds (Qdrant 1.18 and later).",
);
static MEMORY: FamilySpec = FamilySpec::gauge(
    "qdrant_system_memory_bytes",
    &[],
    "Memory Qdrant may use (from 1.19 its cgroup's limit; before, the host's RAM).",
);
static DISK: FamilySpec = FamilySpec::gauge(
    "qdrant_system_disk_bytes",
    &[],
    "Size of the filesystem holding Qdrant's storage (from 1.19; before, the host's disk).",
);
static RESIDENT_MEMORY: FamilySpec = FamilySpec::gauge(
    "qdrant_memory_resident_bytes",
    &[],
    "Bytes of RAM Qdrant's allocator (jemalloc) holds resident, its heap: not its memory-mapped \
     segment files, nor their page cache. From telemetry, for a key with global access.",
);
static STARTED: FamilySpec = FamilySpec::gauge(
    "qdrant_start_time_seconds",
    &[],
    "When the Qdrant process started, as a Unix timestamp.",
);
static RECOVERY_MODE: FamilySpec = FamilySpec::gauge(
    "qdrant_recovery_mode",
    &[],
    "1 when Qdrant started in recovery mode, in which it serves no collection's reads or writes, else 0.",
);
static LOW_MEMORY_MODE: FamilySpec = FamilySpec::gauge(
    "qdrant_low_memory_mode",
    &["mode"],
    "How Qdrant loaded its segments at start (storage.low_memory_mode, Qdrant 1.18 and later): \
     the mode, disabled, no_resident or no_populate; always 1.",
);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] = &[
    &CPU_CORES,
    &CPU_CORES_USED,
    &MEMORY,
    &RESIDENT_MEMORY,
    &DISK,
    &STARTED,
    &RECOVERY_MODE,
    &LOW_MEMORY_MODE,
];

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    let output = ctx.telemetry_only(from_telemetry);
    futures_util::future::ready(output).boxed_local()
}

fn from_telemetry(selected: &Selected) -> Output {
    let Some(app) = &selected.telemetry.app else {
        return Output::unsupported("telemetry has no app section");
    };
    let system = app.system.as_ref();
    Output::families(vec![
        Family::of_value(&CPU_CORES, system.and_then(|s| s.cores).map(|c| c as f64)),
        Family::of_value(&CPU_CORES_USED, system.and_then(|s| s.cpu_cores_used)),
        Family::of_value(
            &MEMORY,
            system.and_then(|s| s.ram_size).map(|kib| kib as f64 * KIB),
        ),
        Family::of_value(
            &RESIDENT_MEMORY,
            selected
                .telemetry
                .memory
                .as_ref()
                .and_then(|memory| memory.resident_bytes)
                .map(|bytes| bytes as f64),
        ),
        Family::of_value(
            &DISK,
            system.and_then(|s| s.disk_size).map(|kib| kib as f64 * KIB),
        ),
        Family::of_value(&STARTED, app.startup.as_deref().and_then(unix_seconds)),
        Family::of_value(
            &RECOVERY_MODE,
            app.features
                .as_ref()
                .and_then(|features| features.recovery_mode)
                .map(bool_value),
        ),
        low_memory_mode(app.low_memory_mode.as_deref()),
    ])
}

fn low_memory_mode(mode: Option<&str>) -> Family {
    let mut family = GaugeFamily::new(&LOW_MEMORY_MODE);
    if let Some(mode) = mode {
        family.push(&[("mode", mode)], 1.0);
    }
    family.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qdrant::models::Telemetry;
    use crate::test_support::{every_collection, result, sample, text, value, RECORDED};

    fn exposition(fixtures: &str, file: &str) -> String {
        let telemetry: Telemetry = result(fixtures, file);
        let names = every_collection(&telemetry);
        let output = from_telemetry(&Selected::of(&telemetry, &names));
        assert!(output.failure.is_none() && output.unsupported.is_none());
        text(&output.families)
    }

    #[test]
    fn capacity_and_start_from_the_recorded_telemetry() {
        let m = exposition(RECORDED, "telemetry-details-level-3.json");
        assert_eq!(value(&m, "qdrant_system_cpu_cores", ""), 2.0);
        assert!((value(&m, "qdrant_system_cpu_cores_used", "") - 0.123).abs() < 0.01);
        assert_eq!(
            value(&m, "qdrant_system_memory_bytes", ""),
            24_684_084.0 * 1024.0
        );
        assert_eq!(
            value(&m, "qdrant_system_disk_bytes", ""),
            270_553_174.0 * 1024.0
        );
        assert_eq!(value(&m, "qdrant_memory_resident_bytes", ""), 59_535_360.0);
        // 2026-11-21T06:47:09.390Z
        assert_eq!(value(&m, "qdrant_start_time_seconds", ""), 1_795_243_629.39);
        assert_started_in(&m, 0.0, "disabled");
    }

    /// The recovery-mode figure is `recovery`, and the low-memory mode `mode`.
    fn assert_started_in(m: &str, recovery: f64, mode: &str) {
        assert_eq!(value(m, "qdrant_recovery_mode", ""), recovery);
        let mode = format!(r#"mode="{mode}""#);
        assert_eq!(value(m, "qdrant_low_memory_mode", &mode), 1.0);
    }

    #[test]
    fn the_modes_a_node_started_in_are_read() {
        let telemetry: Telemetry = serde_json::from_value(serde_json::json!({
            "collections": {"collections": []},
            "app": {"features": {"recovery_mode": true}, "low_memory_mode": "no_populate"}
        }))
        .unwrap();
        let m = text(&from_telemetry(&Selected::of(&telemetry, &[])).families);
        assert_started_in(&m, 1.0, "no_populate");
    }

    #[test]
    fn a_figure_qdrant_does_not_report_is_left_out() {
        // 1.15 had no cpu_cores_used.
        let m = exposition("handmade-v1.15.0", "telemetry-details-level-3.json");
        assert_eq!(value(&m, "qdrant_system_cpu_cores", ""), 8.0);
        assert_eq!(sample(&m, "qdrant_system_cpu_cores_used", ""), None);
        // Nor its low-memory mode (1.18).
        assert!(!m.contains("qdrant_low_memory_mode{"), "{m}");
        // The hand-made answer has no memory section (nor does one for a key without
        // global access): the figure is left out.
        assert_eq!(sample(&m, "qdrant_memory_resident_bytes", ""), None);
        let m = exposition("handmade-v1.19.0", "telemetry-details-level-3.json");
        assert_eq!(
            value(&m, "qdrant_system_memory_bytes", ""),
            4_194_304.0 * 1024.0
        );
    }
}

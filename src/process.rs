//! The exporter's own process, under the names every Prometheus client
//! library gives it (`process_resident_memory_bytes`, ...): the first thing
//! asked of a sidecar beside a database is what it takes from the pod.
//! Read from Linux's `/proc/self`; elsewhere, or where a file cannot be read,
//! the figure it holds is left out (an empty family is not written).

use std::fs;

use crate::limits;
use crate::metrics::{Family, FamilySpec};

static CPU_SECONDS: FamilySpec = FamilySpec::counter(
    "process_cpu_seconds_total",
    &[],
    "Total user and system CPU time of the exporter's process, in seconds.",
);
static RESIDENT_MEMORY: FamilySpec = FamilySpec::gauge(
    "process_resident_memory_bytes",
    &[],
    "Resident memory of the exporter's process, in bytes.",
);
static VIRTUAL_MEMORY: FamilySpec = FamilySpec::gauge(
    "process_virtual_memory_bytes",
    &[],
    "Virtual memory of the exporter's process, in bytes.",
);
static OPEN_FDS: FamilySpec = FamilySpec::gauge(
    "process_open_fds",
    &[],
    "File descriptors the exporter's process holds open.",
);
static MAX_FDS: FamilySpec = FamilySpec::gauge(
    "process_max_fds",
    &[],
    "The exporter's limit on open file descriptors (the soft limit, raised to the hard one at start).",
);
static START_TIME: FamilySpec = FamilySpec::gauge(
    "process_start_time_seconds",
    &[],
    "When the exporter's process started, as a Unix timestamp.",
);
static THREADS: FamilySpec =
    FamilySpec::gauge("process_threads", &[], "Threads of the exporter's process.");

/// Every family this module fills, for the catalog.
pub static FAMILIES: &[&FamilySpec] = &[
    &CPU_SECONDS,
    &RESIDENT_MEMORY,
    &VIRTUAL_MEMORY,
    &OPEN_FDS,
    &MAX_FDS,
    &START_TIME,
    &THREADS,
];

/// What `/proc/self/stat` says, in the units of the metrics.
#[derive(Debug, PartialEq)]
struct Stat {
    cpu_seconds: f64,
    threads: f64,
    /// Since boot, in seconds.
    started_after_boot: f64,
    virtual_bytes: f64,
    resident_bytes: f64,
}

/// Parses `/proc/<pid>/stat` (proc(5)). The command name, second, is in
/// parentheses and may hold spaces and parentheses itself: fields are
/// counted from the last `)`.
fn parse_stat(text: &str, ticks_per_second: f64, page_bytes: f64) -> Option<Stat> {
    let after_name = &text[text.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |number: usize| -> Option<f64> { fields.get(number - 3)?.parse().ok() };
    Some(Stat {
        cpu_seconds: (field(14)? + field(15)?) / ticks_per_second,
        threads: field(20)?,
        started_after_boot: field(22)? / ticks_per_second,
        virtual_bytes: field(23)?,
        resident_bytes: field(24)? * page_bytes,
    })
}

/// The `btime` line of `/proc/stat`: when the machine booted, as a Unix timestamp.
fn parse_boot_time(text: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

fn sysconf(name: libc::c_int) -> Option<f64> {
    // SAFETY: sysconf reads a constant of the system, nothing else.
    let value = unsafe { libc::sysconf(name) };
    (value > 0).then_some(value as f64)
}

fn open_file_limit() -> Option<f64> {
    let soft = limits::open_file_limits()?.rlim_cur;
    (soft != libc::RLIM_INFINITY).then_some(soft as f64)
}

fn open_fds() -> Option<f64> {
    Some(fs::read_dir("/proc/self/fd").ok()?.count() as f64)
}

/// The process families, as they stand now.
pub fn families() -> Vec<Family> {
    let stat = fs::read_to_string("/proc/self/stat").ok().and_then(|text| {
        parse_stat(
            &text,
            sysconf(libc::_SC_CLK_TCK)?,
            sysconf(libc::_SC_PAGESIZE)?,
        )
    });
    let boot_time = fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|text| parse_boot_time(&text));
    let started = stat
        .as_ref()
        .zip(boot_time)
        .map(|(stat, boot)| boot + stat.started_after_boot);
    vec![
        Family::of_value(&CPU_SECONDS, stat.as_ref().map(|s| s.cpu_seconds)),
        Family::of_value(&RESIDENT_MEMORY, stat.as_ref().map(|s| s.resident_bytes)),
        Family::of_value(&VIRTUAL_MEMORY, stat.as_ref().map(|s| s.virtual_bytes)),
        Family::of_value(&OPEN_FDS, open_fds()),
        Family::of_value(&MAX_FDS, open_file_limit()),
        Family::of_value(&START_TIME, started),
        Family::of_value(&THREADS, stat.as_ref().map(|s| s.threads)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real line of proc(5) shape, its command name holding a space and a `)`.
    const STAT: &str = "4242 (qdrant-exp) rt) S 1 4242 4242 0 -1 4194560 2290 0 0 0 \
                        150 50 0 0 20 0 9 0 12345 1073741824 2048 18446744073709551615";

    #[test]
    fn the_stat_fields_are_counted_from_the_end_of_the_name() {
        assert_eq!(
            parse_stat(STAT, 100.0, 4096.0),
            Some(Stat {
                cpu_seconds: 2.0,
                threads: 9.0,
                started_after_boot: 123.45,
                virtual_bytes: 1_073_741_824.0,
                resident_bytes: 2048.0 * 4096.0,
            })
        );
        assert_eq!(parse_stat("4242 (cut short) S 1 2", 100.0, 4096.0), None);
    }

    #[test]
    fn the_boot_time_is_the_btime_line() {
        let text = "cpu  1 2 3\nintr 5\nbtime 1764640000\nprocesses 77\n";
        assert_eq!(parse_boot_time(text), Some(1_764_640_000.0));
        assert_eq!(parse_boot_time("cpu 1 2 3\n"), None);
    }

    #[test]
    fn this_process_is_measured() {
        let mut text = Vec::new();
        crate::metrics::render(families(), String::new())
            .write_to(&mut text)
            .unwrap();
        let text = String::from_utf8(text).unwrap();
        for name in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_open_fds ",
            "process_max_fds ",
            "process_start_time_seconds ",
            "process_threads ",
        ] {
            assert!(text.contains(&format!("\n{name}")), "{name} in {text}");
        }
    }
}

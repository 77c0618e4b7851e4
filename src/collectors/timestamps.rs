//! Qdrant's times as Unix seconds. It writes RFC 3339 with nanoseconds
//! (`2026-11-21T06:47:13.640203941Z`) almost everywhere, and UTC without an
//! offset for snapshots (`2026-11-21T06:47:17`).

use std::time::SystemTime;

use chrono::{DateTime, NaiveDateTime};

/// The time as Unix seconds, with its fraction.
pub fn unix_seconds(time: &str) -> Option<f64> {
    let utc = DateTime::parse_from_rfc3339(time)
        .map(|time| time.to_utc())
        .or_else(|_| {
            NaiveDateTime::parse_from_str(time, "%Y-%m-%dT%H:%M:%S%.f").map(|time| time.and_utc())
        })
        .ok()?;
    Some(utc.timestamp() as f64 + f64::from(utc.timestamp_subsec_nanos()) / 1e9)
}

/// Seconds from the time until now; 0 for a time in the future (clocks differ).
pub fn seconds_since(time: &str) -> Option<f64> {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    Some((now - unix_seconds(time)?).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_and_offsetless_utc_read_the_same_with_their_fraction() {
        assert_eq!(unix_seconds("2026-11-21T06:47:17"), Some(1_795_243_637.0));
        assert_eq!(unix_seconds("2026-11-21T06:47:17.5"), Some(1_795_243_637.5));
        assert_eq!(unix_seconds("2026-11-21T06:47:17Z"), Some(1_795_243_637.0));
        assert_eq!(
            unix_seconds("2026-11-21T07:47:17+01:00"),
            Some(1_795_243_637.0)
        );
        assert_eq!(unix_seconds("yesterday"), None);
        assert_eq!(seconds_since("2999-01-01T00:00:00Z"), Some(0.0));
        assert!(seconds_since("2026-11-21T06:47:17Z").is_some_and(|age| age > 0.0));
    }
}

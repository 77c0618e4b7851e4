//! Setting values parsed once, at the edge, into what the modules use:
//! counts within bounds, durations, the Qdrant URL, collector lists,
//! regular expressions and the log filter.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use regex::Regex;
use url::Url;

use super::error::{invalid, ConfigError};
use crate::catalog;
use crate::collectors::{Collector, Detail, Volume};
use crate::metrics::FamilyFilter;

/// A count between `min` and `max`, inclusive.
pub fn within(
    setting: &'static str,
    value: Option<usize>,
    min: usize,
    max: usize,
) -> Result<usize, ConfigError> {
    match value {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(n) => Err(invalid(
            setting,
            format!("must be between {min} and {max}, got {n}"),
        )),
        None => Err(invalid(setting, "has no value")),
    }
}

/// Seconds between `min` and a day.
pub fn seconds(
    setting: &'static str,
    value: Option<f64>,
    min: f64,
) -> Result<Duration, ConfigError> {
    let value = value.unwrap_or_default();
    if !value.is_finite() || value < min || value > 86_400.0 {
        return Err(invalid(
            setting,
            format!("must be between {min} and 86400 seconds, got {value}"),
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

pub fn positive_seconds(
    setting: &'static str,
    value: Option<f64>,
) -> Result<Duration, ConfigError> {
    seconds(setting, value, 0.001)
}

pub fn qdrant_url(raw: &str) -> Result<Url, ConfigError> {
    // The text is not echoed: a mistyped URL may carry a password.
    let url = Url::parse(raw).map_err(|e| invalid("qdrant_url", format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(
            "qdrant_url",
            format!("scheme must be http or https, got {:?}", url.scheme()),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("qdrant_url", "has no host"));
    }
    if url.port() == Some(0) {
        return Err(invalid(
            "qdrant_url",
            "has port 0, which nothing answers on",
        ));
    }
    // Credentials in the URL would end up in logs; the API key has its own setting.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "qdrant_url",
            "must not contain credentials; use QDRANT_API_KEY or QDRANT_API_KEY_FILE",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("qdrant_url", "must not have a query or fragment"));
    }
    Ok(url)
}

pub fn collectors(
    list: &str,
    native_metrics_relay: Option<bool>,
) -> Result<BTreeSet<Collector>, ConfigError> {
    let mut enabled = BTreeSet::new();
    for name in list
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        enabled.insert(known_collector("collectors", name)?);
    }
    if native_metrics_relay.unwrap_or(false) {
        enabled.insert(Collector::NativeRelay);
    }
    if enabled.is_empty() {
        return Err(invalid(
            "collectors",
            format!("names no collector; known: {}", collector_names()),
        ));
    }
    Ok(enabled)
}

/// Every collector's name, for help and error messages.
pub fn collector_names() -> String {
    Collector::ALL
        .iter()
        .map(|collector| collector.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn known_collector(setting: &'static str, name: &str) -> Result<Collector, ConfigError> {
    Collector::from_name(name).ok_or_else(|| {
        invalid(
            setting,
            format!("unknown collector {name:?}; known: {}", collector_names()),
        )
    })
}

/// `snapshots=600,issues=30`: seconds per collector, overriding the defaults.
pub fn intervals(list: &str) -> Result<BTreeMap<Collector, Duration>, ConfigError> {
    const SETTING: &str = "collector_intervals";
    let mut intervals = BTreeMap::new();
    for entry in list
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
    {
        let Some((name, text)) = entry.split_once('=') else {
            return Err(invalid(
                SETTING,
                format!("{entry:?} is not collector=seconds"),
            ));
        };
        let collector = known_collector(SETTING, name.trim())?;
        let value: f64 = text.trim().parse().map_err(|_| {
            invalid(
                SETTING,
                format!("{entry:?}: {text:?} is not a number of seconds"),
            )
        })?;
        intervals.insert(collector, seconds(SETTING, Some(value), 0.0)?);
    }
    Ok(intervals)
}

/// `NAME=PATH,...`: a label-safe name and an absolute path each, each name once.
pub fn volumes(list: &str) -> Result<Vec<Volume>, ConfigError> {
    let mut volumes: Vec<Volume> = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((name, path)) = entry.split_once('=') else {
            return Err(invalid("volumes", format!("`{entry}` is not NAME=PATH")));
        };
        let label_safe = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !label_safe {
            return Err(invalid(
                "volumes",
                format!("`{name}` is not a volume name (letters, digits, _ and -)"),
            ));
        }
        let path = std::path::PathBuf::from(path);
        if !path.is_absolute() {
            return Err(invalid(
                "volumes",
                format!("`{}` is not an absolute path", path.display()),
            ));
        }
        if volumes.iter().any(|volume| volume.name == name) {
            return Err(invalid("volumes", format!("`{name}` is named twice")));
        }
        volumes.push(Volume {
            name: name.to_owned(),
            path,
        });
    }
    Ok(volumes)
}

pub fn detail(name: &str) -> Result<Detail, ConfigError> {
    Detail::from_name(name).ok_or_else(|| {
        let levels: Vec<&str> = Detail::ALL.into_iter().map(Detail::name).collect();
        invalid(
            "detail",
            format!("`{name}` is not one of {}", levels.join(", ")),
        )
    })
}

/// The metric allow and deny lists (as kube-state-metrics spells them): each
/// a comma-separated list of patterns over whole family names, each of which
/// must name at least one family of the catalog.
pub fn family_filter(
    allowlist: Option<&str>,
    denylist: Option<&str>,
) -> Result<FamilyFilter, ConfigError> {
    if allowlist.is_some() && denylist.is_some() {
        return Err(invalid(
            "metric_denylist",
            "set either metric_allowlist or metric_denylist, not both",
        ));
    }
    Ok(FamilyFilter {
        allow: family_patterns("metric_allowlist", allowlist)?,
        deny: family_patterns("metric_denylist", denylist)?,
    })
}

fn family_patterns(
    setting: &'static str,
    list: Option<&str>,
) -> Result<Option<Regex>, ConfigError> {
    let Some(list) = list else {
        return Ok(None);
    };
    let mut whole = Vec::new();
    for pattern in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let anchored = format!("^(?:{pattern})$");
        let regex = Regex::new(&anchored).map_err(|e| {
            invalid(
                setting,
                format!("`{pattern}`: {}", e.to_string().replace('\n', " ")),
            )
        })?;
        if !catalog::names().any(|name| regex.is_match(name)) {
            return Err(invalid(
                setting,
                format!("`{pattern}` matches no metric family (`qdrant-exporter list-metrics` lists them)"),
            ));
        }
        whole.push(anchored);
    }
    if whole.is_empty() {
        return Err(invalid(setting, "lists no pattern"));
    }
    Regex::new(&whole.join("|"))
        .map(Some)
        .map_err(|e| invalid(setting, e.to_string().replace('\n', " ")))
}

pub fn regex(setting: &'static str, pattern: Option<String>) -> Result<Option<Regex>, ConfigError> {
    pattern
        .map(|pattern| {
            Regex::new(&pattern).map_err(|e| invalid(setting, e.to_string().replace('\n', " ")))
        })
        .transpose()
}

/// A level, or comma-separated `target=level` directives. A bare word that is
/// not a level (`warning`, `debig`) would be taken as a target name and
/// silence every log line: it is refused instead.
pub fn log_filter(filter: String) -> Result<String, ConfigError> {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let problem = |detail: String| invalid("log_level", format!("{filter:?}: {detail}"));
    if filter.trim().is_empty() {
        return Err(problem(format!(
            "is empty; use one of {}",
            LEVELS.join(", ")
        )));
    }
    for directive in filter.split(',').map(str::trim) {
        let level = match directive.rsplit_once('=') {
            Some((_target, level)) => level,
            None => directive,
        };
        if !LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
            return Err(problem(format!(
                "{level:?} is not a level; use one of {} (or target=level)",
                LEVELS.join(", ")
            )));
        }
    }
    tracing_subscriber::EnvFilter::try_new(&filter).map_err(|e| problem(e.to_string()))?;
    Ok(filter)
}

//! The probe configuration file: the targets `/probe` may reach, and each
//! module's settings, checked whole at start.
//!
//! ```yaml
//! allowed_targets:                       # URLs; a host may start with "*."
//!   - https://*.cloud.qdrant.io:6333
//!   - http://qdrant.team-b.svc:6333
//! modules:                               # settings of docs/configuration.md, per module
//!   default: {}
//!   cloud:
//!     qdrant_api_key_file: /etc/qdrant-exporter/keys/cloud
//!     cluster_view: true
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::settings::{unknown_setting, Settings};
use super::target::target_config;
use super::yaml::read_yaml_text;
use crate::probe::{AllowedTarget, ProbeSettings, DEFAULT_MODULE};
use crate::redaction::without_values;
use crate::target::TargetConfig;

/// Settings that belong to the exporter, not to a target.
const NOT_PER_MODULE: [&str; 11] = [
    "listen_address",
    "health_listen_address",
    "max_connections",
    "qdrant_url",
    "web_config_file",
    "probes_without_auth",
    "readiness_requires_qdrant",
    "log_level",
    "log_format",
    "probe_config_file",
    "process_metrics",
];

/// A module's settings are checked against this placeholder; the target probed
/// takes its place.
const PLACEHOLDER_URL: &str = "https://module.check.invalid";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    allowed_targets: Vec<String>,
    #[serde(default)]
    modules: BTreeMap<String, serde_yaml::Value>,
}

/// Reads and checks the file; `Err` says the first reason it cannot work.
pub fn read_probe_file(path: &Path) -> Result<ProbeSettings, String> {
    let text = read_yaml_text(path)?;
    let file: File = serde_yaml::from_str(&text).map_err(|e| without_values(&e.to_string()))?;
    if file.allowed_targets.is_empty() {
        return Err("allowed_targets is empty: /probe could reach nothing".into());
    }
    let allowed = file
        .allowed_targets
        .iter()
        .map(|entry| AllowedTarget::parse(entry))
        .collect::<Result<_, _>>()?;
    let mut modules = BTreeMap::new();
    for (name, value) in file.modules {
        modules.insert(name.clone(), module(&name, value)?);
    }
    if !modules.contains_key(DEFAULT_MODULE) {
        modules.insert(
            DEFAULT_MODULE.to_owned(),
            module_config(Settings::default())?,
        );
    }
    Ok(ProbeSettings { allowed, modules })
}

/// A module: the settings of docs/configuration.md, less those that belong to the exporter.
fn module(name: &str, value: serde_yaml::Value) -> Result<TargetConfig, String> {
    let problem = |why: String| format!("modules.{name}: {why}");
    let mut unknown = Vec::new();
    let settings: Settings = serde_ignored::deserialize(value, |key| unknown.push(key.to_string()))
        .map_err(|e| problem(without_values(&e.to_string())))?;
    if let Some(key) = unknown.first() {
        return Err(problem(unknown_setting(key)));
    }
    let set = serde_json::to_value(&settings).unwrap_or_default();
    if let Some(key) = NOT_PER_MODULE.iter().find(|key| !set[**key].is_null()) {
        return Err(problem(format!(
            "{key} is a setting of the exporter, not of a target"
        )));
    }
    module_config(settings).map_err(problem)
}

fn module_config(settings: Settings) -> Result<TargetConfig, String> {
    let settings = Settings::defaults().merge(Settings {
        qdrant_url: Some(PLACEHOLDER_URL.into()),
        // The exporter's own process is reported on /metrics, not in a target's answer.
        process_metrics: Some(false),
        ..settings
    });
    target_config(&settings).map_err(|e| e.to_string())
}

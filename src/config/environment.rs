//! The settings the process environment gives: `QDRANT_EXPORTER_*`, and the
//! `QDRANT_*` names of the settings about reaching Qdrant.

use std::ffi::OsString;

use super::error::{invalid, ConfigError};
use super::names::{env_name, ENV_PREFIX};
use super::settings::Settings;
use crate::qdrant::ApiKey;
use crate::redaction::without_values;

/// The process environment as text. A variable of the exporter's (`QDRANT_*`)
/// that is not UTF-8 is an error naming it, never showing its value (it may
/// be the key); any other variable is none of the exporter's business.
pub fn environment(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut text = Vec::new();
    for (name, value) in vars {
        let Some(name) = name.to_str().filter(|name| name.starts_with("QDRANT_")) else {
            continue;
        };
        match value.into_string() {
            Ok(value) => text.push((name.to_owned(), value)),
            Err(_) => {
                return Err(ConfigError::Environment(format!(
                    "{name} is not valid UTF-8 (its value is not shown)"
                )))
            }
        }
    }
    Ok(text)
}

impl Settings {
    /// Reads `QDRANT_EXPORTER_*` and the `QDRANT_*` names of the Qdrant settings.
    ///
    /// Unknown variables are ignored rather than rejected: Kubernetes injects
    /// `<SERVICE>_PORT`-style variables (e.g. `QDRANT_EXPORTER_PORT`) into every pod.
    pub fn from_env(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let ours = vars.into_iter().filter_map(|(name, value)| {
            let setting = match name.strip_prefix(ENV_PREFIX) {
                Some(rest) if !rest.starts_with("QDRANT_") => rest.to_lowercase(),
                Some(_) => return None,
                None if name.starts_with("QDRANT_") => name.to_lowercase(),
                None => return None,
            };
            Some((setting, value))
        });
        // The key is parsed here, not by envy, whose message would not name it.
        let (keys, ours): (Vec<_>, Vec<_>) =
            ours.partition(|(setting, _)| setting == "qdrant_api_key");
        let api_key = keys
            .into_iter()
            .map(|(_, value)| {
                ApiKey::parse(&value).map_err(|problem| invalid("qdrant_api_key", problem))
            })
            .next_back()
            .transpose()?;
        let settings: Settings = envy::from_iter(ours).map_err(|e| {
            // envy names the field it failed on ("... provided by cache_ttl_seconds");
            // say which variable that is.
            let message = without_values(&e.to_string());
            let message = match message.rsplit_once(" provided by ") {
                Some((problem, setting)) => format!("{problem} in {}", env_name(setting)),
                None => message,
            };
            ConfigError::Environment(message)
        })?;
        Ok(Settings {
            qdrant_api_key: api_key,
            ..settings
        })
    }
}

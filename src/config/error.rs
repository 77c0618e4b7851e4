//! Why a configuration is refused: one line that names the setting and every
//! way to set it, and never quotes a value that may be secret.

use std::path::PathBuf;

use super::names::ways_to_set;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid {setting} ({}): {problem}", ways_to_set(setting))]
    Invalid {
        setting: &'static str,
        problem: String,
    },
    #[error("config file {}: {problem}", path.display())]
    File { path: PathBuf, problem: String },
    #[error("environment: {0}")]
    Environment(String),
}

pub fn invalid(setting: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        problem: problem.into(),
    }
}

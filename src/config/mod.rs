//! Configuration: defaults < YAML file < environment < command-line flags,
//! merged into one layer of [`Settings`] and validated into each module's own
//! settings type: the server's, the target's (the Qdrant client's and the
//! collectors'), the probes' and the logging's. An invalid value is reported
//! as one line that names the setting and every way to set it.
//!
//! Only `main` reads this module; nothing it builds settings for imports it.

mod cli;
mod environment;
mod error;
mod files;
mod names;
mod parse;
mod probe_file;
mod settings;
mod target;
mod web_config;
mod yaml;

use std::path::PathBuf;

pub use cli::{Cli, Command, KubeCommand};
pub use environment::environment;
pub use error::ConfigError;
pub use names::{env_name, flag_name, CONFIG_FILE_ENV, ENV_PREFIX};
pub use settings::Settings;

pub use crate::qdrant::ApiKey;

use crate::limits;
use crate::logging::{LogConfig, LogFormat};
use crate::startup::{ListenAddress, ServerConfig};
use error::invalid;
use parse::within;
use probe_file::read_probe_file;
use target::target_config;
use web_config::web_serving;

/// `ADDR:PORT`, or `:PORT` for every address of both families, as exporters
/// written in Go take it (`--web.listen-address=:9187`).
fn parse_listen_address(
    setting: &'static str,
    address: &str,
) -> Result<ListenAddress, ConfigError> {
    ListenAddress::parse(address).map_err(|e| invalid(setting, format!("{address:?}: {e}")))
}

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub log: LogConfig,
}

impl Config {
    /// Builds the configuration from parsed flags and the process environment.
    pub fn load(
        cli: Cli,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let config_file = cli.config.clone().or_else(|| {
            env.iter()
                .find(|(name, _)| name == CONFIG_FILE_ENV)
                .map(|(_, value)| PathBuf::from(value))
        });
        let mut settings = Settings::defaults();
        if let Some(path) = config_file {
            settings = settings.merge(Settings::from_yaml_file(&path)?);
        }
        settings = settings.merge(Settings::from_env(env)?);
        Config::from_settings(settings.merge(cli.settings))
    }

    /// Validates merged settings. Missing values fall back to the defaults.
    pub fn from_settings(settings: Settings) -> Result<Config, ConfigError> {
        let s = Settings::defaults().merge(settings);
        let listen_address = parse_listen_address(
            "listen_address",
            s.listen_address.as_deref().unwrap_or_default(),
        )?;
        let health_listen_address = s
            .health_listen_address
            .as_deref()
            .map(|address| parse_listen_address("health_listen_address", address))
            .transpose()?;
        let target = target_config(&s)?;
        let web = web_serving(
            s.web_config_file.as_deref(),
            s.probes_without_auth.unwrap_or(false),
        )?;
        let probes = s
            .probe_config_file
            .as_deref()
            .map(|path| {
                read_probe_file(path).map_err(|problem| {
                    invalid(
                        "probe_config_file",
                        format!("{}: {problem}", path.display()),
                    )
                })
            })
            .transpose()?;
        let format = match s.log_format.as_deref() {
            Some("text") | None => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "log_format",
                    format!("must be text or json, got {other:?}"),
                ))
            }
        };
        Ok(Config {
            server: ServerConfig {
                listen_address,
                health_listen_address,
                max_connections: within(
                    "max_connections",
                    s.max_connections,
                    1,
                    limits::MAX_CONNECTIONS,
                )?,
                web,
                readiness_requires_qdrant: s.readiness_requires_qdrant.unwrap_or(false),
                target,
                probes,
            },
            log: LogConfig {
                filter: parse::log_filter(s.log_level.unwrap_or_default())?,
                format,
            },
        })
    }
}

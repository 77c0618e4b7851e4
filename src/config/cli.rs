//! The command line: the config file, every setting as a flag (the API key
//! aside), and the `kube` subcommand.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser};

use super::names::{env_name, CONFIG_FILE_ENV};
use super::parse::collector_names;
use super::settings::Settings;
use crate::collectors::Collector;
use crate::kube::SidecarArgs;

#[derive(Debug, Parser)]
#[command(name = "qdrant-exporter", version, about, long_about = None)]
pub struct Cli {
    /// YAML file with settings (keys are the flag names with underscores)
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub settings: Settings,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print Kubernetes objects for running the exporter (no cluster access)
    #[command(subcommand)]
    Kube(KubeCommand),
    /// Print every metric family the exporter can serve: name, type, scope, collector, help
    ListMetrics,
}

#[derive(Debug, clap::Subcommand)]
pub enum KubeCommand {
    /// The sidecar container: a values snippet for the official Qdrant chart, or a StatefulSet patch
    Sidecar(SidecarArgs),
}

impl Cli {
    /// The clap command, each setting's help extended with its environment
    /// variable and default, both taken from the one definition in [`Settings`],
    /// and the collectors' from their catalog.
    pub fn command_with_sources() -> clap::Command {
        let defaults = serde_json::to_value(Settings::defaults()).unwrap_or_default();
        Cli::command().mut_args(|arg| {
            let id = arg.get_id().as_str().to_owned();
            let Some(help) = arg.get_help().map(ToString::to_string) else {
                return arg;
            };
            let env = if id == "config" {
                CONFIG_FILE_ENV.to_owned()
            } else {
                env_name(&id)
            };
            let help = match id.as_str() {
                "collectors" => format!("{help}: {}", collector_names()),
                "collector_intervals" => format!("{help}; defaults: {}", default_intervals()),
                _ => help,
            };
            let default = match defaults.get(&id) {
                Some(serde_json::Value::String(s)) => format!(" [default: {s}]"),
                Some(serde_json::Value::Null) | None => String::new(),
                Some(other) => format!(" [default: {other}]"),
            };
            arg.help(format!("{help} [env: {env}]{default}"))
        })
    }

    pub fn try_parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let matches = Self::command_with_sources().try_get_matches_from(args)?;
        Cli::from_arg_matches(&matches)
    }
}

/// The collectors that do not run on every refresh, as `name=seconds`.
fn default_intervals() -> String {
    Collector::ALL
        .iter()
        .filter(|collector| !collector.facts().default_interval.is_zero())
        .map(|collector| {
            format!(
                "{}={}",
                collector.name(),
                collector.facts().default_interval.as_secs()
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::names::WITHOUT_FLAG;

    #[test]
    fn the_settings_without_a_flag_are_those_the_names_say() {
        let defaults = serde_json::to_value(Settings::defaults()).unwrap();
        let mut flagless: Vec<String> = defaults
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .chain(["qdrant_api_key".to_owned()])
            .filter(|setting| {
                !Cli::command()
                    .get_arguments()
                    .any(|arg| arg.get_id().as_str() == setting)
            })
            .collect();
        flagless.sort();
        assert_eq!(flagless, WITHOUT_FLAG);
    }

    #[test]
    fn the_exporter_toolkit_flag_names_set_the_same_settings() {
        let cli = Cli::try_parse_args([
            "qdrant-exporter",
            "--web.listen-address=:9187",
            "--web.config.file",
            "/etc/web.yml",
            "--log.level=debug",
            "--log.format",
            "json",
        ])
        .unwrap();
        assert_eq!(cli.settings.listen_address.as_deref(), Some(":9187"));
        assert_eq!(
            cli.settings.web_config_file.as_deref(),
            Some(std::path::Path::new("/etc/web.yml"))
        );
        assert_eq!(cli.settings.log_level.as_deref(), Some("debug"));
        assert_eq!(cli.settings.log_format.as_deref(), Some("json"));
    }
}

//! Configuration: defaults < YAML file < environment < command-line flags,
//! validated into one typed [`Config`]. An invalid value is reported as one line
//! that names the setting and every way to set it.

mod files;
mod settings;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{HeaderName, HeaderValue};

use clap::{CommandFactory, FromArgMatches, Parser};
use regex::Regex;
use rustls_pki_types::{CertificateDer, ServerName};
use url::Url;

use crate::collectors::Collector;
use crate::qdrant::ClientIdentity;
pub use files::{pem_certificates, read_api_key_file, read_small_file};
use files::{read_ca_file, read_client_identity, web_serving};
pub(crate) use settings::without_values;
pub use settings::{env_name, flag_name, ApiKey, Settings, CONFIG_FILE_ENV, ENV_PREFIX};

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

/// `env X, flag --y`: how the setting is given; settings without a flag (the
/// API key: a command line is visible to every process) name only their variable.
fn ways_to_set(setting: &str) -> String {
    let has_flag = Cli::command()
        .get_arguments()
        .any(|arg| arg.get_id().as_str() == setting);
    match has_flag {
        true => format!("env {}, flag {}", env_name(setting), flag_name(setting)),
        false => format!("env {}", env_name(setting)),
    }
}

/// The most requests in flight to Qdrant a configuration may ask for: far
/// above any useful value, and far below what would exhaust the semaphore.
pub const MAX_CONCURRENCY: usize = 256;

fn invalid(setting: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        problem: problem.into(),
    }
}

/// The command line: the config file, the settings as flags, and later subcommands.
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
}

#[derive(Debug, clap::Subcommand)]
pub enum KubeCommand {
    /// The sidecar container: a values snippet for the official Qdrant chart, or a StatefulSet patch
    Sidecar(crate::kube::SidecarArgs),
}

impl Cli {
    /// The clap command, each setting's help extended with its environment
    /// variable and default, both taken from the one definition in [`Settings`].
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
                "collectors" => format!(
                    "{help}: {}",
                    crate::collectors::Collector::all()
                        .map(crate::collectors::Collector::name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "collector_intervals" => format!(
                    "{help}; defaults: {}",
                    crate::collectors::registry::default_intervals()
                ),
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

#[derive(Debug, Clone)]
pub struct QdrantConfig {
    pub url: Url,
    /// The key as loaded at start.
    pub api_key: Option<ApiKey>,
    /// Where `api_key` was read from, to read it again when it changes.
    pub api_key_file: Option<PathBuf>,
    /// Extra trust anchors for https, from `qdrant_ca_file`.
    pub ca_certificates: Vec<CertificateDer<'static>>,
    /// The name Qdrant's certificate is verified for, when not the URL's host.
    pub tls_server_name: Option<ServerName<'static>>,
    /// The certificate the exporter presents, for a Qdrant that asks for one.
    pub client_identity: Option<ClientIdentity>,
    /// Any certificate is accepted (warned about at start).
    pub tls_insecure_skip_verify: bool,
    pub request_timeout: Duration,
    pub concurrency: usize,
    pub max_response_bytes: usize,
}

#[derive(Debug, Clone)]
pub struct CollectorConfig {
    pub enabled: BTreeSet<Collector>,
    /// How often each collector runs; zero means on every refresh.
    pub intervals: BTreeMap<Collector, Duration>,
    pub max_collections: usize,
    pub include: Option<Regex>,
    pub exclude: Option<Regex>,
    pub cluster_wide_on_leader_only: bool,
    /// Report the whole cluster through whichever node answers.
    pub cluster_view: bool,
}

impl CollectorConfig {
    pub fn is_enabled(&self, collector: Collector) -> bool {
        self.enabled.contains(&collector)
    }

    pub fn interval(&self, collector: Collector) -> Duration {
        self.intervals
            .get(&collector)
            .copied()
            .unwrap_or(collector.registration().default_interval)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub filter: String,
    pub format: LogFormat,
}

/// The exporter's own endpoint: who may read it, over what.
#[derive(Clone, Default)]
pub struct WebServing {
    /// TLS, built from the web configuration file (its certificate re-read when renewed).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// User name → bcrypt hash; empty: no basic auth.
    pub users: BTreeMap<String, String>,
    /// Paths served without basic auth.
    pub open_paths: Vec<String>,
}

/// Shows the users, never their password hashes.
impl std::fmt::Debug for WebServing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebServing")
            .field("tls", &self.tls.is_some())
            .field("headers", &self.headers)
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .field("open_paths", &self.open_paths)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen_address: SocketAddr,
    /// Where the probes alone are served, when set.
    pub health_listen_address: Option<SocketAddr>,
    /// Most client connections the main listener holds at once.
    pub max_connections: usize,
    pub web: WebServing,
    /// Multi-target scraping on `/probe`, when configured.
    pub probes: Option<crate::probe::ProbeConfig>,
    pub qdrant: QdrantConfig,
    pub cache_ttl: Duration,
    pub refresh_timeout: Duration,
    pub readiness_requires_qdrant: bool,
    pub collectors: CollectorConfig,
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
        let listen_address = s.listen_address.unwrap_or_default();
        let listen_address = listen_address
            .parse()
            .map_err(|e| invalid("listen_address", format!("{listen_address:?}: {e}")))?;

        let health_listen_address = s
            .health_listen_address
            .map(|address| {
                address
                    .parse()
                    .map_err(|e| invalid("health_listen_address", format!("{address:?}: {e}")))
            })
            .transpose()?;

        let api_key_file = s.qdrant_api_key_file.clone();
        let api_key = match (s.qdrant_api_key, s.qdrant_api_key_file) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "qdrant_api_key_file",
                    "set either the key or the key file, not both",
                ))
            }
            (Some(key), None) => Some(key),
            (None, Some(path)) => Some(read_api_key_file(&path)?),
            (None, None) => None,
        };

        let url = parse_qdrant_url(&s.qdrant_url.unwrap_or_default())?;
        let tls_insecure_skip_verify = s.qdrant_tls_insecure_skip_verify.unwrap_or(false);
        let tls_settings = [
            ("qdrant_ca_file", s.qdrant_ca_file.is_some()),
            ("qdrant_tls_server_name", s.qdrant_tls_server_name.is_some()),
            (
                "qdrant_client_cert_file",
                s.qdrant_client_cert_file.is_some(),
            ),
            ("qdrant_client_key_file", s.qdrant_client_key_file.is_some()),
            ("qdrant_tls_insecure_skip_verify", tls_insecure_skip_verify),
        ];
        if let Some((setting, _)) = tls_settings
            .iter()
            .find(|(_, set)| *set && url.scheme() != "https")
        {
            return Err(invalid(setting, "applies to an https:// QDRANT_URL only"));
        }

        if s.cluster_view == Some(true) && s.cluster_wide_metrics_on_leader_only == Some(true) {
            return Err(invalid(
                "cluster_wide_metrics_on_leader_only",
                "is for sidecars: with cluster_view one exporter reports the whole cluster",
            ));
        }

        let web = web_serving(
            s.web_config_file.as_deref(),
            s.probes_without_auth.unwrap_or(false),
        )?;

        let probes = s
            .probe_config_file
            .as_deref()
            .map(|path| {
                crate::probe::ProbeConfig::load(path).map_err(|problem| {
                    invalid(
                        "probe_config_file",
                        format!("{}: {problem}", path.display()),
                    )
                })
            })
            .transpose()?;

        Ok(Config {
            listen_address,
            health_listen_address,
            max_connections: within(
                "max_connections",
                s.max_connections,
                1,
                crate::limits::MAX_CONNECTIONS,
            )?,
            web,
            probes,
            qdrant: QdrantConfig {
                url,
                api_key,
                api_key_file,
                ca_certificates: match s.qdrant_ca_file {
                    Some(path) => read_ca_file(&path)?,
                    None => Vec::new(),
                },
                tls_server_name: s
                    .qdrant_tls_server_name
                    .map(|name| {
                        ServerName::try_from(name).map_err(|_| {
                            invalid(
                                "qdrant_tls_server_name",
                                "is not a DNS name or an IP address",
                            )
                        })
                    })
                    .transpose()?,
                client_identity: read_client_identity(
                    s.qdrant_client_cert_file.as_deref(),
                    s.qdrant_client_key_file.as_deref(),
                )?,
                tls_insecure_skip_verify,
                request_timeout: positive_seconds(
                    "request_timeout_seconds",
                    s.request_timeout_seconds,
                )?,
                concurrency: within("concurrency", s.concurrency, 1, MAX_CONCURRENCY)?,
                max_response_bytes: within(
                    "max_response_bytes",
                    s.max_response_bytes,
                    1024,
                    1024 * 1024 * 1024,
                )?,
            },
            cache_ttl: seconds("cache_ttl_seconds", s.cache_ttl_seconds, 0.0)?,
            refresh_timeout: positive_seconds(
                "refresh_timeout_seconds",
                s.refresh_timeout_seconds,
            )?,
            readiness_requires_qdrant: s.readiness_requires_qdrant.unwrap_or(false),
            collectors: CollectorConfig {
                enabled: parse_collectors(
                    s.collectors.as_deref().unwrap_or_default(),
                    s.native_metrics_relay,
                )?,
                intervals: parse_intervals(s.collector_intervals.as_deref().unwrap_or_default())?,
                max_collections: within("max_collections", s.max_collections, 1, 1_000_000)?,
                include: parse_regex("collections_include", s.collections_include)?,
                exclude: parse_regex("collections_exclude", s.collections_exclude)?,
                cluster_wide_on_leader_only: s.cluster_wide_metrics_on_leader_only.unwrap_or(false),
                cluster_view: s.cluster_view.unwrap_or(false),
            },
            log: LogConfig {
                filter: validate_log_filter(s.log_level.unwrap_or_default())?,
                format: match s.log_format.as_deref() {
                    Some("text") | None => LogFormat::Text,
                    Some("json") => LogFormat::Json,
                    Some(other) => {
                        return Err(invalid(
                            "log_format",
                            format!("must be text or json, got {other:?}"),
                        ))
                    }
                },
            },
        })
    }
}

/// A count between `min` and `max`, inclusive.
fn within(
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

fn seconds(setting: &'static str, value: Option<f64>, min: f64) -> Result<Duration, ConfigError> {
    let value = value.unwrap_or_default();
    if !value.is_finite() || value < min || value > 86_400.0 {
        return Err(invalid(
            setting,
            format!("must be between {min} and 86400 seconds, got {value}"),
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

fn positive_seconds(setting: &'static str, value: Option<f64>) -> Result<Duration, ConfigError> {
    seconds(setting, value, 0.001)
}

fn parse_qdrant_url(raw: &str) -> Result<Url, ConfigError> {
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

fn parse_collectors(
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
        let known: Vec<&str> = Collector::all().map(Collector::name).collect();
        return Err(invalid(
            "collectors",
            format!("names no collector; known: {}", known.join(", ")),
        ));
    }
    Ok(enabled)
}

fn known_collector(setting: &'static str, name: &str) -> Result<Collector, ConfigError> {
    Collector::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = Collector::all().map(Collector::name).collect();
        invalid(
            setting,
            format!("unknown collector {name:?}; known: {}", known.join(", ")),
        )
    })
}

/// `snapshots=600,issues=30`: seconds per collector, overriding the defaults.
fn parse_intervals(list: &str) -> Result<BTreeMap<Collector, Duration>, ConfigError> {
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

fn parse_regex(
    setting: &'static str,
    pattern: Option<String>,
) -> Result<Option<Regex>, ConfigError> {
    pattern
        .map(|pattern| {
            Regex::new(&pattern).map_err(|e| invalid(setting, e.to_string().replace('\n', " ")))
        })
        .transpose()
}

/// A level, or comma-separated `target=level` directives. A bare word that is
/// not a level (`warning`, `debig`) would be taken as a target name and
/// silence every log line: it is refused instead.
fn validate_log_filter(filter: String) -> Result<String, ConfigError> {
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

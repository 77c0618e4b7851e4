//! Multi-target scraping, as the blackbox, postgres and redis exporters do it:
//! `GET /probe?target=<url>&module=<name>`. Prometheus names the target in the
//! URL; the exporter holds the credentials, per module. Only targets on the
//! allowlist are reached (the blackbox exporter's lesson: otherwise anyone who
//! can reach the exporter can make it send requests, and keys, anywhere).
//!
//! The probe configuration file:
//!
//! ```yaml
//! allowed_targets:                       # URLs; a host may start with "*."
//!   - https://*.cloud.qdrant.io:6333
//!   - http://qdrant.team-b.svc:6333
//! modules:                               # settings of the README, per module
//!   default: {}
//!   cloud:
//!     qdrant_api_key_file: /etc/qdrant-exporter/keys/cloud
//!     cluster_view: true
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Deserialize;
use url::Url;

use crate::config::{Config, Settings};
use crate::target::Target;

/// The module of a probe that names none.
pub const DEFAULT_MODULE: &str = "default";
/// Targets kept with their caches; the least recently probed goes first.
pub const MAX_TARGETS: usize = 128;

/// Settings that belong to the exporter, not to a target.
const NOT_PER_MODULE: [&str; 11] = [
    "listen_address",
    "health_listen_address",
    "max_connections",
    "qdrant_url",
    "web_config_file",
    "probes_without_auth",
    "readiness_requires_qdrant",
    "cluster_wide_metrics_on_leader_only",
    "log_level",
    "log_format",
    "probe_config_file",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    allowed_targets: Vec<String>,
    #[serde(default)]
    modules: BTreeMap<String, serde_yaml::Value>,
}

/// The probe configuration, checked at start.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    allowed: Vec<Allowed>,
    modules: BTreeMap<String, Settings>,
}

/// One allowlist entry: scheme, host (exact, or `*.` and a domain) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Allowed {
    scheme: String,
    host: String,
    wildcard: bool,
    port: u16,
}

impl Allowed {
    fn parse(entry: &str) -> Result<Self, String> {
        let problem = |why: &str| format!("allowed_targets: {entry:?} {why}");
        let (scheme, rest) = entry
            .split_once("://")
            .ok_or_else(|| problem("is not a URL (scheme://host[:port])"))?;
        let default_port = match scheme {
            "https" => 443,
            "http" => 80,
            _ => return Err(problem("must be http or https")),
        };
        let authority = rest.trim_end_matches('/');
        if authority.contains(['/', '?', '#', '@']) {
            return Err(problem("names more than scheme, host and port"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse().map_err(|_| problem("has an invalid port"))?,
            ),
            None => (authority, default_port),
        };
        let (wildcard, host) = match host.strip_prefix("*.") {
            Some(domain) => (true, domain),
            None => (false, host),
        };
        if host.is_empty() || host.contains('*') {
            return Err(problem("has no host, or a '*' other than a leading '*.'"));
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            host: host.to_ascii_lowercase(),
            wildcard,
            port,
        })
    }

    fn admits(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let host_matches = match self.wildcard {
            true => host
                .strip_suffix(self.host.as_str())
                .is_some_and(|label| label.len() > 1 && label.ends_with('.')),
            false => host == self.host,
        };
        url.scheme() == self.scheme
            && url.port_or_known_default() == Some(self.port)
            && host_matches
    }
}

impl ProbeConfig {
    /// Reads and checks the file; each module is tried as a full configuration.
    pub fn load(path: &Path) -> Result<Self, String> {
        let bytes = crate::config::read_small_file(path)?;
        let text = String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_owned())?;
        let file: File = serde_yaml::from_str(&text)
            .map_err(|e| crate::config::without_values(&e.to_string()))?;
        if file.allowed_targets.is_empty() {
            return Err("allowed_targets is empty: /probe could reach nothing".into());
        }
        let allowed = file
            .allowed_targets
            .iter()
            .map(|entry| Allowed::parse(entry))
            .collect::<Result<_, _>>()?;
        let mut modules = BTreeMap::new();
        for (name, value) in file.modules {
            modules.insert(name.clone(), module(&name, value)?);
        }
        modules.entry(DEFAULT_MODULE.to_owned()).or_default();
        Ok(Self { allowed, modules })
    }
}

/// A module's settings: the README's, less those that belong to the exporter.
fn module(name: &str, value: serde_yaml::Value) -> Result<Settings, String> {
    let problem = |why: String| format!("modules.{name}: {why}");
    let mut unknown = Vec::new();
    let settings: Settings = serde_ignored::deserialize(value, |key| unknown.push(key.to_string()))
        .map_err(|e| problem(crate::config::without_values(&e.to_string())))?;
    if let Some(key) = unknown.first() {
        return Err(problem(format!("unknown setting `{key}`")));
    }
    let set = serde_json::to_value(&settings).unwrap_or_default();
    if let Some(key) = NOT_PER_MODULE.iter().find(|key| !set[**key].is_null()) {
        return Err(problem(format!(
            "{key} is a setting of the exporter, not of a target"
        )));
    }
    // Tried once against an https placeholder, so that a wrong value stops the start.
    Config::from_settings(Settings {
        qdrant_url: Some("https://module.check.invalid".into()),
        ..settings.clone()
    })
    .map_err(|e| problem(e.to_string()))?;
    Ok(settings)
}

/// The targets probed so far, each with its own cache: concurrent probes of
/// one target share one refresh.
pub struct Probes {
    config: ProbeConfig,
    targets: Mutex<Vec<Probed>>,
}

struct Probed {
    module: String,
    url: Url,
    target: Arc<Target>,
    used: Instant,
}

impl Probes {
    pub fn new(config: ProbeConfig) -> Self {
        Self {
            config,
            targets: Mutex::new(Vec::new()),
        }
    }

    /// The target to probe, or why not (for a 400): an unknown module, a URL
    /// that is not one, or one the allowlist does not admit. Nothing is sent
    /// anywhere before this said yes.
    pub fn target(&self, target: &str, module: &str) -> Result<Arc<Target>, String> {
        let settings = self
            .config
            .modules
            .get(module)
            .ok_or_else(|| format!("no module {module:?} in the probe configuration"))?;
        let url = Url::parse(target).map_err(|e| format!("target is not a URL: {e}"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("target must not carry credentials: modules hold them".into());
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err("target must be scheme://host[:port] only".into());
        }
        if !self
            .config
            .allowed
            .iter()
            .any(|allowed| allowed.admits(&url))
        {
            return Err(format!(
                "target {} is not in allowed_targets",
                url.origin().ascii_serialization()
            ));
        }
        let mut targets = self
            .targets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(known) = targets
            .iter_mut()
            .find(|probed| probed.module == module && probed.url == url)
        {
            known.used = Instant::now();
            return Ok(known.target.clone());
        }
        let config = Config::from_settings(Settings {
            qdrant_url: Some(url.to_string()),
            ..settings.clone()
        })
        .map_err(|e| format!("module {module:?} cannot probe this target: {e}"))?;
        let target = Arc::new(Target::new(
            config.qdrant,
            config.collectors,
            config.cache_ttl,
            config.refresh_timeout,
        ));
        if targets.len() == MAX_TARGETS {
            targets.sort_by_key(|probed| probed.used);
            targets.remove(0);
        }
        targets.push(Probed {
            module: module.to_owned(),
            url,
            target: target.clone(),
            used: Instant::now(),
        });
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admits(entry: &str, target: &str) -> bool {
        Allowed::parse(entry)
            .unwrap()
            .admits(&Url::parse(target).unwrap())
    }

    #[test]
    fn the_allowlist_admits_exact_hosts_and_subdomains_of_a_wildcard() {
        let cloud = "https://*.cloud.qdrant.io:6333";
        assert!(admits(cloud, "https://abc.eu-central.cloud.qdrant.io:6333"));
        assert!(
            !admits(cloud, "https://cloud.qdrant.io:6333"),
            "the domain itself"
        );
        assert!(!admits(cloud, "https://evilcloud.qdrant.io:6333"));
        assert!(!admits(cloud, "https://abc.cloud.qdrant.io.evil.com:6333"));
        assert!(
            !admits(cloud, "http://abc.cloud.qdrant.io:6333"),
            "another scheme"
        );
        assert!(
            !admits(cloud, "https://abc.cloud.qdrant.io:443"),
            "another port"
        );
        assert!(admits("http://qdrant.svc:6333", "http://QDRANT.svc:6333/"));
        assert!(admits(
            "https://qdrant.example",
            "https://qdrant.example:443"
        ));
        for bad in [
            "qdrant:6333",
            "ftp://x",
            "https://*",
            "https://a.*.b",
            "https://x/path",
        ] {
            assert!(Allowed::parse(bad).is_err(), "{bad}");
        }
    }
}

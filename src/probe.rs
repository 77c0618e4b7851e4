//! Multi-target scraping, as the blackbox, postgres and redis exporters do it:
//! `GET /probe?target=<url>&module=<name>`. Prometheus names the target in the
//! URL; the exporter holds the credentials, per module. Only targets on the
//! allowlist are reached (the blackbox exporter's lesson: otherwise anyone who
//! can reach the exporter can make it send requests, and keys, anywhere).
//! The configuration reads the allowlist and the modules from the probe
//! configuration file.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use url::Url;

use crate::limits::MAX_PROBED_TARGETS;
use crate::locks::lock;
use crate::qdrant::ResponseBudget;
use crate::target::{Target, TargetConfig};

/// The module of a probe that names none.
pub const DEFAULT_MODULE: &str = "default";

/// The probe configuration, validated: what may be probed, and each module's
/// settings for a target (its URL aside).
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    pub allowed: Vec<AllowedTarget>,
    pub modules: BTreeMap<String, TargetConfig>,
}

/// One allowlist entry: scheme, host (exact, or `*.` and a domain) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedTarget {
    scheme: String,
    host: String,
    wildcard: bool,
    port: u16,
}

impl AllowedTarget {
    pub fn parse(entry: &str) -> Result<Self, String> {
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

/// The targets probed so far, each with its own cache: concurrent probes of
/// one target share one refresh.
pub struct Probes {
    settings: ProbeSettings,
    targets: Mutex<Vec<Probed>>,
    /// What every target's answers in flight may hold together.
    budget: ResponseBudget,
}

struct Probed {
    module: String,
    url: Url,
    target: Arc<Target>,
    used: Instant,
}

impl Probes {
    /// The modules' names, as a request names them.
    pub fn modules(&self) -> Vec<&str> {
        self.settings.modules.keys().map(String::as_str).collect()
    }

    pub fn new(settings: ProbeSettings, budget: ResponseBudget) -> Self {
        Self {
            settings,
            budget,
            targets: Mutex::new(Vec::new()),
        }
    }

    /// The target to probe, or why not (for a 400): an unknown module, a URL
    /// that is not one, or one the allowlist does not admit. Nothing is sent
    /// anywhere before this said yes.
    pub fn target(&self, target: &str, module: &str) -> Result<Arc<Target>, String> {
        let module_config = self
            .settings
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
            .settings
            .allowed
            .iter()
            .any(|allowed| allowed.admits(&url))
        {
            return Err(format!(
                "target {} is not in allowed_targets",
                url.origin().ascii_serialization()
            ));
        }
        let mut targets = lock(&self.targets);
        if let Some(known) = targets
            .iter_mut()
            .find(|probed| probed.module == module && probed.url == url)
        {
            known.used = Instant::now();
            return Ok(known.target.clone());
        }
        let config = module_config
            .for_url(url.clone())
            .map_err(|e| format!("module {module:?} cannot probe this target: {e}"))?;
        let target = Arc::new(Target::new(config, self.budget.clone()));
        if targets.len() == MAX_PROBED_TARGETS {
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
        AllowedTarget::parse(entry)
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
            assert!(AllowedTarget::parse(bad).is_err(), "{bad}");
        }
    }
}

//! The exporter's own endpoint: TLS, client certificates, basic auth, response
//! headers and a rate limit, from a web configuration file in the format of the
//! Prometheus exporter-toolkit (`--web.config.file` of node_exporter and
//! friends), so operators reuse the files they have. Every key of the format
//! is read: honoured, or refused by name with the reason. Checked whole at
//! start; relative paths are the file's directory's, as in the toolkit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::http::header::{HeaderName, HeaderValue};
use serde::Deserialize;

use super::error::{invalid, ConfigError};
use super::yaml::read_yaml_text;
use crate::basic_auth::{UsersFile, MAX_BCRYPT_COST};
use crate::endpoints::{HEALTHZ_PATH, LANDING_PATH, METRICS_PATH, PROBE_PATH, READYZ_PATH};
use crate::rate_limit::RateLimit;
use crate::redaction::without_values;
use crate::server_tls::{
    self, cipher_suite_named, curve_named, CipherSuiteName, ClientAuth, Handshake, ServerTls,
    TlsVersion,
};
use crate::startup::WebServing;

/// The exporter's own endpoint as the file (if any) configures it, its TLS
/// built: a certificate that cannot be read stops the start like any other
/// invalid setting.
pub fn web_serving(
    path: Option<&Path>,
    probes_without_auth: bool,
) -> Result<WebServing, ConfigError> {
    let problem = |path: &Path, detail: String| {
        invalid("web_config_file", format!("{}: {detail}", path.display()))
    };
    let web = match path {
        Some(path) => load(path).map_err(|detail| problem(path, detail))?,
        None => WebConfig::default(),
    };
    let tls = match (&web.tls, path) {
        (Some(tls), Some(path)) => Some(Arc::new(
            server_tls::server_config(tls).map_err(|detail| problem(path, detail))?,
        )),
        _ => None,
    };
    let mut open_paths = web.open_paths;
    if probes_without_auth {
        for probe in [HEALTHZ_PATH, READYZ_PATH] {
            if !open_paths.iter().any(|open| open == probe) {
                open_paths.push(probe.to_owned());
            }
        }
    }
    // Read again by the server when the file changes, checked as here.
    let users_file = path.map(|path| UsersFile {
        path: path.to_owned(),
        read: Arc::new(|path: &Path| load(path).map(|web| web.users)),
    });
    Ok(WebServing {
        tls,
        headers: web.headers,
        users: web.users,
        users_file,
        open_paths,
        rate_limit: web.rate_limit,
        warnings: web.warnings,
    })
}

/// What the file configures, checked. No `Debug`: it holds password hashes.
#[derive(Default)]
struct WebConfig {
    tls: Option<ServerTls>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// User name → bcrypt hash; empty: no basic auth.
    users: BTreeMap<String, String>,
    /// Paths served without basic auth.
    open_paths: Vec<String>,
    rate_limit: Option<RateLimit>,
    /// What is honoured only in part, said at start.
    warnings: Vec<String>,
}

/// The file as written; fields of the format this exporter does not offer are
/// read so that they can be refused with a reason rather than as unknown.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tls_server_config: Option<TlsFile>,
    http_server_config: Option<HttpFile>,
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
    /// This exporter's own extension, not the toolkit's.
    #[serde(default)]
    basic_auth_excluded_paths: Vec<String>,
    rate_limit: Option<RateLimitFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitFile {
    #[serde(default)]
    burst: u32,
    /// A Go duration: `1s`, `250ms`, `1m30s`.
    interval: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    client_auth_type: Option<String>,
    client_ca_file: Option<PathBuf>,
    min_version: Option<String>,
    max_version: Option<String>,
    cert: Option<serde_yaml::Value>,
    key: Option<serde_yaml::Value>,
    client_ca: Option<serde_yaml::Value>,
    #[serde(default)]
    client_allowed_sans: Vec<String>,
    cipher_suites: Option<Vec<String>>,
    prefer_server_cipher_suites: Option<bool>,
    curve_preferences: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpFile {
    /// HTTP/2 is not served: accepted, since the format's default is `true`.
    #[serde(rename = "http2")]
    _http2: Option<bool>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// Headers the format allows, and the values some of them must take.
const HEADERS: [(&str, Option<&[&str]>); 5] = [
    ("Content-Security-Policy", None),
    ("X-Frame-Options", Some(&["deny", "sameorigin"])),
    ("X-Content-Type-Options", Some(&["nosniff"])),
    ("X-XSS-Protection", None),
    ("Strict-Transport-Security", None),
];

/// Reads and checks the file; the error names the field and never quotes a
/// password hash or a key.
fn load(path: &Path) -> Result<WebConfig, String> {
    let text = read_yaml_text(path)?;
    let file: File = match text.trim() {
        "" => return Ok(WebConfig::default()),
        text => serde_yaml::from_str(text).map_err(|e| without_values(&e.to_string()))?,
    };
    let mut warnings = Vec::new();
    let rate_limit = match file.rate_limit {
        Some(limit) => rate_limit(limit, &mut warnings)?,
        None => None,
    };
    let directory = path.parent().unwrap_or(Path::new(""));
    let tls = file
        .tls_server_config
        .map(|tls| server_tls(tls, directory, &mut warnings))
        .transpose()?;
    let headers = file
        .http_server_config
        .map(|http| http.headers)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| header(&name, &value))
        .collect::<Result<_, _>>()?;
    let mut costs = BTreeMap::new();
    for (user, hash) in &file.basic_auth_users {
        if user.is_empty() || user.contains(':') {
            return Err(format!(
                "basic_auth_users: {user:?} cannot be a user name (empty, or holds ':')"
            ));
        }
        let cost = hash
            .parse::<bcrypt::HashParts>()
            .map_err(|_| {
                format!("basic_auth_users: the password of {user:?} is not a bcrypt hash")
            })?
            .get_cost();
        if cost > MAX_BCRYPT_COST {
            return Err(format!(
                "basic_auth_users: the hash of {user:?} has bcrypt cost {cost}, above {MAX_BCRYPT_COST}: \
                 each check would hold a core for seconds, for anyone who sends its name"
            ));
        }
        costs.insert(cost, user);
    }
    if costs.len() > 1 {
        let listed: Vec<String> = costs
            .iter()
            .map(|(cost, user)| format!("{user:?} {cost}"))
            .collect();
        return Err(format!(
            "basic_auth_users: the hashes have different bcrypt costs ({}): the time a check \
             takes would tell the users apart; hash every password at one cost",
            listed.join(", ")
        ));
    }
    let routes = [
        METRICS_PATH,
        PROBE_PATH,
        HEALTHZ_PATH,
        READYZ_PATH,
        LANDING_PATH,
    ];
    if let Some(path) = file
        .basic_auth_excluded_paths
        .iter()
        .find(|path| !routes.contains(&path.as_str()))
    {
        return Err(format!(
            "basic_auth_excluded_paths: {path:?} is not a route of this exporter ({})",
            routes.join(", ")
        ));
    }
    Ok(WebConfig {
        tls,
        headers,
        users: file.basic_auth_users,
        open_paths: file.basic_auth_excluded_paths,
        rate_limit,
        warnings,
    })
}

/// The toolkit limits only with an interval; a burst of 0 would refuse everything.
fn rate_limit(
    file: RateLimitFile,
    warnings: &mut Vec<String>,
) -> Result<Option<RateLimit>, String> {
    let interval = match file.interval.as_deref().map(go_duration).transpose()? {
        Some(interval) if !interval.is_zero() => interval,
        _ => {
            warnings.push(
                "rate_limit has no interval, so it limits nothing (as in the exporter-toolkit)"
                    .into(),
            );
            return Ok(None);
        }
    };
    if file.burst == 0 {
        return Err(
            "rate_limit.burst is 0, which would refuse every request: give at least 1".into(),
        );
    }
    Ok(Some(RateLimit {
        interval,
        burst: file.burst,
    }))
}

/// A Go duration (`time.ParseDuration`): decimal numbers, each with a unit of
/// ns, us (µs), ms, s, m or h.
fn go_duration(text: &str) -> Result<std::time::Duration, String> {
    let invalid =
        || format!("rate_limit.interval {text:?} is not a duration such as 1s, 250ms or 1m30s");
    if text == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    if text.is_empty() {
        return Err(invalid());
    }
    let mut rest = text;
    let mut seconds = 0.0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(invalid)?;
        let number: f64 = rest[..number_end].parse().map_err(|_| invalid())?;
        let unit_end = rest[number_end..]
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .map_or(rest.len(), |end| number_end + end);
        let unit = match &rest[number_end..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid()),
        };
        seconds += number * unit;
        rest = &rest[unit_end..];
    }
    std::time::Duration::try_from_secs_f64(seconds).map_err(|_| invalid())
}

/// What `cipher_suites`, `curve_preferences` and `prefer_server_cipher_suites` ask.
fn handshake(file: &TlsFile, warnings: &mut Vec<String>) -> Result<Handshake, String> {
    let tls12_suites = match &file.cipher_suites {
        None => None,
        Some(names) => {
            let mut suites = Vec::new();
            for name in names {
                match cipher_suite_named(name) {
                    Some(CipherSuiteName::Tls12(suite)) => suites.push(suite),
                    Some(CipherSuiteName::Tls13) => {}
                    Some(CipherSuiteName::NotImplemented) => warnings.push(format!(
                        "tls_server_config.cipher_suites: {name} is not offered (rustls implements \
                         no CBC suite); the others listed are"
                    )),
                    None => {
                        return Err(format!(
                            "tls_server_config.cipher_suites: unknown cipher {name:?} (the names \
                             are Go's, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)"
                        ))
                    }
                }
            }
            Some(suites)
        }
    };
    let kx_groups = match &file.curve_preferences {
        None => None,
        Some(names) => {
            let mut groups = Vec::new();
            for name in names {
                match curve_named(name) {
                    Some(Some(group)) => groups.push(group),
                    Some(None) => warnings.push(format!(
                        "tls_server_config.curve_preferences: {name} is not offered (rustls's ring \
                         provider has no P-521); the others listed are"
                    )),
                    None => {
                        return Err(format!(
                            "tls_server_config.curve_preferences: unknown curve {name:?} (one of \
                             X25519, CurveP256, CurveP384, CurveP521)"
                        ))
                    }
                }
            }
            if groups.is_empty() {
                return Err(
                    "tls_server_config.curve_preferences names no curve rustls offers: add \
                     X25519, CurveP256 or CurveP384"
                        .into(),
                );
            }
            Some(groups)
        }
    };
    Ok(Handshake {
        tls12_suites,
        kx_groups,
        prefer_server_order: file.prefer_server_cipher_suites.unwrap_or(true),
    })
}

fn server_tls(
    file: TlsFile,
    directory: &Path,
    warnings: &mut Vec<String>,
) -> Result<ServerTls, String> {
    let inline: [(&str, bool, &str); 3] = [
        ("cert", file.cert.is_some(), "cert_file"),
        ("key", file.key.is_some(), "key_file"),
        ("client_ca", file.client_ca.is_some(), "client_ca_file"),
    ];
    if let Some((field, _, instead)) = inline.iter().find(|(_, set, _)| *set) {
        return Err(format!(
            "tls_server_config.{field}: PEM written into the file is not read by this exporter, \
             which re-reads renewed certificates from their files: use {instead}"
        ));
    }
    let handshake = handshake(&file, warnings)?;
    let (Some(cert_file), Some(key_file)) = (file.cert_file, file.key_file) else {
        return Err("tls_server_config needs cert_file and key_file".into());
    };
    let (cert_file, key_file) = (directory.join(cert_file), directory.join(key_file));
    let client_ca_file = file.client_ca_file.map(|ca_file| directory.join(ca_file));

    let client_auth = match (file.client_auth_type.as_deref(), client_ca_file) {
        (None | Some("NoClientCert"), None) => ClientAuth::None,
        (None | Some("NoClientCert"), Some(_)) => {
            return Err("tls_server_config.client_ca_file is set, but client_auth_type asks for no client certificate".into())
        }
        (Some("VerifyClientCertIfGiven"), Some(ca_file)) => ClientAuth::VerifyIfGiven { ca_file },
        (Some("RequireAndVerifyClientCert"), Some(ca_file)) => ClientAuth::Require { ca_file },
        (Some(kind @ ("VerifyClientCertIfGiven" | "RequireAndVerifyClientCert")), None) => {
            return Err(format!(
                "tls_server_config.client_auth_type {kind} needs client_ca_file"
            ))
        }
        (Some(kind @ ("RequestClientCert" | "RequireAnyClientCert" | "RequireClientCert")), _) => {
            return Err(format!(
                "tls_server_config.client_auth_type {kind} accepts certificates nobody verified: \
                 use RequireAndVerifyClientCert with client_ca_file"
            ))
        }
        (Some(other), _) => {
            return Err(format!(
                "tls_server_config.client_auth_type {other:?} is none of NoClientCert, \
                 VerifyClientCertIfGiven, RequireAndVerifyClientCert"
            ))
        }
    };
    if !file.client_allowed_sans.is_empty() && client_auth == ClientAuth::None {
        return Err(
            "tls_server_config.client_allowed_sans needs client certificates: set client_auth_type \
             RequireAndVerifyClientCert and client_ca_file"
                .into(),
        );
    }
    let min_version = version("min_version", file.min_version, TlsVersion::Tls12)?;
    let max_version = version("max_version", file.max_version, TlsVersion::Tls13)?;
    if min_version > max_version {
        return Err("tls_server_config.min_version is above max_version".into());
    }
    if min_version == TlsVersion::Tls12
        && handshake.tls12_suites.as_ref().is_some_and(Vec::is_empty)
    {
        return Err(
            "tls_server_config.cipher_suites names no TLS 1.2 suite rustls offers (its ECDHE \
             AES-GCM and CHACHA20 ones): add one, or set min_version TLS13"
                .into(),
        );
    }
    Ok(ServerTls {
        cert_file,
        key_file,
        client_auth,
        min_version,
        max_version,
        handshake,
        client_allowed_sans: file.client_allowed_sans,
    })
}

fn version(field: &str, value: Option<String>, default: TlsVersion) -> Result<TlsVersion, String> {
    match value.as_deref() {
        None => Ok(default),
        Some("TLS12") => Ok(TlsVersion::Tls12),
        Some("TLS13") => Ok(TlsVersion::Tls13),
        Some(old @ ("TLS10" | "TLS11")) => Err(format!(
            "tls_server_config.{field} {old}: TLS 1.0 and 1.1 are not offered (rustls speaks TLS12 and TLS13)"
        )),
        Some(other) => Err(format!(
            "tls_server_config.{field} {other:?} is neither TLS12 nor TLS13"
        )),
    }
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let Some((known, allowed)) = HEADERS
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
    else {
        let names: Vec<&str> = HEADERS.iter().map(|(name, _)| *name).collect();
        return Err(format!(
            "http_server_config.headers: {name:?} is none of {}",
            names.join(", ")
        ));
    };
    if let Some(allowed) = allowed {
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(value)) {
            return Err(format!(
                "http_server_config.headers: {known} must be one of {}",
                allowed.join(", ")
            ));
        }
    }
    let value = HeaderValue::from_str(value)
        .map_err(|_| format!("http_server_config.headers: {known} is not a valid header value"))?;
    let name = HeaderName::from_bytes(known.as_bytes()).expect("the names above are valid");
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn go_durations_are_read_as_go_reads_them() {
        for (text, seconds) in [
            ("1s", 1.0),
            ("250ms", 0.25),
            ("1m30s", 90.0),
            ("1.5h", 5400.0),
            ("300us", 0.0003),
            ("0", 0.0),
        ] {
            assert_eq!(
                go_duration(text),
                Ok(Duration::from_secs_f64(seconds)),
                "{text}"
            );
        }
        for text in ["", "1", "s", "1d", "-1s", "1s2"] {
            assert!(go_duration(text).is_err(), "{text}");
        }
    }
}

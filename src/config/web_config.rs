//! The exporter's own endpoint: TLS, client certificates, basic auth and
//! response headers, from a web configuration file in the format of the
//! Prometheus exporter-toolkit (`--web.config.file` of node_exporter and
//! friends), so operators reuse the files they have. Checked whole at start:
//! what it asks for that this exporter does not offer is refused by name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::http::header::{HeaderName, HeaderValue};
use serde::Deserialize;

use super::error::{invalid, ConfigError};
use super::yaml::read_yaml_text;
use crate::endpoints::{HEALTHZ_PATH, LANDING_PATH, METRICS_PATH, PROBE_PATH, READYZ_PATH};
use crate::redaction::without_values;
use crate::server_tls::{self, ClientAuth, ServerTls, TlsVersion};
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
    Ok(WebServing {
        tls,
        headers: web.headers,
        users: web.users,
        open_paths,
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
    #[serde(default)]
    basic_auth_excluded_paths: Vec<String>,
    rate_limit: Option<serde_yaml::Value>,
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
    client_allowed_sans: Option<serde_yaml::Value>,
    cipher_suites: Option<serde_yaml::Value>,
    prefer_server_cipher_suites: Option<serde_yaml::Value>,
    curve_preferences: Option<serde_yaml::Value>,
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
    if file.rate_limit.is_some() {
        return Err(
            "rate_limit is not offered by this exporter: every scrape is served from one cache"
                .into(),
        );
    }
    let tls = file.tls_server_config.map(server_tls).transpose()?;
    let headers = file
        .http_server_config
        .map(|http| http.headers)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| header(&name, &value))
        .collect::<Result<_, _>>()?;
    for (user, hash) in &file.basic_auth_users {
        if user.is_empty() || user.contains(':') {
            return Err(format!(
                "basic_auth_users: {user:?} cannot be a user name (empty, or holds ':')"
            ));
        }
        hash.parse::<bcrypt::HashParts>().map_err(|_| {
            format!("basic_auth_users: the password of {user:?} is not a bcrypt hash")
        })?;
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
    })
}

fn server_tls(file: TlsFile) -> Result<ServerTls, String> {
    let offered: [(&str, bool, &str); 7] = [
        ("cert", file.cert.is_some(), "use cert_file"),
        ("key", file.key.is_some(), "use key_file"),
        ("client_ca", file.client_ca.is_some(), "use client_ca_file"),
        (
            "client_allowed_sans",
            file.client_allowed_sans.is_some(),
            "any certificate the client CA signed is accepted",
        ),
        (
            "cipher_suites",
            file.cipher_suites.is_some(),
            "rustls offers only its safe defaults",
        ),
        (
            "prefer_server_cipher_suites",
            file.prefer_server_cipher_suites.is_some(),
            "rustls offers only its safe defaults",
        ),
        (
            "curve_preferences",
            file.curve_preferences.is_some(),
            "rustls offers only its safe defaults",
        ),
    ];
    if let Some((field, _, instead)) = offered.iter().find(|(_, set, _)| *set) {
        return Err(format!(
            "tls_server_config.{field} is not offered by this exporter: {instead}"
        ));
    }
    let (Some(cert_file), Some(key_file)) = (file.cert_file, file.key_file) else {
        return Err("tls_server_config needs cert_file and key_file".into());
    };
    let client_auth = match (file.client_auth_type.as_deref(), file.client_ca_file) {
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
        (Some(kind @ ("RequestClientCert" | "RequireAnyClientCert")), _) => {
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
    let min_version = version("min_version", file.min_version, TlsVersion::Tls12)?;
    let max_version = version("max_version", file.max_version, TlsVersion::Tls13)?;
    if min_version > max_version {
        return Err("tls_server_config.min_version is above max_version".into());
    }
    Ok(ServerTls {
        cert_file,
        key_file,
        client_auth,
        min_version,
        max_version,
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

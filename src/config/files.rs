//! The files settings name, read and checked at start: the key file, CA and
//! client certificates for reaching Qdrant, the web configuration file.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::{invalid, ApiKey, ConfigError, WebServing};
use crate::qdrant::ClientIdentity;

/// Files the exporter reads at start are small; a larger one is not the file meant.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

pub fn read_api_key_file(path: &Path) -> Result<ApiKey, ConfigError> {
    let setting = "qdrant_api_key_file";
    let bytes = read_small_file(path).map_err(|problem| invalid(setting, problem))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| invalid(setting, format!("{} is not UTF-8 text", path.display())))?;
    ApiKey::parse(&text)
        .map_err(|problem| invalid(setting, format!("{}: {problem}", path.display())))
}

/// A regular file of at most [`MAX_FILE_BYTES`]: a FIFO or a device would
/// block the start, a huge file is not the one meant.
pub fn read_small_file(path: &Path) -> Result<Vec<u8>, String> {
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let metadata = std::fs::metadata(path).map_err(cannot)?;
    if !metadata.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{} is larger than {MAX_FILE_BYTES} bytes",
            path.display()
        ));
    }
    std::fs::read(path).map_err(cannot)
}

/// The PEM certificates of a file, at least one.
pub fn pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read_small_file(path)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not PEM certificates: {e}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!("{}: holds no PEM certificate", path.display()));
    }
    Ok(certificates)
}

pub(super) fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let problem =
        |detail: String| invalid("qdrant_ca_file", format!("{}: {detail}", path.display()));
    let certificates = pem_certificates(path).map_err(|e| invalid("qdrant_ca_file", e))?;
    let (_, unusable) =
        rustls::RootCertStore::empty().add_parsable_certificates(certificates.iter().cloned());
    if unusable > 0 {
        return Err(problem(format!(
            "{unusable} certificate(s) cannot be used as a trust anchor"
        )));
    }
    Ok(certificates)
}

/// The web configuration file, checked, and its TLS built: a certificate that
/// cannot be read stops the start like any other invalid setting.
pub(super) fn web_serving(
    path: Option<&Path>,
    probes_without_auth: bool,
) -> Result<WebServing, ConfigError> {
    let problem = |path: &Path, detail: String| {
        invalid("web_config_file", format!("{}: {detail}", path.display()))
    };
    let web = match path {
        Some(path) => crate::web_config::load(path).map_err(|detail| problem(path, detail))?,
        None => crate::web_config::WebConfig::default(),
    };
    let tls = match (&web.tls, path) {
        (Some(tls), Some(path)) => Some(Arc::new(
            crate::server_tls::server_config(tls).map_err(|detail| problem(path, detail))?,
        )),
        _ => None,
    };
    let mut open_paths = web.open_paths;
    if probes_without_auth {
        for probe in [
            crate::endpoints::HEALTHZ_PATH,
            crate::endpoints::READYZ_PATH,
        ] {
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

/// The client certificate chain and key, both or neither.
pub(super) fn read_client_identity(
    cert_file: Option<&Path>,
    key_file: Option<&Path>,
) -> Result<Option<ClientIdentity>, ConfigError> {
    let (cert_file, key_file) = match (cert_file, key_file) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        (Some(_), None) => {
            return Err(invalid(
                "qdrant_client_key_file",
                "is needed with qdrant_client_cert_file",
            ))
        }
        (None, Some(_)) => {
            return Err(invalid(
                "qdrant_client_cert_file",
                "is needed with qdrant_client_key_file",
            ))
        }
    };
    let chain = pem_certificates(cert_file).map_err(|e| invalid("qdrant_client_cert_file", e))?;
    // The key's parser error is not shown: it could quote the key.
    let pem = read_small_file(key_file).map_err(|e| invalid("qdrant_client_key_file", e))?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|_| {
        invalid(
            "qdrant_client_key_file",
            format!("{}: holds no PEM private key", key_file.display()),
        )
    })?;
    let identity = ClientIdentity { chain, key };
    // The pair must go together: rustls checks the key against the certificate.
    rustls::ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports TLS 1.2 and 1.3")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
        .map_err(|e| {
            invalid(
                "qdrant_client_key_file",
                format!(
                    "{} does not go with the client certificate: {e}",
                    key_file.display()
                ),
            )
        })?;
    Ok(Some(identity))
}

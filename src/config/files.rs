//! The files settings name for reaching Qdrant, read and checked at start:
//! the key file, the CA bundle, the client certificate and its key.

use std::path::Path;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::error::{invalid, ConfigError};
use crate::files::{pem_certificates, read_small_file};
use crate::qdrant::{ApiKey, ClientIdentity};

pub fn read_api_key_file(path: &Path) -> Result<ApiKey, ConfigError> {
    ApiKey::read_file(path).map_err(|problem| invalid("qdrant_api_key_file", problem))
}

pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
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

/// The client certificate chain and key, both or neither.
pub fn read_client_identity(
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

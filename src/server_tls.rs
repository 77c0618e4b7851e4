//! TLS on the exporter's own endpoint. The certificate and key are read again
//! when their files change (cert-manager renews them in place), at the first
//! handshake after the change; a pair that cannot be read, or does not go
//! together, leaves the last good one in use, logged once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;

use crate::files::{pem_certificates, read_small_file, FileStamp};
use crate::locks::lock;

/// TLS on the exporter's endpoint, as the web configuration file asks for it.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub client_auth: ClientAuth,
    pub min_version: TlsVersion,
    pub max_version: TlsVersion,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth {
    None,
    /// A certificate, if the client sends one, must be signed by the CA.
    VerifyIfGiven {
        ca_file: PathBuf,
    },
    /// Every client must present a certificate signed by the CA.
    Require {
        ca_file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

/// The server configuration; `Err` says what is wrong with the files.
pub fn server_config(tls: &ServerTls) -> Result<rustls::ServerConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = [
        (TlsVersion::Tls12, &rustls::version::TLS12),
        (TlsVersion::Tls13, &rustls::version::TLS13),
    ]
    .into_iter()
    .filter(|(version, _)| (tls.min_version..=tls.max_version).contains(version))
    .map(|(_, supported)| supported)
    .collect();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?;
    let builder = match &tls.client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::VerifyIfGiven { ca_file } => builder.with_client_cert_verifier(
            client_verifier(ca_file, &provider)?
                .allow_unauthenticated()
                .build()
                .map_err(|e| e.to_string())?,
        ),
        ClientAuth::Require { ca_file } => builder.with_client_cert_verifier(
            client_verifier(ca_file, &provider)?
                .build()
                .map_err(|e| e.to_string())?,
        ),
    };
    let resolver = ReloadingCertificate::new(&tls.cert_file, &tls.key_file, provider)?;
    let mut config = builder.with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn client_verifier(
    ca_file: &Path,
    provider: &Arc<CryptoProvider>,
) -> Result<rustls::server::ClientCertVerifierBuilder, String> {
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(pem_certificates(ca_file)?);
    if added == 0 {
        return Err(format!("{}: no usable CA certificate", ca_file.display()));
    }
    Ok(WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    ))
}

/// The certificate and key files as one pair, checked to go together. The
/// key's parser error is not shown: it could quote the key.
fn certified_key(
    cert_file: &Path,
    key_file: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, String> {
    let chain = pem_certificates(cert_file)?;
    let pem = read_small_file(key_file)?;
    let key = PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|_| format!("{}: holds no PEM private key", key_file.display()))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| {
        format!(
            "{} and {} do not go together: {e}",
            cert_file.display(),
            key_file.display()
        )
    })
}

/// The stamps of the certificate and key files, `None` where one cannot be read.
type Stamps = (Option<FileStamp>, Option<FileStamp>);

fn stamps(cert_file: &Path, key_file: &Path) -> Stamps {
    (FileStamp::of(cert_file), FileStamp::of(key_file))
}

struct ReloadingCertificate {
    cert_file: PathBuf,
    key_file: PathBuf,
    provider: Arc<CryptoProvider>,
    current: Mutex<Loaded>,
}

/// Never shows the key: only which files it comes from.
impl std::fmt::Debug for ReloadingCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadingCertificate")
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .finish_non_exhaustive()
    }
}

struct Loaded {
    key: Arc<CertifiedKey>,
    stamps: Stamps,
    /// Files that could not be used: not read again until they change again.
    failed: Option<Stamps>,
    /// Why, once logged.
    problem: Option<String>,
}

impl ReloadingCertificate {
    fn new(
        cert_file: &Path,
        key_file: &Path,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, String> {
        let stamps = stamps(cert_file, key_file);
        let key = certified_key(cert_file, key_file, &provider)?;
        Ok(Self {
            cert_file: cert_file.to_owned(),
            key_file: key_file.to_owned(),
            provider,
            current: Mutex::new(Loaded {
                key: Arc::new(key),
                stamps,
                failed: None,
                problem: None,
            }),
        })
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let mut current = lock(&self.current);
        let stamps = stamps(&self.cert_file, &self.key_file);
        if stamps != current.stamps && Some(stamps) != current.failed {
            match certified_key(&self.cert_file, &self.key_file, &self.provider) {
                Ok(key) => {
                    tracing::info!(cert_file = %self.cert_file.display(), "serving the renewed TLS certificate");
                    current.key = Arc::new(key);
                    current.stamps = stamps;
                    current.failed = None;
                    current.problem = None;
                }
                Err(problem) => {
                    // Mid-renewal the two files may not go together yet: keep
                    // serving the last good pair until the next change.
                    current.failed = Some(stamps);
                    if current.problem.as_ref() != Some(&problem) {
                        tracing::warn!(
                            hint = "the previous certificate is served meanwhile",
                            "cannot use the changed TLS certificate: {problem}"
                        );
                        current.problem = Some(problem);
                    }
                }
            }
        }
        Some(current.key.clone())
    }
}

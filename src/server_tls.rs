//! TLS on the exporter's own endpoint. The certificate and key are read again
//! when their files change (cert-manager renews them in place), at the first
//! handshake after the change; a pair that cannot be read, or does not go
//! together, leaves the last good one in use, logged once.
//!
//! The handshake takes what the exporter-toolkit format asks of it: TLS 1.2
//! cipher suites and key exchange groups by their Go names, in the order
//! given, and client certificates limited to some subject alternative names.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::ring::{cipher_suite, kx_group};
use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme,
    SupportedCipherSuite,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use x509_parser::extensions::GeneralName;

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
    pub handshake: Handshake,
    /// A client certificate must name one of these (DNS name, e-mail, IP
    /// address or URI, exactly); empty: any the CA signed.
    pub client_allowed_sans: Vec<String>,
}

/// What the handshake offers, where the file narrows rustls's defaults.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// TLS 1.2 cipher suites in the server's order of preference (TLS 1.3's
    /// are always rustls's three, as Go's are); `None`: rustls's.
    pub tls12_suites: Option<Vec<SupportedCipherSuite>>,
    /// Key exchange groups, in order; `None`: rustls's.
    pub kx_groups: Option<Vec<&'static dyn SupportedKxGroup>>,
    /// Pick by the server's order, not the client's (the format's default).
    pub prefer_server_order: bool,
}

impl Default for Handshake {
    fn default() -> Self {
        Self {
            tls12_suites: None,
            kx_groups: None,
            prefer_server_order: true,
        }
    }
}

/// A name of Go's `tls.CipherSuites()`, the names the format accepts.
pub enum CipherSuiteName {
    Tls12(SupportedCipherSuite),
    /// A TLS 1.3 suite: not configurable, in Go as in rustls; always offered.
    Tls13,
    /// A CBC suite Go offers and rustls does not implement.
    NotImplemented,
}

pub fn cipher_suite_named(name: &str) -> Option<CipherSuiteName> {
    let tls12 = [
        cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];
    if let Some(suite) = tls12
        .into_iter()
        .find(|suite| format!("{:?}", suite.suite()) == name)
    {
        return Some(CipherSuiteName::Tls12(suite));
    }
    match name {
        "TLS_AES_128_GCM_SHA256" | "TLS_AES_256_GCM_SHA384" | "TLS_CHACHA20_POLY1305_SHA256" => {
            Some(CipherSuiteName::Tls13)
        }
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
        | "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
        | "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"
        | "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" => Some(CipherSuiteName::NotImplemented),
        _ => None,
    }
}

/// A curve of the format (`CurveP256`, ...): `Some(None)` for one rustls's
/// ring provider does not implement (P-521).
pub fn curve_named(name: &str) -> Option<Option<&'static dyn SupportedKxGroup>> {
    match name {
        "X25519" => Some(Some(kx_group::X25519)),
        "CurveP256" => Some(Some(kx_group::SECP256R1)),
        "CurveP384" => Some(Some(kx_group::SECP384R1)),
        "CurveP521" => Some(None),
        _ => None,
    }
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
    let mut provider = rustls::crypto::ring::default_provider();
    if let Some(suites) = &tls.handshake.tls12_suites {
        provider
            .cipher_suites
            .retain(|suite| suite.version() == &rustls::version::TLS13);
        provider.cipher_suites.extend(suites.iter().copied());
    }
    if let Some(groups) = &tls.handshake.kx_groups {
        provider.kx_groups.clone_from(groups);
    }
    let provider = Arc::new(provider);
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
    let verifier = match &tls.client_auth {
        ClientAuth::None => None,
        ClientAuth::VerifyIfGiven { ca_file } => Some(
            client_verifier(ca_file, &provider)?
                .allow_unauthenticated()
                .build()
                .map_err(|e| e.to_string())?,
        ),
        ClientAuth::Require { ca_file } => Some(
            client_verifier(ca_file, &provider)?
                .build()
                .map_err(|e| e.to_string())?,
        ),
    };
    let builder = match verifier {
        None => builder.with_no_client_auth(),
        Some(verifier) if tls.client_allowed_sans.is_empty() => {
            builder.with_client_cert_verifier(verifier)
        }
        Some(verifier) => builder.with_client_cert_verifier(Arc::new(AllowedSans {
            verifier,
            allowed: tls.client_allowed_sans.clone(),
        })),
    };
    let resolver = ReloadingCertificate::new(&tls.cert_file, &tls.key_file, provider)?;
    let mut config = builder.with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.ignore_client_order = tls.handshake.prefer_server_order;
    Ok(config)
}

/// The CA's verification, then: the certificate names an allowed SAN.
#[derive(Debug)]
struct AllowedSans {
    verifier: Arc<dyn ClientCertVerifier>,
    allowed: Vec<String>,
}

/// The certificate's subject alternative names as Go writes them: DNS names,
/// e-mail addresses, IP addresses and URIs.
fn subject_alt_names(certificate: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(certificate.as_ref()) else {
        return Vec::new();
    };
    let Ok(Some(names)) = parsed.subject_alternative_name() else {
        return Vec::new();
    };
    names
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(name) | GeneralName::RFC822Name(name) | GeneralName::URI(name) => {
                Some((*name).to_owned())
            }
            GeneralName::IPAddress(octets) => match octets.len() {
                4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*octets).ok()?).to_string()),
                16 => {
                    Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*octets).ok()?).to_string())
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

impl ClientCertVerifier for AllowedSans {
    fn offer_client_auth(&self) -> bool {
        self.verifier.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.verifier.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.verifier.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .verifier
            .verify_client_cert(end_entity, intermediates, now)?;
        match subject_alt_names(end_entity)
            .iter()
            .any(|name| self.allowed.contains(name))
        {
            true => Ok(verified),
            false => Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.verifier.supported_verify_schemes()
    }
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

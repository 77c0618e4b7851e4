//! How the client trusts Qdrant over https, and proves itself to it: the
//! public roots and a private CA, a certificate name other than the URL's
//! host, a client certificate, or, asked for explicitly, no verification.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

/// How the client trusts Qdrant over https and proves itself to it, validated.
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    /// Extra trust anchors beside the public roots.
    pub ca_certificates: Vec<CertificateDer<'static>>,
    /// The name Qdrant's certificate is verified for, when not the URL's host.
    pub server_name: Option<ServerName<'static>>,
    /// The certificate the exporter presents, for a Qdrant that asks for one.
    pub client_identity: Option<ClientIdentity>,
    /// Any certificate is accepted (warned about at start).
    pub insecure_skip_verify: bool,
}

impl TlsSettings {
    /// Whether any is given: they apply to an https URL only.
    pub fn any(&self) -> bool {
        !self.ca_certificates.is_empty()
            || self.server_name.is_some()
            || self.client_identity.is_some()
            || self.insecure_skip_verify
    }
}

/// A client certificate chain and its key; `Debug` never shows the key.
pub struct ClientIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Clone for ClientIdentity {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ClientIdentity({} certificates, key <redacted>)",
            self.chain.len()
        )
    }
}

/// The TLS configuration of every connection to Qdrant.
pub fn client_config(config: &TlsSettings) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(verifier(config, provider));
    let mut tls = match &config.client_identity {
        Some(identity) => builder
            .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
            .expect("checked when the configuration was loaded"),
        None => builder.with_no_client_auth(),
    };
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    tls
}

fn verifier(config: &TlsSettings, provider: Arc<CryptoProvider>) -> Arc<dyn ServerCertVerifier> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    // Validated when the configuration was loaded.
    roots.add_parsable_certificates(config.ca_certificates.iter().cloned());
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .expect("the roots hold at least the public ones");
    let identity = match (&config.server_name, config.insecure_skip_verify) {
        (_, true) => Identity::Unchecked,
        (Some(name), false) => Identity::NamedAs(name.clone()),
        (None, false) => return webpki,
    };
    Arc::new(Relaxed {
        identity,
        inner: webpki,
    })
}

/// The URL's host is not the name to check the certificate for.
#[derive(Debug)]
enum Identity {
    /// A sidecar reaching `https://127.0.0.1:6333` whose certificate names the Service.
    NamedAs(ServerName<'static>),
    /// `qdrant_tls_insecure_skip_verify`: any certificate is taken for Qdrant's.
    /// The handshake signature is still checked, so the connection is encrypted
    /// to whoever holds the certificate's key; who that is goes unverified.
    Unchecked,
}

/// WebPKI verification with another identity check; the handshake's signatures
/// are verified as always.
#[derive(Debug)]
struct Relaxed {
    identity: Identity,
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _url_host: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.identity {
            Identity::NamedAs(name) => {
                self.inner
                    .verify_server_cert(end_entity, intermediates, name, ocsp_response, now)
            }
            Identity::Unchecked => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

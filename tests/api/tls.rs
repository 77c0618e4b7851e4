//! https to a Qdrant whose certificate comes from a private CA.

use mock_qdrant::MockQdrant;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::helpers::{fixture_dir, shard_0, spawn_app_with, value, RECORDED};

/// A fresh CA and a `localhost` certificate it signed: (CA PEM, server TLS config).
fn private_ca() -> (String, rustls::ServerConfig) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let tls = rustls::ServerConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![server_cert.der().clone()], key)
    .unwrap();
    (ca_cert.pem(), tls)
}

#[actix_web::test]
async fn https_with_a_private_ca_works_only_when_the_ca_is_trusted() {
    let (ca_pem, tls) = private_ca();
    let qdrant = MockQdrant::start_tls(fixture_dir(RECORDED), tls).unwrap();
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), ca_pem).unwrap();

    let trusting = spawn_app_with(RECORDED, |s| {
        s.qdrant_url = Some(qdrant.url());
        s.qdrant_ca_file = Some(ca_file.path().to_owned());
    })
    .await;
    let m = trusting.scrape().await;
    assert_eq!(value(&m, "qdrant_up", ""), 1.0, "{m}");
    assert_eq!(
        value(&m, "qdrant_shard_local_points", &shard_0("docs")),
        2000.0
    );

    let requests_from_trusting = qdrant.requests().len();

    // Without the CA the certificate must be rejected: verification is on.
    let untrusting = spawn_app_with(RECORDED, |s| s.qdrant_url = Some(qdrant.url())).await;
    let m = untrusting.scrape().await;
    assert_eq!(value(&m, "qdrant_up", ""), 0.0, "{m}");
    assert_eq!(
        qdrant.requests().len(),
        requests_from_trusting,
        "no request of the untrusting exporter got through"
    );
}

//! https to Qdrant: a private CA, a certificate for another name than the
//! URL's host, a client certificate, and explicitly no verification.

use mock_qdrant::MockQdrant;

use crate::certificates::{pem_file, provider, Issued, TestCa};
use crate::helpers::{fixture_dir, shard_0, spawn_app_with, value, RECORDED};

/// A Qdrant serving `certificate`, asking no client certificate.
fn qdrant_with(certificate: Issued) -> MockQdrant {
    let tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certificate.der], certificate.key)
        .unwrap();
    MockQdrant::start_tls(fixture_dir(RECORDED), tls).unwrap()
}

#[actix_web::test]
async fn https_with_a_private_ca_works_only_when_the_ca_is_trusted() {
    let ca = TestCa::new();
    let qdrant = qdrant_with(ca.issue(&["localhost"]));
    let ca_file = ca.file();

    let trusting = spawn_app_with(RECORDED, |s| {
        s.qdrant_url = Some(qdrant.url());
        s.qdrant_ca_file = Some(ca_file.path().to_owned());
    })
    .await;
    // Settled: what the refresh started in the background has been asked too.
    let m = trusting.scrape_settled().await;
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

/// A sidecar reaches Qdrant on localhost, but its certificate names the Service.
#[actix_web::test]
async fn a_certificate_for_another_name_is_accepted_only_for_that_name() {
    let ca = TestCa::new();
    let qdrant = qdrant_with(ca.issue(&["qdrant.qdrant.svc.cluster.local"]));
    let ca_file = ca.file();
    for (server_name, up) in [
        (None, 0.0),
        (Some("qdrant.other.svc.cluster.local"), 0.0),
        (Some("qdrant.qdrant.svc.cluster.local"), 1.0),
    ] {
        let app = spawn_app_with(RECORDED, |s| {
            s.qdrant_url = Some(qdrant.url());
            s.qdrant_ca_file = Some(ca_file.path().to_owned());
            s.qdrant_tls_server_name = server_name.map(str::to_owned);
        })
        .await;
        let m = app.scrape().await;
        assert_eq!(value(&m, "qdrant_up", ""), up, "{server_name:?}");
    }
}

#[actix_web::test]
async fn a_qdrant_requiring_client_certificates_gets_the_configured_one() {
    let server_ca = TestCa::new();
    let client_ca = TestCa::new();
    let server = server_ca.issue(&["localhost"]);
    let mut client_roots = rustls::RootCertStore::empty();
    client_roots.add(client_ca.der.clone()).unwrap();
    let client_verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        client_roots.into(),
        provider(),
    )
    .build()
    .unwrap();
    let tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(client_verifier)
        .with_single_cert(vec![server.der], server.key)
        .unwrap();
    let qdrant = MockQdrant::start_tls(fixture_dir(RECORDED), tls).unwrap();
    let ca_file = server_ca.file();

    let without = spawn_app_with(RECORDED, |s| {
        s.qdrant_url = Some(qdrant.url());
        s.qdrant_ca_file = Some(ca_file.path().to_owned());
    })
    .await;
    assert_eq!(value(&without.scrape().await, "qdrant_up", ""), 0.0);
    assert_eq!(qdrant.requests(), [], "refused in the handshake");

    let client = client_ca.issue(&["qdrant-exporter"]);
    let (cert_file, key_file) = (pem_file(&client.pem), pem_file(&client.key_pem));
    let with = spawn_app_with(RECORDED, |s| {
        s.qdrant_url = Some(qdrant.url());
        s.qdrant_ca_file = Some(ca_file.path().to_owned());
        s.qdrant_client_cert_file = Some(cert_file.path().to_owned());
        s.qdrant_client_key_file = Some(key_file.path().to_owned());
    })
    .await;
    assert_eq!(value(&with.scrape().await, "qdrant_up", ""), 1.0);
}

#[actix_web::test]
async fn no_verification_only_when_asked_for() {
    let unknown_ca = TestCa::new();
    let qdrant = qdrant_with(unknown_ca.issue(&["somewhere.else"]));
    for (skip, up) in [(false, 0.0), (true, 1.0)] {
        let app = spawn_app_with(RECORDED, |s| {
            s.qdrant_url = Some(qdrant.url());
            s.qdrant_tls_insecure_skip_verify = Some(skip);
        })
        .await;
        assert_eq!(value(&app.scrape().await, "qdrant_up", ""), up, "{skip}");
    }
}

#[test]
fn tls_settings_that_cannot_work_are_refused_at_start() {
    use qdrant_exporter::config::{Config, Settings};
    let ca = TestCa::new();
    let client = ca.issue(&["qdrant-exporter"]);
    let other = ca.issue(&["qdrant-exporter"]);
    let (cert, key, other_key) = (
        pem_file(&client.pem),
        pem_file(&client.key_pem),
        pem_file(&other.key_pem),
    );
    let https = || Settings {
        qdrant_url: Some("https://qdrant:6333".into()),
        ..Settings::default()
    };
    let cases = [
        (
            Settings {
                qdrant_url: Some("http://qdrant:6333".into()),
                qdrant_tls_server_name: Some("qdrant".into()),
                ..Settings::default()
            },
            "qdrant_tls_server_name",
        ),
        (
            Settings {
                qdrant_tls_server_name: Some("not a name!".into()),
                ..https()
            },
            "qdrant_tls_server_name",
        ),
        (
            Settings {
                qdrant_client_cert_file: Some(cert.path().to_owned()),
                ..https()
            },
            "qdrant_client_key_file",
        ),
        (
            Settings {
                qdrant_client_cert_file: Some(cert.path().to_owned()),
                qdrant_client_key_file: Some(cert.path().to_owned()),
                ..https()
            },
            "qdrant_client_key_file",
        ),
        (
            Settings {
                qdrant_client_cert_file: Some(key.path().to_owned()),
                qdrant_client_key_file: Some(key.path().to_owned()),
                ..https()
            },
            "qdrant_client_cert_file",
        ),
        (
            Settings {
                qdrant_client_cert_file: Some(cert.path().to_owned()),
                qdrant_client_key_file: Some(other_key.path().to_owned()),
                ..https()
            },
            "qdrant_client_key_file",
        ),
    ];
    for (settings, named) in cases {
        let error = Config::from_settings(settings).unwrap_err().to_string();
        assert!(error.contains(named), "{named}: {error}");
        assert!(!error.contains("PRIVATE KEY"), "{error}");
    }
    let fine = Settings {
        qdrant_client_cert_file: Some(cert.path().to_owned()),
        qdrant_client_key_file: Some(key.path().to_owned()),
        ..https()
    };
    let config = Config::from_settings(fine).unwrap();
    assert!(!format!("{config:?}").contains(&client.key_pem[40..80]));
}

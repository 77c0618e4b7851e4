//! The exporter's own endpoint, configured by an exporter-toolkit web
//! configuration file: TLS (its certificate renewed in place), client
//! certificates, basic auth, response headers, and probes left open on request.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::certificates::{pem_file, provider, Issued, TestCa};
use crate::helpers::{spawn_app_with, TestApp, RECORDED};

/// From Prometheus' basic-auth guide (prometheus.io/docs/guides/basic-auth): admin, "test".
const ADMIN_TEST: &str = "$2b$12$hNf2lSsxfm0.i4a.1kVpSOVyBCfIB51VRjgBUyv6kdnyTlgWj81Ay";
/// From the exporter-toolkit's test data (web_config_users_noTLS.good.yml): alice, "alice123".
const ALICE_ALICE123: &str = "$2y$12$1DpfPeqF9HzHJt.EWswy1exHluGfbhnn3yXhR7Xes6m3WJqFg0Wby";

/// The exporter with this web configuration (files it names must outlive the app).
async fn exporter_with(
    web_config: &str,
    probes_without_auth: bool,
) -> (TestApp, tempfile::NamedTempFile) {
    let file = pem_file(web_config);
    let path = file.path().to_owned();
    let app = spawn_app_with(RECORDED, move |s| {
        s.web_config_file = Some(path);
        s.probes_without_auth = Some(probes_without_auth);
    })
    .await;
    (app, file)
}

fn port(app: &TestApp) -> u16 {
    app.address.rsplit(':').next().unwrap().parse().unwrap()
}

/// One HTTPS request over a fresh connection: (status line, the certificate served).
fn https_get(
    port: u16,
    path: &str,
    trusted: &CertificateDer<'static>,
    client: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    authorization: Option<&str>,
) -> std::io::Result<(String, CertificateDer<'static>)> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match client {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).unwrap(),
        None => builder.with_no_client_auth(),
    };
    // As curl and browsers do. HTTP/2 has no stream limit in actix: a few
    // connections holding thousands of streams each would take the sidecar
    // past its memory limit, so it must never be chosen.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let name = ServerName::try_from("localhost").unwrap();
    let mut connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut socket = TcpStream::connect(("127.0.0.1", port))?;
    socket.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut stream = rustls::Stream::new(&mut connection, &mut socket);
    let authorization = authorization
        .map(|value| format!("Authorization: {value}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{authorization}Connection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    // rustls reports a peer closing without close_notify; the answer is complete by then.
    if answer.is_empty() {
        read?;
    }
    assert_eq!(
        connection.alpn_protocol(),
        Some(&b"http/1.1"[..]),
        "HTTP/1.1 only"
    );
    let served = connection.peer_certificates().unwrap()[0].clone();
    let head = String::from_utf8_lossy(&answer).into_owned();
    Ok((head.lines().next().unwrap_or_default().to_owned(), served))
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn tls_files(server: &Issued) -> (tempfile::NamedTempFile, tempfile::NamedTempFile) {
    (pem_file(&server.pem), pem_file(&server.key_pem))
}

#[actix_web::test]
async fn scrapes_over_tls_and_a_renewed_certificate_is_served_without_a_restart() {
    let ca = TestCa::new();
    let first = ca.issue(&["localhost"]);
    let (cert, key) = tls_files(&first);
    let config = format!(
        "tls_server_config:\n  cert_file: {}\n  key_file: {}\nhttp_server_config:\n  http2: true\n",
        cert.path().display(),
        key.path().display()
    );
    let (app, _config) = exporter_with(&config, false).await;
    let port = port(&app);
    let trusted = ca.der.clone();
    let (status, served) = actix_web::rt::task::spawn_blocking(move || {
        https_get(port, "/metrics", &trusted, None, None)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(served, first.der);

    // Plain HTTP is not served on a TLS port.
    assert!(app
        .http
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .is_err());

    // cert-manager renews the pair in place.
    let renewed = ca_issue_again(&cert, &key);
    let (status, served) = actix_web::rt::task::spawn_blocking(move || {
        https_get(port, "/healthz", &renewed.1, None, None)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(served, renewed.0);
}

/// Writes a new pair from a new CA over the files: (the new certificate, its CA).
fn ca_issue_again(
    cert: &tempfile::NamedTempFile,
    key: &tempfile::NamedTempFile,
) -> (CertificateDer<'static>, CertificateDer<'static>) {
    let ca = TestCa::new();
    let renewed = ca.issue(&["localhost"]);
    std::fs::write(key.path(), &renewed.key_pem).unwrap();
    std::fs::write(cert.path(), &renewed.pem).unwrap();
    (renewed.der, ca.der)
}

#[actix_web::test]
async fn client_certificates_from_the_client_ca_only() {
    let ca = TestCa::new();
    let server = ca.issue(&["localhost"]);
    let (cert, key) = tls_files(&server);
    let client_ca = TestCa::new();
    let client_ca_file = client_ca.file();
    let config = format!(
        "tls_server_config:\n  cert_file: {}\n  key_file: {}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}\n",
        cert.path().display(),
        key.path().display(),
        client_ca_file.path().display()
    );
    let (app, _config) = exporter_with(&config, false).await;
    let port = port(&app);
    let trusted = ca.der.clone();
    let good = client_ca.issue(&["prometheus"]);
    let stranger = TestCa::new().issue(&["prometheus"]);
    let outcome = actix_web::rt::task::spawn_blocking(move || {
        [
            https_get(port, "/metrics", &trusted, None, None).map(|(status, _)| status),
            https_get(
                port,
                "/metrics",
                &trusted,
                Some((vec![stranger.der], stranger.key)),
                None,
            )
            .map(|(status, _)| status),
            https_get(
                port,
                "/metrics",
                &trusted,
                Some((vec![good.der], good.key)),
                None,
            )
            .map(|(status, _)| status),
        ]
    })
    .await
    .unwrap();
    let [without, wrong, right] = outcome;
    assert!(without.is_err(), "no certificate: {without:?}");
    assert!(wrong.is_err(), "a certificate from another CA: {wrong:?}");
    assert_eq!(right.unwrap(), "HTTP/1.1 200 OK");
}

#[actix_web::test]
async fn basic_auth_with_hashes_from_the_prometheus_documentation() {
    let config = format!(
        "basic_auth_users:\n  admin: {ADMIN_TEST}\n  alice: {ALICE_ALICE123}\n\
         http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n"
    );
    let (app, _config) = exporter_with(&config, true).await;
    for (user, password) in [("admin", "test"), ("alice", "alice123")] {
        // Twice: the second is answered from the remembered pair.
        for _ in 0..2 {
            let response = app
                .get_with("/metrics", &[("Authorization", &basic(user, password))])
                .await;
            assert_eq!(response.status, 200, "{user}");
            assert!(response.body.contains("qdrant_up 1"));
            assert_eq!(
                response.headers.get("x-content-type-options").unwrap(),
                "nosniff"
            );
        }
    }
    for authorization in [
        Some(basic("admin", "wrong")),
        Some(basic("nobody", "test")),
        Some("Bearer test".to_owned()),
        None,
    ] {
        let headers: Vec<(&str, &str)> = authorization
            .iter()
            .map(|value| ("Authorization", value.as_str()))
            .collect();
        let response = app.get_with("/metrics", &headers).await;
        assert_eq!(response.status, 401, "{authorization:?}");
        assert!(!response.body.contains("qdrant_"), "nothing leaks");
        assert_eq!(
            response.headers.get("www-authenticate").unwrap(),
            r#"Basic realm="qdrant-exporter""#
        );
        assert_eq!(
            response.headers.get("x-content-type-options").unwrap(),
            "nosniff"
        );
    }
    // The kubelet sends no credentials: probes stay open on request, the rest does not.
    assert_eq!(app.get("/healthz").await.status, 200);
    assert_eq!(app.get("/readyz").await.status, 200);
    assert_eq!(app.get("/").await.status, 401);
}

/// A password replaced in the web configuration file takes effect without a
/// restart, as with the exporter-toolkit (the old one was still let in,
/// remembered or not).
#[actix_web::test]
async fn a_replaced_password_takes_effect_without_a_restart() {
    let (app, config) =
        exporter_with(&format!("basic_auth_users:\n  admin: {ADMIN_TEST}\n"), true).await;
    let status = |password: &'static str| {
        let app = &app;
        async move {
            app.get_with("/metrics", &[("Authorization", &basic("admin", password))])
                .await
                .status
        }
    };
    assert_eq!(status("test").await, 200, "remembered from now on");
    let replaced = bcrypt::hash("rotated", 12).unwrap();
    std::fs::write(
        config.path(),
        format!("basic_auth_users:\n  admin: {replaced}\n"),
    )
    .unwrap();
    let mut polls = 0;
    while status("test").await != 401 {
        polls += 1;
        assert!(polls < 100, "the old password is still let in");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status("rotated").await, 200);
}

#[actix_web::test]
async fn probes_need_credentials_unless_asked_otherwise() {
    let config = format!("basic_auth_users:\n  admin: {ADMIN_TEST}\n");
    let (app, _config) = exporter_with(&config, false).await;
    assert_eq!(app.get("/healthz").await.status, 401);
}

#[test]
fn a_web_configuration_that_cannot_be_served_is_refused_at_start() {
    use qdrant_exporter::config::{Config, Settings};
    let ca = TestCa::new();
    let server = ca.issue(&["localhost"]);
    let other = ca.issue(&["localhost"]);
    let (cert, key) = tls_files(&server);
    let other_key = pem_file(&other.key_pem);
    let tls = |extra: &str| {
        format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n{extra}",
            cert.path().display(),
            key.path().display()
        )
    };
    let cases = [
        (
            tls("  cipher_suites: [TLS_AES_128_GCM_SHA256]\n"),
            "no TLS 1.2 suite",
        ),
        (
            tls("  client_auth_type: RequireAnyClientCert\n"),
            "RequireAnyClientCert",
        ),
        (
            tls("  client_auth_type: RequireAndVerifyClientCert\n"),
            "client_ca_file",
        ),
        (tls("  min_version: TLS11\n"), "TLS11"),
        (
            tls("  min_version: TLS13\n  max_version: TLS12\n"),
            "min_version",
        ),
        (tls("  cert_fil: x\n"), "cert_fil"),
        (
            format!(
                "tls_server_config:\n  cert_file: {}\n  key_file: {}\n",
                cert.path().display(),
                other_key.path().display()
            ),
            "do not go together",
        ),
        (
            "http_server_config:\n  headers:\n    Server: nginx\n".into(),
            "Server",
        ),
        (
            "http_server_config:\n  headers:\n    X-Frame-Options: allow\n".into(),
            "X-Frame-Options",
        ),
        (
            "basic_auth_users:\n  admin: hunter2-not-a-hash\n".into(),
            "not a bcrypt hash",
        ),
        // bcrypt as a weapon: a cost that holds a core for hours per request,
        // and costs that tell the users apart by the time a check takes.
        (
            format!(
                "basic_auth_users:\n  admin: {}\n",
                ADMIN_TEST.replace("$12$", "$31$")
            ),
            "bcrypt cost 31, above 12",
        ),
        (
            format!(
                "basic_auth_users:\n  admin: {ADMIN_TEST}\n  other: {}\n",
                ADMIN_TEST.replace("$12$", "$10$")
            ),
            "different bcrypt costs",
        ),
        ("basic_auth_excluded_paths: [/admin]\n".into(), "/admin"),
        ("rate_limit:\n  interval: 1s\n".into(), "rate_limit.burst"),
        ("rate_limit:\n  burst: 5\n  interval: soon\n".into(), "soon"),
        (
            tls("  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n"),
            "unknown cipher",
        ),
        (
            tls("  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]\n"),
            "no TLS 1.2 suite",
        ),
        (tls("  curve_preferences: [CurveP224]\n"), "unknown curve"),
        (tls("  curve_preferences: [CurveP521]\n"), "no curve"),
        (
            tls("  client_allowed_sans: [prometheus]\n"),
            "client_allowed_sans needs client certificates",
        ),
        (
            tls("  client_auth_type: RequireClientCert\n"),
            "RequireClientCert",
        ),
        (
            "tls_server_config:\n  cert: \"-----BEGIN CERTIFICATE-----\"\n  key_file: k\n".into(),
            "use cert_file",
        ),
    ];
    for (web_config, named) in cases {
        let file = pem_file(&web_config);
        let error = Config::from_settings(Settings {
            web_config_file: Some(file.path().to_owned()),
            ..Settings::default()
        })
        .unwrap_err()
        .to_string();
        assert!(error.contains("web_config_file"), "{error}");
        assert!(error.contains(named), "{named}: {error}");
        assert!(!error.contains("hunter2"), "{error}");
        assert_eq!(error.lines().count(), 1, "{error}");
    }
}

#[test]
fn the_configuration_never_shows_password_hashes_or_keys() {
    use qdrant_exporter::config::{Config, Settings};
    let ca = TestCa::new();
    let (cert, key) = tls_files(&ca.issue(&["localhost"]));
    let web_config = pem_file(&format!(
        "tls_server_config:\n  cert_file: {}\n  key_file: {}\nbasic_auth_users:\n  admin: {ADMIN_TEST}\n",
        cert.path().display(),
        key.path().display()
    ));
    let config = Config::from_settings(Settings {
        web_config_file: Some(web_config.path().to_owned()),
        ..Settings::default()
    })
    .unwrap();
    let shown = format!("{config:?}");
    assert!(shown.contains("admin"), "{shown}");
    assert!(!shown.contains("hNf2lSsxfm0"), "{shown}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
}

/// A web configuration file beside its certificate, key and client CA,
/// named relatively, as the exporter-toolkit reads them: from the file's directory.
struct WebDirectory {
    directory: tempfile::TempDir,
    server_ca: TestCa,
    client_ca: TestCa,
}

impl WebDirectory {
    fn new() -> Self {
        let directory = tempfile::tempdir().unwrap();
        let (server_ca, client_ca) = (TestCa::new(), TestCa::new());
        let server = server_ca.issue(&["localhost"]);
        std::fs::write(directory.path().join("tls.crt"), &server.pem).unwrap();
        std::fs::write(directory.path().join("tls.key"), &server.key_pem).unwrap();
        std::fs::write(directory.path().join("ca.crt"), &client_ca.pem).unwrap();
        Self {
            directory,
            server_ca,
            client_ca,
        }
    }

    fn write(&self, web_config: &str) -> std::path::PathBuf {
        let path = self.directory.path().join("web.yml");
        std::fs::write(&path, web_config).unwrap();
        path
    }
}

/// Every key of the exporter-toolkit's format but the inline PEM ones (which
/// are refused with the reason, above).
const EVERY_TOOLKIT_KEY: &str = "\
tls_server_config:
  cert_file: tls.crt
  key_file: tls.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  client_allowed_sans: [prometheus.monitoring.svc]
  min_version: TLS12
  max_version: TLS12
  cipher_suites: [TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, TLS_AES_128_GCM_SHA256]
  prefer_server_cipher_suites: true
  curve_preferences: [CurveP384, CurveP521]
http_server_config:
  http2: true
  headers:
    Content-Security-Policy: default-src 'self'
    X-Frame-Options: deny
    X-Content-Type-Options: nosniff
    X-XSS-Protection: 1; mode=block
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  alice: ALICE_HASH
rate_limit:
  burst: 4
  interval: 1h
";

/// A TLS 1.2 handshake with a client offering only `suites` and `groups`:
/// what was negotiated, or why not.
fn tls12_handshake(
    port: u16,
    trusted: &CertificateDer<'static>,
    client: &Issued,
    suites: &[rustls::SupportedCipherSuite],
    groups: &[&'static dyn rustls::crypto::SupportedKxGroup],
) -> Result<(rustls::CipherSuite, rustls::NamedGroup), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).unwrap();
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: suites.to_vec(),
        kx_groups: groups.to_vec(),
        ..rustls::crypto::ring::default_provider()
    };
    let config = rustls::ClientConfig::builder_with_provider(provider.into())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(vec![client.der.clone()], client.key.clone_key())
        .unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    while connection.is_handshaking() {
        connection
            .complete_io(&mut socket)
            .map_err(|e| e.to_string())?;
    }
    Ok((
        connection.negotiated_cipher_suite().unwrap().suite(),
        connection.negotiated_key_exchange_group().unwrap().name(),
    ))
}

#[actix_web::test]
async fn every_key_of_the_toolkit_format_is_honoured() {
    use rustls::crypto::ring::{cipher_suite, kx_group};
    let files = WebDirectory::new();
    let path = files.write(&EVERY_TOOLKIT_KEY.replace("ALICE_HASH", ALICE_ALICE123));
    let config =
        qdrant_exporter::config::Config::from_settings(qdrant_exporter::config::Settings {
            web_config_file: Some(path.clone()),
            ..Default::default()
        })
        .unwrap();
    // What cannot be offered is said at start, and the rest is served.
    let warnings = config.server.web.warnings.join("\n");
    assert!(
        warnings.contains("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
        "{warnings}"
    );
    assert!(warnings.contains("CurveP521"), "{warnings}");
    assert_eq!(config.server.web.warnings.len(), 2, "{warnings}");

    let app = spawn_app_with(RECORDED, move |s| s.web_config_file = Some(path)).await;
    let port = port(&app);
    let trusted = files.server_ca.der.clone();
    let allowed = files.client_ca.issue(&["prometheus.monitoring.svc"]);
    let other_name = files.client_ca.issue(&["intruder.monitoring.svc"]);
    let alice = basic("alice", "alice123");
    let outcome = actix_web::rt::task::spawn_blocking(move || {
        let chacha = [cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256];
        let aes = [cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256];
        let handshakes = [
            tls12_handshake(port, &trusted, &allowed, &chacha, &[kx_group::SECP384R1]),
            tls12_handshake(port, &trusted, &allowed, &aes, &[kx_group::SECP384R1]),
            tls12_handshake(port, &trusted, &allowed, &chacha, &[kx_group::X25519]),
        ];
        let client = |issued: &Issued| Some((vec![issued.der.clone()], issued.key.clone_key()));
        let statuses: Vec<_> = [
            (&allowed, "/metrics", Some(alice.as_str())),
            (&other_name, "/metrics", Some(alice.as_str())),
            (&allowed, "/metrics", None),
            (&allowed, "/metrics", Some(alice.as_str())),
            (&allowed, "/metrics", Some(alice.as_str())),
            (&allowed, "/metrics", Some(alice.as_str())),
            (&allowed, "/healthz", None),
        ]
        .into_iter()
        .map(|(issued, path, authorization)| {
            https_get(port, path, &trusted, client(issued), authorization)
                .map(|(status, _)| status)
                .map_err(|e| e.to_string())
        })
        .collect();
        (handshakes, statuses)
    })
    .await
    .unwrap();
    let (handshakes, statuses) = outcome;
    assert_eq!(
        handshakes[0],
        Ok((
            rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            rustls::NamedGroup::secp384r1
        )),
        "the listed suite and curve"
    );
    assert!(
        handshakes[1].is_err(),
        "a suite not listed: {:?}",
        handshakes[1]
    );
    assert!(
        handshakes[2].is_err(),
        "a curve not listed: {:?}",
        handshakes[2]
    );
    let ok = "HTTP/1.1 200 OK".to_owned();
    assert_eq!(
        statuses[0],
        Ok(ok.clone()),
        "an allowed SAN, with credentials"
    );
    assert!(statuses[1].is_err(), "a SAN not allowed: {:?}", statuses[1]);
    // The burst of 4: a refused handshake sends no request, so the first,
    // third, fourth and fifth spend it, credentials or not.
    assert_eq!(statuses[2], Ok("HTTP/1.1 401 Unauthorized".to_owned()));
    assert_eq!(statuses[3], Ok(ok.clone()));
    assert_eq!(statuses[4], Ok(ok.clone()));
    assert_eq!(
        statuses[5],
        Ok("HTTP/1.1 429 Too Many Requests".to_owned()),
        "beyond the burst of 4 in the hour"
    );
    assert_eq!(
        statuses[6],
        Ok("HTTP/1.1 401 Unauthorized".to_owned()),
        "probes are not rate limited, but need credentials here"
    );
}

//! Configuration precedence and validation (in-process; see process.rs for exit codes).

use std::io::Write;
use std::time::Duration;

use qdrant_exporter::config::{ApiKey, Cli, Config, ConfigError, Settings};
use qdrant_exporter::startup::ListenAddress;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn cli(args: &[&str]) -> Cli {
    Cli::try_parse_args(std::iter::once("qdrant-exporter").chain(args.iter().copied()))
        .expect("valid flags")
}

fn yaml(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

#[test]
fn defaults() {
    let config = Config::load(cli(&[]), env(&[])).unwrap();
    assert_eq!(
        config.server.listen_address,
        ListenAddress::EveryAddress(9999)
    );
    assert_eq!(
        config.server.target.qdrant.url.as_str(),
        "http://localhost:6333/"
    );
    assert!(config.server.target.qdrant.api_key.is_none());
    assert_eq!(config.server.target.cache_ttl, Duration::from_secs(5));
    assert_eq!(config.server.target.qdrant.concurrency, 8);
    assert_eq!(config.server.max_connections, 64);
    assert!(
        config.server.target.qdrant.max_response_bytes > 2 * 1024 * 1024,
        "well above awc's 2 MiB default"
    );
    assert!(!config.server.readiness_requires_qdrant);
}

#[test]
fn file_then_environment_then_flags() {
    let file = yaml("cache_ttl_seconds: 1\nconcurrency: 2\nlog_level: debug\nqdrant_url: http://from-file:6333\n");
    let path = file.path().to_str().unwrap();

    let config = Config::load(cli(&["--config", path]), env(&[])).unwrap();
    assert_eq!(
        (
            config.server.target.cache_ttl.as_secs_f64(),
            config.server.target.qdrant.concurrency
        ),
        (1.0, 2)
    );
    assert_eq!(
        config.server.target.qdrant.url.host_str(),
        Some("from-file")
    );

    let environment = env(&[
        ("QDRANT_EXPORTER_CACHE_TTL_SECONDS", "2"),
        ("QDRANT_EXPORTER_CONCURRENCY", "3"),
        ("QDRANT_URL", "https://from-env:6333"),
    ]);
    let config = Config::load(cli(&["--config", path]), environment.clone()).unwrap();
    assert_eq!(
        (
            config.server.target.cache_ttl.as_secs_f64(),
            config.server.target.qdrant.concurrency
        ),
        (2.0, 3)
    );
    assert_eq!(config.server.target.qdrant.url.host_str(), Some("from-env"));
    assert_eq!(config.log.filter, "debug", "untouched by higher layers");

    let config = Config::load(cli(&["--config", path, "--concurrency", "4"]), environment).unwrap();
    assert_eq!(
        (
            config.server.target.cache_ttl.as_secs_f64(),
            config.server.target.qdrant.concurrency
        ),
        (2.0, 4)
    );
}

#[test]
fn config_file_from_the_environment() {
    let file = yaml("concurrency: 5\n");
    let config = Config::load(
        cli(&[]),
        env(&[("QDRANT_EXPORTER_CONFIG", file.path().to_str().unwrap())]),
    )
    .unwrap();
    assert_eq!(config.server.target.qdrant.concurrency, 5);
}

#[test]
fn kubernetes_service_variables_are_ignored() {
    // Injected into every pod of a namespace with Services named qdrant and qdrant-exporter.
    let config = Config::load(
        cli(&[]),
        env(&[
            ("QDRANT_EXPORTER_PORT", "tcp://10.0.0.1:9999"),
            ("QDRANT_EXPORTER_SERVICE_HOST", "10.0.0.1"),
            ("QDRANT_PORT", "tcp://10.0.0.2:6333"),
            ("QDRANT_SERVICE_PORT_HTTP", "6333"),
        ]),
    )
    .unwrap();
    assert_eq!(
        config.server.listen_address,
        ListenAddress::EveryAddress(9999)
    );
}

#[test]
fn a_listen_address_without_a_host_listens_on_every_address_of_both_families() {
    let config = Config::load(cli(&["--web.listen-address", ":9187"]), env(&[])).unwrap();
    assert_eq!(
        config.server.listen_address,
        ListenAddress::EveryAddress(9187)
    );
    let config = Config::load(cli(&["--web.listen-address", "0.0.0.0:9187"]), env(&[])).unwrap();
    assert_eq!(
        config.server.listen_address.to_string(),
        "0.0.0.0:9187",
        "an address given is kept"
    );
    let refused = Config::load(cli(&["--listen-address", ":http"]), env(&[])).unwrap_err();
    assert!(refused.to_string().contains("listen_address"), "{refused}");
}

#[test]
fn api_key_from_environment_or_trimmed_file() {
    let config = Config::load(cli(&[]), env(&[("QDRANT_API_KEY", "from-env")])).unwrap();
    assert_eq!(
        config.server.target.qdrant.api_key,
        Some(ApiKey::parse("from-env").unwrap())
    );

    let key_file = yaml("  from-file\n\n");
    let config = Config::load(
        cli(&[]),
        env(&[("QDRANT_API_KEY_FILE", key_file.path().to_str().unwrap())]),
    )
    .unwrap();
    assert_eq!(
        config.server.target.qdrant.api_key,
        Some(ApiKey::parse("from-file").unwrap())
    );
}

#[test]
fn the_key_never_shows_in_debug_output() {
    let config = Config::load(cli(&[]), env(&[("QDRANT_API_KEY", "debug-secret")])).unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains("debug-secret"), "{debug}");
    assert!(debug.contains("<redacted>"));
    let settings = Settings::from_env(env(&[("QDRANT_API_KEY", "debug-secret")])).unwrap();
    assert!(!format!("{settings:?}").contains("debug-secret"));
}

/// Each invalid input and the setting its error must name.
#[test]
fn invalid_values_name_their_setting() {
    let unreadable = "/nonexistent/key";
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("QDRANT_URL", "not a url")], vec![], "qdrant_url"),
        (
            vec![("QDRANT_URL", "ftp://qdrant:6333")],
            vec![],
            "qdrant_url",
        ),
        (
            vec![("QDRANT_URL", "http://user:pw@qdrant:6333")],
            vec![],
            "qdrant_url",
        ),
        (
            vec![("QDRANT_EXPORTER_CACHE_TTL_SECONDS", "-1")],
            vec![],
            "cache_ttl_seconds",
        ),
        (
            vec![("QDRANT_EXPORTER_CACHE_TTL_SECONDS", "soon")],
            vec![],
            "QDRANT_EXPORTER_CACHE_TTL_SECONDS",
        ),
        (
            vec![],
            vec!["--request-timeout-seconds", "0"],
            "request_timeout_seconds",
        ),
        (vec![], vec!["--concurrency", "0"], "concurrency"),
        (vec![], vec!["--max-connections", "0"], "max_connections"),
        (
            vec![("QDRANT_EXPORTER_MAX_CONNECTIONS", "25601")],
            vec![],
            "QDRANT_EXPORTER_MAX_CONNECTIONS",
        ),
        (
            vec![],
            vec!["--listen-address", "localhost"],
            "listen_address",
        ),
        (
            vec![("QDRANT_API_KEY_FILE", unreadable)],
            vec![],
            "qdrant_api_key_file",
        ),
        (
            vec![("QDRANT_API_KEY", "a"), ("QDRANT_API_KEY_FILE", unreadable)],
            vec![],
            "qdrant_api_key_file",
        ),
        (
            vec![
                ("QDRANT_URL", "https://qdrant:6333"),
                ("QDRANT_CA_FILE", unreadable),
            ],
            vec![],
            "qdrant_ca_file",
        ),
        (
            vec![("QDRANT_EXPORTER_LOG_LEVEL", "info,[")],
            vec![],
            "log_level",
        ),
        (
            vec![("QDRANT_EXPORTER_LOG_FORMAT", "xml")],
            vec![],
            "log_format",
        ),
        (
            vec![("QDRANT_EXPORTER_COLLECTORS", "shards,tea")],
            vec![],
            "collectors",
        ),
        (
            vec![],
            vec!["--collector-intervals", "snapshots"],
            "collector_intervals",
        ),
        (
            vec![],
            vec!["--collector-intervals", "teapot=5"],
            "collector_intervals",
        ),
        (
            vec![],
            vec!["--collector-intervals", "issues=soon"],
            "collector_intervals",
        ),
        (
            vec![],
            vec!["--collector-intervals", "issues=-5"],
            "collector_intervals",
        ),
    ];
    for (vars, flags, setting) in cases {
        let error = Config::load(cli(&flags), env(&vars))
            .expect_err(setting)
            .to_string();
        assert!(error.contains(setting), "{vars:?} {flags:?}: {error}");
        assert_eq!(error.lines().count(), 1, "{error}");
    }
}

#[test]
fn an_unknown_or_mistyped_yaml_key_names_the_key() {
    let file = yaml("cache_ttl_secnds: 5\n");
    let error =
        Config::load(cli(&["--config", file.path().to_str().unwrap()]), env(&[])).unwrap_err();
    assert!(matches!(error, ConfigError::File { .. }));
    assert!(error.to_string().contains("cache_ttl_secnds"), "{error}");

    let file = yaml("concurrency: many\n");
    let error =
        Config::load(cli(&["--config", file.path().to_str().unwrap()]), env(&[])).unwrap_err();
    assert!(error.to_string().contains("concurrency"), "{error}");
}

#[test]
fn collector_intervals_override_the_registrys_defaults() {
    use qdrant_exporter::Collector;
    let config = Config::load(
        cli(&["--collector-intervals", "snapshots=600, issues=0"]),
        env(&[]),
    )
    .unwrap();
    let intervals = &config.server.target.collectors;
    assert_eq!(
        intervals.interval(Collector::Snapshots),
        std::time::Duration::from_secs(600)
    );
    assert_eq!(
        intervals.interval(Collector::Issues),
        std::time::Duration::ZERO
    );
    // Not named: the registry's default.
    assert_eq!(
        intervals.interval(Collector::Segments),
        Collector::Segments.facts().default_interval
    );
}

#[test]
fn a_private_ca_bundle_is_loaded() {
    // A self-signed CA certificate (a public test fixture, no private key in the repository).
    let bundle = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/test-ca.pem"
    ))
    .unwrap();
    let file = yaml(&bundle);
    let https = [("QDRANT_URL", "https://qdrant:6333")];
    let config = Config::load(
        cli(&["--qdrant-ca-file", file.path().to_str().unwrap()]),
        env(&https),
    )
    .unwrap();
    assert_eq!(config.server.target.qdrant.tls.ca_certificates.len(), 1);

    let not_pem = yaml("hello\n");
    let error = Config::load(
        cli(&["--qdrant-ca-file", not_pem.path().to_str().unwrap()]),
        env(&https),
    )
    .unwrap_err();
    assert!(error.to_string().contains("qdrant_ca_file"), "{error}");
}

#[test]
fn help_lists_every_setting_with_its_environment_variable_and_default() {
    let help = Cli::command_with_sources().render_help().to_string();
    let defaults = serde_json::to_value(Settings::defaults()).unwrap();
    for (setting, default) in defaults.as_object().unwrap() {
        let flag = format!("--{}", setting.replace('_', "-"));
        assert!(help.contains(&flag), "{flag} missing from --help:\n{help}");
        assert!(
            help.contains(&qdrant_exporter::config::env_name(setting)),
            "{setting}"
        );
        if !default.is_null() {
            let shown = default
                .as_str()
                .map_or_else(|| default.to_string(), str::to_owned);
            assert!(
                help.contains(&format!("[default: {shown}]")),
                "{setting} default {shown}:\n{help}"
            );
        }
    }
    assert!(help.contains("QDRANT_API_KEY_FILE") && help.contains("QDRANT_EXPORTER_CONFIG"));
    assert!(
        !help.contains("--qdrant-api-key "),
        "no flag for the key itself"
    );
}

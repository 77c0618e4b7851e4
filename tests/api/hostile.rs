//! What a hostile client, file or upstream could do to the sidecar, one case
//! each: every test here failed before its fix.

use std::io::Write;

use qdrant_exporter::config::{Cli, Config};

fn load_config_file(path: &str) -> String {
    let cli = Cli::try_parse_args(["qdrant-exporter", "--config", path]).expect("valid flags");
    Config::load(cli, Vec::<(String, String)>::new())
        .expect_err(path)
        .to_string()
}

#[test]
fn a_pseudo_file_is_bounded_by_what_is_read_not_by_its_reported_size() {
    // It reports a size of 0, and reading it would fill memory.
    let error = load_config_file("/proc/self/pagemap");
    assert!(error.contains("larger than 1048576 bytes"), "{error}");
}

#[test]
fn deeply_nested_yaml_is_refused_before_it_is_parsed() {
    for nested in ["[".repeat(100_000), "- ".repeat(100_000) + "x"] {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(nested.as_bytes()).unwrap();
        let error = load_config_file(file.path().to_str().unwrap());
        assert!(error.contains("nests deeper than 256 levels"), "{error}");
    }
}

//! The README's tables say what the code does: every exported family and every
//! setting is documented, and nothing documented is missing from the code.

use std::collections::BTreeSet;

use qdrant_exporter::config::{env_name, flag_name, Settings};

use crate::helpers::spawn_app;

const README: &str = include_str!("../../README.md");

/// The cells of the README table whose header row starts with `first_header`.
fn table(first_header: &str) -> Vec<Vec<String>> {
    let mut lines = README
        .lines()
        .skip_while(|l| !l.starts_with(&format!("| {first_header} |")));
    lines.next().expect("table header");
    lines
        .skip(1) // the | --- | row
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            row.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect()
        })
        .collect()
}

#[actix_web::test]
async fn the_metrics_table_matches_the_exported_families() {
    let app = spawn_app().await;
    let exposition = app.scrape().await;
    let exported: BTreeSet<String> = exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect();
    let documented: BTreeSet<String> = table("metric")
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    assert_eq!(exported, documented, "README metrics table vs /metrics");
    for row in table("metric") {
        let kind = exposition
            .lines()
            .find_map(|l| l.strip_prefix(&format!("# TYPE {} ", row[0])))
            .unwrap();
        assert_eq!(row[1], kind, "{}", row[0]);
    }
}

#[test]
fn the_configuration_table_matches_the_settings() {
    let defaults = serde_json::to_value(Settings::defaults()).unwrap();
    let mut settings: Vec<String> = defaults.as_object().unwrap().keys().cloned().collect();
    settings.push("qdrant_api_key".into());
    settings.sort();
    let rows = table("setting (YAML key)");
    let mut documented: Vec<String> = rows.iter().map(|row| row[0].clone()).collect();
    documented.sort();
    assert_eq!(settings, documented);
    for row in &rows {
        let setting = &row[0];
        assert_eq!(row[1], env_name(setting), "{setting}");
        if setting != "qdrant_api_key" {
            assert_eq!(row[2], flag_name(setting), "{setting}");
        }
        match &defaults[setting] {
            serde_json::Value::Null => assert_eq!(row[3], "none", "{setting}"),
            serde_json::Value::String(s) => assert_eq!(&row[3], s, "{setting}"),
            serde_json::Value::Number(n) => assert_eq!(
                row[3].parse::<f64>().unwrap(),
                n.as_f64().unwrap(),
                "{setting}"
            ),
            other => assert_eq!(row[3], other.to_string(), "{setting}"),
        }
    }
}

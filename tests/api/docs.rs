//! The tables of docs/ say what the code does: every exported family and every
//! setting is documented, and nothing documented is missing from the code.

use std::collections::{BTreeMap, BTreeSet};

use qdrant_exporter::config::{env_name, flag_name, Cli, Settings};
use qdrant_exporter::{Collector, Scope};

use crate::helpers::{served_expositions, served_families};
use crate::promql::alerting_rules;

const METRICS: &str = include_str!("../../docs/metrics.md");
const CONFIGURATION: &str = include_str!("../../docs/configuration.md");
const ALERTS: &str = include_str!("../../docs/alerts-and-dashboard.md");

/// The cells of the table in `doc` whose header row starts with `first_header`.
fn table(doc: &str, first_header: &str) -> Vec<Vec<String>> {
    let mut lines = doc
        .lines()
        .skip_while(|l| !l.starts_with(&format!("| {first_header} |")));
    lines.next().expect("table header");
    lines
        .skip(1) // the | --- | row
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            // A cell ends at " |" (an empty cell is "| |"; a `|` inside a cell has no space before it).
            row.trim_start_matches('|')
                .trim_end_matches('|')
                .split(" |")
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect()
        })
        .collect()
}

/// Every family the exporter emits: name → (type, scope).
async fn exported_families() -> BTreeMap<String, (String, String)> {
    served_families()
        .await
        .into_iter()
        // Relayed native families are Qdrant's, documented by Qdrant
        // (its `process_*` are relayed as `qdrant_process_*`; ours are the exporter's).
        .filter(|(name, _)| {
            (name.starts_with("qdrant_") && !name.starts_with("qdrant_process_"))
                || name.starts_with("process_")
        })
        .map(|(name, family)| {
            let scope = family
                .scope
                .unwrap_or_else(|| panic!("{name} states no scope"));
            (name, (family.kind, scope.to_owned()))
        })
        .collect()
}

#[actix_web::test]
async fn the_metrics_table_matches_the_exported_families() {
    let exported = exported_families().await;
    let documented: BTreeMap<String, (String, String)> = table(METRICS, "metric")
        .into_iter()
        .map(|row| (row[0].clone(), (row[1].clone(), row[5].clone())))
        .collect();
    assert_eq!(
        exported, documented,
        "docs/metrics.md table (name, type and scope) vs /metrics"
    );
}

/// The catalog is the table: every family it lists, with its type, labels and scope.
#[test]
fn the_metrics_table_is_the_catalog() {
    let catalog: BTreeMap<String, (String, String, String)> = qdrant_exporter::catalog::entries()
        .into_iter()
        .map(|entry| {
            let spec = entry.spec;
            let kind = format!("{:?}", spec.kind).to_lowercase();
            let scope = format!("{:?}", spec.scope).to_lowercase();
            let labels = spec.labels.join("`, `");
            (spec.name.to_owned(), (kind, labels, scope))
        })
        .collect();
    let documented: BTreeMap<String, (String, String, String)> = table(METRICS, "metric")
        .into_iter()
        .map(|row| {
            let kind = row[1].clone();
            (row[0].clone(), (kind, row[2].clone(), row[5].clone()))
        })
        .collect();
    assert_eq!(catalog, documented, "the catalog vs docs/metrics.md");
}

/// Each sample of every family the fixtures fill carries labels its family
/// declares in the catalog, every label declared is carried (a label may be
/// absent where it does not apply: `vector` of a memory component that is
/// not a vector's), and every family of the catalog is filled by some fixture.
#[actix_web::test]
async fn every_family_is_filled_with_the_labels_it_declares() {
    let catalog: BTreeMap<&str, BTreeSet<&str>> = qdrant_exporter::catalog::entries()
        .into_iter()
        .map(|entry| (entry.spec.name, entry.spec.labels.iter().copied().collect()))
        .collect();
    let mut carried: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let expositions = served_expositions().await;
    for exposition in &expositions {
        for line in exposition.lines().filter(|line| !line.starts_with('#')) {
            let name_end = line.find(['{', ' ']).unwrap();
            let name = &line[..name_end];
            let Some(declared) = catalog.get(name) else {
                continue; // Qdrant's own, relayed
            };
            let labels: BTreeSet<&str> = line[name_end..]
                .strip_prefix('{')
                .and_then(|rest| rest.rsplit_once('}'))
                .map(|(labels, _)| {
                    labels
                        .split("\",")
                        .filter_map(|pair| pair.split_once("=\""))
                })
                .into_iter()
                .flatten()
                .map(|(name, _)| name)
                .collect();
            assert!(labels.is_subset(declared), "{line}: declared {declared:?}");
            carried.entry(name).or_default().extend(labels);
        }
    }
    for (name, declared) in &catalog {
        assert_eq!(
            carried.get(name),
            Some(declared),
            "{name}: carried vs declared"
        );
    }
}

#[test]
fn the_configuration_table_matches_the_settings() {
    let defaults = serde_json::to_value(Settings::defaults()).unwrap();
    let mut settings: Vec<String> = defaults.as_object().unwrap().keys().cloned().collect();
    settings.push("qdrant_api_key".into());
    settings.sort();
    let rows = table(CONFIGURATION, "setting (YAML key)");
    let command = Cli::command_with_sources();
    let mut documented: Vec<String> = rows.iter().map(|row| row[0].clone()).collect();
    documented.sort();
    assert_eq!(settings, documented);
    for row in &rows {
        let setting = &row[0];
        assert_eq!(row[1], env_name(setting), "{setting}");
        if setting != "qdrant_api_key" {
            // The flag, then the exporter-toolkit names that are its aliases.
            let flags: Vec<&str> = row[2].split(", ").map(|f| f.trim_matches('`')).collect();
            let arg = command
                .get_arguments()
                .find(|arg| arg.get_id().as_str() == setting)
                .unwrap_or_else(|| panic!("{setting} has no flag"));
            let mut expected = vec![flag_name(setting)];
            expected.extend(
                arg.get_visible_aliases()
                    .into_iter()
                    .flatten()
                    .map(|alias| format!("--{alias}")),
            );
            assert_eq!(flags, expected, "{setting}");
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

#[test]
fn the_collector_table_matches_the_catalog() {
    let rows = table(METRICS, "collector");
    let documented: Vec<[String; 5]> = rows
        .iter()
        .map(|row| {
            [
                row[0].clone(),
                row[1].replace('`', ""),
                row[2].clone(),
                row[3].clone(),
                row[4].clone(),
            ]
        })
        .collect();
    let registered: Vec<[String; 5]> = Collector::ALL
        .iter()
        .map(|&collector| {
            let facts = collector.facts();
            let on = match (facts.on_by_default, collector) {
                (false, Collector::NativeRelay) => "no (`native_metrics_relay`)".to_owned(),
                (on, _) => if on { "yes" } else { "no" }.to_owned(),
            };
            let interval = match facts.default_interval.as_secs() {
                0 => "every refresh".to_owned(),
                seconds => format!("{seconds} s"),
            };
            let scope = match facts.scope {
                Scope::Node => "node",
                Scope::Cluster => "cluster",
            };
            [
                facts.name.to_owned(),
                facts.reads.to_owned(),
                on,
                interval,
                scope.to_owned(),
            ]
        })
        .collect();
    assert_eq!(documented, registered);
}

#[test]
fn the_alert_table_matches_the_rules() {
    let documented: Vec<(String, String)> = table(ALERTS, "alert")
        .into_iter()
        .map(|row| (row[0].clone(), row[1].clone()))
        .collect();
    let rules: Vec<(String, String)> = alerting_rules()
        .into_iter()
        .map(|(name, (labels, _))| (name, labels["severity"].as_str().unwrap().to_owned()))
        .collect();
    let mut documented_sorted = documented.clone();
    documented_sorted.sort();
    assert_eq!(
        documented_sorted, rules,
        "docs/alerts-and-dashboard.md alert table (name, severity) vs alerts.yaml"
    );
}

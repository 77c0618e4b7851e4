//! The alert rules (`charts/qdrant-exporter/files/alerts.yaml`) judged by the
//! real `promtool test rules` on what sidecars really serve: each sidecar's
//! answers laid out minute by minute as promtool input series, with the
//! labels Prometheus adds to its target, and the check that exactly the
//! expected alerts fire.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::{json, Value};

use crate::promql::{alerting_rules, RULES_PATH};

pub const NAMESPACE: &str = "qdrant";
pub const JOB: &str = "qdrant-exporter";

/// The alert that must fire: its name and the labels its expression gives.
pub struct Expected {
    alert: &'static str,
    labels: BTreeMap<String, String>,
    /// How its annotations show `$value`, where they do.
    shown_value: Option<String>,
}

impl Expected {
    pub fn new(alert: &'static str, labels: &[(&str, &str)]) -> Self {
        let labels = [("namespace", NAMESPACE), ("job", JOB)]
            .into_iter()
            .chain(labels.iter().copied())
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        Self {
            alert,
            labels,
            shown_value: None,
        }
    }

    /// Its annotations show `$value` as `text` (after `humanizePercentage`, say).
    pub fn showing(mut self, text: &str) -> Self {
        self.shown_value = Some(text.to_owned());
        self
    }
}

pub fn instance(node: &str) -> String {
    format!("qdrant-{node}:9999")
}

/// What one sidecar serves over a test, minute by minute.
pub enum Served {
    /// The same answer throughout.
    Steady(String),
    /// Each answer for `minutes_each`, in turn, the last to the end; a series
    /// an answer lacks is absent meanwhile.
    Stages {
        answers: Vec<String>,
        minutes_each: u32,
    },
    /// Two answers `minutes_apart`: from the first, every sample goes on
    /// changing each minute at the pace it changed between them (counters
    /// keep counting, a filling disk keeps filling). A sample the first lacks
    /// starts at 0, as a counter born between them did.
    Trend {
        first: String,
        then: String,
        minutes_apart: f64,
    },
}

/// An answer's samples, each series with the labels Prometheus adds to the
/// sidecar's target.
fn samples(node: &str, exposition: &str) -> BTreeMap<String, f64> {
    let target = format!(
        r#"instance="{}",job="{JOB}",namespace="{NAMESPACE}""#,
        instance(node)
    );
    exposition
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            let value: f64 = value.parse().expect("a number");
            let series = match series.strip_suffix('}') {
                Some(labelled) => format!("{labelled},{target}}}"),
                None => format!("{series}{{{target}}}"),
            };
            (series, value)
        })
        .collect()
}

/// promtool's expanding notation for `value` held over `minutes` samples.
fn held(value: Option<f64>, minutes: u32) -> String {
    match value {
        Some(value) => format!("{value}x{}", minutes - 1),
        None => format!("_x{minutes}"),
    }
}

/// One sidecar's answers as promtool input series up to `minutes`.
fn input_series(node: &str, served: &Served, minutes: u32) -> Vec<Value> {
    let series = |name: String, values: String| json!({"series": name, "values": values});
    match served {
        Served::Steady(answer) => samples(node, answer)
            .into_iter()
            .map(|(name, value)| series(name, format!("{value}+0x{minutes}")))
            .collect(),
        Served::Stages {
            answers,
            minutes_each,
        } => {
            let stages: Vec<_> = answers.iter().map(|a| samples(node, a)).collect();
            let last = stages.len() - 1;
            let lengths: Vec<u32> = (0..stages.len())
                .map(|i| match i == last {
                    true => (minutes + 1)
                        .checked_sub(minutes_each * last as u32)
                        .expect("the last stage starts by the evaluation"),
                    false => *minutes_each,
                })
                .collect();
            let names: std::collections::BTreeSet<&String> =
                stages.iter().flat_map(|stage| stage.keys()).collect();
            names
                .into_iter()
                .map(|name| {
                    let values: Vec<String> = stages
                        .iter()
                        .zip(&lengths)
                        .map(|(stage, length)| held(stage.get(name).copied(), *length))
                        .collect();
                    series(name.clone(), values.join(" "))
                })
                .collect()
        }
        Served::Trend {
            first,
            then,
            minutes_apart,
        } => {
            let first = samples(node, first);
            let then = samples(node, then);
            let names: std::collections::BTreeSet<&String> =
                first.keys().chain(then.keys()).collect();
            names
                .into_iter()
                .map(|name| {
                    let start = first.get(name).copied().unwrap_or(0.0);
                    let end = then.get(name).copied().unwrap_or(start);
                    let step = (end - start) / minutes_apart;
                    let values = match step {
                        step if step.is_finite() && step < 0.0 => {
                            format!("{start}-{}x{minutes}", -step)
                        }
                        step if step.is_finite() => format!("{start}+{step}x{minutes}"),
                        _ => format!("{start}+0x{minutes}"),
                    };
                    series(name.clone(), values)
                })
                .collect()
        }
    }
}

/// The annotations an alert with these labels carries, as Prometheus
/// renders their templates: a label it lacks is empty; `or` gives the first
/// label that is not; `$value`, with or without a function, is `shown_value`.
fn rendered(
    annotations: &Value,
    labels: &BTreeMap<String, String>,
    shown_value: Option<&str>,
) -> Value {
    let mut out = serde_json::Map::new();
    for (name, template) in annotations.as_object().unwrap() {
        let mut rest = template.as_str().unwrap();
        let mut text = String::new();
        while let Some(start) = rest.find("{{ ") {
            let end = start + rest[start..].find(" }}").expect("a closed template");
            let action = &rest[start + 3..end];
            text.push_str(&rest[..start]);
            let label = |operand: &str| {
                let label = operand.strip_prefix("$labels.")?;
                Some(labels.get(label).map_or("", String::as_str))
            };
            let first_set = |operands: &str| {
                let values: Vec<&str> = operands.split(' ').map(label).collect::<Option<_>>()?;
                values
                    .iter()
                    .find(|v| !v.is_empty())
                    .or(values.last())
                    .copied()
            };
            match label(action).or_else(|| action.strip_prefix("or ").and_then(first_set)) {
                Some(value) => text.push_str(value),
                None if action.starts_with("$value") => text.push_str(
                    shown_value.unwrap_or_else(|| panic!("{name} shows $value: say how")),
                ),
                None => panic!("the test renders $labels, or and $value only: {name}: {action}"),
            }
            rest = &rest[end + 3..];
        }
        text.push_str(rest);
        out.insert(name.clone(), Value::String(text));
    }
    Value::Object(out)
}

/// Runs promtool on what each sidecar (by node name) serves: at `minutes`,
/// exactly `expected` fire, every other alert of the rules file is silent.
pub fn assert_alerts(
    test_name: &str,
    served: &BTreeMap<String, Served>,
    minutes: u32,
    expected: &[Expected],
) {
    let rules = alerting_rules();
    for wanted in expected {
        assert!(
            rules.contains_key(wanted.alert),
            "no alert {}",
            wanted.alert
        );
    }
    let series: Vec<Value> = served
        .iter()
        .flat_map(|(node, served)| input_series(node, served, minutes))
        .collect();
    let checks: Vec<Value> = rules
        .iter()
        .map(|(alert, (labels, annotations))| {
            let firing: Vec<Value> = expected
                .iter()
                .filter(|wanted| wanted.alert == alert)
                .map(|wanted| {
                    let mut all = wanted.labels.clone();
                    for (name, value) in labels.as_object().unwrap() {
                        all.insert(name.clone(), value.as_str().unwrap().to_owned());
                    }
                    let annotations = rendered(annotations, &all, wanted.shown_value.as_deref());
                    json!({"exp_labels": all, "exp_annotations": annotations})
                })
                .collect();
            json!({"eval_time": format!("{minutes}m"), "alertname": alert, "exp_alerts": firing})
        })
        .collect();
    let test = json!({
        "rule_files": [RULES_PATH],
        "evaluation_interval": "1m",
        "tests": [{"name": test_name, "interval": "1m", "input_series": series, "alert_rule_test": checks}],
    });
    let directory = tempfile::tempdir().unwrap();
    let test_file = directory.path().join(format!("{test_name}.yaml"));
    std::fs::write(&test_file, test.to_string()).unwrap();
    let output = Command::new("promtool")
        .arg("test")
        .arg("rules")
        .arg(&test_file)
        .output()
        .expect("promtool is on PATH (the test command installs it: scripts/test.sh)");
    assert!(
        output.status.success(),
        "{test_name}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

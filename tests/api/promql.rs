//! The PromQL the project ships: the dashboard's, the alert rules' and the examples of docs/metrics.md.

use std::collections::BTreeMap;

use serde_json::Value;

const DASHBOARD: &str = include_str!("../../charts/qdrant-exporter/files/dashboard.json");
pub const RULES_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/charts/qdrant-exporter/files/alerts.yaml"
);
const RULES: &str = include_str!("../../charts/qdrant-exporter/files/alerts.yaml");
const METRICS_DOC: &str = include_str!("../../docs/metrics.md");

/// Every `expr` of the dashboard, variables as written (`$job`, `$__rate_interval`, ...).
pub fn dashboard_expressions() -> Vec<String> {
    fn walk(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    match (key.as_str(), child) {
                        ("expr", Value::String(expr)) => found.push(expr.clone()),
                        _ => walk(child, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(&serde_json::from_str(DASHBOARD).unwrap(), &mut found);
    found
}

/// The dashboard's variables filled from a query: name → the selector of
/// `label_values(selector, label)`, variables as written.
pub fn dashboard_variable_selectors() -> Vec<(String, String)> {
    let dashboard: Value = serde_json::from_str(DASHBOARD).unwrap();
    dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|variable| {
            let query = variable["query"]["query"].as_str()?;
            let inner = query.strip_prefix("label_values(")?.strip_suffix(')')?;
            let (selector, _label) = inner.rsplit_once(", ")?;
            Some((variable["name"].as_str()?.to_owned(), selector.to_owned()))
        })
        .collect()
}

/// One field of every rule, alerting and recording, where the rule has it.
fn rule_field(field: &str) -> Vec<String> {
    let rules: serde_yaml::Value = serde_yaml::from_str(RULES).unwrap();
    rules["groups"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|group| group["rules"].as_sequence().unwrap().iter())
        .filter_map(|rule| rule[field].as_str().map(str::to_owned))
        .collect()
}

pub fn rule_expressions() -> Vec<String> {
    rule_field("expr")
}

/// The names of the alerting rules.
pub fn alert_names() -> Vec<String> {
    rule_field("alert")
}

/// Every alerting rule: name → (its labels, its annotations).
pub fn alerting_rules() -> BTreeMap<String, (Value, Value)> {
    let rules: Value = serde_yaml::from_str(RULES).unwrap();
    rules["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|group| group["rules"].as_array().unwrap())
        .filter_map(|rule| {
            let name = rule["alert"].as_str()?;
            Some((
                name.to_owned(),
                (rule["labels"].clone(), rule["annotations"].clone()),
            ))
        })
        .collect()
}

/// The group of the rules that read Qdrant's own request metrics.
pub const REQUESTS_GROUP: &str = "qdrant-requests";

/// The group of the rules that read what is exported from detail=shard up.
pub const SHARD_DETAIL_GROUP: &str = "qdrant-shard-detail";

/// The names of `group`'s rules: what they record, or their alert names.
pub fn rule_names_of_group(group: &str) -> Vec<String> {
    let rules: serde_yaml::Value = serde_yaml::from_str(RULES).unwrap();
    rules["groups"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|g| g["name"].as_str() == Some(group))
        .flat_map(|g| g["rules"].as_sequence().unwrap().iter())
        .filter_map(|rule| rule["record"].as_str().or(rule["alert"].as_str()))
        .map(str::to_owned)
        .collect()
}

/// The names the recording rules record (`qdrant:…`).
pub fn recorded_names() -> Vec<String> {
    rule_field("record")
}

/// The lines of the ```promql blocks of docs/metrics.md, comments left out.
pub fn documented_expressions() -> Vec<String> {
    METRICS_DOC
        .split("```promql\n")
        .skip(1)
        .flat_map(|block| block.split("```").next().unwrap().lines())
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

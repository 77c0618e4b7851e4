//! The native relay: Qdrant's own `GET /metrics`, fetched with the key the
//! exporter holds, checked and appended to the exporter's output. A cluster
//! protected by an API key can then be scraped through the exporter alone.
//!
//! What is relayed can never make the answer invalid: a body that does not
//! parse as the text format, or names one family twice, is dropped whole.
//! Families keep Qdrant's default names whatever its `metrics_prefix`, and
//! none may enter the exporter's `qdrant_` namespace except Qdrant's
//! `process_*`, relayed as `qdrant_process_*`: on a target, `process_*`
//! conventionally describes the target's own process, here the exporter.

use std::collections::{BTreeSet, HashSet};

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::Context;
use super::failure::Failure;
use super::output::Output;

/// The exporter's namespace; a relayed family there could collide with its own.
const RESERVED_PREFIX: &str = "qdrant_";
/// Every Qdrant since 1.0 exports this family; its name reveals `metrics_prefix`.
const ALWAYS_EXPORTED: &str = "app_info";

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    relay(ctx).boxed_local()
}

async fn relay(ctx: &Context<'_>) -> Output {
    let text = match ctx.client.native_metrics().await {
        Ok(text) => text,
        Err(error) => {
            let message = format!("cannot read Qdrant's /metrics: {error}");
            return Output::failed(Failure::from_error(&error, message));
        }
    };
    match relayable(&text) {
        Ok(relayed) => Output {
            relayed: relayed.text,
            warning: (!relayed.dropped.is_empty()).then(|| Failure {
                kind: format!("collisions {:?}", relayed.dropped),
                message: format!(
                    "native families dropped, their names are in the exporter's namespace: {:?}",
                    relayed.dropped
                ),
                hint: "the exporter's own families of these names are served instead",
            }),
            ..Output::default()
        },
        Err(problem) => Output::failed(Failure {
            kind: "invalid exposition".into(),
            message: format!("Qdrant's /metrics was not relayed: {problem}"),
            hint:
                "does QDRANT_URL point at Qdrant? The exporter's own figures are served without it",
        }),
    }
}

/// The exposition to append, and the families dropped for their names.
#[derive(Debug)]
pub struct Relayed {
    pub text: String,
    pub dropped: BTreeSet<String>,
}

/// The family a line belongs to, as read and as relayed.
struct Current {
    name: String,
    relayed_as: Option<String>,
    kind: Option<String>,
    has_samples: bool,
}

/// Checks Qdrant's exposition line by line and renames its families (see the
/// module's documentation); `Err` says the first reason it cannot be relayed.
pub fn relayable(text: &str) -> Result<Relayed, String> {
    let prefix = metrics_prefix(text);
    let mut out = String::with_capacity(text.len() + 1);
    let mut dropped = BTreeSet::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut current: Option<Current> = None;
    for (index, line) in text.lines().enumerate() {
        let at = || format!("line {}", index + 1);
        if line.trim().is_empty() {
            continue;
        }
        let (name, metadata) = match line.strip_prefix('#') {
            Some(comment) => {
                let mut words = comment.trim_start().splitn(3, ' ');
                let keyword = words.next().unwrap_or_default();
                if keyword != "HELP" && keyword != "TYPE" {
                    continue;
                }
                let name = words.next().unwrap_or_default();
                let rest = words.next().unwrap_or_default();
                (name, Some((keyword, rest)))
            }
            None => (
                check_sample(line).map_err(|e| format!("{}: {e}", at()))?,
                None,
            ),
        };
        if !is_metric_name(name) {
            return Err(format!("{}: invalid family name {name:?}", at()));
        }
        let family = match (&current, metadata) {
            (Some(family), Some(_)) if family.name == name => family.name.clone(),
            (Some(family), None) if belongs_to(name, family) => family.name.clone(),
            _ => {
                // A new family (a sample without metadata is one of its own):
                // its name may not have been seen before.
                let relayed_as = relayed_name(name, prefix.as_deref());
                let key = relayed_as.clone().unwrap_or_else(|| name.to_owned());
                if !seen.insert(key.clone()) {
                    return Err(format!("{}: family {key} appears twice", at()));
                }
                if relayed_as.is_none() {
                    dropped.insert(key);
                }
                current = Some(Current {
                    name: name.to_owned(),
                    relayed_as,
                    kind: None,
                    has_samples: false,
                });
                name.to_owned()
            }
        };
        let family_state = current.as_mut().expect("set above");
        match metadata {
            Some(("TYPE", kind)) => {
                if family_state.kind.is_some() || family_state.has_samples {
                    return Err(format!("{}: second or late TYPE for {family}", at()));
                }
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind.trim()) {
                    return Err(format!("{}: unknown type {kind:?}", at()));
                }
                family_state.kind = Some(kind.trim().to_owned());
            }
            Some(_) => {}
            None => family_state.has_samples = true,
        }
        if let Some(relayed_as) = &family_state.relayed_as {
            out.push_str(&renamed(line, name, &family, relayed_as));
            out.push('\n');
        }
    }
    Ok(Relayed { text: out, dropped })
}

/// Qdrant's `metrics_prefix`, read off the name it gave its `app_info` family.
fn metrics_prefix(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split(' ').next())
        .find_map(|name| name.strip_suffix(ALWAYS_EXPORTED))
        .filter(|prefix| !prefix.is_empty())
        .map(str::to_owned)
}

/// The name a native family is relayed under; `None` drops it.
fn relayed_name(name: &str, prefix: Option<&str>) -> Option<String> {
    let name = prefix
        .and_then(|prefix| name.strip_prefix(prefix))
        .unwrap_or(name);
    if let Some(rest) = name.strip_prefix("process_") {
        return Some(format!("{RESERVED_PREFIX}process_{rest}"));
    }
    (!name.starts_with(RESERVED_PREFIX)).then(|| name.to_owned())
}

/// A sample of a histogram or summary carries a suffix on its family's name.
fn belongs_to(sample: &str, family: &Current) -> bool {
    if sample == family.name {
        return true;
    }
    let suffixes: &[&str] = match family.kind.as_deref() {
        Some("histogram") => &["_bucket", "_sum", "_count"],
        Some("summary") => &["_sum", "_count"],
        _ => &[],
    };
    sample
        .strip_prefix(family.name.as_str())
        .is_some_and(|suffix| suffixes.contains(&suffix))
}

/// The line with the family's part of its metric name replaced.
fn renamed(line: &str, name: &str, family: &str, relayed_as: &str) -> String {
    if relayed_as == family {
        return line.to_owned();
    }
    let suffix = &name[family.len()..];
    match line.strip_prefix('#') {
        Some(_) => {
            let keyword_end = line.find(name).expect("the name is in the line");
            format!(
                "{}{relayed_as}{}",
                &line[..keyword_end],
                &line[keyword_end + name.len()..]
            )
        }
        None => format!("{relayed_as}{suffix}{}", &line[name.len()..]),
    }
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The metric name of a sample line `name{label="value",...} value [timestamp]`,
/// once the whole line is known to be well formed.
fn check_sample(line: &str) -> Result<&str, String> {
    let name_end = line.find(['{', ' ', '\t']).unwrap_or(line.len());
    let name = &line[..name_end];
    if !is_metric_name(name) {
        return Err(format!("invalid metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    if let Some(labels) = rest.strip_prefix('{') {
        rest = check_labels(labels)?;
    }
    let mut fields = rest.split_ascii_whitespace();
    let value = fields.next().ok_or("sample without a value")?;
    if value.parse::<f64>().is_err() {
        return Err(format!("invalid sample value {value:?}"));
    }
    if let Some(timestamp) = fields.next() {
        timestamp
            .parse::<i64>()
            .map_err(|_| format!("invalid timestamp {timestamp:?}"))?;
    }
    match fields.next() {
        Some(extra) => Err(format!("unexpected {extra:?} after the sample")),
        None => Ok(name),
    }
}

/// Checks `label="value",...}` and returns what follows the closing brace.
fn check_labels(mut rest: &str) -> Result<&str, String> {
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            return Ok(after);
        }
        let name_end = rest.find('=').ok_or("label without a value")?;
        let label = rest[..name_end].trim();
        let valid = label
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!("invalid label name {label:?}"));
        }
        rest = rest[name_end + 1..]
            .trim_start()
            .strip_prefix('"')
            .ok_or("label value not quoted")?;
        let mut escaped = false;
        let close = rest
            .char_indices()
            .find(|&(_, c)| {
                let closes = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                closes
            })
            .map(|(i, _)| i)
            .ok_or("unterminated label value")?;
        rest = rest[close + 1..].trim_start();
        rest = match rest.strip_prefix(',') {
            Some(after) => after,
            None if rest.starts_with('}') => rest,
            None => return Err("labels not separated by commas".into()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::relayable;

    #[test]
    fn families_in_the_exporters_namespace_are_dropped_whole() {
        let native = "# HELP app_info info\n# TYPE app_info gauge\napp_info{version=\"1\"} 1\n\
                      # HELP qdrant_up clash\n# TYPE qdrant_up gauge\nqdrant_up 1\n\
                      # TYPE collection_points gauge\ncollection_points{id=\"a b\"} 3";
        let relayed = relayable(native).unwrap();
        assert_eq!(
            relayed.text,
            "# HELP app_info info\n# TYPE app_info gauge\napp_info{version=\"1\"} 1\n\
             # TYPE collection_points gauge\ncollection_points{id=\"a b\"} 3\n"
        );
        assert_eq!(
            relayed.dropped.into_iter().collect::<Vec<_>>(),
            ["qdrant_up"]
        );
    }

    #[test]
    fn a_metrics_prefix_is_taken_off_and_process_families_renamed() {
        let native = "# TYPE qdrant_app_info gauge\nqdrant_app_info{name=\"qdrant\"} 1\n\
                      # HELP qdrant_rest_responses_duration_seconds latency\n\
                      # TYPE qdrant_rest_responses_duration_seconds histogram\n\
                      qdrant_rest_responses_duration_seconds_bucket{le=\"+Inf\"} 4\n\
                      qdrant_rest_responses_duration_seconds_sum 0.5\n\
                      qdrant_rest_responses_duration_seconds_count 4\n\
                      # TYPE qdrant_process_open_fds gauge\nqdrant_process_open_fds 42\n";
        let relayed = relayable(native).unwrap();
        assert_eq!(
            relayed.text,
            "# TYPE app_info gauge\napp_info{name=\"qdrant\"} 1\n\
             # HELP rest_responses_duration_seconds latency\n\
             # TYPE rest_responses_duration_seconds histogram\n\
             rest_responses_duration_seconds_bucket{le=\"+Inf\"} 4\n\
             rest_responses_duration_seconds_sum 0.5\n\
             rest_responses_duration_seconds_count 4\n\
             # TYPE qdrant_process_open_fds gauge\nqdrant_process_open_fds 42\n"
        );
        assert!(relayed.dropped.is_empty());
    }

    #[test]
    fn a_body_that_would_break_the_answer_is_refused() {
        for (body, problem) in [
            (
                "# TYPE a gauge\na 1\n# TYPE a gauge\na 2\n",
                "line 3: second or late TYPE for a",
            ),
            (
                "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n",
                "line 5: family a appears twice",
            ),
            (
                "<html>502 Bad Gateway</html>",
                "line 1: invalid metric name \"<html>502\"",
            ),
            ("a{x=\"1} 2\n", "line 1: unterminated label value"),
            ("a{x=1} 2\n", "line 1: label value not quoted"),
            ("a 1 2 3\n", "line 1: unexpected \"3\" after the sample"),
            ("a one\n", "line 1: invalid sample value \"one\""),
            (
                "# TYPE a gauge\n# TYPE a gauges\n",
                "line 2: second or late TYPE for a",
            ),
            ("# TYPE a gauges\n", "line 1: unknown type \"gauges\""),
        ] {
            assert_eq!(relayable(body).unwrap_err(), problem, "{body}");
        }
    }

    #[test]
    fn escaped_quotes_and_special_values_are_valid() {
        let body = "a{x=\"say \\\"hi\\\"\",y=\"\\\\\",} NaN\nb -Inf 1700000000000\n";
        assert_eq!(relayable(body).unwrap().text, body);
    }
}

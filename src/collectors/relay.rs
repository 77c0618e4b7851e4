//! The native relay: Qdrant's own `GET /metrics`, fetched with the key the
//! exporter holds, checked and appended to the exporter's output. A cluster
//! protected by an API key can then be scraped through the exporter alone.
//!
//! What is relayed can never make the answer invalid, for promtool or for a
//! Prometheus that refuses the whole scrape over one bad line: every line is
//! read into its parts and written again by the exporter's own writer (the
//! escapes, spacing, values and timestamps the text format allows, and no
//! other), and each line that cannot be read or would break the answer (a
//! value out of range, a label named twice or `__`-reserved, an unknown
//! escape in a label value, whitespace the format does not know, a second
//! HELP or TYPE, a family met again) is left out and counted; a body of which
//! no line can be relayed (an HTML error page) fails the collector.
//! Families keep Qdrant's default names whatever its `metrics_prefix`, and
//! none may enter the exporter's `qdrant_` namespace except Qdrant's
//! `process_*`, relayed as `qdrant_process_*`: on a target, `process_*`
//! conventionally describes the target's own process, here the exporter.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write;

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::Context;
use super::failure::Failure;
use super::output::Output;
use crate::metrics::{escape_help, escape_label_value, write_value, FamilySpec, GaugeFamily};

/// The exporter's namespace; a relayed family there could collide with its own.
const RESERVED_PREFIX: &str = "qdrant_";
/// Every Qdrant since 1.0 exports this family; its name reveals `metrics_prefix`.
const ALWAYS_EXPORTED: &str = "app_info";

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    relay(ctx).boxed_local()
}

static DROPPED_LINES: FamilySpec = FamilySpec::gauge(
    "qdrant_exporter_relay_dropped_lines",
    &[],
    "Lines of Qdrant's last /metrics left out of the relay because they would make the answer \
     invalid: a bad name, label, escape or value, a second HELP or TYPE, a family met again.",
);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] = &[&DROPPED_LINES];

/// Qdrant serves its metrics per collection from 1.17.1 on.
const PER_COLLECTION_SINCE: (u64, u64, u64) = (1, 17, 1);

async fn relay(ctx: &Context<'_>) -> Output {
    let per_collection = ctx.relay_per_collection && ctx.may_have(PER_COLLECTION_SINCE);
    let older = (ctx.relay_per_collection && !per_collection).then(|| Failure {
        kind: "per-collection metrics unsupported".into(),
        message:
            "Qdrant serves its metrics per collection from 1.17.1 on: relaying them as a whole"
                .into(),
        hint: "upgrade Qdrant, or turn native_metrics_per_collection off",
    });
    let text = match ctx.client.native_metrics(per_collection).await {
        Ok(text) => text,
        Err(error) => {
            let message = format!("cannot read Qdrant's /metrics: {error}");
            return Output::failed(Failure::from_error(&error, message));
        }
    };
    let relayed = relayable(&text);
    let dropped_lines = GaugeFamily::single(&DROPPED_LINES, relayed.invalid_lines as f64);
    if relayed.text.is_empty() {
        if let Some(problem) = relayed.first_problem {
            return Output {
                families: vec![dropped_lines],
                ..Output::failed(Failure {
                    kind: "invalid exposition".into(),
                    message: format!("Qdrant's /metrics was not relayed: {problem}"),
                    hint: "does QDRANT_URL point at Qdrant? The exporter's own figures are served \
                           without it",
                })
            };
        }
    }
    let mut problems = Vec::new();
    if !relayed.dropped.is_empty() {
        problems.push(format!(
            "native families dropped, their names are in the exporter's namespace: {:?}",
            relayed.dropped
        ));
    }
    if let Some(problem) = &relayed.first_problem {
        problems.push(format!(
            "{} native lines dropped, they would make the answer invalid (first: {problem})",
            relayed.invalid_lines
        ));
    }
    Output {
        families: vec![dropped_lines],
        relayed: relayed.text,
        warning: (!problems.is_empty())
            .then(|| Failure {
                kind: format!("relay {:?} {}", relayed.dropped, relayed.invalid_lines > 0),
                message: problems.join("; "),
                hint:
                    "the rest of Qdrant's exposition is relayed, and the exporter's own families \
                       of colliding names are served",
            })
            .or(older),
        ..Output::default()
    }
}

/// The exposition to append, and what was left out of it.
#[derive(Debug)]
pub struct Relayed {
    pub text: String,
    /// Families dropped whole for their names (in the exporter's namespace).
    pub dropped: BTreeSet<String>,
    /// Lines dropped because they would make the answer invalid.
    pub invalid_lines: usize,
    /// Why the first of them was.
    pub first_problem: Option<String>,
}

/// The family a line belongs to, as read and as relayed.
struct Current {
    name: String,
    /// `None`: the family's lines are not relayed.
    relayed_as: Option<String>,
    kind: Option<String>,
    has_help: bool,
    has_samples: bool,
    /// Met before, under another family in between: its lines are invalid.
    repeated: bool,
}

/// Checks Qdrant's exposition line by line, renames its families and writes
/// each line again (see the module's documentation).
pub fn relayable(text: &str) -> Relayed {
    let prefix = metrics_prefix(text);
    let mut relayed = Relayed {
        text: String::with_capacity(text.len() + 1),
        dropped: BTreeSet::new(),
        invalid_lines: 0,
        first_problem: None,
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut current: Option<Current> = None;
    for (index, line) in text.split('\n').enumerate() {
        let checked = parse_line(line).and_then(|parsed| {
            let (name, metadata) = match &parsed {
                Line::Blank | Line::Comment => return Ok(None),
                Line::Help { name, .. } => (*name, Some(Metadata::Help)),
                Line::Type { name, kind } => (*name, Some(Metadata::Type(kind))),
                Line::Sample(sample) => (sample.name, None),
            };
            let names = family_of(
                name,
                metadata,
                &mut current,
                &mut seen,
                &mut relayed.dropped,
                prefix.as_deref(),
            )?;
            Ok(names.map(|names| (parsed, names)))
        });
        match checked {
            Ok(Some((parsed, (family, relayed_as)))) => {
                write_line(&parsed, &family, &relayed_as, &mut relayed.text)
            }
            Ok(None) => {}
            Err(problem) => {
                relayed.invalid_lines += 1;
                relayed
                    .first_problem
                    .get_or_insert_with(|| format!("line {}: {problem}", index + 1));
            }
        }
    }
    relayed
}

/// One line of the text format, read into its parts.
enum Line<'l> {
    Blank,
    /// A comment other than HELP and TYPE (`# EOF`, `# UNIT`): left out.
    Comment,
    /// The help text unescaped: `\\` and `\n`; any other backslash is itself.
    Help {
        name: &'l str,
        text: String,
    },
    Type {
        name: &'l str,
        kind: &'l str,
    },
    Sample(Sample<'l>),
}

struct Sample<'l> {
    name: &'l str,
    /// Label values unescaped.
    labels: Vec<(&'l str, String)>,
    value: f64,
    timestamp: Option<i64>,
}

/// The text format's only whitespace between tokens.
const BLANKS: [char; 2] = [' ', '\t'];

fn parse_line(line: &str) -> Result<Line<'_>, String> {
    // A CR before the newline, and blanks at the end, mean nothing.
    let line = line.trim_end_matches('\r').trim_end_matches(BLANKS);
    if line.is_empty() {
        return Ok(Line::Blank);
    }
    let Some(comment) = line.strip_prefix('#') else {
        return parse_sample(line).map(Line::Sample);
    };
    let comment = comment.trim_start_matches(BLANKS);
    let (keyword, rest) = comment.split_once(BLANKS).unwrap_or((comment, ""));
    if keyword != "HELP" && keyword != "TYPE" {
        return Ok(Line::Comment);
    }
    let rest = rest.trim_start_matches(BLANKS);
    let (name, rest) = rest.split_once(BLANKS).unwrap_or((rest, ""));
    if !is_metric_name(name) {
        return Err(format!("invalid family name {name:?}"));
    }
    let rest = rest.trim_start_matches(BLANKS);
    if keyword == "HELP" {
        return Ok(Line::Help {
            name,
            text: unescape_help(rest),
        });
    }
    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&rest) {
        return Err(format!("unknown type {rest:?}"));
    }
    Ok(Line::Type { name, kind: rest })
}

fn unescape_help(text: &str) -> String {
    let mut unescaped = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some('\\')) => {
                chars.next();
                unescaped.push('\\');
            }
            ('\\', Some('n')) => {
                chars.next();
                unescaped.push('\n');
            }
            (c, _) => unescaped.push(c),
        }
    }
    unescaped
}

/// `name{label="value",...} value [timestamp]`.
fn parse_sample(line: &str) -> Result<Sample<'_>, String> {
    let name_end = line.find(['{', ' ', '\t']).unwrap_or(line.len());
    let name = &line[..name_end];
    if !is_metric_name(name) {
        return Err(format!("invalid metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = parse_labels(after, &mut labels)?;
    }
    let mut fields = rest.split(BLANKS).filter(|field| !field.is_empty());
    let value = fields.next().ok_or("sample without a value")?;
    let timestamp = fields
        .next()
        .map(|timestamp| {
            timestamp
                .parse::<i64>()
                .map_err(|_| format!("invalid timestamp {timestamp:?}"))
        })
        .transpose()?;
    if let Some(extra) = fields.next() {
        return Err(format!("unexpected {extra:?} after the sample"));
    }
    Ok(Sample {
        name,
        labels,
        value: parse_value(value)?,
        timestamp,
    })
}

/// A number, `NaN` or an infinity in any spelling Rust reads; a finite
/// number too large for a float is refused, as Prometheus refuses it.
fn parse_value(value: &str) -> Result<f64, String> {
    let infinity = ["inf", "infinity"].contains(
        &value
            .trim_start_matches(['+', '-'])
            .to_ascii_lowercase()
            .as_str(),
    );
    match value.parse::<f64>() {
        Ok(parsed) if !parsed.is_infinite() || infinity => Ok(parsed),
        _ => Err(format!("invalid sample value {value:?}")),
    }
}

/// Reads `label="value",...}` into `labels` and returns what follows the
/// closing brace.
fn parse_labels<'l>(
    mut rest: &'l str,
    labels: &mut Vec<(&'l str, String)>,
) -> Result<&'l str, String> {
    loop {
        rest = rest.trim_start_matches(BLANKS);
        if let Some(after) = rest.strip_prefix('}') {
            return Ok(after);
        }
        let name_end = rest.find('=').ok_or("label without a value")?;
        let label = rest[..name_end].trim_end_matches(BLANKS);
        let valid = label
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!("invalid label name {label:?}"));
        }
        // `__name__` and the like are Prometheus' own.
        if label.starts_with("__") {
            return Err(format!("reserved label name {label:?}"));
        }
        if labels.iter().any(|(name, _)| *name == label) {
            return Err(format!("label {label:?} given twice"));
        }
        rest = rest[name_end + 1..]
            .trim_start_matches(BLANKS)
            .strip_prefix('"')
            .ok_or("label value not quoted")?;
        let (value, after) = label_value(rest)?;
        labels.push((label, value));
        rest = after.trim_start_matches(BLANKS);
        rest = match rest.strip_prefix(',') {
            Some(after) => after,
            None if rest.starts_with('}') => rest,
            None => return Err("labels not separated by commas".into()),
        };
    }
}

/// A label value unescaped, and what follows its closing quote; the text
/// format knows three escapes, `\\`, `\"` and `\n`.
fn label_value(quoted: &str) -> Result<(String, &str), String> {
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((value, &quoted[at + 1..])),
            '\\' => match chars.next() {
                Some((_, '\\')) => value.push('\\'),
                Some((_, '"')) => value.push('"'),
                Some((_, 'n')) => value.push('\n'),
                Some((_, other)) => {
                    return Err(format!("unknown escape \\{other} in a label value"))
                }
                None => break,
            },
            c => value.push(c),
        }
    }
    Err("unterminated label value".into())
}

/// What a HELP or TYPE line says of its family.
#[derive(Clone, Copy)]
enum Metadata<'l> {
    Help,
    Type(&'l str),
}

/// The family a line belongs to, as read and as relayed: `Ok(Some(..))` to
/// relay the line, `Ok(None)` to leave it out quietly (a dropped family),
/// `Err` when it would make the answer invalid.
fn family_of(
    name: &str,
    metadata: Option<Metadata<'_>>,
    current: &mut Option<Current>,
    seen: &mut HashSet<String>,
    dropped: &mut BTreeSet<String>,
    prefix: Option<&str>,
) -> Result<Option<(String, String)>, String> {
    let continues = match (current.as_ref(), metadata) {
        (Some(family), Some(_)) => family.name == name,
        (Some(family), None) => belongs_to(name, family),
        (None, _) => false,
    };
    if !continues {
        // A new family (a sample without metadata is one of its own): met
        // before, it would be a family named twice.
        let relayed_as = relayed_name(name, prefix);
        let key = relayed_as.clone().unwrap_or_else(|| name.to_owned());
        let repeated = !seen.insert(key.clone());
        if relayed_as.is_none() && !repeated {
            dropped.insert(key);
        }
        *current = Some(Current {
            name: name.to_owned(),
            relayed_as,
            kind: None,
            has_help: false,
            has_samples: false,
            repeated,
        });
    }
    let family = current.as_mut().expect("set above");
    if family.repeated {
        return Err(format!("family {name} met again after another"));
    }
    match metadata {
        Some(Metadata::Type(kind)) => {
            if family.kind.is_some() || family.has_samples {
                return Err(format!("second or late TYPE for {name}"));
            }
            family.kind = Some(kind.to_owned());
        }
        Some(Metadata::Help) => {
            if family.has_help || family.has_samples {
                return Err(format!("second or late HELP for {name}"));
            }
            family.has_help = true;
        }
        None => family.has_samples = true,
    }
    Ok(family
        .relayed_as
        .clone()
        .map(|relayed_as| (family.name.clone(), relayed_as)))
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

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Writes a relayed line as the exporter writes its own: single spaces, the
/// family's relayed name, values and label values in their canonical form.
fn write_line(line: &Line<'_>, family: &str, relayed_as: &str, out: &mut String) {
    match line {
        Line::Blank | Line::Comment => return,
        Line::Help { text, .. } => {
            let _ = write!(out, "# HELP {relayed_as} ");
            escape_help(text, out);
        }
        Line::Type { kind, .. } => {
            let _ = write!(out, "# TYPE {relayed_as} {kind}");
        }
        Line::Sample(sample) => {
            out.push_str(relayed_as);
            out.push_str(&sample.name[family.len()..]);
            if !sample.labels.is_empty() {
                out.push('{');
                for (index, (label, value)) in sample.labels.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{label}=\"");
                    escape_label_value(value, out);
                    out.push('"');
                }
                out.push('}');
            }
            out.push(' ');
            write_value(sample.value, out);
            if let Some(timestamp) = sample.timestamp {
                let _ = write!(out, " {timestamp}");
            }
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::relayable;

    #[test]
    fn families_in_the_exporters_namespace_are_dropped_whole() {
        let native = "# HELP app_info info\n# TYPE app_info gauge\napp_info{version=\"1\"} 1\n\
                      # HELP qdrant_up clash\n# TYPE qdrant_up gauge\nqdrant_up 1\n\
                      # TYPE collection_points gauge\ncollection_points{id=\"a b\"} 3";
        let relayed = relayable(native);
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
        let relayed = relayable(native);
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
    fn each_line_that_would_break_the_answer_is_dropped_and_counted() {
        for (body, relayed, problem) in [
            (
                "# TYPE a gauge\na 1\n# TYPE a gauge\na 2\n",
                "# TYPE a gauge\na 1\na 2\n",
                "line 3: second or late TYPE for a",
            ),
            (
                "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n",
                "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n",
                "line 5: family a met again after another",
            ),
            (
                "# HELP a one\n# HELP a two\na 1\n",
                "# HELP a one\na 1\n",
                "line 2: second or late HELP for a",
            ),
            (
                "a{x=\"1} 2\nb 1\n",
                "b 1\n",
                "line 1: unterminated label value",
            ),
            ("a{x=1} 2\nb 1\n", "b 1\n", "line 1: label value not quoted"),
            (
                "a 1 2 3\nb 1\n",
                "b 1\n",
                "line 1: unexpected \"3\" after the sample",
            ),
            (
                "a one\nb 1\n",
                "b 1\n",
                "line 1: invalid sample value \"one\"",
            ),
            (
                "a 1e999\nb 1\n",
                "b 1\n",
                "line 1: invalid sample value \"1e999\"",
            ),
            (
                "a{x=\"1\",x=\"2\"} 1\nb 1\n",
                "b 1\n",
                "line 1: label \"x\" given twice",
            ),
            (
                "a{__name__=\"b\"} 1\nb 1\n",
                "b 1\n",
                "line 1: reserved label name \"__name__\"",
            ),
            (
                "a{x=\"\\q\"} 1\nb 1\n",
                "b 1\n",
                "line 1: unknown escape \\q in a label value",
            ),
            (
                "# TYPE a gauges\na 1\n",
                "a 1\n",
                "line 1: unknown type \"gauges\"",
            ),
        ] {
            let got = relayable(body);
            assert_eq!(got.text, relayed, "{body}");
            assert_eq!(got.first_problem.as_deref(), Some(problem), "{body}");
            assert_eq!(got.invalid_lines, 1, "{body}");
        }
    }

    #[test]
    fn a_body_of_which_nothing_is_valid_relays_nothing() {
        let got = relayable("<html>502 Bad Gateway</html>");
        assert_eq!(got.text, "");
        assert_eq!(
            got.first_problem.as_deref(),
            Some("line 1: invalid metric name \"<html>502\"")
        );
    }

    #[test]
    fn trailing_spaces_are_trimmed() {
        assert_eq!(relayable("# HELP a b \na 1 \n").text, "# HELP a b\na 1\n");
    }

    #[test]
    fn escaped_quotes_and_special_values_are_valid() {
        let body = "a{x=\"say \\\"hi\\\"\",y=\"\\\\\",} NaN\nb -Inf 1700000000000\n";
        let got = relayable(body);
        // Written again: the trailing comma, which the format allows, goes.
        assert_eq!(got.text, body.replace(",}", "}"));
        assert_eq!(got.invalid_lines, 0);
        assert_eq!(relayable("a +Inf\nb inf\nc -infinity\n").invalid_lines, 0);
    }
}

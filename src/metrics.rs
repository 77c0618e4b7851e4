//! Metric families built from plain values and written as Prometheus text
//! (format 0.0.4) as they are filled. Families are built fresh on every
//! refresh, so a series whose source disappeared (a deleted collection) is
//! simply not built again.
//!
//! Each sample is kept as its text line (about 100 bytes) rather than as a
//! structure of label strings (several times that): at 1,000 collections a
//! refresh holds some 80,000 series.

use std::fmt::Write;
use std::sync::Arc;

/// Content type of the text exposition format.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The label whose value says which collection a sample is about.
const COLLECTION_LABEL: &str = "collection";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
}

/// Whose figure a family is. In a cluster every node's exporter reports its
/// node's figures; a figure of the whole cluster is reported by one exporter
/// only, so that summing a family over the exporters counts everything once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// From this node's own answer, about this node (or this exporter).
    Node,
    /// About the whole cluster: reported by the cluster's reporter alone.
    Cluster,
}

impl Scope {
    /// Ends every help text.
    fn sentence(self) -> &'static str {
        match self {
            Scope::Node => "Node scope: each node's own figure, reported by its own exporter.",
            Scope::Cluster => {
                "Cluster scope: the cluster's figure, reported once per cluster, by its reporter."
            }
        }
    }
}

/// What a family is: its name, type, help and scope. Each family is declared
/// once, as a constant beside the code that fills it, whatever its sources.
#[derive(Debug, PartialEq, Eq)]
pub struct FamilySpec {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub scope: Scope,
}

impl FamilySpec {
    /// A gauge of this node.
    pub const fn gauge(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            kind: Kind::Gauge,
            help,
            scope: Scope::Node,
        }
    }

    /// A gauge of the cluster.
    pub const fn cluster_gauge(name: &'static str, help: &'static str) -> Self {
        Self {
            scope: Scope::Cluster,
            ..Self::gauge(name, help)
        }
    }

    /// A counter of this node.
    pub const fn counter(name: &'static str, help: &'static str) -> Self {
        Self {
            kind: Kind::Counter,
            ..Self::gauge(name, help)
        }
    }
}

/// One family: its header and its sample lines. Cloning shares the lines
/// (a collector's figures are kept between its runs and served again).
#[derive(Debug, Clone)]
pub struct Family {
    spec: &'static FamilySpec,
    body: Arc<Body>,
}

#[derive(Debug, Clone, Default)]
struct Body {
    /// The sample lines, each ending in a newline.
    samples: String,
    /// Per sample: where its line ends in `samples`, and its `collection` label as written.
    lines: Vec<Line>,
}

#[derive(Debug, Clone)]
struct Line {
    end: usize,
    collection: Option<(usize, usize)>,
}

impl Family {
    pub fn new(spec: &'static FamilySpec) -> Self {
        Self {
            spec,
            body: Arc::default(),
        }
    }

    /// A family of one unlabelled sample where the value is known, else empty
    /// (and so not written).
    pub fn of_value(spec: &'static FamilySpec, value: Option<f64>) -> Self {
        let mut family = Self::new(spec);
        if let Some(value) = value {
            family.push(&[], value);
        }
        family
    }

    pub fn is_empty(&self) -> bool {
        self.body.lines.is_empty()
    }

    pub fn scope(&self) -> Scope {
        self.spec.scope
    }

    pub fn push(&mut self, labels: &[(&str, &str)], value: f64) {
        let body = Arc::make_mut(&mut self.body);
        let mut collection = None;
        body.samples.push_str(self.spec.name);
        if !labels.is_empty() {
            body.samples.push('{');
            for (index, (name, value)) in labels.iter().enumerate() {
                if index > 0 {
                    body.samples.push(',');
                }
                body.samples.push_str(name);
                body.samples.push_str("=\"");
                let start = body.samples.len();
                escape_label_value(value, &mut body.samples);
                if *name == COLLECTION_LABEL {
                    collection = Some((start, body.samples.len()));
                }
                body.samples.push('"');
            }
            body.samples.push('}');
        }
        body.samples.push(' ');
        write_value(value, &mut body.samples);
        body.samples.push('\n');
        body.lines.push(Line {
            end: body.samples.len(),
            collection,
        });
    }

    /// Gives back what the lines' growth left unused: at 5,000 collections a
    /// family holds megabytes, and up to half of it would be slack.
    fn shrink(&mut self) {
        let body = Arc::make_mut(&mut self.body);
        body.samples.shrink_to_fit();
        body.lines.shrink_to_fit();
    }

    /// Keeps the samples whose `collection` label (as written, escaped) passes
    /// `keep`; samples without one stay. When all stay, the lines are still
    /// shared, not copied.
    pub fn retain_collections(&mut self, keep: impl Fn(&str) -> bool) {
        let old = &self.body;
        let kept = |line: &Line| {
            line.collection
                .is_none_or(|(from, to)| keep(&old.samples[from..to]))
        };
        if old.lines.iter().all(kept) {
            return;
        }
        let mut samples = String::with_capacity(old.samples.len());
        let mut lines = Vec::with_capacity(old.lines.len());
        let mut start = 0;
        for line in &old.lines {
            if kept(line) {
                let offset = samples.len() as isize - start as isize;
                samples.push_str(&old.samples[start..line.end]);
                lines.push(Line {
                    end: samples.len(),
                    collection: line.collection.map(|(from, to)| {
                        (
                            (from as isize + offset) as usize,
                            (to as isize + offset) as usize,
                        )
                    }),
                });
            }
            start = line.end;
        }
        self.body = Arc::new(Body { samples, lines });
    }

    /// At least the bytes [`Family::write_to`] writes (the help text escaped
    /// at most doubles).
    fn text_len_bound(&self) -> usize {
        let spec = self.spec;
        self.body.samples.len()
            + 2 * spec.name.len()
            + 2 * spec.help.len()
            + spec.scope.sentence().len()
            + 32
    }

    /// Appends the family as exposition text; a family without samples writes nothing.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        if self.is_empty() {
            return;
        }
        let spec = self.spec;
        let scope = spec.scope.sentence();
        let mut header =
            String::with_capacity(spec.name.len() * 2 + spec.help.len() + scope.len() + 32);
        header.push_str("# HELP ");
        header.push_str(spec.name);
        header.push(' ');
        escape_help(spec.help, &mut header);
        header.push(' ');
        header.push_str(scope);
        header.push_str("\n# TYPE ");
        header.push_str(spec.name);
        header.push_str(match spec.kind {
            Kind::Gauge => " gauge\n",
            Kind::Counter => " counter\n",
        });
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(self.body.samples.as_bytes());
    }
}

/// A gauge family being filled with samples.
pub struct GaugeFamily {
    family: Family,
}

impl GaugeFamily {
    pub fn new(spec: &'static FamilySpec) -> Self {
        debug_assert_eq!(spec.kind, Kind::Gauge, "{}", spec.name);
        Self {
            family: Family::new(spec),
        }
    }

    pub fn push(&mut self, labels: &[(&str, &str)], value: f64) {
        self.family.push(labels, value);
    }

    /// Adds a sample when the value is known; Qdrant omits some fields in some versions.
    pub fn push_some(&mut self, labels: &[(&str, &str)], value: Option<u64>) {
        if let Some(value) = value {
            self.push(labels, value as f64);
        }
    }

    /// A family with a single unlabelled sample.
    pub fn single(spec: &'static FamilySpec, value: f64) -> Family {
        let mut family = Self::new(spec);
        family.push(&[], value);
        family.family
    }

    pub fn finish(mut self) -> Family {
        self.family.shrink();
        self.family
    }
}

pub fn bool_value(value: bool) -> f64 {
    if value {
        1.0
    } else {
        0.0
    }
}

/// Writes families as exposition text; families without samples are left out.
/// The room is made once (doubling a buffer of megabytes as it fills would
/// hold the old and the new copy at once), and each family is freed once
/// written: the families and the text never both weigh their whole.
pub fn render(families: Vec<Family>, out: &mut Vec<u8>) {
    out.reserve(families.iter().map(Family::text_len_bound).sum());
    for family in families {
        family.write_to(out);
    }
}

/// A label value as the text format writes it: `\`, `"` and newline escaped.
pub fn escape_label_value(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Help text as the text format writes it: `\` and newline escaped.
fn escape_help(help: &str, out: &mut String) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn write_value(value: f64, out: &mut String) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        // Display writes the shortest text that reads back as the same f64.
        let _ = write!(out, "{value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(families: &[Family]) -> String {
        let mut out = Vec::new();
        render(families.to_vec(), &mut out);
        String::from_utf8(out).unwrap()
    }

    static X: FamilySpec = FamilySpec::gauge("qdrant_x", "X.");

    #[test]
    fn families_are_written_in_the_text_format() {
        static ESCAPED: FamilySpec = FamilySpec::gauge("qdrant_x", "Help with \\ and\nnewline.");
        static EMPTY: FamilySpec = FamilySpec::gauge("qdrant_empty", "Nothing.");
        let mut family = GaugeFamily::new(&ESCAPED);
        family.push(&[("collection", "a \"b\"\\\nc"), ("vector", "ü")], 2000.0);
        family.push(&[], 0.25);
        family.push(&[], f64::INFINITY);
        family.push(&[], f64::NAN);
        let empty = GaugeFamily::new(&EMPTY).finish();
        assert_eq!(
            text(&[family.finish(), empty]),
            "# HELP qdrant_x Help with \\\\ and\\nnewline. Node scope: each node's own figure, reported by its own exporter.\n# TYPE qdrant_x gauge\n\
             qdrant_x{collection=\"a \\\"b\\\"\\\\\\nc\",vector=\"ü\"} 2000\n\
             qdrant_x 0.25\nqdrant_x +Inf\nqdrant_x NaN\n"
        );
    }

    #[test]
    fn samples_of_collections_no_longer_exported_are_left_out() {
        let mut family = GaugeFamily::new(&X);
        family.push(&[("collection", "gone")], 1.0);
        family.push(&[("collection", "kept"), ("shard_id", "0")], 2.0);
        family.push(&[], 3.0);
        family.push(&[("collection", "gone \"quoted\"")], 4.0);
        family.push(&[("collection", "kept")], 5.0);
        let mut family = family.finish();
        family.retain_collections(|collection| collection == "kept");
        assert_eq!(
            text(&[family.clone()]),
            "# HELP qdrant_x X. Node scope: each node's own figure, reported by its own exporter.\n# TYPE qdrant_x gauge\n\
             qdrant_x{collection=\"kept\",shard_id=\"0\"} 2\nqdrant_x 3\nqdrant_x{collection=\"kept\"} 5\n"
        );
        // The positions stay right for a second filtering.
        family.retain_collections(|_| false);
        assert_eq!(
            text(&[family]),
            "# HELP qdrant_x X. Node scope: each node's own figure, reported by its own exporter.\n# TYPE qdrant_x gauge\nqdrant_x 3\n"
        );
    }
}

//! Metric families built from plain values and written as Prometheus text
//! (format 0.0.4) as they are filled. Families are built fresh on every
//! refresh, so a series whose source disappeared (a deleted collection) is
//! simply not built again.
//!
//! Each sample is kept as its text line (about 100 bytes) rather than as a
//! structure of label strings (several times that): at 1,000 collections a
//! refresh holds some 80,000 series.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::Arc;

use bytes::Bytes;
use regex::Regex;

/// Content type of the text exposition format.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The label names many families share: declared in the catalog and pushed
/// by the collectors under one spelling.
pub mod label {
    /// Which collection a sample is about.
    pub const COLLECTION: &str = "collection";
    pub const SHARD_ID: &str = "shard_id";
    /// Which peer (raft peer id) holds the replica.
    pub const PEER_ID: &str = "peer_id";
    /// Which named vector; the unnamed one is `default`.
    pub const VECTOR: &str = "vector";
}

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

/// How much of each collection the exporter tells Prometheus: series cost
/// memory there, or money.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Detail {
    /// For the many-tenant user: a few figures per collection, summed over
    /// its shards and replicas, none of them labelled by shard or peer.
    Collection,
    /// What every alert, recording rule and dashboard panel reads, and no
    /// more: per shard what tells replicas apart, per collection the rest.
    #[default]
    Shard,
    /// Every figure with every label it has.
    Full,
}

impl Detail {
    pub const ALL: [Detail; 3] = [Detail::Collection, Detail::Shard, Detail::Full];

    pub const fn name(self) -> &'static str {
        match self {
            Detail::Collection => "collection",
            Detail::Shard => "shard",
            Detail::Full => "full",
        }
    }

    pub fn from_name(name: &str) -> Option<Detail> {
        Detail::ALL.into_iter().find(|detail| detail.name() == name)
    }
}

/// How samples are combined into one.
#[derive(Clone, Copy)]
enum Combined {
    Summed,
    Lowest,
    Highest,
}

/// The `collection` label of the figures of the collections beyond
/// `max_distinct_collections`, folded together: no collection has it, since
/// Qdrant refuses `/` in collection names, in every version.
pub const OTHER_COLLECTIONS: &str = "/other";

/// How a family's figures of several collections fold into one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Across {
    /// Counts, sizes, points: their sum.
    Summed,
    /// Health flags (1 when fine): the lowest.
    Lowest,
    /// Timestamps of the latest, the fullest ratio: the highest.
    Highest,
    /// Configuration and such, which do not add up: left out.
    LeftOut,
}

/// The labels that tell a shard's replicas apart.
pub const SHARD_AND_PEER: &[&str] = &[label::SHARD_ID, label::PEER_ID];

/// What a family keeps below full detail, where it is exported; at the
/// collection level, its per-collection samples lose `shard_id` and
/// `peer_id` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduced {
    /// Every label.
    Kept,
    /// Its samples summed over these labels (a node's own work, which needs
    /// no shard to be counted once).
    Summed(&'static [&'static str]),
    /// The lowest of its samples over these labels (1 when all are fine).
    Lowest(&'static [&'static str]),
    /// The samples that are not 0: a count of what is in progress, absent
    /// while nothing is.
    NonZero,
}

impl Reduced {
    /// Says in the help text what the family is below full detail.
    fn describe(self, out: &mut String) {
        let (what, labels) = match self {
            Reduced::Kept => return,
            Reduced::NonZero => {
                return out.push_str("Below detail=full, absent while 0. ");
            }
            Reduced::Summed(labels) => ("summed over", labels),
            Reduced::Lowest(labels) => ("the lowest over", labels),
        };
        let _ = write!(out, "Below detail=full, {what} {}. ", labels.join(" and "));
    }
}

/// What a family is: its name, type, help and scope. Each family is declared
/// once, as a constant beside the code that fills it, whatever its sources.
#[derive(Debug, PartialEq, Eq)]
pub struct FamilySpec {
    pub name: &'static str,
    /// The names of its labels, as every sample is pushed with them (the
    /// cluster view adds `peer_id` to the node's figures that lack it).
    pub labels: &'static [&'static str],
    pub kind: Kind,
    pub help: &'static str,
    pub scope: Scope,
    pub below_full: Reduced,
    /// The lowest detail it is exported at.
    pub lowest_detail: Detail,
    /// How its figures of the collections beyond `max_distinct_collections` fold together.
    pub across_collections: Across,
}

impl FamilySpec {
    /// A gauge of this node.
    pub const fn gauge(
        name: &'static str,
        labels: &'static [&'static str],
        help: &'static str,
    ) -> Self {
        Self {
            name,
            labels,
            kind: Kind::Gauge,
            help,
            scope: Scope::Node,
            below_full: Reduced::Kept,
            lowest_detail: Detail::Collection,
            across_collections: Across::Summed,
        }
    }

    /// A gauge of the cluster.
    pub const fn cluster_gauge(
        name: &'static str,
        labels: &'static [&'static str],
        help: &'static str,
    ) -> Self {
        Self {
            scope: Scope::Cluster,
            ..Self::gauge(name, labels, help)
        }
    }

    /// A counter of this node.
    pub const fn counter(
        name: &'static str,
        labels: &'static [&'static str],
        help: &'static str,
    ) -> Self {
        Self {
            kind: Kind::Counter,
            ..Self::gauge(name, labels, help)
        }
    }

    /// The help, then what the family is below full detail, then its scope.
    pub fn described(&self) -> String {
        let mut described = format!("{} ", self.help);
        match self.lowest_detail {
            Detail::Collection => {}
            lowest => {
                let _ = write!(described, "Exported from detail={} up. ", lowest.name());
            }
        }
        self.below_full.describe(&mut described);
        described.push_str(self.scope.sentence());
        described
    }

    /// What the family keeps below full detail.
    pub const fn below_full(self, reduced: Reduced) -> Self {
        Self {
            below_full: reduced,
            ..self
        }
    }

    /// How its figures of several collections fold into one.
    pub const fn across_collections(self, across: Across) -> Self {
        Self {
            across_collections: across,
            ..self
        }
    }

    /// Exported from this detail up only.
    pub const fn exported_from(self, lowest_detail: Detail) -> Self {
        Self {
            lowest_detail,
            ..self
        }
    }
}

/// Which families are served: the metric allow and deny lists, each
/// pattern matching whole family names.
#[derive(Debug, Clone, Default)]
pub struct FamilyFilter {
    pub allow: Option<Regex>,
    pub deny: Option<Regex>,
}

impl FamilyFilter {
    pub fn serves(&self, name: &str) -> bool {
        self.allow.as_ref().is_none_or(|allow| allow.is_match(name))
            && !self.deny.as_ref().is_some_and(|deny| deny.is_match(name))
    }
}

/// One family: its header and its sample lines. Cloning shares the lines
/// (a collector's figures are kept between its runs and served again, and
/// the exposition holds them without a copy: see [`render`]).
#[derive(Debug, Clone)]
pub struct Family {
    spec: &'static FamilySpec,
    /// The sample lines, each ending in a newline.
    samples: Arc<String>,
}

impl Family {
    pub fn new(spec: &'static FamilySpec) -> Self {
        Self {
            spec,
            samples: Arc::default(),
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
        self.samples.is_empty()
    }

    pub fn name(&self) -> &'static str {
        self.spec.name
    }

    pub fn scope(&self) -> Scope {
        self.spec.scope
    }

    pub fn push(&mut self, labels: &[(&str, &str)], value: f64) {
        let samples = Arc::make_mut(&mut self.samples);
        samples.push_str(self.spec.name);
        if !labels.is_empty() {
            samples.push('{');
            for (index, (name, value)) in labels.iter().enumerate() {
                if index > 0 {
                    samples.push(',');
                }
                samples.push_str(name);
                samples.push_str("=\"");
                escape_label_value(value, samples);
                samples.push('"');
            }
            samples.push('}');
        }
        samples.push(' ');
        write_value(value, samples);
        samples.push('\n');
    }

    /// Gives back what the lines' growth left unused: at 5,000 collections a
    /// family holds megabytes, and up to half of it would be slack.
    fn shrink(&mut self) {
        Arc::make_mut(&mut self.samples).shrink_to_fit();
    }

    /// Keeps the samples whose `collection` label (as written, escaped) passes
    /// `keep`; samples without one stay. When all stay, the lines are still
    /// shared, not copied.
    pub fn retain_collections(&mut self, keep: impl Fn(&str) -> bool) {
        let kept = |line: &str| collection_of(line).is_none_or(&keep);
        if self.samples.split_inclusive('\n').all(kept) {
            return;
        }
        let samples: String = self
            .samples
            .split_inclusive('\n')
            .filter(|line| kept(line))
            .collect();
        self.samples = Arc::new(samples);
    }

    /// The family as `detail` exports it: none below its lowest detail; its
    /// samples summed, or the lowest kept, over the labels it drops there, in
    /// the order they first came; or only those not 0.
    pub fn reduce(&mut self, detail: Detail) {
        if detail < self.spec.lowest_detail {
            self.samples = Arc::default();
            return;
        }
        if detail == Detail::Full {
            return;
        }
        let (dropped, combined): (&[&str], Combined) = match self.spec.below_full {
            Reduced::Kept | Reduced::NonZero => (&[], Combined::Summed),
            Reduced::Summed(labels) => (labels, Combined::Summed),
            Reduced::Lowest(labels) => (labels, Combined::Lowest),
        };
        let non_zero = self.spec.below_full == Reduced::NonZero;
        let per_collection = detail == Detail::Collection;
        if dropped.is_empty() && !per_collection && !non_zero {
            return;
        }
        self.aggregate(combined, |line| {
            if non_zero && value_of(line) == 0.0 {
                return None;
            }
            let also_shard = per_collection && collection_of(line).is_some();
            Some(rewritten(line, |name, value| {
                let gone =
                    dropped.contains(&name) || (also_shard && SHARD_AND_PEER.contains(&name));
                (!gone).then_some(value)
            }))
        });
    }

    /// The samples of collections not in `distinct` (as written, escaped)
    /// folded into one series per family and label set, under
    /// `collection="/other"`, without shard or peer labels; left out where the
    /// family's figures do not add up over collections.
    pub fn fold_collections(&mut self, distinct: &HashSet<String>) {
        let folded = |line: &str| collection_of(line).is_some_and(|c| !distinct.contains(c));
        if !self.samples.split_inclusive('\n').any(folded) {
            return;
        }
        let combined = match self.spec.across_collections {
            Across::Summed | Across::LeftOut => Combined::Summed,
            Across::Lowest => Combined::Lowest,
            Across::Highest => Combined::Highest,
        };
        let left_out = self.spec.across_collections == Across::LeftOut;
        self.aggregate(combined, |line| {
            if !folded(line) {
                return Some(rewritten(line, |_, value| Some(value)));
            }
            if left_out {
                return None;
            }
            Some(rewritten(line, |name, value| match name {
                label::COLLECTION => Some(OTHER_COLLECTIONS),
                name if SHARD_AND_PEER.contains(&name) => None,
                _ => Some(value),
            }))
        });
    }

    /// The samples, each under the name and labels `key` gives it (none:
    /// left out), those under the same combined, in the order they first came.
    fn aggregate(&mut self, combined: Combined, key: impl Fn(&str) -> Option<String>) {
        let mut series: Vec<(String, f64)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for line in self.samples.split_inclusive('\n') {
            let Some(key) = key(line) else { continue };
            let value = value_of(line);
            match index.get(&key) {
                Some(&at) => {
                    let total = &mut series[at].1;
                    *total = match combined {
                        Combined::Summed => *total + value,
                        Combined::Lowest => total.min(value),
                        Combined::Highest => total.max(value),
                    };
                }
                None => {
                    index.insert(key.clone(), series.len());
                    series.push((key, value));
                }
            }
        }
        let mut samples = String::with_capacity(series.iter().map(|(s, _)| s.len() + 8).sum());
        for (name_and_labels, value) in series {
            samples.push_str(&name_and_labels);
            samples.push(' ');
            write_value(value, &mut samples);
            samples.push('\n');
        }
        self.samples = Arc::new(samples);
    }

    /// The `# HELP` and `# TYPE` lines.
    fn header(&self) -> String {
        let spec = self.spec;
        let mut header = String::with_capacity(spec.name.len() * 2 + spec.help.len() + 256);
        header.push_str("# HELP ");
        header.push_str(spec.name);
        header.push(' ');
        escape_help(&spec.described(), &mut header);
        header.push_str("\n# TYPE ");
        header.push_str(spec.name);
        header.push_str(match spec.kind {
            Kind::Gauge => " gauge\n",
            Kind::Counter => " counter\n",
        });
        header
    }
}

/// The labels of a sample line, each as `name` and its value as written
/// (escaped); none for a line without labels.
fn labels_of(line: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = line.find('{').map(|open| &line[open + 1..]);
    std::iter::from_fn(move || {
        let (name, after) = rest?.split_once("=\"")?;
        let mut escaped = false;
        let end = after.find(|c| {
            let closes = c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            closes
        })?;
        rest = after[end + 1..].strip_prefix(',');
        Some((name, &after[..end]))
    })
}

/// The value of a sample line's `collection` label, as written (escaped).
fn collection_of(line: &str) -> Option<&str> {
    labels_of(line).find_map(|(name, value)| (name == label::COLLECTION).then_some(value))
}

/// A sample line's value (our own lines: always a number).
fn value_of(line: &str) -> f64 {
    let value = line.trim_end().rsplit(' ').next().unwrap_or_default();
    match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        value => value.parse().unwrap_or(f64::NAN),
    }
}

/// A sample line's name and labels, each label's value (as written) as
/// `value_of` gives it: none leaves the label out.
fn rewritten<'a>(line: &'a str, value_of: impl Fn(&str, &'a str) -> Option<&'a str>) -> String {
    let name_end = line.find(['{', ' ']).unwrap_or(line.len());
    let mut kept = String::with_capacity(line.len());
    kept.push_str(&line[..name_end]);
    let mut labels =
        labels_of(line).filter_map(|(name, value)| Some((name, value_of(name, value)?)));
    if let Some((name, value)) = labels.next() {
        let _ = write!(kept, "{{{name}=\"{value}\"");
        for (name, value) in labels {
            let _ = write!(kept, ",{name}=\"{value}\"");
        }
        kept.push('}');
    }
    kept
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

/// Exposition text, as pieces that each end a line: the lines of the large
/// families are the families' own (shared, not copied), the rest is copied
/// together. At 5,000 collections the text is some 23 MB: a copy of it would
/// be held beside the families it is made of, and beside the kept families
/// for as long as it is served.
#[derive(Debug, Clone)]
pub struct Text {
    /// Shared, so that a response holds the pieces for one reference count.
    pieces: Arc<[Bytes]>,
    len: usize,
}

/// Sample lines shorter than this are copied into the piece being filled
/// instead of being a piece of their own: a piece costs a write when served.
const SHARED_FROM: usize = 16 * 1024;

impl Text {
    pub fn pieces(&self) -> &Arc<[Bytes]> {
        &self.pieces
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The pieces one after the other: the whole text.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        self.pieces
            .iter()
            .try_for_each(|piece| out.write_all(piece))
    }

    /// Each piece becomes what `change` makes of it, where it makes something.
    pub fn map_pieces(&mut self, mut change: impl FnMut(&[u8]) -> Option<Vec<u8>>) {
        self.pieces = self
            .pieces
            .iter()
            .map(|piece| match change(piece) {
                Some(changed) => {
                    self.len = self.len - piece.len() + changed.len();
                    Bytes::from(changed)
                }
                None => piece.clone(),
            })
            .collect();
    }
}

/// Builds a [`Text`]: small parts are gathered into one piece, large ones
/// are kept as they are.
#[derive(Default)]
struct TextBuilder {
    pieces: Vec<Bytes>,
    len: usize,
    filling: Vec<u8>,
}

impl TextBuilder {
    fn copy(&mut self, part: &[u8]) {
        self.filling.extend_from_slice(part);
    }

    fn share(&mut self, part: Bytes) {
        if part.len() < SHARED_FROM {
            return self.copy(&part);
        }
        self.flush();
        self.push(part);
    }

    fn flush(&mut self) {
        if !self.filling.is_empty() {
            let filled = std::mem::take(&mut self.filling);
            self.push(Bytes::from(filled));
        }
    }

    fn push(&mut self, piece: Bytes) {
        self.len += piece.len();
        self.pieces.push(piece);
    }

    fn finish(mut self) -> Text {
        self.flush();
        Text {
            pieces: self.pieces.into(),
            len: self.len,
        }
    }
}

/// Makes an `Arc<String>` the owner of a [`Bytes`].
struct SharedSamples(Arc<String>);

impl AsRef<[u8]> for SharedSamples {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// The families as exposition text, then `after` (Qdrant's own, relayed);
/// families without samples are left out.
pub fn render(families: Vec<Family>, after: String) -> Text {
    let mut text = TextBuilder::default();
    for family in families.into_iter().filter(|family| !family.is_empty()) {
        text.copy(family.header().as_bytes());
        text.share(Bytes::from_owner(SharedSamples(family.samples)));
    }
    text.share(Bytes::from(after));
    text.finish()
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
pub fn escape_help(help: &str, out: &mut String) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A sample's value as the text format writes it: `NaN`, `+Inf`, `-Inf`, or
/// the shortest decimal that reads back as the same number.
pub fn write_value(value: f64, out: &mut String) {
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
        render(families.to_vec(), String::new())
            .write_to(&mut out)
            .expect("writing into a Vec cannot fail");
        String::from_utf8(out).expect("the exposition is UTF-8")
    }

    static X: FamilySpec = FamilySpec::gauge("qdrant_x", &[], "X.");

    #[test]
    fn families_are_written_in_the_text_format() {
        static ESCAPED: FamilySpec =
            FamilySpec::gauge("qdrant_x", &[], "Help with \\ and\nnewline.");
        static EMPTY: FamilySpec = FamilySpec::gauge("qdrant_empty", &[], "Nothing.");
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
        family.retain_collections(|_| false);
        assert_eq!(
            text(&[family]),
            "# HELP qdrant_x X. Node scope: each node's own figure, reported by its own exporter.\n# TYPE qdrant_x gauge\nqdrant_x 3\n"
        );
    }

    #[test]
    fn below_full_detail_a_family_is_summed_lowest_non_zero_or_gone() {
        static SUMMED: FamilySpec =
            FamilySpec::gauge("qdrant_x", &[], "X.").below_full(Reduced::Summed(SHARD_AND_PEER));
        static LOWEST: FamilySpec =
            FamilySpec::gauge("qdrant_x", &[], "X.").below_full(Reduced::Lowest(SHARD_AND_PEER));
        static NON_ZERO: FamilySpec =
            FamilySpec::gauge("qdrant_x", &[], "X.").below_full(Reduced::NonZero);
        static FULL_ONLY: FamilySpec =
            FamilySpec::gauge("qdrant_x", &[], "X.").exported_from(Detail::Full);
        static FROM_SHARD: FamilySpec =
            FamilySpec::gauge("qdrant_x", &[], "X.").exported_from(Detail::Shard);
        // The collection "a" has a name that reads like another label.
        let filled = |spec: &'static FamilySpec, detail: Detail| {
            let mut family = GaugeFamily::new(spec);
            for (collection, shard, value) in [
                ("a \"q\",shard_id=\"9\"", "0", 2.0),
                ("b", "0", 0.0),
                ("a \"q\",shard_id=\"9\"", "1", 1.0),
                ("b", "1", 5.0),
            ] {
                family.push(
                    &[
                        ("collection", collection),
                        ("shard_id", shard),
                        ("peer_id", "7"),
                        ("vector", "v"),
                    ],
                    value,
                );
            }
            let mut family = family.finish();
            family.reduce(detail);
            family.samples.to_string()
        };
        let a = r#"qdrant_x{collection="a \"q\",shard_id=\"9\"",vector="v"}"#;
        assert_eq!(
            filled(&SUMMED, Detail::Shard),
            format!("{a} 3\nqdrant_x{{collection=\"b\",vector=\"v\"}} 5\n")
        );
        assert_eq!(
            filled(&LOWEST, Detail::Shard),
            format!("{a} 1\nqdrant_x{{collection=\"b\",vector=\"v\"}} 0\n")
        );
        assert_eq!(filled(&NON_ZERO, Detail::Shard).lines().count(), 3);
        assert!(!filled(&NON_ZERO, Detail::Shard).contains("} 0\n"));
        assert_eq!(filled(&FULL_ONLY, Detail::Shard), "");
        // At the collection level, the shard and peer labels go too.
        assert_eq!(
            filled(&LOWEST, Detail::Collection),
            format!("{a} 1\nqdrant_x{{collection=\"b\",vector=\"v\"}} 0\n")
        );
        assert_eq!(
            filled(&NON_ZERO, Detail::Collection),
            format!("{a} 3\nqdrant_x{{collection=\"b\",vector=\"v\"}} 5\n")
        );
        assert_eq!(filled(&FROM_SHARD, Detail::Collection), "");
        assert_eq!(filled(&FROM_SHARD, Detail::Shard).lines().count(), 4);
        for spec in [&SUMMED, &LOWEST, &NON_ZERO, &FULL_ONLY, &FROM_SHARD] {
            assert_eq!(filled(spec, Detail::Full).lines().count(), 4);
        }
    }

    #[test]
    fn the_help_says_what_a_family_is_below_full_detail() {
        static SUMMED: FamilySpec =
            FamilySpec::gauge("qdrant_x", &[], "X.").below_full(Reduced::Summed(SHARD_AND_PEER));
        assert!(Family::new(&SUMMED).header().starts_with(
            "# HELP qdrant_x X. Below detail=full, summed over shard_id and peer_id. Node scope:"
        ));
    }

    #[test]
    fn the_collection_label_is_found_after_any_escaped_value() {
        for (line, collection) in [
            ("x{collection=\"a\"} 1\n", Some("a")),
            ("x{vector=\"v\\\\\",collection=\"c\"} 1\n", Some("c")),
            ("x{vector=\"say \\\",collection=\\\"no\\\"\"} 1\n", None),
            (
                "x{collection=\"q\\\"uoted\",shard_id=\"0\"} 1\n",
                Some("q\\\"uoted"),
            ),
            ("x 1\n", None),
        ] {
            assert_eq!(collection_of(line), collection, "{line}");
        }
    }

    #[test]
    fn large_families_are_pieces_of_the_text_without_a_copy() {
        static SMALL: FamilySpec = FamilySpec::gauge("qdrant_small", &[], "Small.");
        let mut large = GaugeFamily::new(&X);
        for index in 0..2000 {
            large.push(&[("collection", &format!("c{index}"))], 1.0);
        }
        let large = large.finish();
        let small = GaugeFamily::single(&SMALL, 1.0);
        let shared = large.samples.as_ptr();
        let rendered = render(
            vec![small.clone(), large.clone(), small],
            "relayed 1\n".into(),
        );
        // The small parts around the large family are gathered: header, lines, header.
        assert_eq!(rendered.pieces().len(), 3);
        assert_eq!(rendered.pieces()[1].as_ptr(), shared);
        let mut whole = Vec::new();
        rendered.write_to(&mut whole).unwrap();
        assert_eq!(whole.len(), rendered.len());
        let whole = String::from_utf8(whole).unwrap();
        assert!(whole.starts_with("# HELP qdrant_small "));
        assert!(whole.contains("qdrant_x{collection=\"c1999\"} 1\n# HELP qdrant_small "));
        assert!(whole.ends_with("qdrant_small 1\nrelayed 1\n"));
    }
}

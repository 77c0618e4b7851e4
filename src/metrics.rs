//! Building metric families from plain values, and rendering them as
//! Prometheus text. Families are built fresh on every refresh, so a series
//! whose source disappeared (a deleted collection) is simply not built again.

use prometheus::proto::{Gauge, LabelPair, Metric, MetricFamily, MetricType};
use prometheus::{Encoder, TextEncoder};

/// Content type of the text exposition format.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A gauge family being filled with samples.
pub struct GaugeFamily {
    family: MetricFamily,
}

impl GaugeFamily {
    pub fn new(name: &str, help: &str) -> Self {
        let mut family = MetricFamily::default();
        family.set_name(name.to_owned());
        family.set_help(help.to_owned());
        family.set_field_type(MetricType::GAUGE);
        Self { family }
    }

    pub fn push(&mut self, labels: &[(&str, &str)], value: f64) {
        let mut gauge = Gauge::default();
        gauge.set_value(value);
        let mut metric = Metric::from_gauge(gauge);
        metric.set_label(
            labels
                .iter()
                .map(|(name, value)| {
                    let mut pair = LabelPair::default();
                    pair.set_name((*name).to_owned());
                    pair.set_value((*value).to_owned());
                    pair
                })
                .collect(),
        );
        self.family.mut_metric().push(metric);
    }

    /// Adds a sample when the value is known; Qdrant omits some fields in some versions.
    pub fn push_some(&mut self, labels: &[(&str, &str)], value: Option<u64>) {
        if let Some(value) = value {
            self.push(labels, value as f64);
        }
    }

    /// A family with a single unlabelled sample.
    pub fn single(name: &str, help: &str, value: f64) -> MetricFamily {
        let mut family = Self::new(name, help);
        family.push(&[], value);
        family.family
    }

    pub fn finish(self) -> MetricFamily {
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

/// Renders families as text. Families without samples are left out (the text
/// format has no use for them, and the encoder rejects them).
pub fn render(families: &[MetricFamily], out: &mut Vec<u8>) {
    let encoder = TextEncoder::new();
    for family in families
        .iter()
        .filter(|family| !family.get_metric().is_empty())
    {
        encoder
            .encode(std::slice::from_ref(family), out)
            .expect("a named, non-empty family always encodes into a Vec");
    }
}

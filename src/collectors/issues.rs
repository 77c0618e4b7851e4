//! The `issues` collector: `GET /issues`, Qdrant's own report of performance
//! problems and configuration advice, counted by issue type. Issue ids carry
//! collection and field names after the type (`UNINDEXED_FIELD/orders/price`):
//! only the type becomes a label, so the series stay few.

use std::collections::BTreeMap;

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::context::Context;
use super::failure::Failure;
use super::output::Output;
use crate::metrics::{FamilySpec, GaugeFamily};
use crate::qdrant::QdrantError;

static ISSUES: FamilySpec =
    FamilySpec::gauge("qdrant_issues", &[], "Issues Qdrant reports (GET /issues).");
static BY_TYPE: FamilySpec = FamilySpec::gauge(
    "qdrant_issues_by_type",
    &["issue_type"],
    "Issues Qdrant reports (GET /issues), by issue type.",
);

/// Every family this module fills, for the catalog.
pub(super) static FAMILIES: &[&FamilySpec] = &[&ISSUES, &BY_TYPE];

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    issues(ctx).boxed_local()
}

async fn issues(ctx: &Context<'_>) -> Output {
    let list = match ctx.client.issues().await {
        Ok(list) => list,
        Err(QdrantError::NotFound) => return Output::unsupported("GET /issues answered 404"),
        Err(error) => {
            let message = format!("cannot read issues: {error}");
            return Output::failed(Failure::from_error(&error, message));
        }
    };
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for issue in &list.issues {
        *by_type.entry(issue_type(&issue.id)).or_default() += 1;
    }
    let mut counts = GaugeFamily::new(&BY_TYPE);
    for (kind, count) in by_type {
        counts.push(&[("issue_type", kind)], count as f64);
    }
    Output::families(vec![
        GaugeFamily::single(&ISSUES, list.issues.len() as f64),
        counts.finish(),
    ])
}

/// The part before the first `/`, if it looks like a type name; `other` otherwise.
fn issue_type(id: &str) -> &str {
    let kind = id.split('/').next().unwrap_or_default();
    let looks_like_a_type = !kind.is_empty()
        && kind.len() <= 64
        && kind
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if looks_like_a_type {
        kind
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::issue_type;

    #[test]
    fn only_the_type_prefix_becomes_a_label() {
        assert_eq!(
            issue_type("UNINDEXED_FIELD/orders/price"),
            "UNINDEXED_FIELD"
        );
        assert_eq!(issue_type("TOO_MANY_COLLECTIONS"), "TOO_MANY_COLLECTIONS");
        assert_eq!(issue_type("something odd/with \"quotes\""), "other");
        assert_eq!(issue_type(""), "other");
    }
}

//! The native relay: Qdrant's own `GET /metrics`, fetched with the key the
//! exporter holds, appended to the exporter's output. A cluster protected by
//! an API key can then be scraped through the exporter alone.

use std::collections::BTreeSet;

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::{Context, Failure, Output};

/// Names in the exporter's namespace; a relayed family under one of them
/// would collide with the exporter's own and make the output invalid.
const RESERVED_PREFIX: &str = "qdrant_";

pub fn collect<'a>(ctx: &'a Context<'a>) -> LocalBoxFuture<'a, Output> {
    relay(ctx).boxed_local()
}

async fn relay(ctx: &Context<'_>) -> Output {
    match ctx.client.native_metrics().await {
        Ok(text) => {
            let (kept, dropped) = drop_reserved_families(&text);
            Output {
                relayed: kept,
                warning: (!dropped.is_empty()).then(|| Failure {
                    kind: format!("collisions {dropped:?}"),
                    message: format!("native families dropped, their names collide with the exporter's: {dropped:?}"),
                    hint: "the exporter's own families of these names are served instead",
                }),
                ..Output::default()
            }
        }
        Err(error) => {
            let message = format!("cannot read Qdrant's /metrics: {error}");
            Output::failed(Failure::from_error(&error, message))
        }
    }
}

/// The exposition without families named `qdrant_*`, and the names dropped.
fn drop_reserved_families(text: &str) -> (String, BTreeSet<String>) {
    let mut kept = String::with_capacity(text.len() + 1);
    let mut dropped = BTreeSet::new();
    for line in text.lines() {
        let name = match line
            .strip_prefix("# HELP ")
            .or_else(|| line.strip_prefix("# TYPE "))
        {
            Some(rest) => rest.split(' ').next(),
            None if line.starts_with('#') || line.trim().is_empty() => None,
            None => line.split(['{', ' ']).next(),
        };
        match name {
            Some(name) if name.starts_with(RESERVED_PREFIX) => {
                dropped.insert(name.to_owned());
            }
            _ => {
                kept.push_str(line);
                kept.push('\n');
            }
        }
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::drop_reserved_families;

    #[test]
    fn families_in_the_exporters_namespace_are_dropped_whole() {
        let native = "# HELP app_info info\n# TYPE app_info gauge\napp_info{version=\"1\"} 1\n\
                      # HELP qdrant_up clash\n# TYPE qdrant_up gauge\nqdrant_up 1\n\
                      # TYPE collection_points gauge\ncollection_points{id=\"a b\"} 3";
        let (kept, dropped) = drop_reserved_families(native);
        assert_eq!(
            kept,
            "# HELP app_info info\n# TYPE app_info gauge\napp_info{version=\"1\"} 1\n\
             # TYPE collection_points gauge\ncollection_points{id=\"a b\"} 3\n"
        );
        assert_eq!(dropped.into_iter().collect::<Vec<_>>(), ["qdrant_up"]);
    }
}

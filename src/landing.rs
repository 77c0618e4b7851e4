//! The landing page: what this is, its routes, a form for `/probe` (as
//! probe-style exporters have) when it is configured, and the documentation.

use crate::endpoints::{HEALTHZ_PATH, METRICS_PATH, PROBE_PATH, READYZ_PATH};
use crate::refresh::REVISION;

/// Where the documentation is: the repository's README and its docs/.
const DOCS: &str = env!("CARGO_PKG_REPOSITORY");

/// The page; `probe_modules` are the modules of the probe configuration, if any.
pub fn page(probe_modules: Option<Vec<&str>>) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let probe = match probe_modules {
        Some(modules) => {
            let options: String = modules
                .iter()
                .map(|module| {
                    let module = html_escaped(module);
                    format!("<option value=\"{module}\">{module}</option>")
                })
                .collect();
            format!(
                "<li><a href=\"{PROBE_PATH}\">{PROBE_PATH}</a>: one allowed Qdrant, by URL and module\n\
                 <form action=\"{PROBE_PATH}\" method=\"get\">\n\
                 <label>target <input type=\"url\" name=\"target\" placeholder=\"https://qdrant.example.com:6333\" required></label>\n\
                 <label>module <select name=\"module\">{options}</select></label>\n\
                 <button type=\"submit\">Probe</button>\n</form></li>\n"
            )
        }
        None => format!(
            "<li>{PROBE_PATH}: not configured (probe_config_file names the allowed targets)</li>\n"
        ),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Qdrant Exporter</title></head>\n\
         <body>\n<h1>Qdrant Exporter</h1>\n<p>Version {version} (revision {REVISION})</p>\n<ul>\n\
         <li><a href=\"{METRICS_PATH}\">{METRICS_PATH}</a>: metrics of the configured Qdrant</li>\n\
         {probe}\
         <li><a href=\"{HEALTHZ_PATH}\">{HEALTHZ_PATH}</a>: liveness</li>\n\
         <li><a href=\"{READYZ_PATH}\">{READYZ_PATH}</a>: readiness</li>\n</ul>\n\
         <p><a href=\"{DOCS}#readme\">Documentation</a>: \
         <a href=\"{DOCS}/blob/main/docs/metrics.md\">metrics</a>, \
         <a href=\"{DOCS}/blob/main/docs/configuration.md\">configuration</a>, \
         <a href=\"{DOCS}/blob/main/docs/runbooks.md\">runbooks</a></p>\n</body>\n</html>\n"
    )
}

fn html_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

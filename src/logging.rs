//! Log output: text or JSON lines on stdout, filtered by `log_level`.

use std::io::IsTerminal;

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The logging settings, validated.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// A level or tracing directives, checked to parse.
    pub filter: String,
    pub format: LogFormat,
}

/// Installs the global subscriber. A request span is logged when it closes:
/// one line per request, with its route, status and duration.
pub fn init(log: &LogConfig) {
    // Validated with the rest of the configuration.
    let filter = EnvFilter::try_new(&log.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // actix logs every malformed request at ERROR, as often as a client sends
    // one; the listener logs them itself, rate-limited (see request_log).
    // Unless asked for by name.
    let filter = match log.filter.contains("actix_http") {
        true => filter,
        false => filter.add_directive(
            "actix_http::h1::dispatcher=off"
                .parse()
                .expect("a valid directive"),
        ),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal());
    match log.format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

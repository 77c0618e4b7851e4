//! One log line per request, when it ends: method, route, status and latency.
//! Successful, prompt requests are logged at debug level (Prometheus and the
//! kubelet send them all day); slow ones and client errors at info, server
//! errors at warn. Strings the client chose (the path of an unknown route, the
//! user agent) are written quoted and escaped, so they cannot forge fields.
//!
//! A connection that fails below HTTP (malformed requests, TLS handshakes, a
//! client gone mid-answer) is logged at info, one line per ten seconds with a
//! count of the others: any client could otherwise write log lines at will
//! (one sending malformed headers wrote 22,230 ERROR lines in 5 s).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;

/// A request slower than this is logged at info level even when it succeeded.
const SLOW: Duration = Duration::from_secs(1);

pub async fn log_request(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let response = next.call(request).await?;
    let latency = started.elapsed();
    let status = response.status().as_u16();
    // The fields are evaluated only when the line is logged: nothing is copied
    // for the debug lines a production level filters out.
    let request = response.request();
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                method = %request.method(),
                route = request.match_pattern().as_deref().unwrap_or("unmatched"),
                path = ?request.match_pattern().is_none().then(|| request.path()),
                status,
                latency_ms = latency.as_secs_f64() * 1e3,
                user_agent = ?request
                    .headers()
                    .get(header::USER_AGENT)
                    .map(|value| String::from_utf8_lossy(value.as_bytes())),
                "request"
            )
        };
    }
    match status {
        500.. => line!(warn),
        400.. => line!(info),
        _ if latency >= SLOW => line!(info),
        _ => line!(debug),
    }
    Ok(response)
}

/// The least time between two lines about failed connections.
const CONNECTION_ERROR_INTERVAL: Duration = Duration::from_secs(10);

/// When the last line about a failed connection was written.
static LAST_CONNECTION_ERROR: LazyLock<Mutex<Option<Instant>>> = LazyLock::new(Mutex::default);
/// Failed connections not logged since.
static UNLOGGED_CONNECTION_ERRORS: AtomicU64 = AtomicU64::new(0);

/// Logs a connection that failed below HTTP, rate-limited. `what` is never
/// the client's bytes, only what went wrong with them.
pub fn connection_failed(what: &dyn std::fmt::Display) {
    let now = Instant::now();
    {
        let mut last = crate::locks::lock(&LAST_CONNECTION_ERROR);
        if last.is_some_and(|last| now.duration_since(last) < CONNECTION_ERROR_INTERVAL) {
            UNLOGGED_CONNECTION_ERRORS.fetch_add(1, Ordering::Relaxed);
            return;
        }
        *last = Some(now);
    }
    let unlogged = UNLOGGED_CONNECTION_ERRORS.swap(0, Ordering::Relaxed);
    tracing::info!(
        unlogged_since = unlogged,
        hint = "a client sent what is not HTTP/1.1, or left mid-answer",
        "client connection failed: {what}"
    );
}

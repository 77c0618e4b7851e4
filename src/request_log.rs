//! One log line per request, when it ends: method, route, status and latency.
//! Successful, prompt requests are logged at debug level (Prometheus and the
//! kubelet send them all day); slow ones at info, server errors at warn.
//! Client errors are at info one line per ten seconds, with a count of the
//! others (at debug): any client can cause them at will, and one sending 404s
//! with an 8 KB user agent wrote 71 MB of log in 5 s. Strings the client chose
//! (the path of an unknown route, the user agent) are written quoted and
//! escaped, so they cannot forge fields, and cut at 128 bytes.
//!
//! A connection that fails below HTTP (malformed requests, TLS handshakes, a
//! client gone mid-answer) is logged at info, one line per ten seconds with a
//! count of the others: any client could otherwise write log lines at will
//! (one sending malformed headers wrote 22,230 ERROR lines in 5 s).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;

/// A request slower than this is logged at info level even when it succeeded.
const SLOW: Duration = Duration::from_secs(1);

/// The most of a client's string a line holds.
const CLIENT_TEXT_BYTES: usize = 128;

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
        ($level:ident $(, $field:ident = $value:expr)?) => {
            tracing::$level!(
                method = %request.method(),
                route = request.match_pattern().as_deref().unwrap_or("unmatched"),
                path = ?request
                    .match_pattern()
                    .is_none()
                    .then(|| client_text(request.path().as_bytes())),
                status,
                latency_ms = latency.as_secs_f64() * 1e3,
                user_agent = ?request
                    .headers()
                    .get(header::USER_AGENT)
                    .map(|value| client_text(value.as_bytes())),
                $($field = $value,)?
                "request"
            )
        };
    }
    match status {
        500.. => line!(warn),
        400.. => match CLIENT_ERRORS.admit() {
            Some(unlogged) => line!(info, unlogged_since = unlogged),
            None => line!(debug),
        },
        _ if latency >= SLOW => line!(info),
        _ => line!(debug),
    }
    Ok(response)
}

/// A string the client chose, cut at [`CLIENT_TEXT_BYTES`].
fn client_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(CLIENT_TEXT_BYTES)]);
    match bytes.len() > CLIENT_TEXT_BYTES {
        true => format!("{text}… ({} bytes)", bytes.len()),
        false => text.into_owned(),
    }
}

/// At most one line per interval about what any client can cause at will;
/// the others are counted, and the next line says how many.
struct Throttle {
    last: Mutex<Option<Instant>>,
    unlogged: AtomicU64,
}

/// The least time between two lines of one throttle.
const THROTTLE_INTERVAL: Duration = Duration::from_secs(10);

impl Throttle {
    const fn new() -> Self {
        Self {
            last: Mutex::new(None),
            unlogged: AtomicU64::new(0),
        }
    }

    /// `Some(the lines left out since the last)` when a line may be written now.
    fn admit(&self) -> Option<u64> {
        let now = Instant::now();
        let mut last = crate::locks::lock(&self.last);
        if last.is_some_and(|last| now.duration_since(last) < THROTTLE_INTERVAL) {
            self.unlogged.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *last = Some(now);
        Some(self.unlogged.swap(0, Ordering::Relaxed))
    }
}

/// Requests answered with a 4xx.
static CLIENT_ERRORS: Throttle = Throttle::new();
/// Connections that failed below HTTP.
static CONNECTION_ERRORS: Throttle = Throttle::new();

/// Logs a connection that failed below HTTP, rate-limited. `what` is never
/// the client's bytes, only what went wrong with them.
pub fn connection_failed(what: &dyn std::fmt::Display) {
    if let Some(unlogged) = CONNECTION_ERRORS.admit() {
        tracing::info!(
            unlogged_since = unlogged,
            hint = "a client sent what is not HTTP/1.1, or left mid-answer",
            "client connection failed: {what}"
        );
    }
}

//! The HTTP server: routes, shared state, and one Qdrant client per worker.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::{middleware, web, App, HttpRequest, HttpResponse, HttpServer};
use bytes::BytesMut;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder, TracingLogger};

use crate::cache::{Cache, Rendered};
use crate::collectors::{self, RefreshState};
use crate::config::Config;
use crate::endpoints::{HEALTHZ_PATH, LANDING_PATH, METRICS_PATH, PROBE_PATHS, READYZ_PATH};
use crate::metrics::{render, GaugeFamily, TEXT_CONTENT_TYPE};
use crate::qdrant::{QdrantClient, RequestCounter};

/// Prometheus sends its scrape timeout in this header.
const SCRAPE_TIMEOUT_HEADER: &str = "X-Prometheus-Scrape-Timeout-Seconds";
/// Time kept back from Prometheus' scrape timeout for rendering and sending the answer.
const SCRAPE_TIMEOUT_MARGIN: Duration = Duration::from_millis(500);

/// State shared by all workers.
pub struct AppState {
    config: Config,
    cache: Cache,
    refresh: RefreshState,
}

impl AppState {
    /// The exposition, from cache or from a refresh bounded by the smaller of the
    /// configured refresh timeout and the scraper's own timeout.
    async fn scrape(&self, client: &QdrantClient, scrape_timeout: Option<Duration>) -> Rendered {
        self.cache
            .get(|| {
                let budget = scrape_timeout.map_or(self.config.refresh_timeout, |timeout| {
                    // Half of a very short timeout rather than nothing at all.
                    let usable = timeout
                        .saturating_sub(SCRAPE_TIMEOUT_MARGIN)
                        .max(timeout / 2);
                    usable.min(self.config.refresh_timeout)
                });
                collectors::refresh(
                    client,
                    &self.refresh,
                    &self.config.collectors,
                    Instant::now() + budget,
                )
            })
            .await
    }
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server.
    pub fn build(config: Config) -> std::io::Result<Application> {
        let listener = TcpListener::bind(config.listen_address)?;
        let port = listener.local_addr()?.port();
        let server = run(listener, config)?;
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn run(listener: TcpListener, config: Config) -> std::io::Result<Server> {
    let requests = RequestCounter::new();
    let state = web::Data::new(AppState {
        cache: Cache::new(config.cache_ttl),
        refresh: RefreshState::default(),
        config,
    });
    let qdrant_config = Arc::new(state.config.qdrant.clone());
    let server = HttpServer::new(move || {
        App::new()
            .wrap(middleware::Compress::default())
            .wrap(TracingLogger::<QuietProbes>::new())
            .app_data(state.clone())
            // awc clients are not Send: one per worker.
            .app_data(web::Data::new(QdrantClient::new(
                &qdrant_config,
                requests.clone(),
            )))
            .route(METRICS_PATH, web::get().to(metrics))
            .route(HEALTHZ_PATH, web::get().to(healthz))
            .route(READYZ_PATH, web::get().to(readyz))
            .route(LANDING_PATH, web::get().to(landing))
    })
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    Ok(server)
}

async fn metrics(
    request: HttpRequest,
    state: web::Data<AppState>,
    client: web::Data<QdrantClient>,
) -> HttpResponse {
    let rendered = state
        .scrape(&client, scrape_timeout(request.headers()))
        .await;
    // The cache age is the one figure that changes between cache hits.
    let mut age = Vec::with_capacity(256);
    render(
        &[GaugeFamily::single(
            "qdrant_exporter_cache_age_seconds",
            "Seconds since the served figures were fetched from Qdrant.",
            rendered.refreshed_at.elapsed().as_secs_f64(),
        )],
        &mut age,
    );
    let mut body = BytesMut::with_capacity(rendered.body.len() + age.len());
    body.extend_from_slice(&rendered.body);
    body.extend_from_slice(&age);
    HttpResponse::Ok()
        .content_type(TEXT_CONTENT_TYPE)
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .body(body.freeze())
}

fn scrape_timeout(headers: &HeaderMap) -> Option<Duration> {
    let seconds: f64 = headers
        .get(SCRAPE_TIMEOUT_HEADER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|timeout| !timeout.is_zero())
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

/// Ready once serving. Only with `readiness_requires_qdrant` does it look at
/// Qdrant (through the cache, so probes add no load): a sidecar that turns
/// unready takes the whole Qdrant pod out of its Service.
async fn readyz(
    request: HttpRequest,
    state: web::Data<AppState>,
    client: web::Data<QdrantClient>,
) -> HttpResponse {
    if state.config.readiness_requires_qdrant
        && !state
            .scrape(&client, scrape_timeout(request.headers()))
            .await
            .up
    {
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain; charset=utf-8")
            .body("Qdrant is not reachable\n");
    }
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

async fn landing() -> HttpResponse {
    let version = env!("CARGO_PKG_VERSION");
    let revision = collectors::REVISION;
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Qdrant Exporter</title></head>\n\
         <body>\n<h1>Qdrant Exporter</h1>\n<p>Version {version} (revision {revision})</p>\n<ul>\n\
         <li><a href=\"{METRICS_PATH}\">{METRICS_PATH}</a>: metrics</li>\n\
         <li><a href=\"{HEALTHZ_PATH}\">{HEALTHZ_PATH}</a>: liveness</li>\n\
         <li><a href=\"{READYZ_PATH}\">{READYZ_PATH}</a>: readiness</li>\n</ul>\n</body>\n</html>\n"
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page)
}

/// Request spans at info level, except for probes, which kubelet sends every
/// few seconds: theirs are at debug level.
struct QuietProbes;

impl RootSpanBuilder for QuietProbes {
    fn on_request_start(request: &ServiceRequest) -> Span {
        if PROBE_PATHS.contains(&request.path()) {
            tracing_actix_web::root_span!(level = tracing::Level::DEBUG, request)
        } else {
            tracing_actix_web::root_span!(request)
        }
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

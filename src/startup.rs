//! The HTTP server: its settings, routes and shared state.

use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::rt::signal::unix::{signal, Signal, SignalKind};
use actix_web::{guard, middleware, web, App, HttpRequest, HttpResponse, Route};

use crate::basic_auth::{self, BasicAuth, UsersFile};
use crate::endpoints::{HEALTHZ_PATH, LANDING_PATH, METRICS_PATH, PROBE_PATH, READYZ_PATH};
pub use crate::listener::ListenAddress;
use crate::listener::{self, Listening};
use crate::probe::{ProbeSettings, Probes, DEFAULT_MODULE};
use crate::qdrant::ResponseBudget;
use crate::rate_limit::{self, Limiter};
use crate::target::{Target, TargetConfig};
use crate::{landing, limits, request_log, response};

/// The server's settings, validated.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen_address: ListenAddress,
    /// Where the probes alone are served, when set.
    pub health_listen_address: Option<ListenAddress>,
    /// Most client connections the main listener holds at once.
    pub max_connections: usize,
    pub web: WebServing,
    /// Make `/readyz` depend on Qdrant.
    pub readiness_requires_qdrant: bool,
    /// The Qdrant `/metrics` reports on.
    pub target: TargetConfig,
    /// Multi-target scraping on `/probe`, when configured.
    pub probes: Option<ProbeSettings>,
}

/// The exporter's own endpoint: who may read it, over what.
#[derive(Clone, Default)]
pub struct WebServing {
    /// TLS, built from the web configuration file (its certificate re-read when renewed).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// User name → bcrypt hash; empty: no basic auth.
    pub users: BTreeMap<String, String>,
    /// The file the users are read again from when it changes.
    pub users_file: Option<UsersFile>,
    /// Paths served without basic auth.
    pub open_paths: Vec<String>,
    /// Requests the main listener serves at most, beyond which it answers 429.
    pub rate_limit: Option<rate_limit::RateLimit>,
    /// What the web configuration file asks that is honoured only in part: logged at start.
    pub warnings: Vec<String>,
}

/// Shows the users, never their password hashes.
impl std::fmt::Debug for WebServing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebServing")
            .field("tls", &self.tls.is_some())
            .field("headers", &self.headers)
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .field("open_paths", &self.open_paths)
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

/// Prometheus sends its scrape timeout in this header.
const SCRAPE_TIMEOUT_HEADER: &str = "X-Prometheus-Scrape-Timeout-Seconds";
/// Time kept back from Prometheus' scrape timeout for rendering and sending the answer.
const SCRAPE_TIMEOUT_MARGIN: Duration = Duration::from_millis(500);
/// How long a connection may stay open without a request, first or next.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// What a scrape without a timeout header waits beyond the refresh deadline:
/// time to render the refresh's answer.
const RENDER_SLACK: Duration = Duration::from_secs(1);

/// State shared by all workers.
pub struct AppState {
    /// The Qdrant of the configuration, served on `/metrics`.
    target: Arc<Target>,
    readiness_requires_qdrant: bool,
    /// The targets of `/probe`, when a probe configuration is given.
    probes: Option<Probes>,
}

/// How long a scrape waits for a refresh: its own timeout less a margin (half
/// of a very short one rather than nothing), or the refresh deadline.
fn wait_budget(headers: &HeaderMap, refresh_timeout: Duration) -> Duration {
    scrape_timeout(headers).map_or(refresh_timeout + RENDER_SLACK, |timeout| {
        timeout
            .saturating_sub(SCRAPE_TIMEOUT_MARGIN)
            .max(timeout / 2)
    })
}

pub struct Application {
    port: u16,
    health_port: Option<u16>,
    server: actix_web::dev::Server,
    /// Serves only the probes, on a thread of its own (`health_listen_address`).
    health: Option<actix_web::dev::Server>,
    signals: StopSignals,
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server.
    pub fn build(config: ServerConfig) -> std::io::Result<Application> {
        let signals = StopSignals::listen();
        let open_file_limit = limits::raise_open_file_limit();
        let listener = config.listen_address.bind()?;
        limits::limit_per_connection(&listener);
        let port = listener.local_addr()?.port();
        let health_listener = config
            .health_listen_address
            .map(ListenAddress::bind)
            .transpose()?;
        let health_port = match &health_listener {
            Some(listener) => {
                limits::limit_per_connection(listener);
                Some(listener.local_addr()?.port())
            }
            None => None,
        };
        let (server, health) = run(listener, health_listener, config, open_file_limit)?;
        Ok(Application {
            port,
            health_port,
            server,
            health,
            signals,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the health listener, when there is one.
    pub fn health_port(&self) -> Option<u16> {
        self.health_port
    }

    /// Serves until SIGTERM or SIGINT, then lets the requests in flight on
    /// both listeners finish. The servers take no signals themselves: each
    /// would stop the whole runtime once its own listener had drained, and the
    /// idle health listener drains at once, cutting the scrapes in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let servers: Vec<actix_web::dev::Server> =
            std::iter::once(self.server).chain(self.health).collect();
        let handles: Vec<_> = servers.iter().map(actix_web::dev::Server::handle).collect();
        actix_web::rt::spawn(async move {
            self.signals.stop().await;
            futures_util::future::join_all(handles.iter().map(|handle| handle.stop(true))).await;
        });
        futures_util::future::try_join_all(servers).await.map(drop)
    }
}

/// The signals that stop the exporter, listened for from the start (before
/// the listeners serve: a SIGHUP before would end the process).
struct StopSignals([(&'static str, Option<Signal>); 3]);

impl StopSignals {
    fn listen() -> Self {
        let listen = |kind: SignalKind| {
            signal(kind)
                .map_err(|error| tracing::warn!("cannot listen for a signal: {error}"))
                .ok()
        };
        Self([
            ("SIGTERM", listen(SignalKind::terminate())),
            ("SIGINT", listen(SignalKind::interrupt())),
            ("SIGHUP", listen(SignalKind::hangup())),
        ])
    }

    /// Resolves at SIGTERM or SIGINT. SIGHUP, which would end the process, is
    /// ignored: the files it could ask to reload (TLS certificate, key files)
    /// are read again whenever they change.
    async fn stop(mut self) {
        loop {
            let received = std::future::poll_fn(|context| {
                for (name, signal) in &mut self.0 {
                    if let Some(signal) = signal {
                        if signal.poll_recv(context).is_ready() {
                            return std::task::Poll::Ready(*name);
                        }
                    }
                }
                std::task::Poll::Pending
            })
            .await;
            if received == "SIGHUP" {
                tracing::info!(
                    hint = "changed certificate and key files are read again without it",
                    "SIGHUP ignored"
                );
                continue;
            }
            tracing::info!("{received}: finishing the requests in flight, then stopping");
            return;
        }
    }
}

/// A route answering GET, and HEAD like GET without the body.
fn get_or_head() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// The main server, and the health server when a listener is given for it.
fn run(
    listener: TcpListener,
    health_listener: Option<TcpListener>,
    config: ServerConfig,
    open_file_limit: Option<u64>,
) -> std::io::Result<(actix_web::dev::Server, Option<actix_web::dev::Server>)> {
    // One budget for every answer of Qdrant's in flight: the main target's,
    // and every probed target's, whichever worker asked.
    let budget = ResponseBudget::new(config.target.qdrant.max_response_bytes);
    let state = web::Data::new(AppState {
        target: Arc::new(Target::new(config.target.clone(), budget.clone())),
        readiness_requires_qdrant: config.readiness_requires_qdrant,
        probes: config
            .probes
            .clone()
            .map(|probes| Probes::new(probes, budget)),
    });
    let health_state = state.clone();
    let web = config.web.clone();
    let basic_auth = web::Data::new(BasicAuth::new(
        web.users.clone(),
        web.open_paths.clone(),
        web.users_file.clone(),
    ));
    let headers = web.headers.clone();
    let (requires_credentials, adds_headers) = (!web.users.is_empty(), !headers.is_empty());
    let limits_rate = web.rate_limit.is_some();
    let limiter = web::Data::new(web.rate_limit.map(Limiter::new));
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let application = move || {
        let response_headers = headers.iter().cloned().fold(
            middleware::DefaultHeaders::new(),
            middleware::DefaultHeaders::add,
        );
        // None of the three runs on a scrape unless configured; the rate is
        // limited before credentials are checked, as in the exporter-toolkit.
        App::new()
            .wrap(middleware::Condition::new(
                requires_credentials,
                middleware::from_fn(basic_auth::require_credentials),
            ))
            .wrap(middleware::Condition::new(adds_headers, response_headers))
            .wrap(middleware::Condition::new(
                limits_rate,
                middleware::from_fn(rate_limit::limit_rate),
            ))
            .wrap(middleware::from_fn(request_log::log_request))
            .wrap(middleware::from_fn(listener::wake_when_answered))
            .app_data(state.clone())
            .app_data(basic_auth.clone())
            .app_data(limiter.clone())
            .route(METRICS_PATH, get_or_head().to(metrics))
            .route(HEALTHZ_PATH, get_or_head().to(healthz))
            .route(READYZ_PATH, get_or_head().to(readyz))
            .route(PROBE_PATH, get_or_head().to(probe))
            .route(LANDING_PATH, get_or_head().to(landing))
    };
    let listening = Listening {
        workers,
        connections_per_worker: limits::connections_per_worker(
            config.max_connections,
            open_file_limit,
            workers,
        ),
        idle_timeout: IDLE_CONNECTION_TIMEOUT,
        write_buffer: Some(response::SLICE),
        tls: web.tls,
    };
    let server = listener::serve(listener, listening, application)?;
    let health = health_listener
        .map(|listener| health_server(listener, health_state))
        .transpose()?;
    Ok((server, health))
}

/// `/healthz` and `/readyz` alone, plain HTTP without credentials (the kubelet
/// sends none), on one worker thread of its own: however many scrapes the main
/// listener is busy with, a probe does not wait behind them.
///
/// The kubelet sends its request as soon as it connects, so a connection that
/// sends nothing for a second is closed, and there is room for hundreds: 64
/// idle sockets from anyone in the cluster used to fill the listener and hold
/// every probe for 5 s, past the kubelet's 2 s timeout.
fn health_server(
    listener: TcpListener,
    state: web::Data<AppState>,
) -> std::io::Result<actix_web::dev::Server> {
    let listening = Listening {
        workers: 1,
        connections_per_worker: 512,
        idle_timeout: Duration::from_secs(1),
        write_buffer: None,
        tls: None,
    };
    listener::serve(listener, listening, move || {
        App::new()
            .wrap(middleware::from_fn(request_log::log_request))
            .app_data(state.clone())
            .route(HEALTHZ_PATH, get_or_head().to(healthz))
            .route(READYZ_PATH, get_or_head().to(readyz))
    })
}

async fn metrics(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let target = &state.target;
    let wait = wait_budget(request.headers(), target.refresh_timeout());
    let rendered = target.exposition(wait).await;
    response::exposition(&rendered, response::encoding(request.headers()))
}

/// `GET /probe?target=<url>&module=<name>`: one allowed target, with the
/// module's settings. A refused probe is a 400 naming why, and reaches nothing.
async fn probe(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let refuse = |why: String| {
        HttpResponse::BadRequest()
            .content_type("text/plain; charset=utf-8")
            .body(format!("{why}\n"))
    };
    let Some(probes) = &state.probes else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no probe configuration: set probe_config_file\n");
    };
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(request.query_string().as_bytes())
            .into_owned()
            .collect();
    let Some(target) = query.get("target") else {
        return refuse("target is missing: /probe?target=<url>&module=<name>".into());
    };
    let module = query.get("module").map_or(DEFAULT_MODULE, String::as_str);
    let target = match probes.target(target, module) {
        Ok(target) => target,
        Err(why) => return refuse(why),
    };
    let wait = wait_budget(request.headers(), target.refresh_timeout());
    let rendered = target.exposition(wait).await;
    response::exposition(&rendered, response::encoding(request.headers()))
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
/// Qdrant, and then only at the last refresh's outcome: a probe never waits
/// for a refresh and starts none but the first (a sidecar that turns unready
/// takes the whole Qdrant pod out of its Service).
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let unready = |why: &str| {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain; charset=utf-8")
            .body(format!("{why}\n"))
    };
    if state.readiness_requires_qdrant {
        // While Qdrant is not known to answer, a probe starts a refresh (one
        // per cache TTL at most), not awaited: the next probe sees its outcome,
        // so readiness follows Qdrant's recovery with nobody scraping.
        let refresh = || {
            let target = state.target.clone();
            actix_web::rt::spawn(async move { target.exposition(Duration::ZERO).await });
        };
        match state.target.last_reached_qdrant() {
            Some(true) => {}
            Some(false) => {
                refresh();
                return unready("Qdrant was not reachable at the last refresh");
            }
            None => {
                refresh();
                return unready("no refresh has finished yet");
            }
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

async fn landing(state: web::Data<AppState>) -> HttpResponse {
    let modules = state.probes.as_ref().map(Probes::modules);
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(landing::page(modules))
}

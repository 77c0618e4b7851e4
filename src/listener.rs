//! The HTTP/1.1 servers of the listeners, built from actix's parts rather than
//! its `HttpServer`: over TLS, that one offers HTTP/2 by ALPN, with no limit on
//! the streams of a connection (about 3.7 KB each, outside `max_connections`:
//! ten connections holding 40,000 streams took the exporter to 234 MB, past the
//! sidecar's memory limit). Prometheus scrapes over HTTP/1.1; curl and browsers
//! fall back to it.

use std::convert::Infallible;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_http::error::DispatchError;
use actix_http::{Extensions, HttpService, Request};
use actix_server::GracefulShutdownSignal;
use actix_service::{
    apply_fn_factory, fn_service, map_config, IntoServiceFactory, Service, ServiceFactory,
    ServiceFactoryExt,
};
use actix_tls::accept::rustls_0_23::{Acceptor, TlsStream};
use actix_tls::accept::TlsError;
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Response, Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::deadline::{Clocked, ConnectionClock, Deadlined};
use crate::request_log;

/// Where a listener binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenAddress {
    /// `:PORT`: every address of both families, as exporters written in Go
    /// take it. The kubelet probes a pod's IPv6 address on IPv6 clusters, and
    /// a sidecar that refused it would make the Qdrant pod unready.
    EveryAddress(u16),
    /// `ADDR:PORT`: that address alone.
    Socket(SocketAddr),
}

/// Connections the kernel queues before they are accepted: what std's bind
/// asks for, as before the listeners took IPv6.
const BACKLOG: i32 = 128;

impl ListenAddress {
    /// `:PORT` or `ADDR:PORT` (`[::1]:PORT` for IPv6); the error says what
    /// is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.strip_prefix(':') {
            Some(port) => port
                .parse()
                .map(Self::EveryAddress)
                .map_err(|e| format!("port {port:?}: {e}")),
            None => text.parse().map(Self::Socket).map_err(|e| e.to_string()),
        }
    }

    /// Binds it. `:PORT` is one IPv6 socket that takes IPv4 too
    /// (`IPV6_V6ONLY` off, whatever the host's default), or IPv4 alone on a
    /// host without IPv6.
    pub fn bind(self) -> std::io::Result<TcpListener> {
        let bound = match self {
            Self::Socket(address) => bind(address, None),
            Self::EveryAddress(port) => {
                match bind((Ipv6Addr::UNSPECIFIED, port).into(), Some(false)) {
                    Err(error) if without_ipv6(&error) => {
                        bind((Ipv4Addr::UNSPECIFIED, port).into(), None)
                    }
                    bound => bound,
                }
            }
        };
        bound.map_err(|error| {
            std::io::Error::new(error.kind(), format!("cannot listen on {self}: {error}"))
        })
    }
}

impl std::fmt::Display for ListenAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::EveryAddress(port) => write!(f, ":{port}"),
            Self::Socket(address) => write!(f, "{address}"),
        }
    }
}

fn bind(address: SocketAddr, only_v6: Option<bool>) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    if let Some(only_v6) = only_v6 {
        socket.set_only_v6(only_v6)?;
    }
    // As std's bind does: a restart binds again while the old connections linger.
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// The host has no IPv6: the kernel was built or booted without it, or it is
/// turned off (`net.ipv6.conf.all.disable_ipv6`).
fn without_ipv6(error: &std::io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EAFNOSUPPORT | libc::EADDRNOTAVAIL | libc::EPROTONOSUPPORT)
    )
}

/// How one listener serves.
pub struct Listening {
    pub workers: usize,
    /// Per worker: past it, a worker accepts no more until one closes.
    pub connections_per_worker: usize,
    /// The longest a connection may wait for its first request, or the next.
    pub idle_timeout: Duration,
    /// The most of an answer actix buffers before writing; `None`: its default.
    pub write_buffer: Option<usize>,
    /// TLS, HTTP/1.1 only, the handshake within `idle_timeout`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// How long the requests in flight may take to finish when a server stops.
const SHUTDOWN_TIMEOUT_SECONDS: u64 = 5;

/// A server answering on `listener` with the application `app` makes; it
/// takes no signals (see `startup`).
pub fn serve<F, I, S, B>(
    listener: TcpListener,
    listening: Listening,
    app: F,
) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    S::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let builder = Server::build()
        .workers(listening.workers)
        .max_concurrent_connections(listening.connections_per_worker)
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECONDS);
    let http = Http1 {
        app,
        idle_timeout: listening.idle_timeout,
        write_buffer: listening.write_buffer,
        shutdown: builder.graceful_shutdown_signal(),
    };
    let name = format!("qdrant-exporter-{}", listener.local_addr()?);
    let builder = match listening.tls {
        None => builder.listen(name, listener, move || {
            let limit = http.idle_timeout;
            fn_service(move |io: TcpStream| {
                no_delay(&io);
                let peer = io.peer_addr().ok();
                std::future::ready(Ok::<_, DispatchError>((Deadlined::new(io, limit), peer)))
            })
            .and_then(http.service())
            .map_err(|error| request_log::connection_failed(&error))
        })?,
        Some(tls) => builder.listen(name, listener, move || {
            let limit = http.idle_timeout;
            let mut acceptor = Acceptor::new((*tls).clone());
            acceptor.set_handshake_timeout(limit);
            fn_service(move |io: TcpStream| {
                std::future::ready(Ok::<_, TlsError<std::io::Error, Infallible>>(
                    Deadlined::new(io, limit),
                ))
            })
            .and_then(acceptor)
            .map_init_err(|_| unreachable!("the TLS acceptor does not fail to start"))
            .map_err(|error| {
                let failed = match error {
                    TlsError::Timeout => "TLS handshake timed out".to_owned(),
                    TlsError::Tls(error) => format!("TLS handshake failed: {error}"),
                    TlsError::Service(never) => match never {},
                };
                request_log::connection_failed(&failed);
            })
            .map(|io: TlsStream<Deadlined<TcpStream>>| {
                let tcp = io.get_ref().0.get_ref();
                no_delay(tcp);
                let peer = tcp.peer_addr().ok();
                (io, peer)
            })
            .and_then(
                http.service()
                    .map_err(|error| request_log::connection_failed(&error)),
            )
        })?,
    };
    Ok(builder.run())
}

/// Small answers go out at once instead of waiting on the peer's delayed ACK
/// (40 ms a turn: gzip cache hits at 1,000 collections ran at 0.05 times
/// nginx's rate without it). actix-http's HTTP/1.1 service does not set it
/// itself. Best effort: without it answers only go out later.
fn no_delay(io: &TcpStream) {
    let _ = io.set_nodelay(true);
}

/// What makes the HTTP/1.1 service of a connection, over TCP or TLS.
#[derive(Clone)]
struct Http1<F> {
    app: F,
    idle_timeout: Duration,
    write_buffer: Option<usize>,
    shutdown: GracefulShutdownSignal,
}

impl<F> Http1<F> {
    fn service<T, I, S, B>(
        &self,
    ) -> impl ServiceFactory<
        (T, Option<SocketAddr>),
        Config = (),
        Response = (),
        Error = DispatchError,
        InitError = (),
    > + 'static
    where
        F: Fn() -> I,
        T: AsyncRead + AsyncWrite + Clocked + Unpin + 'static,
        I: IntoServiceFactory<S, Request>,
        S: ServiceFactory<Request, Config = AppConfig> + 'static,
        S::Error: Into<actix_web::Error> + 'static,
        S::InitError: std::fmt::Debug,
        S::Response: Into<Response<B>> + 'static,
        S::Future: 'static,
        B: MessageBody + 'static,
    {
        let shutdown = self.shutdown.clone();
        let service = HttpService::build()
            .keep_alive(self.idle_timeout)
            .client_request_timeout(self.idle_timeout)
            .on_connect_ext(|io: &T, data: &mut Extensions| {
                data.insert(io.clock());
            })
            // Idle keep-alive connections close at once when stopping.
            .graceful_shutdown_signal(move || {
                let shutdown = shutdown.clone();
                async move { shutdown.notified().await }
            });
        let service = match self.write_buffer {
            Some(size) => service.h1_write_buffer_size(size),
            None => service,
        };
        // The connection's clock stops while one of its requests is answered.
        let application = apply_fn_factory((self.app)().into_factory(), |request: Request, app| {
            let answering = request
                .conn_data::<ConnectionClock>()
                .map(ConnectionClock::answering);
            let answer = app.call(request);
            async move {
                let answer = answer.await;
                drop(answering);
                answer
            }
        })
        .map_err(|error| error.into().error_response());
        service.h1(map_config(application, |()| AppConfig::default()))
    }
}

/// Middleware for every route: wakes the connection once its answer is ready.
///
/// actix decodes at most 16 pipelined requests at a time and decodes more
/// only when the connection is woken; when every answer of the 16 was waiting
/// on a refresh (a cold cache), nothing woke it again: the requests left in
/// its buffer waited for the idle timeout, and the connection closed with
/// them unanswered (33 of 40 answered).
pub async fn wake_when_answered(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let response = next.call(request).await;
    std::future::poll_fn(|context| {
        context.waker().wake_by_ref();
        std::task::Poll::Ready(())
    })
    .await;
    response
}

//! What one client can take: file descriptors (every connection takes one;
//! the common soft limit of 1,024 let a client holding a thousand connections
//! starve the listener and the kubelet's probes, while the hard limit is
//! usually far higher), memory per connection, and the targets `/probe` keeps.

/// Descriptors kept for everything but client connections: the listener,
/// connections to Qdrant, the log, the allocator's and runtime's own.
const RESERVED: u64 = 128;

/// The limits on open files, soft and hard; `None` where they cannot be read.
pub fn open_file_limits() -> Option<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given, nothing else.
    let read = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    read.then_some(limit)
}

/// Raises the soft limit on open files to the hard limit, and returns the
/// soft limit in force (`None` where it cannot be read).
pub fn raise_open_file_limit() -> Option<u64> {
    let mut limit = open_file_limits()?;
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit reads the struct it is given, nothing else.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            tracing::debug!(
                from = limit.rlim_cur,
                to = limit.rlim_max,
                "raised the open file limit"
            );
            limit.rlim_cur = limit.rlim_max;
        }
    }
    Some(limit.rlim_cur)
}

/// Client connections the main listener holds at once, by default. Each costs
/// memory while it is served: about 2 KB idle, 41 KB while an answer waits for
/// a client that does not read it, 0.3 MB for one that pipelines requests
/// without reading the answers (BENCHMARKS.md), and such a connection also
/// keeps alive the exposition it was answered from, after refreshes replaced
/// it. At 1,000 collections, with refreshes running, 99 of those took the
/// exporter to 66 MiB with 100 allowed, 63 to 53 MiB with 64: a sidecar's
/// scrapers need a handful, a `/probe` fleet a few per target scraped at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;
/// The most `max_connections` may be (actix-web's own default, per worker).
pub const MAX_CONNECTIONS: usize = 25_600;

/// Targets `/probe` keeps with their caches and clients; past it, the least
/// recently probed goes first, so that probes of ever new targets cannot
/// grow memory.
pub const MAX_PROBED_TARGETS: usize = 128;

/// Connections each of `workers` accepts at most: `max_connections` shared
/// among them, and together below the open file limit (a worker at its cap
/// stops accepting until a connection closes, instead of failing every
/// accept; the kernel queues the new connections meanwhile).
pub fn connections_per_worker(
    max_connections: usize,
    open_file_limit: Option<u64>,
    workers: usize,
) -> usize {
    let workers = workers.max(1);
    let configured = max_connections.div_ceil(workers);
    let descriptors = open_file_limit.map_or(configured as u64, |limit| {
        limit.saturating_sub(RESERVED).max(1) / workers as u64
    });
    configured
        .min(usize::try_from(descriptors).unwrap_or(usize::MAX))
        .max(1)
}

/// What the kernel queues of a client's unread requests, per connection: the
/// least it allows (it raises this to its minimum, about 4.5 KB).
///
/// actix decodes every request waiting in its read buffer (up to 128 KiB)
/// before it applies its limit of 16 pipelined requests, at a few KB of
/// memory each: 2,000 pipelined `GET /metrics` held 14 MB per connection with
/// the default buffer, 0.9 MB with 4 KiB, 0.4 MB with the least. Our requests
/// are bodiless GETs of a few hundred bytes: a client pipelining more waits on
/// TCP instead.
const RECEIVE_BUFFER: libc::c_int = 1;

/// How long an answer may stay unacknowledged by its client (which stopped
/// reading, or is gone) before the kernel drops the connection: a scraper that
/// gave up is long gone by then, and a client that never reads does not keep
/// its connection, its slot and its write buffer for ever.
const UNACKNOWLEDGED_ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Sets the receive buffer and the timeout above on the listener, so that
/// every connection has them from its first byte (the kernel copies a
/// listener's options to the connections it accepts). Best effort: without
/// them a client that pipelines or never reads only costs more.
pub fn limit_per_connection(listener: &std::net::TcpListener) {
    let user_timeout_ms = UNACKNOWLEDGED_ANSWER_TIMEOUT.as_millis() as libc::c_uint;
    set_option(listener, libc::SOL_SOCKET, libc::SO_RCVBUF, RECEIVE_BUFFER);
    set_option(
        listener,
        libc::IPPROTO_TCP,
        libc::TCP_USER_TIMEOUT,
        user_timeout_ms,
    );
}

fn set_option<T>(
    socket: &impl std::os::fd::AsRawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: T,
) {
    // SAFETY: setsockopt reads `value` for its length; the descriptor is the open socket's.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            std::ptr::from_ref(&value).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_shared_among_workers_below_the_open_file_limit() {
        assert_eq!(connections_per_worker(100, Some(1_048_576), 2), 50);
        assert_eq!(connections_per_worker(101, None, 2), 51);
        assert_eq!(connections_per_worker(25_600, Some(1024), 2), 448);
        assert_eq!(connections_per_worker(100, Some(10), 4), 1);
        assert_eq!(connections_per_worker(1, Some(1024), 2), 1);
    }

    fn option(socket: &impl std::os::fd::AsRawFd, level: libc::c_int, name: libc::c_int) -> i32 {
        let mut value: libc::c_int = 0;
        let mut length = std::mem::size_of_val(&value) as libc::socklen_t;
        // SAFETY: getsockopt writes at most `length` bytes into `value`.
        let status = unsafe {
            libc::getsockopt(
                socket.as_raw_fd(),
                level,
                name,
                std::ptr::from_mut(&mut value).cast(),
                &mut length,
            )
        };
        assert_eq!(status, 0);
        value
    }

    #[test]
    fn accepted_connections_carry_the_listeners_limits() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        limit_per_connection(&listener);
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        assert_eq!(
            option(&accepted, libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT) as u128,
            UNACKNOWLEDGED_ANSWER_TIMEOUT.as_millis()
        );
        let receive_buffer = option(&accepted, libc::SOL_SOCKET, libc::SO_RCVBUF);
        assert!(
            receive_buffer <= 8 * 1024,
            "the kernel's least, not its default: {receive_buffer}"
        );
    }
}

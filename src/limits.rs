//! What one client can take: file descriptors (every connection takes one;
//! the common soft limit of 1,024 let a client holding a thousand connections
//! starve the listener and the kubelet's probes, while the hard limit is
//! usually far higher), and memory per connection.

/// Descriptors kept for everything but client connections: the listener,
/// connections to Qdrant, the log, the allocator's and runtime's own.
const RESERVED: u64 = 128;

/// Raises the soft limit on open files to the hard limit, and returns the
/// soft limit in force (`None` where it cannot be read).
pub fn raise_open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given, nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
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

/// Connections each of `workers` accepts at most, so that together they stay
/// below the open file limit (a worker at its cap stops accepting until a
/// connection closes, instead of failing every accept).
pub fn connections_per_worker(open_file_limit: Option<u64>, workers: usize) -> usize {
    // actix-web's own default, where the limit is unknown or larger.
    const ACTIX_DEFAULT: u64 = 25_600;
    let usable = open_file_limit.map_or(ACTIX_DEFAULT, |limit| {
        limit.saturating_sub(RESERVED).max(1) / workers.max(1) as u64
    });
    usize::try_from(usable.clamp(1, ACTIX_DEFAULT)).unwrap_or(1)
}

/// What the kernel queues of a client's unread requests, per connection.
///
/// actix decodes every request waiting in its read buffer (up to 128 KiB)
/// before it applies its limit of 16 pipelined requests, at about 7 KB of
/// memory each: 2,000 pipelined `GET /metrics` held 14 MB per connection. Our
/// requests are bodiless GETs of a few hundred bytes: a small receive buffer
/// holds dozens of them, and a client pipelining more waits on TCP instead.
const RECEIVE_BUFFER: libc::c_int = 4096;

/// Sets the receive buffer on the listener, so that every connection has it
/// from its first byte (a client sends before `accept` returns). Best effort:
/// without it the memory per pipelining client is only larger.
pub fn limit_receive_buffer(listener: &std::net::TcpListener) {
    let size = RECEIVE_BUFFER;
    // SAFETY: setsockopt reads `size` for its length; the descriptor is the open listener's.
    unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(listener),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            std::ptr::from_ref(&size).cast(),
            std::mem::size_of_val(&size) as libc::socklen_t,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_stay_below_the_open_file_limit() {
        assert_eq!(connections_per_worker(Some(1024), 2), 448);
        assert_eq!(connections_per_worker(Some(1_048_576), 2), 25_600);
        assert_eq!(connections_per_worker(Some(10), 4), 1);
        assert_eq!(connections_per_worker(None, 2), 25_600);
    }
}

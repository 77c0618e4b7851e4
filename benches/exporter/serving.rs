//! Serving: cache hits against nginx serving the same bytes, and floods that
//! try to take the exporter's memory or its probes away.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NGINX: &str = "/usr/sbin/nginx";

/// nginx serving the exporter's two cached bodies from a memory-backed
/// directory, the compressed one through `gzip_static`, as a ceiling.
pub struct Nginx {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// `None` where nginx is not installed (scripts/bench.sh installs it).
    pub fn start(text: &[u8], gzip: &[u8]) -> Option<Nginx> {
        if !Path::new(NGINX).exists() {
            return None;
        }
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .ok()?;
        std::fs::write(dir.path().join("metrics"), text).ok()?;
        std::fs::write(dir.path().join("metrics.gz"), gzip).ok()?;
        let port = free_port();
        let d = dir.path().display();
        let config = format!(
            "daemon off; master_process on; worker_processes auto; user root; pid {d}/nginx.pid;\n\
             error_log {d}/error.log;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log off; sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_requests 1000000;\n\
               open_file_cache max=16; open_file_cache_valid 1h;\n\
               client_body_temp_path {d}/client; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;\n\
               uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
               server {{ listen 127.0.0.1:{port}; root {d};\n\
                 location = /metrics {{ default_type \"text/plain; version=0.0.4; charset=utf-8\"; gzip_static on; }} }}\n\
             }}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), config).ok()?;
        let child = Command::new(NGINX)
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let nginx = Nginx {
            child,
            url: format!("http://127.0.0.1:{port}/metrics"),
            _dir: dir,
        };
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(nginx);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The master process and its workers, which serve.
    pub fn processes(&self) -> Vec<u32> {
        let master = self.child.id();
        let children = std::fs::read_to_string(format!("/proc/{master}/task/{master}/children"))
            .unwrap_or_default();
        std::iter::once(master)
            .chain(
                children
                    .split_whitespace()
                    .filter_map(|pid| pid.parse().ok()),
            )
            .collect()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One response's raw body (not decompressed), with the `Accept-Encoding` given.
pub async fn fetch_raw(
    client: &awc::Client,
    url: &str,
    accept_encoding: Option<&str>,
) -> (Duration, bytes::Bytes) {
    let started = Instant::now();
    let mut request = client.get(url).no_decompress();
    if let Some(codings) = accept_encoding {
        request = request.insert_header(("Accept-Encoding", codings));
    }
    let mut response = request.send().await.expect("answer");
    let body = response
        .body()
        .limit(256 * 1024 * 1024)
        .await
        .expect("body");
    assert!(response.status().is_success());
    (started.elapsed(), body)
}

const WRK: &str = "/usr/bin/wrk";

/// What one run of the load generator measured.
pub struct Load {
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// CPU time (user and system) the server spent per answer: what a hit
    /// costs, however the scheduler shared the cores with the load generator.
    pub cpu_per_answer: Duration,
}

/// wrk (2 threads, keep-alive `connections`, for `duration`) requesting `url`
/// as fast as answers come: the issue's own load generator, in C, so that the
/// servers rather than the client set the pace. `server` is the serving
/// processes, whose CPU time is read around the run. `None` where wrk is not
/// installed.
pub fn wrk(
    url: &str,
    accept_encoding: Option<&str>,
    connections: usize,
    duration: Duration,
    server: &[u32],
) -> Option<Load> {
    if !Path::new(WRK).exists() {
        return None;
    }
    let mut command = Command::new(WRK);
    command
        .args(["--threads", "2", "--latency"])
        .arg(format!("--connections={connections}"))
        .arg(format!("--duration={}s", duration.as_secs()));
    if let Some(codings) = accept_encoding {
        command.args(["--header", &format!("Accept-Encoding: {codings}")]);
    }
    let cpu_before = cpu_time(server);
    let output = command.arg(url).output().expect("wrk runs");
    let cpu = cpu_time(server) - cpu_before;
    let report = String::from_utf8_lossy(&output.stdout);
    // A load that was refused or failed measures nothing: stop the benchmark.
    assert!(
        output.status.success() && !report.contains("Non-2xx") && !report.contains("Socket errors"),
        "wrk against {url} failed:\n{report}"
    );
    let field = |label: &str| {
        report
            .lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {label} in wrk's report:\n{report}"))
    };
    // "  69000 requests in 3.01s, 14.6GB read"
    let answers: u32 = report
        .lines()
        .find_map(|line| line.trim().split_once(" requests in "))
        .and_then(|(count, _)| count.parse().ok())
        .unwrap_or_else(|| panic!("no request count in wrk's report:\n{report}"));
    Some(Load {
        per_second: field("Requests/sec:").parse().expect("a rate"),
        p50: wrk_duration(field("50%")),
        p99: wrk_duration(field("99%")),
        cpu_per_answer: cpu / answers.max(1),
    })
}

/// The user and system CPU time the processes have used so far.
fn cpu_time(pids: &[u32]) -> Duration {
    // SAFETY: sysconf reads a constant of the system.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let ticks: u64 = pids
        .iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .map(|stat| {
            // Fields 14 and 15 (utime, stime), counted after the parenthesised name.
            let after_name = &stat[stat.rfind(')').map_or(0, |end| end + 2)..];
            after_name
                .split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|field| field.parse::<u64>().ok())
                .sum::<u64>()
        })
        .sum();
    Duration::from_secs_f64(ticks as f64 / ticks_per_second)
}

/// The run with the median rate.
pub fn median(mut runs: Vec<Load>) -> Load {
    runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    runs.swap_remove(runs.len() / 2)
}

/// wrk's latencies: `412.00us`, `3.61ms`, `1.02s`.
fn wrk_duration(text: &str) -> Duration {
    let (number, scale) = [("us", 1e-6), ("ms", 1e-3), ("s", 1.0)]
        .into_iter()
        .find_map(|(unit, scale)| Some((text.strip_suffix(unit)?, scale)))
        .unwrap_or_else(|| panic!("a wrk duration: {text}"));
    Duration::from_secs_f64(number.parse::<f64>().expect("a number") * scale)
}

/// Connections that each send `requests` pipelined `GET /metrics` and never
/// read an answer; held open until dropped.
pub fn pipelining_flood(port: u16, connections: usize, requests: usize) -> Vec<TcpStream> {
    let pipeline = b"GET /metrics HTTP/1.1\r\nHost: exporter\r\n\r\n".repeat(requests);
    let streams = open(port, connections, None);
    std::thread::scope(|scope| {
        for stream in &streams {
            let pipeline = &pipeline;
            scope.spawn(move || {
                // The exporter stops reading once its pipeline is full: stop writing then.
                let mut stream = stream;
                stream
                    .set_write_timeout(Some(Duration::from_secs(2)))
                    .unwrap();
                let _ = stream.write_all(pipeline);
            });
        }
    });
    streams
}

/// Connections that each send one `GET /metrics` and never read the answer
/// (with a small receive buffer, so that little of it fits in the kernel).
pub fn slow_reader_flood(port: u16, connections: usize) -> Vec<TcpStream> {
    open(port, connections, Some(4096))
        .into_iter()
        .filter_map(|mut stream| {
            stream
                .write_all(b"GET /metrics HTTP/1.1\r\nHost: exporter\r\n\r\n")
                .ok()?;
            Some(stream)
        })
        .collect()
}

/// Connections opened and left idle.
pub fn idle_flood(port: u16, connections: usize) -> Vec<TcpStream> {
    open(port, connections, None)
}

/// Starts `connections` connects at once and keeps those established within
/// 2 s: beyond the exporter's cap and the kernel's accept queue, a connect
/// waits for a slot (retrying its SYN), and waiting on each in turn would
/// take minutes.
fn open(port: u16, connections: usize, receive_buffer: Option<libc::c_int>) -> Vec<TcpStream> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let address = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be(),
        },
        sin_zero: [0; 8],
    };
    let started: Vec<TcpStream> = (0..connections)
        .filter_map(|_| {
            // SAFETY: a new socket; its descriptor is owned by the stream made from it.
            let fd = unsafe {
                libc::socket(
                    libc::AF_INET,
                    libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                    0,
                )
            };
            if fd < 0 {
                return None;
            }
            // SAFETY: `fd` is a socket this process just opened and nothing else owns.
            let stream = unsafe { TcpStream::from_raw_fd(fd) };
            if let Some(size) = receive_buffer {
                // SAFETY: setsockopt reads `size` for its length; the descriptor is the stream's.
                unsafe {
                    libc::setsockopt(
                        stream.as_raw_fd(),
                        libc::SOL_SOCKET,
                        libc::SO_RCVBUF,
                        std::ptr::from_ref(&size).cast(),
                        std::mem::size_of_val(&size) as libc::socklen_t,
                    );
                }
            }
            // SAFETY: connect reads `address` for the length given.
            let status = unsafe {
                libc::connect(
                    stream.as_raw_fd(),
                    std::ptr::from_ref(&address).cast(),
                    std::mem::size_of_val(&address) as libc::socklen_t,
                )
            };
            let in_progress =
                std::io::Error::last_os_error().raw_os_error() == Some(libc::EINPROGRESS);
            (status == 0 || in_progress).then_some(stream)
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(2);
    started
        .into_iter()
        .filter(|stream| loop {
            // getpeername answers once the handshake is done.
            if stream.peer_addr().is_ok() {
                break stream.set_nonblocking(false).is_ok();
            }
            if Instant::now() > deadline || stream.take_error().ok().flatten().is_some() {
                break false;
            }
            std::thread::sleep(Duration::from_millis(1));
        })
        .collect()
}

/// A kubelet-style probe: a new connection, `GET /healthz`, the whole answer
/// within the kubelet's default timeout of 1 s.
pub fn probe(port: u16) -> Option<Duration> {
    get(port, "/healthz", None, Duration::from_secs(1))
}

/// `GET path` on a new connection, the whole answer within `timeout`: how
/// long it took, if it was a 200.
pub fn get(
    port: u16,
    path: &str,
    accept_encoding: Option<&str>,
    timeout: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let mut stream =
        TcpStream::connect_timeout(&(std::net::Ipv4Addr::LOCALHOST, port).into(), timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    let encoding = accept_encoding
        .map(|codings| format!("Accept-Encoding: {codings}\r\n"))
        .unwrap_or_default();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: exporter\r\n{encoding}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    answer
        .starts_with(b"HTTP/1.1 200")
        .then(|| started.elapsed())
}

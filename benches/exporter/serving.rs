//! Serving: cache hits against nginx serving the same bytes, and floods that
//! try to take the exporter's memory or its probes away.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::future::join_all;

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

/// One response's raw body (not decompressed), asking for gzip or not.
pub async fn fetch_raw(client: &awc::Client, url: &str, gzip: bool) -> (Duration, bytes::Bytes) {
    let started = Instant::now();
    let mut request = client.get(url).no_decompress();
    if gzip {
        request = request.insert_header(("Accept-Encoding", "gzip"));
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

pub struct Load {
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub body: usize,
}

/// Keep-alive connections requesting as fast as answers come, for `duration`.
pub async fn load(url: &str, gzip: bool, connections: usize, duration: Duration) -> Load {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let body = fetch_raw(&client, url, gzip).await.1.len();
    let deadline = Instant::now() + duration;
    let workers = (0..connections).map(|_| async {
        let mut latencies = Vec::new();
        while Instant::now() < deadline {
            latencies.push(fetch_raw(&client, url, gzip).await.0);
        }
        latencies
    });
    let started = Instant::now();
    let mut latencies: Vec<Duration> = join_all(workers).await.into_iter().flatten().collect();
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let at = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    Load {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        body,
    }
}

/// Connections that each send `requests` pipelined `GET /metrics` and never
/// read an answer; held open until dropped.
pub fn pipelining_flood(port: u16, connections: usize, requests: usize) -> Vec<TcpStream> {
    let pipeline = b"GET /metrics HTTP/1.1\r\nHost: exporter\r\n\r\n".repeat(requests);
    let streams: Vec<TcpStream> = (0..connections)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connects"))
        .collect();
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
    (0..connections)
        .filter_map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
            let size: libc::c_int = 4096;
            // SAFETY: setsockopt reads `size` for its length; the descriptor is the open stream's.
            unsafe {
                libc::setsockopt(
                    std::os::fd::AsRawFd::as_raw_fd(&stream),
                    libc::SOL_SOCKET,
                    libc::SO_RCVBUF,
                    std::ptr::from_ref(&size).cast(),
                    std::mem::size_of_val(&size) as libc::socklen_t,
                );
            }
            stream
                .write_all(b"GET /metrics HTTP/1.1\r\nHost: exporter\r\n\r\n")
                .ok()?;
            Some(stream)
        })
        .collect()
}

/// Connections opened and left idle.
pub fn idle_flood(port: u16, connections: usize) -> Vec<TcpStream> {
    (0..connections)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect()
}

/// A kubelet-style probe: a new connection, `GET /healthz`, the whole answer.
pub fn probe(port: u16) -> Option<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: exporter\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    answer
        .starts_with(b"HTTP/1.1 200")
        .then(|| started.elapsed())
}

//! Benchmark: prints figures, asserts nothing. Run with `scripts/bench.sh`
//! (installs nginx, the ceiling the cache hits are compared with, then runs
//! `cargo bench --bench exporter`). With `QDRANT_EXPORTER_BENCH_BASELINE` set
//! to another build's binary (an earlier commit's, say), every section
//! measures it too, side by side in the same run.
//!
//! The exporter runs as its own process (the release binary), so that its
//! memory is measured alone; the mock Qdrant and the load generator run here.
//! Both share this machine's cores with the exporter: the figures are a floor.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mock_qdrant::MockQdrant;

#[path = "exporter/cluster.rs"]
mod cluster;
#[path = "exporter/serving.rs"]
mod serving;

const BINARY: &str = env!("CARGO_BIN_EXE_qdrant-exporter");
/// Names the binary of another build to measure beside this one.
const BASELINE_ENV: &str = "QDRANT_EXPORTER_BENCH_BASELINE";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/qdrant-v1.18.3");
/// Concurrent keep-alive connections of the load generator (wrk -t2 -c10, as
/// in the measurement), for this long per run.
const CONNECTIONS: usize = 10;
const LOAD_DURATION: Duration = Duration::from_secs(3);
/// Runs of each server, alternated, per figure.
const ALTERNATIONS: usize = 5;

/// An exporter build the benchmark measures.
struct Build {
    label: &'static str,
    binary: String,
}

impl Build {
    /// Every collector this build has, as its `--help` lists them: an
    /// earlier build may name fewer, or others.
    fn collectors(&self) -> String {
        let help = Command::new(&self.binary)
            .arg("--help")
            .output()
            .expect("the build runs");
        let help = String::from_utf8_lossy(&help.stdout);
        let listed = help
            .split("Collectors to run, comma-separated, of: ")
            .nth(1)
            .and_then(|rest| rest.split(" [").next())
            .expect("--help lists the collectors");
        listed.split(", ").collect::<Vec<_>>().join(",")
    }
}

/// This tree's build, after the baseline's when one is given.
fn builds() -> Vec<Build> {
    let this = Build {
        label: "this build",
        binary: BINARY.to_owned(),
    };
    match std::env::var(BASELINE_ENV) {
        Ok(binary) => vec![
            Build {
                label: "baseline",
                binary,
            },
            this,
        ],
        Err(_) => vec![this],
    }
}

struct Exporter {
    child: Child,
    port: u16,
    url: String,
}

impl Exporter {
    async fn start(
        build: &Build,
        qdrant_url: &str,
        ttl_seconds: &str,
        extra_env: &[(&str, &str)],
    ) -> Exporter {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&build.binary)
            .env_clear()
            .env("QDRANT_URL", qdrant_url)
            .env(
                "QDRANT_EXPORTER_LISTEN_ADDRESS",
                format!("127.0.0.1:{port}"),
            )
            .env("QDRANT_EXPORTER_CACHE_TTL_SECONDS", ttl_seconds)
            .env("QDRANT_EXPORTER_LOG_LEVEL", "warn")
            .envs(extra_env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .expect("exporter starts");
        let exporter = Exporter {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
        };
        let client = awc::Client::default();
        for _ in 0..200 {
            if client
                .get(format!("{}/healthz", exporter.url))
                .send()
                .await
                .is_ok()
            {
                return exporter;
            }
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("exporter did not come up");
    }

    /// (current RSS, peak RSS) in MiB, from /proc.
    fn rss_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| {
            let line = status.lines().find(|l| l.starts_with(name)).unwrap();
            let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
            kib / 1024.0
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until no mock has received a request for a while: the cluster-scope
/// collectors a refresh starts run on after its scrape was answered.
async fn settle(mocks: &[&MockQdrant]) {
    let total = || {
        mocks
            .iter()
            .map(|mock| mock.requests().len())
            .sum::<usize>()
    };
    let mut seen = total();
    loop {
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        let now = total();
        if now == seen {
            return;
        }
        seen = now;
    }
}

/// Cache hits (a TTL of an hour), identity and gzip, side by side with nginx
/// serving the same bytes from memory (gzip_static for the compressed ones),
/// both loaded by wrk; then zstd, which Debian's nginx does not serve.
async fn cache_hits_against_nginx(mock: &MockQdrant, collections: usize, build: &Build) {
    mock.synthesize(collections);
    let exporter = Exporter::start(build, &mock.url(), "3600", &[]).await;
    let url = format!("{}/metrics", exporter.url);
    let client = awc::Client::default();
    let text = serving::fetch_raw(&client, &url, None).await.1;
    let gzip = serving::fetch_raw(&client, &url, Some("gzip")).await.1;
    let Some(nginx) = serving::Nginx::start(&text, &gzip) else {
        println!("cache hits: nginx not installed (scripts/bench.sh installs it)");
        return;
    };
    for (encoding, accept_encoding, body) in
        [("identity", None, &text), ("gzip", Some("gzip"), &gzip)]
    {
        // Alternated, the median run of each kept: the machine's noise is as
        // large as the difference measured.
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for _ in 0..ALTERNATIONS {
            let (Some(our_run), Some(their_run)) = (
                serving::wrk(
                    &url,
                    accept_encoding,
                    CONNECTIONS,
                    LOAD_DURATION,
                    &[exporter.child.id()],
                ),
                serving::wrk(
                    &nginx.url,
                    accept_encoding,
                    CONNECTIONS,
                    LOAD_DURATION,
                    &nginx.processes(),
                ),
            ) else {
                println!("cache hits: wrk not installed (scripts/bench.sh installs it)");
                return;
            };
            ours.push(our_run);
            theirs.push(their_run);
        }
        let ratios: Vec<f64> = ours
            .iter()
            .zip(&theirs)
            .map(|(our_run, their_run)| our_run.per_second / their_run.per_second)
            .collect();
        let (lowest, highest) = ratios.iter().fold((f64::MAX, f64::MIN), |(low, high), &r| {
            (low.min(r), high.max(r))
        });
        let (ours, theirs) = (serving::median(ours), serving::median(theirs));
        let (_, peak) = exporter.rss_mib();
        println!(
            "{:<10} cache hit {collections:>5} collections {encoding:<8} body {:>8} B  \
             exporter {:>8.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms  CPU {:>6.1} us/answer  |  \
             nginx {:>8.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms  CPU {:>6.1} us/answer  |  \
             exporter/nginx {:.2} (runs {lowest:.2} to {highest:.2})  |  exporter peak RSS {peak:.1} MiB",
            build.label,
            body.len(),
            ours.per_second,
            ours.p50.as_secs_f64() * 1e3,
            ours.p99.as_secs_f64() * 1e3,
            ours.cpu_per_answer.as_secs_f64() * 1e6,
            theirs.per_second,
            theirs.p50.as_secs_f64() * 1e3,
            theirs.p99.as_secs_f64() * 1e3,
            theirs.cpu_per_answer.as_secs_f64() * 1e6,
            ours.per_second / theirs.per_second,
        );
    }
    let zstd = serving::fetch_raw(&client, &url, Some("zstd")).await.1;
    let runs = (0..ALTERNATIONS)
        .filter_map(|_| {
            serving::wrk(
                &url,
                Some("zstd"),
                CONNECTIONS,
                LOAD_DURATION,
                &[exporter.child.id()],
            )
        })
        .collect();
    let ours = serving::median(runs);
    println!(
        "{:<10} cache hit {collections:>5} collections zstd     body {:>8} B  \
         exporter {:>8.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms  CPU {:>6.1} us/answer",
        build.label,
        zstd.len(),
        ours.per_second,
        ours.p50.as_secs_f64() * 1e3,
        ours.p99.as_secs_f64() * 1e3,
        ours.cpu_per_answer.as_secs_f64() * 1e6,
    );
}

/// Floods at 1,000 collections: pipelined requests nobody reads, thousands of
/// idle connections; the exporter's RSS during and 10 s after, and how long a
/// kubelet-style probe of /healthz takes meanwhile.
async fn floods(mock: &MockQdrant, build: &Build) {
    // Thousands of connections from this process too.
    qdrant_exporter::limits::raise_open_file_limit();
    mock.synthesize(1000);
    // The health listener too, to compare its probes with the main port's.
    let health_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let health_address = format!("127.0.0.1:{health_port}");
    let exporter = Exporter::start(
        build,
        &mock.url(),
        "3600",
        &[("QDRANT_EXPORTER_HEALTH_LISTEN_ADDRESS", &health_address)],
    )
    .await;
    let client = awc::Client::default();
    serving::fetch_raw(&client, &format!("{}/metrics", exporter.url), None).await;
    let (before, _) = exporter.rss_mib();
    let port = exporter.port;
    type Flood = fn(u16) -> Vec<std::net::TcpStream>;
    let floods: [(&str, Flood); 3] = [
        (
            "200 connections x 2,000 pipelined GET /metrics, never read",
            |port| serving::pipelining_flood(port, 200, 2000),
        ),
        (
            "1,000 slow readers: one GET /metrics each, never read",
            |port| serving::slow_reader_flood(port, 1000),
        ),
        ("5,000 idle connections", |port| {
            serving::idle_flood(port, 5000)
        }),
    ];
    for (what, flood) in floods {
        let held = std::thread::spawn(move || {
            let streams = flood(port);
            // Alternating, so that both ports see the same moments of the flood.
            let mut main = Vec::new();
            let mut health = Vec::new();
            for _ in 0..20 {
                main.push(serving::probe(port));
                health.push(serving::probe(health_port));
            }
            main.sort_unstable();
            health.sort_unstable();
            (streams, main, health)
        })
        .join()
        .unwrap();
        let (during, peak) = exporter.rss_mib();
        let (streams, probes, health_probes) = held;
        let connections = streams.len();
        drop(streams);
        let answered: Vec<Duration> = probes.iter().flatten().copied().collect();
        let health_answered: Vec<Duration> = health_probes.iter().flatten().copied().collect();
        // Closed: wait for the exporter to let go.
        actix_web::rt::time::sleep(Duration::from_secs(10)).await;
        let (after, _) = exporter.rss_mib();
        println!(
            "{:<10} flood: {what} ({connections} opened): RSS before {before:.1} MiB, during {during:.1} MiB, peak {peak:.1} MiB, \
             10 s after {after:.1} MiB; /healthz probes answered {}/20, median {:.2} ms, max {:.2} ms; \
             on the health listener {}/20, median {:.2} ms, max {:.2} ms",
            build.label,
            answered.len(),
            answered.get(answered.len() / 2).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
            answered.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
            health_answered.len(),
            health_answered
                .get(health_answered.len() / 2)
                .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
            health_answered.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
        );
    }
}

/// Pipelining clients that never read, on every connection but one, while the
/// last one scrapes every 0.3 s with a TTL of 1 s: each stuck answer keeps
/// alive the exposition it was answered from, after refreshes replaced it.
async fn pipelining_while_refreshing(mock: &MockQdrant, build: &Build) {
    const ALLOWED: usize = qdrant_exporter::limits::DEFAULT_MAX_CONNECTIONS;
    mock.synthesize(1000);
    let exporter = Exporter::start(build, &mock.url(), "1", &[]).await;
    let url = format!("{}/metrics", exporter.url);
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish();
    serving::fetch_raw(&client, &url, None).await;
    let (before, _) = exporter.rss_mib();
    let port = exporter.port;
    let streams = std::thread::spawn(move || serving::pipelining_flood(port, ALLOWED - 1, 2000))
        .join()
        .unwrap();
    for _ in 0..20 {
        serving::fetch_raw(&client, &url, None).await;
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    }
    let (during, peak) = exporter.rss_mib();
    println!(
        "{:<10} flood: {} connections x 2,000 pipelined GET /metrics, never read, while the last \
         of {ALLOWED} scrapes every 0.3 s (TTL 1 s): RSS before {before:.1} MiB, during {during:.1} MiB, \
         peak {peak:.1} MiB",
        build.label,
        streams.len()
    );
}

/// The landing page, which needs no refresh, loaded by wrk while a client
/// scrapes a large node (5,000 collections, its level-4 telemetry of about
/// 30 MB read on every refresh) for gzip, in a loop, with a TTL of 0: how
/// long the refreshes' work keeps the other requests of a worker waiting.
async fn landing_page_while_refreshing(mock: &MockQdrant, build: &Build) {
    const LOADED_FOR: Duration = Duration::from_secs(10);
    mock.synthesize(5000);
    mock.set_latency(Duration::from_millis(2));
    let telemetry_only = [
        (
            "QDRANT_EXPORTER_COLLECTORS",
            "collections,shards,segments,optimizations",
        ),
        (
            "QDRANT_EXPORTER_COLLECTOR_INTERVALS",
            "segments=0,optimizations=0",
        ),
    ];
    let exporter = Exporter::start(build, &mock.url(), "0", &telemetry_only).await;
    let port = exporter.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let scraping = stop.clone();
    let scraper = std::thread::spawn(move || {
        let mut refreshes = 0;
        while !scraping.load(std::sync::atomic::Ordering::Relaxed) {
            // As Prometheus asks: the gzip body, which a large node's text is held as.
            let scrape = serving::get(port, "/metrics", Some("gzip"), Duration::from_secs(60));
            refreshes += usize::from(scrape.is_some());
        }
        refreshes
    });
    let load = serving::wrk(
        &format!("{}/", exporter.url),
        None,
        4,
        LOADED_FOR,
        &[exporter.child.id()],
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let refreshes = scraper.join().expect("the scraper ends");
    if let Some(load) = load {
        println!(
            "{:<10} landing page while refreshing 5000 collections ({refreshes} refreshes in {} s): \
             p50 {:.2} ms, p99 {:.2} ms, {:.0} answers/s",
            build.label,
            LOADED_FOR.as_secs(),
            load.p50.as_secs_f64() * 1e3,
            load.p99.as_secs_f64() * 1e3,
            load.per_second
        );
    }
    mock.set_latency(Duration::ZERO);
}

/// The collectors and settings of the exporter before the node-local refresh:
/// every collector on every refresh, collection figures asked per collection.
/// Telemetry answers 404 here, so the collectors take that per-collection path
/// (one more request than before: the refused telemetry).
const BEFORE: [(&str, &str); 2] = [
    (
        "QDRANT_EXPORTER_COLLECTORS",
        "collections,cluster,shards,snapshots,issues",
    ),
    (
        "QDRANT_EXPORTER_COLLECTOR_INTERVALS",
        "collections=0,shards=0,snapshots=0,issues=0",
    ),
];

/// The telemetry's collectors on every refresh, where by default they run
/// every 25 s: every later refresh is then one that reads the telemetry, the
/// heaviest kind.
const TELEMETRY_ON_EVERY_REFRESH: (&str, &str) = (
    "QDRANT_EXPORTER_COLLECTOR_INTERVALS",
    "collections=0,shards=0",
);

/// How the exporter reads Qdrant: per collection, as before the node-local
/// refresh, or as configured by default.
#[derive(Clone, Copy)]
enum Model {
    PerCollection,
    Default,
}

impl Model {
    fn label(self) -> &'static str {
        match self {
            Model::PerCollection => "per collection",
            Model::Default => "default",
        }
    }
}

async fn start_as(mock: &MockQdrant, model: Model, build: &Build, ttl: &str) -> Exporter {
    mock.clear_faults();
    match model {
        Model::PerCollection => {
            mock.fail_path("/telemetry", mock_qdrant::Fault::Status(404));
            Exporter::start(build, &mock.url(), ttl, &BEFORE).await
        }
        Model::Default => Exporter::start(build, &mock.url(), ttl, &[]).await,
    }
}

/// Requests and bytes Qdrant sends for one refresh: the first (which also runs
/// the collectors that have an interval) and a later one (which does not).
async fn refresh_cost(mock: &MockQdrant, collections: usize, model: Model, build: &Build) {
    mock.synthesize(collections);
    let exporter = start_as(mock, model, build, "0").await;
    let url = format!("{}/metrics", exporter.url);
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(60))
        .finish();
    let mut figures = Vec::new();
    for _ in 0..2 {
        mock.reset_requests();
        serving::fetch_raw(&client, &url, None).await;
        // What the refresh started in the background counts too.
        settle(&[mock]).await;
        figures.push((mock.requests().len(), mock.bytes_sent()));
    }
    println!(
        "{:<10} refresh cost {:<14} {collections:>5} collections: first refresh {:>6} requests {:>10} B; later refreshes {:>6} requests {:>10} B",
        build.label,
        model.label(),
        figures[0].0,
        figures[0].1,
        figures[1].0,
        figures[1].1
    );
    mock.clear_faults();
}

/// Series each node of a 3-node cluster serves, 1,000 collections of 3 shards
/// with 2 replicas each, and their sum over the nodes; the most series per
/// collection on one node, the largest scrape, and the largest peak RSS.
/// `detail` sets QDRANT_EXPORTER_DETAIL (`None`: the build's default).
async fn series_per_node(mock: &MockQdrant, model: Model, build: &Build, detail: Option<&str>) {
    const PEERS: [u64; 3] = [111, 222, 333];
    const COLLECTIONS: usize = 1000;
    mock.synthesize(COLLECTIONS);
    let env: Vec<(&str, &str)> = detail
        .map(|detail| ("QDRANT_EXPORTER_DETAIL", detail))
        .into_iter()
        .collect();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(60))
        .finish();
    let (mut per_node, mut per_collection, mut bytes, mut peak) = (Vec::new(), 0, 0, 0.0_f64);
    for me in 0..PEERS.len() {
        mock.place_shards(PEERS.to_vec(), me, 3, 2);
        let exporter = match model {
            Model::Default => Exporter::start(build, &mock.url(), "0", &env).await,
            Model::PerCollection => start_as(mock, model, build, "0").await,
        };
        // The second scrape serves what the first started in the background too.
        let mut text = String::new();
        for _ in 0..2 {
            let mut response = client
                .get(format!("{}/metrics", exporter.url))
                .send()
                .await
                .expect("answer");
            let body = response
                .body()
                .limit(256 * 1024 * 1024)
                .await
                .expect("body");
            text = String::from_utf8_lossy(&body).into_owned();
            settle(&[mock]).await;
        }
        let samples = text.lines().filter(|l| !l.starts_with('#'));
        per_node.push(samples.clone().count());
        let of_collections = samples.filter(|l| l.contains("collection=\"")).count();
        per_collection = per_collection.max(of_collections.div_ceil(COLLECTIONS));
        bytes = bytes.max(text.len());
        peak = peak.max(exporter.rss_mib().1);
    }
    println!(
        "{:<10} series {:<14} detail {:<7} 1000 collections x 3 shards x 2 replicas on 3 nodes: per node {per_node:?}, summed {}; \
         per collection on the busiest node {per_collection}; largest scrape {bytes} B; peak RSS {peak:.1} MiB",
        build.label,
        model.label(),
        detail.unwrap_or("default"),
        per_node.iter().sum::<usize>()
    );
    mock.clear_faults();
}

/// Cold refreshes: TTL 0, so every scrape is a full refresh against a mock with latency.
async fn cold_refresh(
    mock: &MockQdrant,
    build: &Build,
    collections: usize,
    latency: Duration,
    which: &str,
    extra_env: &[(&str, &str)],
    telemetry_refused: bool,
) {
    mock.synthesize(collections);
    mock.set_latency(latency);
    if telemetry_refused {
        mock.fail_path("/telemetry", mock_qdrant::Fault::Status(404));
    }
    let exporter = Exporter::start(build, &mock.url(), "0", extra_env).await;
    let (idle_rss, _) = exporter.rss_mib();
    let url = format!("{}/metrics", exporter.url);
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(60))
        .finish();
    // The first refresh also runs the collectors that have an interval; what
    // it started in the background is counted with it, not timed.
    mock.reset_requests();
    let first = serving::fetch_raw(&client, &url, None).await.0;
    settle(&[mock]).await;
    let (_, first_peak) = exporter.rss_mib();
    let first_requests = mock.requests().len();
    let mut times = Vec::new();
    for _ in 0..5 {
        mock.reset_requests();
        times.push(serving::fetch_raw(&client, &url, None).await.0);
    }
    settle(&[mock]).await;
    let requests_per_refresh = mock.requests().len();
    times.sort_unstable();
    let (rss, peak) = exporter.rss_mib();
    println!(
        "{:<10} cold refresh {collections:>5} collections at {} ms latency, {which}: first {:.3} s ({first_requests} requests); \
         later median {:.3} s, max {:.3} s (5 refreshes, {requests_per_refresh} requests each)",
        build.label,
        latency.as_millis(),
        first.as_secs_f64(),
        times[2].as_secs_f64(),
        times[4].as_secs_f64(),
    );
    println!(
        "{:<10} memory      idle after start {idle_rss:.1} MiB; peak by the first refresh {first_peak:.1} MiB; \
         after refreshes {rss:.1} MiB; peak {peak:.1} MiB",
        build.label
    );
    mock.set_latency(Duration::ZERO);
    mock.clear_faults();
}

#[actix_web::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        // `cargo test --benches` asks a harness-less bench to list its tests.
        return;
    }
    // `cargo bench --bench exporter -- serving floods` runs those sections only.
    let sections = ["cost", "series", "cluster", "serving", "floods", "refresh"];
    let chosen: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| sections.contains(a))
        .collect();
    let runs = |section: &str| chosen.is_empty() || chosen.contains(&section);
    println!(
        "qdrant-exporter benchmark ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let builds = builds();
    let this_build = builds.last().expect("this build is always measured");
    if runs("cost") {
        let mock = MockQdrant::start(FIXTURES).expect("mock starts");
        for collections in [10, 100, 1000, 5000] {
            refresh_cost(&mock, collections, Model::PerCollection, this_build).await;
            for build in &builds {
                refresh_cost(&mock, collections, Model::Default, build).await;
            }
        }
    }
    if runs("series") {
        let mock = MockQdrant::start(FIXTURES).expect("mock starts");
        series_per_node(&mock, Model::PerCollection, this_build, None).await;
        for build in &builds {
            series_per_node(&mock, Model::Default, build, None).await;
        }
        for detail in ["collection", "shard", "full"] {
            series_per_node(&mock, Model::Default, this_build, Some(detail)).await;
        }
    }
    if runs("cluster") {
        for nodes in [3, 10] {
            for build in &builds {
                cluster::rounds(nodes, build).await;
            }
        }
    }
    let mock = MockQdrant::start(FIXTURES).expect("mock starts");
    if runs("serving") {
        for collections in [100, 1000] {
            for build in &builds {
                cache_hits_against_nginx(&mock, collections, build).await;
            }
        }
        for _ in 0..2 {
            for build in &builds {
                landing_page_while_refreshing(&mock, build).await;
            }
        }
    }
    if runs("floods") {
        for build in &builds {
            floods(&mock, build).await;
            pipelining_while_refreshing(&mock, build).await;
        }
    }
    if runs("refresh") {
        let latency = Duration::from_millis(2);
        cold_refresh(
            &mock,
            this_build,
            1000,
            latency,
            "before (per collection)",
            &BEFORE,
            true,
        )
        .await;
        for build in &builds {
            // A large node: its first refresh reads level-4 telemetry of about 30 MB.
            cold_refresh(
                &mock,
                build,
                5000,
                latency,
                "default collectors, telemetry on every refresh",
                &[TELEMETRY_ON_EVERY_REFRESH],
                false,
            )
            .await;
        }
        for build in &builds {
            let every_collector = build.collectors();
            let everything = [
                ("QDRANT_EXPORTER_COLLECTORS", every_collector.as_str()),
                TELEMETRY_ON_EVERY_REFRESH,
            ];
            cold_refresh(
                &mock,
                build,
                1000,
                latency,
                "default collectors, telemetry on every refresh",
                &[TELEMETRY_ON_EVERY_REFRESH],
                false,
            )
            .await;
            cold_refresh(
                &mock,
                build,
                1000,
                latency,
                "every collector and the relay, telemetry on every refresh",
                &everything,
                false,
            )
            .await;
        }
        // Last, as the placement stays: a large cluster's leader, whose level-3
        // telemetry lists the state of 20,000 replicas (its level 4 is past
        // max_response_bytes and refused).
        mock.place_shards(vec![1001, 1002, 1003], 0, 3, 2);
        for build in &builds {
            cold_refresh(
                &mock,
                build,
                5000,
                latency,
                "a 3-node cluster's leader (3 shards x 2 replicas), telemetry on every refresh",
                &[TELEMETRY_ON_EVERY_REFRESH],
                false,
            )
            .await;
        }
    }
}

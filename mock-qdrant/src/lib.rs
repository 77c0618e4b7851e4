//! A mock of Qdrant's REST API for tests, benchmarks and the demo.
//!
//! It serves responses recorded from a real Qdrant (a fixture directory named
//! the way `tests/fixtures/qdrant-v1.18.3` is), or synthesises any number of
//! collections from one recorded collection, and it can be told to be slow, to
//! require an API key, to fail in the ways a real server fails, and to forget
//! collections. It records every request it receives. A directory with a
//! `recorded.json` (`{"stem": {"status": 408, "took_ms": 9351}}`) is a recorded
//! moment replayed: each answer with the status it was recorded with, and, when
//! asked, after the time it took (scaled).

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

/// Paths Qdrant answers without an API key.
const OPEN_PATHS: [&str; 4] = ["/", "/healthz", "/livez", "/readyz"];

/// The ways the mock can fail a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status and a Qdrant-style JSON error body
    /// (401 gets Qdrant's plain-text body instead).
    Status(u16),
    /// Answer 200 with a body that is not JSON.
    Garbage,
    /// Never answer.
    Hang,
    /// Answer 200 with a body that never ends (a JSON list opened and never
    /// closed), as fast as the client reads it.
    Endless,
    /// Answer 302 to this location.
    Redirect(String),
}

/// One request the mock received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The path as sent, still percent-encoded.
    pub raw_path: String,
    /// The query string, as sent.
    pub query: String,
    pub api_key: Option<String>,
}

#[derive(Default)]
struct Behaviour {
    /// When set, these collections are served instead of the recorded ones.
    synthetic: Option<Vec<String>>,
    latency: Duration,
    api_key: Option<String>,
    /// Faults by decoded path; the path `*` matches every request.
    faults: Vec<(String, Fault)>,
    /// Not listed, and 404 when fetched.
    deleted: BTreeSet<String>,
    /// Still listed, but 404 when fetched: deleted between list and fetch.
    vanishing: BTreeSet<String>,
    /// Where the synthetic collections' shards live, when they are spread over a cluster.
    placement: Option<Placement>,
    /// Fixture directories served in turn, one request each, as a load balancer
    /// in front of several nodes would; empty: always the mock's own directory.
    rotation: Vec<PathBuf>,
    /// Requests answered from the rotation so far.
    rotated: usize,
    /// Each recorded answer waits its recorded time times this (0: none).
    recorded_latency_scale: f64,
}

/// A synthetic cluster: see [`MockQdrant::place_shards`].
struct Placement {
    peers: Vec<u64>,
    me: usize,
    shards: u32,
    replication: usize,
}

impl Placement {
    fn holders(&self, shard: u32) -> impl Iterator<Item = usize> + '_ {
        (0..self.replication).map(move |r| (shard as usize + r) % self.peers.len())
    }

    /// A recorded replica set (`template`) remade for each shard of the placement.
    fn telemetry_shards(&self, template: &Value, points: u64) -> Value {
        let shards = (0..self.shards)
            .map(|shard| {
                let mut set = template.clone();
                set["id"] = json!(shard);
                let holders: Vec<usize> = self.holders(shard).collect();
                if holders.contains(&self.me) {
                    set["local"]["num_points"] = json!(points);
                } else {
                    set["local"] = Value::Null;
                }
                set["replicate_states"] = holders
                    .iter()
                    .map(|&peer| (self.peers[peer].to_string(), json!("Active")))
                    .collect::<serde_json::Map<_, _>>()
                    .into();
                set
            })
            .collect();
        Value::Array(shards)
    }

    /// `GET /cluster` of this node, in the recorded shape.
    fn cluster(&self) -> Value {
        let role = if self.me == 0 { "Leader" } else { "Follower" };
        json!({"result": {"status": "enabled", "peer_id": self.peers[self.me],
            "peers": self.each_peer(|peer| json!({"uri": format!("http://qdrant-{peer}:6335/")})),
            "raft_info": {"term": 1, "commit": 18, "pending_operations": 0,
                "leader": self.peers[0], "role": role, "is_voter": true},
            "consensus_thread_status": {"consensus_thread_status": "working",
                "last_update": "2026-12-01T18:50:25.763040714Z"},
            "message_send_failures": {}},
            "status": "ok", "time": 0.00001})
    }

    /// `GET /cluster/telemetry` (its default details level), in the recorded shape.
    fn cluster_telemetry(&self, names: &[String]) -> Value {
        let collections: serde_json::Map<String, Value> = names
            .iter()
            .map(|name| (name.clone(), json!({"id": name})))
            .collect();
        let peers = self.each_peer(|peer| {
            let role = if peer == 0 { "Leader" } else { "Follower" };
            json!({"uri": format!("http://qdrant-{peer}:6335/"), "responsive": true,
                "details": {"version": "1.18.3", "role": role, "is_voter": true, "term": 1,
                    "commit": 18, "num_pending_operations": 0,
                    "consensus_thread_status": {"consensus_thread_status": "working",
                        "last_update": "2026-12-01T18:50:25.775Z"}}})
        });
        json!({"result": {"collections": collections, "cluster": {"enabled": true,
            "number_of_peers": self.peers.len(), "peers": peers}},
            "status": "ok", "time": 0.00001})
    }

    /// Peer id → `entry(its index)`, for every peer.
    fn each_peer(&self, entry: impl Fn(usize) -> Value) -> Value {
        self.peers
            .iter()
            .enumerate()
            .map(|(index, id)| (id.to_string(), entry(index)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }

    fn collection_cluster(&self, points: u64) -> Value {
        let (mut local, mut remote) = (Vec::new(), Vec::new());
        for shard in 0..self.shards {
            for peer in self.holders(shard) {
                if peer == self.me {
                    local.push(
                        json!({"shard_id": shard, "points_count": points, "state": "Active"}),
                    );
                } else {
                    remote.push(
                        json!({"shard_id": shard, "peer_id": self.peers[peer], "state": "Active"}),
                    );
                }
            }
        }
        json!({"result": {"peer_id": self.peers[self.me], "shard_count": self.shards,
            "local_shards": local, "remote_shards": remote, "shard_transfers": []},
            "status": "ok", "time": 0.00001})
    }
}

/// Requests being answered right now, and the most there ever were.
#[derive(Default)]
struct InFlight {
    now: usize,
    most: usize,
}

struct State {
    fixtures: PathBuf,
    in_flight: Mutex<InFlight>,
    /// Client addresses seen: one per TCP connection.
    peers: Mutex<BTreeSet<SocketAddr>>,
    /// The recorded collection synthetic collections are made from
    /// (`collection-docs.json`, when the fixture directory has it).
    template: Option<Value>,
    behaviour: Mutex<Behaviour>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// Bytes of the response bodies sent.
    bytes_sent: AtomicU64,
}

impl State {
    /// The directory the next request is answered from.
    fn next_directory(&self) -> PathBuf {
        let mut behaviour = lock(&self.behaviour);
        if behaviour.rotation.is_empty() {
            return self.fixtures.clone();
        }
        let next = behaviour.rotation[behaviour.rotated % behaviour.rotation.len()].clone();
        behaviour.rotated += 1;
        next
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running mock; stops when dropped.
pub struct MockQdrant {
    address: SocketAddr,
    tls: bool,
    state: Arc<State>,
    handle: ServerHandle,
}

impl MockQdrant {
    /// Starts on a free loopback port, on the current actix runtime.
    pub fn start(fixtures: impl AsRef<Path>) -> std::io::Result<MockQdrant> {
        let (mock, server) = Self::bind("127.0.0.1:0", fixtures, None)?;
        actix_web::rt::spawn(server);
        Ok(mock)
    }

    /// Like [`MockQdrant::start`], serving https with this TLS configuration;
    /// [`MockQdrant::url`] then names the host `localhost`.
    pub fn start_tls(
        fixtures: impl AsRef<Path>,
        tls: rustls::ServerConfig,
    ) -> std::io::Result<MockQdrant> {
        let (mock, server) = Self::bind("127.0.0.1:0", fixtures, Some(tls))?;
        actix_web::rt::spawn(server);
        Ok(mock)
    }

    /// Binds `address` and returns the mock with its server, which the caller runs.
    pub fn bind(
        address: &str,
        fixtures: impl AsRef<Path>,
        tls: Option<rustls::ServerConfig>,
    ) -> std::io::Result<(MockQdrant, Server)> {
        let fixtures = fixtures.as_ref().to_owned();
        let template = std::fs::read_to_string(fixtures.join("collection-docs.json"))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        let state = Arc::new(State {
            fixtures,
            template,
            behaviour: Mutex::new(Behaviour::default()),
            requests: Mutex::new(Vec::new()),
            bytes_sent: AtomicU64::new(0),
            in_flight: Mutex::new(InFlight::default()),
            peers: Mutex::new(BTreeSet::new()),
        });
        let listener = TcpListener::bind(address)?;
        let address = listener.local_addr()?;
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(answer))
        })
        .workers(2)
        .disable_signals()
        .shutdown_timeout(0);
        let is_tls = tls.is_some();
        let server = match tls {
            Some(config) => server.listen_rustls_0_23(listener, config)?,
            None => server.listen(listener)?,
        }
        .run();
        let handle = server.handle();
        let mock = MockQdrant {
            address,
            tls: is_tls,
            state,
            handle,
        };
        Ok((mock, server))
    }

    pub fn url(&self) -> String {
        match self.tls {
            true => format!("https://localhost:{}", self.address.port()),
            false => format!("http://{}", self.address),
        }
    }

    /// Serve `count` synthetic collections named `collection-0000`, ... instead of the recorded ones.
    pub fn synthesize(&self, count: usize) {
        self.synthesize_names((0..count).map(|i| format!("collection-{i:04}")).collect());
    }

    /// Serve synthetic collections with these names instead of the recorded ones.
    pub fn synthesize_names(&self, names: Vec<String>) {
        lock(&self.state.behaviour).synthetic = Some(names);
    }

    /// Answer each request from the next of these directories in turn, as a
    /// load balancer in front of those nodes would.
    pub fn rotate_between(&self, directories: Vec<PathBuf>) {
        let mut behaviour = lock(&self.state.behaviour);
        behaviour.rotation = directories;
        behaviour.rotated = 0;
    }

    pub fn set_latency(&self, latency: Duration) {
        lock(&self.state.behaviour).latency = latency;
    }

    /// Answer each recorded answer after the time it took when recorded
    /// (`recorded.json`), times `scale`: 1.0 replays the moment as it was.
    pub fn replay_recorded_latency(&self, scale: f64) {
        lock(&self.state.behaviour).recorded_latency_scale = scale;
    }

    /// Require this key in the `api-key` header, as Qdrant does with an API key configured.
    pub fn require_api_key(&self, key: Option<&str>) {
        lock(&self.state.behaviour).api_key = key.map(str::to_owned);
    }

    /// Fail every request with `fault`.
    pub fn fail_all(&self, fault: Fault) {
        self.fail_path("*", fault);
    }

    /// Fail requests for this (decoded) path with `fault`.
    pub fn fail_path(&self, path: &str, fault: Fault) {
        lock(&self.state.behaviour)
            .faults
            .push((path.to_owned(), fault));
    }

    pub fn clear_faults(&self) {
        lock(&self.state.behaviour).faults.clear();
    }

    pub fn delete_collection(&self, name: &str) {
        lock(&self.state.behaviour).deleted.insert(name.to_owned());
    }

    /// Keep listing the collection but answer 404 for it.
    pub fn vanish_collection(&self, name: &str) {
        lock(&self.state.behaviour)
            .vanishing
            .insert(name.to_owned());
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// Number of requests received for this raw (percent-encoded) path.
    pub fn count(&self, raw_path: &str) -> usize {
        lock(&self.state.requests)
            .iter()
            .filter(|r| r.raw_path == raw_path)
            .count()
    }

    /// The most requests the mock was answering at the same time.
    pub fn most_in_flight(&self) -> usize {
        lock(&self.state.in_flight).most
    }

    /// Number of distinct TCP connections requests arrived on.
    pub fn connections(&self) -> usize {
        lock(&self.state.peers).len()
    }

    /// Bytes of response bodies sent since the last reset.
    pub fn bytes_sent(&self) -> u64 {
        self.state.bytes_sent.load(Ordering::Relaxed)
    }

    /// Place the synthetic collections' shards on a cluster of `peers`, as
    /// `peers[me]` sees them: shard `s` has replicas on peers `s`, `s + 1`, …
    /// (`replication` of them, round the ring). Telemetry,
    /// `GET /collections/{name}/cluster`, `GET /cluster` and
    /// `GET /cluster/telemetry` then answer as that node, `peers[0]` the raft
    /// leader and every peer responsive.
    pub fn place_shards(&self, peers: Vec<u64>, me: usize, shards: u32, replication: usize) {
        lock(&self.state.behaviour).placement = Some(Placement {
            peers,
            me,
            shards,
            replication,
        });
    }

    pub fn reset_requests(&self) {
        lock(&self.state.requests).clear();
        *lock(&self.state.in_flight) = InFlight::default();
        lock(&self.state.peers).clear();
        self.state.bytes_sent.store(0, Ordering::Relaxed);
    }
}

impl Drop for MockQdrant {
    fn drop(&mut self) {
        // Hanging handlers would otherwise keep a graceful stop waiting.
        drop(self.handle.stop(false));
    }
}

/// Counts a request as in flight until dropped (a hanging answer dropped by the client counts down too).
struct InFlightGuard<'a>(&'a Mutex<InFlight>);

impl<'a> InFlightGuard<'a> {
    fn enter(in_flight: &'a Mutex<InFlight>) -> Self {
        let mut counts = lock(in_flight);
        counts.now += 1;
        counts.most = counts.most.max(counts.now);
        InFlightGuard(in_flight)
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        lock(self.0).now -= 1;
    }
}

async fn answer(request: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let _in_flight = InFlightGuard::enter(&state.in_flight);
    if let Some(peer) = request.peer_addr() {
        lock(&state.peers).insert(peer);
    }
    let raw_path = request.uri().path().to_owned();
    let api_key = request
        .headers()
        .get("api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    lock(&state.requests).push(RecordedRequest {
        raw_path: raw_path.clone(),
        query: request.query_string().to_owned(),
        api_key: api_key.clone(),
    });
    let segments: Vec<String> = raw_path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let decoded_path = format!("/{}", segments.join("/"));

    let (latency, fault, required_key) = {
        let behaviour = lock(&state.behaviour);
        let fault = behaviour
            .faults
            .iter()
            .find(|(path, _)| path == "*" || *path == decoded_path)
            .map(|(_, fault)| fault.clone());
        (behaviour.latency, fault, behaviour.api_key.clone())
    };
    if !latency.is_zero() {
        actix_web::rt::time::sleep(latency).await;
    }
    if let Some(fault) = fault {
        return faulty(fault).await;
    }
    if let Some(required) = required_key {
        if !OPEN_PATHS.contains(&decoded_path.as_str()) {
            // Qdrant's API-key middleware: plain text, no content type.
            match api_key {
                None => {
                    return HttpResponse::Unauthorized()
                        .body("Must provide an API key or an Authorization bearer token")
                }
                Some(key) if key != required => {
                    return HttpResponse::Unauthorized().body("Invalid API key or JWT")
                }
                Some(_) => {}
            }
        }
    }
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let dir = state.next_directory();
    let mut response = route(&state, &dir, &segments, request.query_string());
    if let BodySize::Sized(bytes) = response.body().size() {
        state.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
    }
    let took = response
        .headers_mut()
        .remove(RECORDED_TOOK_HEADER)
        .next()
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    let scale = lock(&state.behaviour).recorded_latency_scale;
    if let Some(took_ms) = took.filter(|_| scale > 0.0) {
        actix_web::rt::time::sleep(Duration::from_millis(took_ms).mul_f64(scale)).await;
    }
    response
}

/// Carries a recorded answer's time from [`fixture`] to [`answer`]; never sent.
const RECORDED_TOOK_HEADER: &str = "x-mock-recorded-took-ms";

/// What `recorded.json` says of a file: the status it was answered with and how long it took.
fn recorded(dir: &Path, stem: &str) -> Option<(u16, u64)> {
    let text = std::fs::read_to_string(dir.join("recorded.json")).ok()?;
    let all: Value = serde_json::from_str(&text).ok()?;
    let answer = all.get(stem)?;
    Some((
        u16::try_from(answer["status"].as_u64()?).ok()?,
        answer["took_ms"].as_u64()?,
    ))
}

async fn faulty(fault: Fault) -> HttpResponse {
    match fault {
        Fault::Status(401) => HttpResponse::Unauthorized().body("Invalid API key or JWT"),
        Fault::Status(code) => {
            let status = actix_web::http::StatusCode::from_u16(code)
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
            HttpResponse::build(status).json(
                json!({"status": {"error": "Service internal error: mock failure"}, "time": 0.0}),
            )
        }
        Fault::Garbage => HttpResponse::Ok()
            .content_type("text/html")
            .body("<html><body>502 Bad Gateway</body></html>"),
        Fault::Redirect(location) => HttpResponse::Found()
            .insert_header(("Location", location))
            .finish(),
        Fault::Hang => {
            actix_web::rt::time::sleep(Duration::from_secs(3600)).await;
            HttpResponse::GatewayTimeout().finish()
        }
        Fault::Endless => {
            let chunk = actix_web::web::Bytes::from(format!("[{}", "1,".repeat(32 * 1024)));
            let endless =
                std::iter::repeat_with(move || Ok::<_, std::convert::Infallible>(chunk.clone()));
            HttpResponse::Ok()
                .content_type("application/json")
                .streaming(futures_util::stream::iter(endless))
        }
    }
}

/// Answers from `dir`, the fixture directory this request is served from.
fn route(state: &State, dir: &Path, segments: &[&str], query: &str) -> HttpResponse {
    let behaviour = lock(&state.behaviour);
    match segments {
        // A recorded listing that is not UTF-8 goes out as it is: no JSON
        // value could carry it.
        ["collections"]
            if behaviour.synthetic.is_none()
                && std::fs::read(dir.join("collections.json"))
                    .is_ok_and(|bytes| std::str::from_utf8(&bytes).is_err()) =>
        {
            fixture(dir, "collections")
        }
        ["collections"] => {
            let names: Vec<String> = match &behaviour.synthetic {
                Some(names) => names.clone(),
                None => recorded_collection_names(dir),
            };
            let listed: Vec<Value> = names
                .iter()
                .filter(|name| !behaviour.deleted.contains(*name))
                .map(|name| json!({"name": name}))
                .collect();
            HttpResponse::Ok()
                .json(json!({"result": {"collections": listed}, "status": "ok", "time": 0.00001}))
        }
        ["collections", name, rest @ ..] => {
            let name = *name;
            let gone = behaviour.deleted.contains(name) || behaviour.vanishing.contains(name);
            match &behaviour.synthetic {
                _ if gone => collection_not_found(name),
                Some(names) => match names.iter().position(|n| n == name) {
                    Some(index) if rest.is_empty() => match &state.template {
                        Some(template) => {
                            HttpResponse::Ok().json(synthetic_collection(template, index))
                        }
                        None => HttpResponse::InternalServerError()
                            .body("no collection-docs.json to synthesise from"),
                    },
                    Some(index) => match &behaviour.placement {
                        Some(placement) if rest == ["cluster"] => HttpResponse::Ok()
                            .json(placement.collection_cluster(100 * (index as u64 + 1))),
                        _ => fixture(dir, &format!("collection-docs-{}", rest.join("-"))),
                    },
                    None => collection_not_found(name),
                },
                None => {
                    let file = std::iter::once(format!("collection-{name}"))
                        .chain(rest.iter().map(|s| s.to_string()));
                    let file = file.collect::<Vec<_>>().join("-");
                    let collection_known =
                        fixture_file(dir, &format!("collection-{name}")).is_some();
                    match fixture_file(dir, &file) {
                        Some(_) => fixture(dir, &file),
                        // A collection Qdrant has, asked for something this version lacks.
                        None if collection_known => HttpResponse::NotFound().finish(),
                        None => collection_not_found(name),
                    }
                }
            }
        }
        ["cluster"] if behaviour.placement.is_some() => {
            HttpResponse::Ok().json(behaviour.placement.as_ref().map(Placement::cluster))
        }
        ["cluster", "telemetry"] if behaviour.placement.is_some() => {
            let names = behaviour.synthetic.as_deref().unwrap_or_default();
            HttpResponse::Ok().json(
                behaviour
                    .placement
                    .as_ref()
                    .map(|placement| placement.cluster_telemetry(names)),
            )
        }
        [] => fixture(dir, "root"),
        // `/telemetry?details_level=3` is recorded as telemetry-details-level-3.json.
        ["telemetry"] => {
            let requested: u8 = query
                .strip_prefix("details_level=")
                .and_then(|level| level.parse().ok())
                .unwrap_or(0);
            // Levels are cumulative: a level not recorded is served from the
            // highest recorded one below it (which lacks the higher level's detail).
            let stem = (0..=requested)
                .rev()
                .map(|level| format!("telemetry-details-level-{level}"))
                .find(|stem| fixture_file(dir, stem).is_some())
                .unwrap_or_else(|| "telemetry".into());
            let recorded = fixture_file(dir, &stem)
                .and_then(|(path, _)| std::fs::read(path).ok())
                .and_then(|body| serde_json::from_slice::<Value>(&body).ok());
            match recorded {
                Some(telemetry) if telemetry["result"]["collections"]["collections"].is_array() => {
                    HttpResponse::Ok().json(telemetry_as_listed(telemetry, &behaviour))
                }
                _ => fixture(dir, &stem),
            }
        }
        _ => {
            let stem = segments.join("-");
            // `/metrics?per_collection=true` is recorded as metrics-per-collection.txt.
            let with_query = format!("{stem}-{}", query.replace(['=', '_', '&'], "-"));
            let with_flag = format!(
                "{stem}-{}",
                query.replace("=true", "").replace(['_', '&'], "-")
            );
            match [with_query, with_flag]
                .into_iter()
                .find(|name| !query.is_empty() && fixture_file(dir, name).is_some())
            {
                Some(name) => fixture(dir, &name),
                None => fixture(dir, &stem),
            }
        }
    }
}

/// Recorded telemetry with the collections the mock lists: synthetic ones made
/// from the recorded `docs` (or first) collection with the synthetic point
/// counts, and deleted ones left out, as Qdrant's own telemetry would be.
fn telemetry_as_listed(mut telemetry: Value, behaviour: &Behaviour) -> Value {
    let recorded = telemetry["result"]["collections"]["collections"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut listed: Vec<Value> = match &behaviour.synthetic {
        None => recorded,
        Some(names) => {
            let template = recorded
                .iter()
                .find(|c| c["id"] == "docs")
                .or(recorded.first())
                .cloned()
                .unwrap_or(Value::Null);
            names
                .iter()
                .enumerate()
                .map(|(index, name)| {
                    let mut collection = template.clone();
                    collection["id"] = json!(name);
                    let points = 100 * (index as u64 + 1);
                    if let Some(placement) = &behaviour.placement {
                        let template = collection["shards"][0].clone();
                        collection["shards"] = placement.telemetry_shards(&template, points);
                        collection["config"]["params"]["shard_number"] = json!(placement.shards);
                        collection["config"]["params"]["replication_factor"] =
                            json!(placement.replication);
                    }
                    for shard in collection["shards"].as_array_mut().into_iter().flatten() {
                        if shard["local"].is_object() {
                            shard["local"]["num_points"] = json!(points);
                        }
                    }
                    collection
                })
                .collect()
        }
    };
    listed.retain(|c| {
        c["id"]
            .as_str()
            .is_none_or(|id| !behaviour.deleted.contains(id))
    });
    if let Some(placement) = &behaviour.placement {
        telemetry["result"]["cluster"]["status"]["peer_id"] = json!(placement.peers[placement.me]);
    }
    telemetry["result"]["collections"]["number_of_collections"] = json!(listed.len());
    telemetry["result"]["collections"]["collections"] = Value::Array(listed);
    telemetry
}

fn recorded_collection_names(dir: &Path) -> Vec<String> {
    let list: Value = std::fs::read_to_string(dir.join("collections.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    list["result"]["collections"]
        .as_array()
        .map(|collections| {
            collections
                .iter()
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The template collection with its counts varied by `index`, so that tests can tell collections apart.
fn synthetic_collection(template: &Value, index: usize) -> Value {
    let mut info = template.clone();
    let points = 100 * (index as u64 + 1);
    info["result"]["points_count"] = json!(points);
    info["result"]["indexed_vectors_count"] = json!(points / 2);
    info["result"]["segments_count"] = json!(2 + index % 4);
    info
}

fn collection_not_found(name: &str) -> HttpResponse {
    HttpResponse::NotFound().json(json!({"status": {"error": format!("Not found: Collection `{name}` doesn't exist!")}, "time": 0.00001}))
}

fn fixture_file(dir: &Path, stem: &str) -> Option<(PathBuf, &'static str)> {
    // Names come from request paths: keep them inside the fixture directory.
    if stem.contains("..") || stem.contains('\\') {
        return None;
    }
    [
        ("json", "application/json"),
        ("txt", "text/plain; charset=utf-8"),
    ]
    .into_iter()
    .map(|(extension, content_type)| (dir.join(format!("{stem}.{extension}")), content_type))
    .find(|(path, _)| path.is_file())
}

fn fixture(dir: &Path, stem: &str) -> HttpResponse {
    let body = fixture_file(dir, stem)
        .and_then(|(path, content_type)| Some((std::fs::read(path).ok()?, content_type)));
    match (body, recorded(dir, stem)) {
        (Some((body, content_type)), Some((status, took_ms))) => {
            let status = actix_web::http::StatusCode::from_u16(status)
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
            HttpResponse::build(status)
                .content_type(content_type)
                .insert_header((RECORDED_TOOK_HEADER, took_ms.to_string()))
                .body(body)
        }
        // Recorded error answers (Qdrant's `{"status": {"error": ...}}` envelope) keep an error status.
        (Some((body, content_type)), None) if is_error_envelope(&body) => {
            HttpResponse::InternalServerError()
                .content_type(content_type)
                .body(body)
        }
        (Some((body, content_type)), None) => {
            HttpResponse::Ok().content_type(content_type).body(body)
        }
        // Qdrant answers unknown routes with an empty 404.
        (None, _) => HttpResponse::NotFound().finish(),
    }
}

fn is_error_envelope(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|v| v["status"]["error"].is_string())
}

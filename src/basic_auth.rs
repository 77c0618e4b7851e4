//! Basic auth on the exporter's own endpoint, against the bcrypt hashes of the
//! web configuration file. bcrypt costs tens of milliseconds of CPU per check
//! by design: a successful pair is remembered (Prometheus sends the same one on
//! every scrape), and checks run one at a time off the workers, so a flood of
//! wrong passwords takes at most one core and never blocks serving.
//!
//! The users are read again when the web configuration file changes, as the
//! exporter-toolkit reads its file on every request (a replaced password was
//! still let in): checked at most once a second, by the file's stamp, and a
//! change forgets every remembered pair. A file that cannot be read, or holds
//! no user, keeps the users before it, with a warning: turning basic auth on
//! or off, and every other setting of the file, takes a restart.
//!
//! The checks take turns by client address: an address has one check queued
//! at a time, so a correct user not yet remembered (Prometheus after a
//! restart) waits for at most one check per other address with checks
//! pending, plus the one running, not for a whole flood (60 connections of
//! wrong passwords held a first login for 5–6 s at cost 10, 19–20 s at 12).

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use base64::Engine;

use crate::files::FileStamp;
use crate::locks::lock;

/// The most of a password bcrypt reads.
const BCRYPT_MAX_PASSWORD_BYTES: usize = 72;

/// The highest bcrypt cost a user's hash may have (Python's bcrypt default;
/// about 0.25 s of a core here). Each step doubles a check's time, and anyone
/// may send a user's name: a cost-31 hash held a core for hours per request.
pub const MAX_BCRYPT_COST: u32 = 12;

/// How many verified pairs are remembered: a few users, a few passwords.
const REMEMBERED: usize = 16;

/// Reads a file's users (name → bcrypt hash), checked as at start; the
/// error never quotes a hash.
pub type ReadUsers = dyn Fn(&Path) -> Result<BTreeMap<String, String>, String> + Send + Sync;

/// The file the users come from, and how to read them from it.
#[derive(Clone)]
pub struct UsersFile {
    pub path: PathBuf,
    pub read: Arc<ReadUsers>,
}

/// How often the file's stamp is looked at, at most.
const REREAD_INTERVAL: Duration = Duration::from_secs(1);

pub struct BasicAuth {
    users: RwLock<Users>,
    /// Paths served without credentials (probes, where asked for).
    open_paths: Vec<String>,
    /// Recently verified (user, password) pairs, newest last.
    verified: Mutex<Vec<(String, String)>>,
    /// One bcrypt check at a time, in the order asked (tokio's is fair).
    checking: tokio::sync::Semaphore,
    /// Per client address with checks asked for: one of them queued at a time.
    turns: Mutex<HashMap<IpAddr, Arc<tokio::sync::Semaphore>>>,
    /// Where the users are read again from when it changes.
    source: Option<Source>,
}

/// User name → bcrypt hash; the server runs this middleware only when there are some.
struct Users {
    hashes: BTreeMap<String, String>,
    /// Checked for an unknown user, at the users' cost, so that the time a
    /// refusal takes does not tell which users exist.
    decoy: String,
}

impl Users {
    fn new(hashes: BTreeMap<String, String>) -> Self {
        // Any user's hash serves as the decoy: whatever it matches, the user is unknown.
        let decoy = hashes.values().next().cloned().unwrap_or_default();
        Self { hashes, decoy }
    }
}

struct Source {
    file: UsersFile,
    /// The file's stamp when last read, and when it was last looked at.
    seen: Mutex<(Option<FileStamp>, Instant)>,
}

impl BasicAuth {
    /// `users` hold hashes checked when the configuration was loaded.
    pub fn new(
        users: BTreeMap<String, String>,
        open_paths: Vec<String>,
        file: Option<UsersFile>,
    ) -> Self {
        let source = file.map(|file| Source {
            seen: Mutex::new((FileStamp::of(&file.path), Instant::now())),
            file,
        });
        Self {
            users: RwLock::new(Users::new(users)),
            open_paths,
            verified: Mutex::new(Vec::new()),
            checking: tokio::sync::Semaphore::new(1),
            turns: Mutex::new(HashMap::new()),
            source,
        }
    }

    /// Reads the users again if their file changed since it was last read.
    fn reread_if_changed(&self) {
        let Some(source) = &self.source else {
            return;
        };
        {
            let mut seen = lock(&source.seen);
            if seen.1.elapsed() < REREAD_INTERVAL {
                return;
            }
            seen.1 = Instant::now();
            let stamp = FileStamp::of(&source.file.path);
            if stamp == seen.0 {
                return;
            }
            seen.0 = stamp;
        }
        let path = source.file.path.display();
        match (source.file.read)(&source.file.path) {
            Ok(users) if users.is_empty() => tracing::warn!(
                hint = "restart the exporter to turn basic auth off",
                "web_config_file {path} changed and holds no user: the users before it are kept"
            ),
            Ok(users) => {
                *self
                    .users
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Users::new(users);
                self.remembered().clear();
                tracing::info!(
                    "web_config_file {path} changed: its users and passwords were read again \
                     (its other settings take effect at a restart)"
                );
            }
            Err(problem) => tracing::warn!(
                hint = "fix the file: the users before it are kept meanwhile",
                "web_config_file {path} changed and cannot be read: {problem}"
            ),
        }
    }

    /// The turn of a client address (one shared by those without one).
    fn turn_of(&self, client: Option<IpAddr>) -> Arc<tokio::sync::Semaphore> {
        let client = client.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        lock(&self.turns)
            .entry(client)
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(1)))
            .clone()
    }

    /// Forgets an address's turn once nobody else holds it.
    fn end_turn(&self, client: Option<IpAddr>, turn: Arc<tokio::sync::Semaphore>) {
        let client = client.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let mut turns = lock(&self.turns);
        // Clones are made under this lock: the map's and this one are the last.
        if Arc::strong_count(&turn) == 2 {
            turns.remove(&client);
        }
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, Vec<(String, String)>> {
        lock(&self.verified)
    }

    /// One bcrypt check, in the client's turn, then in the queue of all.
    async fn check(&self, turn: &tokio::sync::Semaphore, password: String, hash: String) -> bool {
        let (Ok(_turn), Ok(_slot)) = (turn.acquire().await, self.checking.acquire().await) else {
            return false;
        };
        web::block(move || bcrypt::verify(password, &hash).unwrap_or(false))
            .await
            .unwrap_or(false)
    }

    /// Whether the `Authorization` header, from `client`, holds a user's name
    /// and password.
    async fn allows(
        &self,
        client: Option<IpAddr>,
        authorization: Option<&header::HeaderValue>,
    ) -> bool {
        let Some((user, password)) = authorization.and_then(credentials) else {
            return false;
        };
        // bcrypt reads 72 bytes and ignores the rest: a longer password would
        // pass on its start alone.
        if password.len() > BCRYPT_MAX_PASSWORD_BYTES {
            return false;
        }
        self.reread_if_changed();
        if self
            .remembered()
            .iter()
            .any(|(u, p)| *u == user && same_secret(p, &password))
        {
            return true;
        }
        let (hash, known) = {
            let users = self
                .users
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match users.hashes.get(&user) {
                Some(hash) => (hash.clone(), true),
                None => (users.decoy.clone(), false),
            }
        };
        let turn = self.turn_of(client);
        let matches = self.check(&turn, password.clone(), hash).await;
        self.end_turn(client, turn);
        if !(known && matches) {
            return false;
        }
        let mut remembered = self.remembered();
        if remembered.len() == REMEMBERED {
            remembered.remove(0);
        }
        remembered.push((user, password));
        true
    }
}

/// Compares in a time that does not depend on where the two differ.
fn same_secret(known: &str, given: &str) -> bool {
    known.len() == given.len()
        && known
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |differences, (a, b)| differences | (a ^ b))
            == 0
}

/// `Basic base64(user:password)`; the scheme's case does not matter (RFC 7617).
fn credentials(value: &header::HeaderValue) -> Option<(String, String)> {
    let text = value.to_str().ok()?;
    let (scheme, encoded) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

pub async fn require_credentials(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let auth = request
        .app_data::<web::Data<BasicAuth>>()
        .expect("the server registers the basic auth state")
        .clone();
    let open = auth.open_paths.iter().any(|p| p == request.path());
    if open
        || auth
            .allows(
                request.peer_addr().map(|peer| peer.ip()),
                request.headers().get(header::AUTHORIZATION),
            )
            .await
    {
        return Ok(next.call(request).await?.map_into_left_body());
    }
    let refused = HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="qdrant-exporter""#))
        .content_type("text/plain; charset=utf-8")
        .body("Unauthorized\n");
    Ok(request.into_response(refused).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn basic(user: &str, password: &str) -> header::HeaderValue {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        header::HeaderValue::from_str(&format!("Basic {encoded}")).unwrap()
    }

    /// 60 tasks from one address send wrong passwords without pause; a correct
    /// user from another address waits for the check running and the one the
    /// flood has queued, not for the flood.
    #[actix_web::test]
    async fn a_flood_from_one_address_delays_another_by_one_check() {
        let hash = bcrypt::hash("right", 4).unwrap();
        let auth = Arc::new(BasicAuth::new(
            BTreeMap::from([("prometheus".to_owned(), hash)]),
            Vec::new(),
            None,
        ));
        let (attacker, prometheus) = (
            Some(IpAddr::from([10, 0, 0, 66])),
            Some(IpAddr::from([10, 0, 0, 9])),
        );
        let checked = Arc::new(AtomicUsize::new(0));
        let flood: Vec<_> = (0..60)
            .map(|_| {
                let (auth, checked) = (auth.clone(), checked.clone());
                actix_web::rt::spawn(async move {
                    loop {
                        let wrong = basic("prometheus", "wrong");
                        assert!(!auth.allows(attacker, Some(&wrong)).await);
                        checked.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        while checked.load(Ordering::Relaxed) < 60 {
            actix_web::rt::task::yield_now().await;
        }
        let before = checked.load(Ordering::Relaxed);
        assert!(
            auth.allows(prometheus, Some(&basic("prometheus", "right")))
                .await
        );
        let flood_checks_meanwhile = checked.load(Ordering::Relaxed) - before;
        flood.iter().for_each(|task| task.abort());
        assert!(
            flood_checks_meanwhile <= 2,
            "{flood_checks_meanwhile} checks of the flood came first"
        );
    }

    #[test]
    fn credentials_are_read_from_the_header() {
        let header = header::HeaderValue::from_static("Basic YWxpY2U6cGE6c3M=");
        assert_eq!(credentials(&header), Some(("alice".into(), "pa:ss".into())));
        let lower = header::HeaderValue::from_static("basic YWxpY2U6cGE6c3M=");
        assert_eq!(credentials(&lower), Some(("alice".into(), "pa:ss".into())));
        assert!(same_secret("pa:ss", "pa:ss"));
        assert!(!same_secret("pa:ss", "pa:sS") && !same_secret("pa:ss", "pa:ss!"));
        for bad in ["Bearer abc", "Basic !!!", "Basic YWxpY2U="] {
            assert_eq!(
                credentials(&header::HeaderValue::from_static(bad)),
                None,
                "{bad}"
            );
        }
    }
}

//! Basic auth on the exporter's own endpoint, against the bcrypt hashes of the
//! web configuration file. bcrypt costs tens of milliseconds of CPU per check
//! by design: a successful pair is remembered (Prometheus sends the same one on
//! every scrape), and checks run one at a time off the workers, so a flood of
//! wrong passwords takes at most one core and never blocks serving.

use std::collections::BTreeMap;
use std::sync::Mutex;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use base64::Engine;

/// The most of a password bcrypt reads.
const BCRYPT_MAX_PASSWORD_BYTES: usize = 72;

/// How many verified pairs are remembered: a few users, a few passwords.
const REMEMBERED: usize = 16;

pub struct BasicAuth {
    /// User name → bcrypt hash; the server runs this middleware only when there are some.
    users: BTreeMap<String, String>,
    /// Paths served without credentials (probes, where asked for).
    open_paths: Vec<String>,
    /// Checked for an unknown user, at a user's cost, so that the time a
    /// refusal takes does not tell which users exist.
    decoy: String,
    /// Recently verified (user, password) pairs, newest last.
    verified: Mutex<Vec<(String, String)>>,
    /// One bcrypt check at a time.
    checking: tokio::sync::Semaphore,
}

impl BasicAuth {
    /// `users` hold hashes checked when the configuration was loaded.
    pub fn new(users: BTreeMap<String, String>, open_paths: Vec<String>) -> Self {
        // Any user's hash serves as the decoy: whatever it matches, the user is unknown.
        let decoy = users.values().next().cloned().unwrap_or_default();
        Self {
            users,
            open_paths,
            decoy,
            verified: Mutex::new(Vec::new()),
            checking: tokio::sync::Semaphore::new(1),
        }
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, Vec<(String, String)>> {
        self.verified
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether the `Authorization` header holds a user's name and password.
    async fn allows(&self, authorization: Option<&header::HeaderValue>) -> bool {
        let Some((user, password)) = authorization.and_then(credentials) else {
            return false;
        };
        // bcrypt reads 72 bytes and ignores the rest: a longer password would
        // pass on its start alone.
        if password.len() > BCRYPT_MAX_PASSWORD_BYTES {
            return false;
        }
        if self
            .remembered()
            .iter()
            .any(|(u, p)| *u == user && same_secret(p, &password))
        {
            return true;
        }
        let (hash, known) = match self.users.get(&user) {
            Some(hash) => (hash.clone(), true),
            None => (self.decoy.clone(), false),
        };
        let Ok(_slot) = self.checking.acquire().await else {
            return false;
        };
        let candidate = password.clone();
        let matches = web::block(move || bcrypt::verify(candidate, &hash).unwrap_or(false))
            .await
            .unwrap_or(false);
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
            .allows(request.headers().get(header::AUTHORIZATION))
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
    use super::*;

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

//! The API key the client sends, and where it comes from: the configuration,
//! or a file read again when it changes, since Kubernetes updates a mounted
//! Secret in place and a rotated key should need no restart.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::path::encode;
use crate::files::{read_small_file, FileStamp};
use crate::locks::lock;

/// An API key: never printed by `Debug`, never serialized, and always a valid
/// header value (a key with a control character could never be sent).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// The key without surrounding whitespace; the problem never quotes the key.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let key = text.trim();
        if key.is_empty() {
            return Err("is empty");
        }
        if !key.bytes().all(|byte| (0x20..0x7f).contains(&byte)) {
            return Err("holds a control or non-ASCII character (an API key is printable ASCII)");
        }
        Ok(Self(key.to_owned()))
    }

    /// The key a file holds (a mounted Secret); the problem names the file, never the key.
    pub fn read_file(path: &Path) -> Result<Self, String> {
        let bytes = read_small_file(path)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("{} is not UTF-8 text", path.display()))?;
        Self::parse(&text).map_err(|problem| format!("{}: {problem}", path.display()))
    }

    /// The key itself, for the one place that needs it: the `api-key` request header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether what Qdrant sent is worth searching for the key: a key shorter
    /// than 8 characters would match ordinary text.
    fn findable(&self) -> bool {
        self.0.len() >= 8
    }

    /// The key as text may carry it: as it is; escaped as a JSON string, a
    /// Rust `{:?}` string and a label value alike (the three agree on
    /// printable ASCII), and escaped twice (a quoted message that quotes
    /// it); percent-encoded in a path or a query. Longest first, so that
    /// concealing one never leaves part of another.
    fn forms(&self) -> Vec<String> {
        let escape = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
        let escaped = escape(&self.0);
        let mut forms = vec![
            escape(&escaped),
            escaped,
            encode(&self.0).into_owned(),
            url::form_urlencoded::byte_serialize(self.0.as_bytes()).collect(),
            self.0.clone(),
        ];
        forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
        forms.dedup();
        forms
    }

    /// `text` (from Qdrant, for a log line) with the key replaced, in any of
    /// its forms: a compromised or impersonated server could echo it back.
    pub fn conceal<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if !self.findable() {
            return Cow::Borrowed(text);
        }
        let mut concealed = Cow::Borrowed(text);
        for form in self.forms() {
            if concealed.contains(&form) {
                concealed = Cow::Owned(concealed.replace(&form, "(the API key)"));
            }
        }
        concealed
    }

    /// What finds the key in exposition, in any of its forms, built once
    /// for all the pieces of a text; `None` for a key too short to look for.
    pub fn finder(&self) -> Option<KeyFinder> {
        if !self.findable() {
            return None;
        }
        let finders = self
            .forms()
            .iter()
            .map(|form| memchr::memmem::Finder::new(form.as_bytes()).into_owned())
            .collect();
        Some(KeyFinder { finders })
    }
}

/// Finds the API key in exposition, in any of its forms.
pub struct KeyFinder {
    finders: Vec<memchr::memmem::Finder<'static>>,
}

impl KeyFinder {
    fn holds_key(&self, bytes: &[u8]) -> bool {
        self.finders
            .iter()
            .any(|finder| finder.find(bytes).is_some())
    }

    /// A piece of exposition (whole lines) without the lines that hold the
    /// key, and how many were left out; `None` when no line holds it. Whole
    /// lines go, so that what stays is valid exposition.
    pub fn lines_without(&self, text: &[u8]) -> Option<(Vec<u8>, usize)> {
        if !self.holds_key(text) {
            return None;
        }
        let mut kept = Vec::with_capacity(text.len());
        let mut left_out = 0;
        for line in text.split_inclusive(|&byte| byte == b'\n') {
            match self.holds_key(line) {
                true => left_out += 1,
                false => kept.extend_from_slice(line),
            }
        }
        Some((kept, left_out))
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Shared by the clients of all workers.
#[derive(Clone)]
pub struct KeySource(Arc<Source>);

enum Source {
    Fixed(Option<ApiKey>),
    File {
        path: PathBuf,
        state: Mutex<FileKey>,
    },
}

struct FileKey {
    key: ApiKey,
    /// What the file looked like when `key` was read.
    stamp: Option<FileStamp>,
    /// Read since Qdrant last accepted a request.
    unproven: bool,
    /// Why the file cannot be read now, once logged.
    problem: Option<String>,
}

impl KeySource {
    /// The key loaded at start (validated then), and the file it came from if any.
    pub fn new(key: Option<&ApiKey>, file: Option<&Path>) -> Self {
        let source = match (file, key) {
            (Some(path), Some(key)) => Source::File {
                path: path.to_owned(),
                state: Mutex::new(FileKey {
                    key: key.clone(),
                    stamp: FileStamp::of(path),
                    unproven: false,
                    problem: None,
                }),
            },
            (_, key) => Source::Fixed(key.cloned()),
        };
        Self(Arc::new(source))
    }

    /// The key to send now; a changed file is read first (one `stat` per
    /// request tells). If the new file cannot be read (mid-update, or wrong),
    /// the last good key stays in use.
    pub fn current(&self) -> Option<ApiKey> {
        match &*self.0 {
            Source::Fixed(key) => key.clone(),
            Source::File { path, state } => {
                let mut state = lock(state);
                refresh(path, &mut state);
                Some(state.key.clone())
            }
        }
    }

    /// Qdrant accepted a request: the key in use is proven.
    pub fn accepted(&self) {
        if let Source::File { state, .. } = &*self.0 {
            lock(state).unproven = false;
        }
    }

    /// Whether the key was read again from its file since Qdrant last accepted one.
    pub fn changed_since_accepted(&self) -> bool {
        match &*self.0 {
            Source::Fixed(_) => false,
            Source::File { state, .. } => lock(state).unproven,
        }
    }
}

fn refresh(path: &Path, state: &mut FileKey) {
    let now = FileStamp::of(path);
    if now.is_some() && now == state.stamp {
        return;
    }
    match ApiKey::read_file(path) {
        Ok(key) => {
            if key != state.key {
                tracing::info!(file = %path.display(), "the API key file changed: using the new key");
                state.key = key;
                state.unproven = true;
            }
            state.stamp = now;
            state.problem = None;
        }
        Err(problem) => {
            if state.problem.as_ref() != Some(&problem) {
                tracing::warn!(
                    hint = "the last key read is still used",
                    "cannot read the API key file again: {problem}"
                );
                state.problem = Some(problem);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ApiKey;

    #[test]
    fn an_echoed_key_is_concealed_in_log_text_and_its_lines_left_out() {
        let key = ApiKey::parse("k\"ey-4f1c9a").unwrap();
        assert_eq!(
            key.conceal("collection k\"ey-4f1c9a not found"),
            "collection (the API key) not found"
        );
        // As JSON, `{:?}` and the path of a request carry it.
        for (echoed, form) in [
            (r#"{"status":{"error":"k\"ey-4f1c9a"}}"#, "JSON"),
            (r#"name "k\"ey-4f1c9a""#, "Debug"),
            (r#""{\"error\":\"k\\\"ey-4f1c9a\"}""#, "escaped twice"),
            ("GET /collections/k%22ey-4f1c9a/cluster", "a path"),
            ("?name=k%22ey-4f1c9a", "a query"),
        ] {
            let concealed = key.conceal(echoed);
            assert!(concealed.contains("(the API key)"), "{form}: {concealed}");
            assert!(!concealed.contains("4f1c9a"), "{form}: {concealed}");
        }
        let exposition = b"a{v=\"k\\\"ey-4f1c9a\"} 1\nb 1\nk\"ey-4f1c9a\n";
        let finder = key.finder().unwrap();
        assert_eq!(
            finder.lines_without(exposition),
            Some((b"b 1\n".to_vec(), 2))
        );
        assert_eq!(finder.lines_without(b"b 1\n"), None, "no line holds it");
        let short = ApiKey::parse("b").unwrap();
        assert!(short.finder().is_none(), "too short to tell");
    }
}

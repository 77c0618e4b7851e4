//! Problems worth an operator's attention, logged once when they start or
//! change and once when they end, instead of on every refresh.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::collectors::Failure;
use crate::locks::lock;
use crate::qdrant::ApiKey;

#[derive(Default)]
pub struct ProblemLog {
    /// Kind of the current problem of each subject (a warning's key ends in `!`).
    current: Mutex<HashMap<String, String>>,
    /// The key in use, concealed in what is logged: a message may quote what
    /// Qdrant sent, and a compromised or impersonated server could echo it.
    key: Mutex<Option<ApiKey>>,
}

impl ProblemLog {
    /// The key to conceal from now on (it may have been rotated).
    pub fn conceal(&self, key: Option<ApiKey>) {
        *lock(&self.key) = key;
    }

    /// A failure of `subject` (Qdrant itself, or a collector), or its absence.
    pub fn observe(&self, subject: &str, failure: Option<&Failure>) {
        self.track(subject, subject.to_owned(), failure, true);
    }

    /// Like [`ProblemLog::observe`], for something worth a line that is not a failure.
    pub fn observe_warning(&self, subject: &str, warning: Option<&Failure>) {
        self.track(subject, format!("{subject}!"), warning, false);
    }

    fn track(&self, subject: &str, key: String, problem: Option<&Failure>, log_recovery: bool) {
        let mut current = lock(&self.current);
        match (problem, current.get(&key)) {
            (Some(problem), Some(kind)) if *kind == problem.kind => {}
            (Some(problem), _) => {
                let message = match &*lock(&self.key) {
                    Some(key) => key.conceal(&problem.message).into_owned(),
                    None => problem.message.clone(),
                };
                tracing::warn!(subject, hint = problem.hint, "{message}");
                current.insert(key, problem.kind.clone());
            }
            (None, Some(_)) => {
                if log_recovery {
                    tracing::info!(subject, "recovered");
                }
                current.remove(&key);
            }
            (None, None) => {}
        }
    }
}

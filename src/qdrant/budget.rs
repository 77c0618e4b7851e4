//! What all of Qdrant's answers in flight may hold together, whichever
//! target, worker or lane asked: `max_response_bytes` bounds one answer, and
//! this the sum. Without it, answers read at once took the sum to workers ×
//! lanes × concurrency × the bound (a Qdrant streaming endless bodies took the
//! sidecar to 131 MB, past its 128 MiB limit, and `/probe` with six such
//! targets to 268 MB).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The budget is counted in KiB: a semaphore holds at most `u32::MAX` permits.
const UNIT: usize = 1024;

/// The bytes Qdrant's answers in flight may hold together; clones share it.
#[derive(Clone, Debug)]
pub struct ResponseBudget {
    units: Arc<Semaphore>,
    bytes: usize,
}

impl ResponseBudget {
    pub fn new(bytes: usize) -> Self {
        let units = bytes.div_ceil(UNIT).min(Semaphore::MAX_PERMITS);
        Self {
            units: Arc::new(Semaphore::new(units)),
            bytes,
        }
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// What one answer holds of the budget, given back when dropped.
pub struct Charge {
    budget: ResponseBudget,
    held: Option<OwnedSemaphorePermit>,
}

impl Charge {
    pub fn new(budget: &ResponseBudget) -> Self {
        Self {
            budget: budget.clone(),
            held: None,
        }
    }

    /// Holds enough for `bytes` in all; `false`, holding no more, when the
    /// answers in flight already hold the rest. Never waits: an answer that
    /// does not fit is refused, and so frees what it held for the others.
    pub fn cover(&mut self, bytes: usize) -> bool {
        let held = self.held.as_ref().map_or(0, |permit| permit.num_permits());
        let needed = bytes.div_ceil(UNIT).saturating_sub(held);
        if needed == 0 {
            return true;
        }
        let Ok(more) = u32::try_from(needed) else {
            return false;
        };
        match self.budget.units.clone().try_acquire_many_owned(more) {
            Ok(permit) => {
                match &mut self.held {
                    Some(held) => held.merge(permit),
                    None => self.held = Some(permit),
                }
                true
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Charge, ResponseBudget};

    #[test]
    fn answers_in_flight_share_one_budget_and_give_it_back() {
        let budget = ResponseBudget::new(10 * 1024);
        let mut first = Charge::new(&budget);
        assert!(first.cover(6 * 1024));
        let mut second = Charge::new(&budget);
        assert!(second.cover(4 * 1024), "the rest");
        assert!(!second.cover(5 * 1024), "past the budget");
        assert!(first.cover(6 * 1024), "what it holds covers it again");
        drop(first);
        assert!(second.cover(10 * 1024), "given back once dropped");
    }
}

//! The web configuration's `rate_limit`: requests to the main listener beyond
//! `burst` at once and one per `interval` after that are answered 429, as the
//! exporter-toolkit does (a token bucket, full at start). The kubelet's probes
//! are not counted nor refused: a limited exporter must not make its pod
//! unready.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use crate::endpoints::{HEALTHZ_PATH, READYZ_PATH};
use crate::locks::lock;

/// One request per `interval`, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub interval: Duration,
    pub burst: u32,
}

pub struct Limiter {
    limit: RateLimit,
    bucket: Mutex<Bucket>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            bucket: Mutex::new(Bucket {
                tokens: f64::from(limit.burst),
                at: Instant::now(),
            }),
        }
    }

    /// Takes a token if there is one at `now`.
    fn allow_at(&self, now: Instant) -> bool {
        let mut bucket = lock(&self.bucket);
        let earned = now.saturating_duration_since(bucket.at).as_secs_f64()
            / self.limit.interval.as_secs_f64();
        bucket.tokens = (bucket.tokens + earned).min(f64::from(self.limit.burst));
        bucket.at = bucket.at.max(now);
        match bucket.tokens >= 1.0 {
            true => {
                bucket.tokens -= 1.0;
                true
            }
            false => false,
        }
    }
}

pub async fn limit_rate(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let limiter = request
        .app_data::<web::Data<Option<Limiter>>>()
        .expect("the server registers the limiter")
        .clone();
    let probe = [HEALTHZ_PATH, READYZ_PATH].contains(&request.path());
    let allowed = match limiter.as_ref() {
        Some(limiter) => probe || limiter.allow_at(Instant::now()),
        None => true,
    };
    if allowed {
        return Ok(next.call(request).await?.map_into_left_body());
    }
    let refused = HttpResponse::TooManyRequests()
        .content_type("text/plain; charset=utf-8")
        .body("Too Many Requests\n");
    Ok(request.into_response(refused).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_lets_a_burst_through_then_one_per_interval() {
        let limiter = Limiter::new(RateLimit {
            interval: Duration::from_millis(100),
            burst: 3,
        });
        let start = limiter.bucket.lock().unwrap().at;
        let allowed = |after_ms: u64| limiter.allow_at(start + Duration::from_millis(after_ms));
        assert_eq!(
            [allowed(0), allowed(0), allowed(0), allowed(0)],
            [true, true, true, false]
        );
        assert!(!allowed(50), "half an interval earns no request");
        assert!(allowed(100));
        assert!(!allowed(100));
        // A long pause fills the bucket to its burst, no further.
        assert_eq!(
            (0..5).map(|_| allowed(10_000)).collect::<Vec<_>>(),
            [true, true, true, false, false]
        );
    }
}

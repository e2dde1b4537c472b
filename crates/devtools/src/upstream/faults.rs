//! The faults real APIs have, injected in front of every stand-in API: a rate limit (a token
//! bucket answering 429 with `Retry-After`), a fixed latency, and a share of 500/503 answers
//! drawn from a seedable generator.

use super::stats::add;
use super::{Upstream, UpstreamArgs};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `--rate-limit`: requests per second, with a burst of one second's worth.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    per_second: f64,
}

impl RateLimit {
    /// `100/s`, `600/m` or a bare `100` (per second).
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("invalid rate limit '{text}' (expected e.g. 100/s or 600/m)");
        let (count, per) = text.split_once('/').unwrap_or((text, "s"));
        let count: f64 = count.trim().parse().map_err(|_| invalid())?;
        let seconds = match per.trim() {
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            _ => return Err(invalid()),
        };
        if count.is_finite() && count > 0.0 {
            Ok(RateLimit {
                per_second: count / seconds,
            })
        } else {
            Err(invalid())
        }
    }
}

struct TokenBucket {
    limit: RateLimit,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    fn capacity(&self) -> f64 {
        self.limit.per_second.max(1.0)
    }

    /// Take a token, or say how long until one is there.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let refill = now.duration_since(self.updated).as_secs_f64() * self.limit.per_second;
        self.tokens = (self.tokens + refill).min(self.capacity());
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / self.limit.per_second,
            ))
        }
    }
}

pub struct Faults {
    latency: Duration,
    error_rate: f64,
    bucket: Option<Mutex<TokenBucket>>,
    rng: Mutex<fastrand::Rng>,
}

impl Faults {
    pub fn new(args: &UpstreamArgs) -> Self {
        let bucket = args.rate_limit.map(|limit| {
            Mutex::new(TokenBucket {
                limit,
                tokens: limit.per_second.max(1.0),
                updated: Instant::now(),
            })
        });
        Faults {
            latency: Duration::from_millis(args.latency_ms),
            error_rate: args.error_rate,
            bucket,
            rng: Mutex::new(
                args.seed
                    .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed),
            ),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        let bucket = self.bucket.as_ref()?;
        bucket
            .lock()
            .expect("bucket lock")
            .take(Instant::now())
            .err()
    }

    /// The error status to answer with, for a share `error_rate` of the calls.
    fn injected_error(&self) -> Option<StatusCode> {
        if self.error_rate == 0.0 {
            return None;
        }
        let mut rng = self.rng.lock().expect("rng lock");
        (rng.f64() < self.error_rate).then(|| {
            if rng.bool() {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            }
        })
    }
}

/// Middleware in front of the APIs: count, rate-limit, delay, maybe fail, else pass on.
pub async fn inject(
    State(upstream): State<Arc<Upstream>>,
    request: Request,
    next: Next,
) -> Response {
    let stats = &upstream.stats;
    let faults = &upstream.faults;
    add(&stats.requests, 1);
    if let Some(wait) = faults.retry_after() {
        add(&stats.rate_limited, 1);
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        let error = json!({"error": "rate limit exceeded", "retryAfterSeconds": seconds});
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, seconds.to_string())],
            Json(error),
        )
            .into_response();
    }
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    if let Some(status) = faults.injected_error() {
        add(&stats.errors_injected, 1);
        let error = json!({"error": "injected failure"});
        return (status, Json(error)).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_parse() {
        assert_eq!(RateLimit::parse("100/s").unwrap().per_second, 100.0);
        assert_eq!(RateLimit::parse("600/m").unwrap().per_second, 10.0);
        assert_eq!(RateLimit::parse("5").unwrap().per_second, 5.0);
        for bad in ["", "0/s", "-1/s", "10/h", "x/s"] {
            assert!(RateLimit::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bucket_refills_at_the_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket {
            limit: RateLimit { per_second: 2.0 },
            tokens: 2.0,
            updated: start,
        };
        assert!(bucket.take(start).is_ok());
        assert!(bucket.take(start).is_ok());
        assert_eq!(bucket.take(start), Err(Duration::from_millis(500)));
        assert!(bucket.take(start + Duration::from_millis(500)).is_ok());
    }
}

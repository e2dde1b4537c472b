//! Rate limits as GCRA buckets (the generic cell rate algorithm: one "theoretical arrival time"
//! per bucket, no timers): `requests` per `per` with up to `burst` at once. A caller reserves a
//! slot and is told how long to wait before using it, so waits can run on any clock and callers
//! that reserve together are spaced out, never bunched.

use crate::http::Keyed;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How fast a bucket lets requests through.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quota {
    pub requests: u32,
    pub per: Duration,
    /// How many may go at once after an idle spell (at least 1).
    pub burst: u32,
}

impl Quota {
    /// Time between two requests at the steady rate, in milliseconds.
    pub fn emission_ms(&self) -> f64 {
        self.per.as_secs_f64() * 1000.0 / f64::from(self.requests.max(1))
    }

    /// How far ahead of the steady rate a burst may run, in milliseconds.
    pub fn tolerance_ms(&self) -> f64 {
        self.emission_ms() * f64::from(self.burst.max(1) - 1)
    }
}

/// One local bucket.
#[derive(Debug)]
pub struct RateLimiter {
    quota: Quota,
    /// Theoretical arrival time of the next request, in ms on the caller's clock.
    tat: Mutex<Option<f64>>,
}

impl RateLimiter {
    pub fn new(quota: Quota) -> Self {
        RateLimiter {
            quota,
            tat: Mutex::new(None),
        }
    }

    /// Reserve the next slot at `now_ms`; returns how long to wait before sending.
    pub fn reserve(&self, now_ms: f64) -> Duration {
        let mut tat = self.tat.lock().expect("rate limiter");
        let current = tat.unwrap_or(now_ms).max(now_ms);
        let start = (current - self.quota.tolerance_ms()).max(now_ms);
        *tat = Some(current + self.quota.emission_ms());
        Duration::from_secs_f64((start - now_ms) / 1000.0)
    }
}

/// The process's local buckets, by key (a node, a credential, a host) and quota: every
/// execution of the process shares them.
pub struct Limiters(Keyed<RateLimiter>);

impl Limiters {
    /// The bucket for `key` at `quota` (a changed quota gets a fresh bucket).
    pub fn get(&self, key: &str, quota: Quota) -> Arc<RateLimiter> {
        let full = format!(
            "{key}\n{}/{}ms/{}",
            quota.requests,
            quota.per.as_millis(),
            quota.burst
        );
        self.0.get_or_insert_with(&full, || RateLimiter::new(quota))
    }
}

/// The process-wide [`Limiters`].
pub fn limiters() -> &'static Limiters {
    static LIMITERS: OnceLock<Limiters> = OnceLock::new();
    LIMITERS.get_or_init(|| Limiters(Keyed::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(d: Duration) -> u128 {
        d.as_millis()
    }

    #[test]
    fn requests_are_spaced_at_the_rate_after_the_burst() {
        let limiter = RateLimiter::new(Quota {
            requests: 10,
            per: Duration::from_secs(1),
            burst: 3,
        });
        let waits: Vec<u128> = (0..6).map(|_| ms(limiter.reserve(0.0))).collect();
        assert_eq!(waits, vec![0, 0, 0, 100, 200, 300]);
        // After an idle second the burst is available again.
        assert_eq!(ms(limiter.reserve(2000.0)), 0);
    }

    #[test]
    fn burst_one_is_strict_spacing() {
        let limiter = RateLimiter::new(Quota {
            requests: 100,
            per: Duration::from_secs(1),
            burst: 1,
        });
        let waits: Vec<u128> = (0..3).map(|_| ms(limiter.reserve(5.0))).collect();
        assert_eq!(waits, vec![0, 10, 20]);
    }
}

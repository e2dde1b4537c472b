//! Rate limits as GCRA buckets (the generic cell rate algorithm: one "theoretical arrival time"
//! per bucket, no timers): `requests` per `per` with up to `burst` at once. A caller reserves a
//! slot and is told how long to wait before using it, so waits can run on any clock and callers
//! that reserve together are spaced out, never bunched.
//!
//! Local buckets live in the process ([`limiters`]); a global bucket ([`reserve_global`]) is
//! the same algorithm run as one Lua script on the process's Redis, on Redis's clock, so every
//! process that names the bucket shares its rate.

use crate::http::Keyed;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
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
        self.0
            .get_or_insert_with(&bucket_key(key, quota), || RateLimiter::new(quota))
    }
}

/// The bucket's name with its quota (a changed quota gets a fresh bucket).
fn bucket_key(key: &str, quota: Quota) -> String {
    format!(
        "{key}\n{}/{}ms/{}",
        quota.requests,
        quota.per.as_millis(),
        quota.burst
    )
}

/// GCRA on Redis's clock: KEYS[1] holds the theoretical arrival time in ms; ARGV are the
/// emission interval and the burst tolerance in ms. Returns the wait before sending, in ms.
static GLOBAL_GCRA: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
        local emission = tonumber(ARGV[1])
        local tolerance = tonumber(ARGV[2])
        local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
        if tat < now then tat = now end
        local start = tat - tolerance
        if start < now then start = now end
        local next_tat = tat + emission
        redis.call('SET', KEYS[1], string.format('%.3f', next_tat), 'PX',
            math.ceil(next_tat - now) + 1000)
        return string.format('%.3f', start - now)
        ",
    )
});

/// Reserve the next slot of the global bucket `bucket` (shared by every process on the
/// process's Redis); returns how long to wait before sending.
pub async fn reserve_global(bucket: &str, quota: Quota) -> Result<Duration, String> {
    let (redis, mut connection) = crate::redis::process_redis()?;
    let key = redis.key(&format!("ratelimit:{}", bucket_key(bucket, quota)));
    let wait_ms: String = GLOBAL_GCRA
        .key(key)
        .arg(quota.emission_ms())
        .arg(quota.tolerance_ms())
        .invoke_async(&mut connection)
        .await
        .map_err(|e| format!("Redis at {}: {e}", redis.display_url()))?;
    let wait_ms: f64 = wait_ms.parse().unwrap_or(0.0);
    Ok(Duration::from_secs_f64(wait_ms.max(0.0) / 1000.0))
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

    #[tokio::test]
    async fn the_global_bucket_spaces_requests_like_a_local_one() {
        let quota = Quota {
            requests: 10,
            per: Duration::from_secs(1),
            burst: 2,
        };
        // A fresh bucket name per run: the shared Redis outlives the test.
        let bucket = format!("test-{}", std::process::id());
        // When each request may go, from the first call: the time the call was made plus its
        // wait, so that slow calls on a loaded machine do not change the figures.
        let started = std::time::Instant::now();
        let mut due = Vec::new();
        for _ in 0..4 {
            let called = started.elapsed();
            let wait = reserve_global(&bucket, quota).await.expect("redis");
            due.push((called + wait).as_millis());
        }
        // Two at once, then one every 100 ms.
        assert!(due[1] <= 5, "{due:?}");
        assert!((95..=105).contains(&due[2]), "{due:?}");
        assert!((195..=205).contains(&due[3]), "{due:?}");
    }
}

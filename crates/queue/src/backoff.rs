//! Growing pauses, for the two places a queue user waits before trying again: reaching the queue
//! while it is away (Redis restarting), and the retries of a failed execution, which also get
//! jitter so that executions failing together (a downstream service went down) do not all come
//! back at the same moment.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Pauses that double from `first` up to `max`.
#[derive(Clone, Debug)]
pub struct Backoff {
    next: Duration,
    first: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Self {
        Backoff {
            next: first,
            first,
            max,
        }
    }

    /// The pause before the next attempt (each one twice the last, up to the maximum).
    pub fn pause(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(self.max);
        pause
    }

    /// Start again from the first pause (the last attempt worked).
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

/// The delay before retry number `retry` (1 for the first) of a failed execution: `base`
/// doubled for each earlier retry, capped at `max`, of which a random half is taken off
/// ("equal jitter": between half and all of the exponential delay).
pub fn retry_delay(retry: u32, base: Duration, max: Duration) -> Duration {
    let exponential = base
        .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
        .min(max);
    let half = exponential / 2;
    let millis = half.as_millis() as u64;
    let jitter = if millis == 0 {
        0
    } else {
        random() % (millis + 1)
    };
    exponential - half + Duration::from_millis(jitter)
}

/// A random number from the standard library's randomly keyed hasher.
fn random() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_maximum_and_reset() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(350));
        let pauses: Vec<u128> = (0..4).map(|_| backoff.pause().as_millis()).collect();
        assert_eq!(pauses, vec![100, 200, 350, 350]);
        backoff.reset();
        assert_eq!(backoff.pause(), Duration::from_millis(100));
    }

    #[test]
    fn retry_delays_grow_exponentially_with_jitter_within_half() {
        let (base, max) = (Duration::from_millis(1000), Duration::from_millis(5000));
        for (retry, full) in [(1, 1000), (2, 2000), (3, 4000), (4, 5000), (30, 5000)] {
            let mut seen = std::collections::HashSet::new();
            for _ in 0..50 {
                let delay = retry_delay(retry, base, max).as_millis();
                assert!(
                    (full / 2..=full).contains(&delay),
                    "retry {retry}: {delay} ms not in [{}, {full}]",
                    full / 2
                );
                seen.insert(delay);
            }
            assert!(seen.len() > 1, "retry {retry}: no jitter");
        }
    }
}

//! Circuit breakers per upstream host, shared by every execution of the process: after
//! `failures` consecutive failed requests the breaker opens and requests fail at once, without
//! reaching the host, for `reset_after`; then one probe request goes through (half-open): its
//! success closes the breaker, its failure opens it again. A struggling API gets room to recover
//! instead of a retry storm from every item of every execution.

use crate::http::Keyed;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// When a breaker opens and how long it stays open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive failures that open the breaker (at least 1).
    pub failures: u32,
    pub reset_after: Duration,
}

#[derive(Debug)]
enum State {
    Closed {
        consecutive_failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is in flight; everyone else is refused until it reports.
    HalfOpen,
}

/// Why a request may not go out now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// How long until a probe will be let through.
    pub retry_in: Duration,
    /// The failure count that opened the breaker.
    pub failures: u32,
}

/// A request that was let through; report how it went with [`Permit::succeeded`] or
/// [`Permit::failed`]. A permit dropped without a report (the request was cancelled) counts as
/// neither, but frees the half-open probe slot.
pub struct Permit {
    breaker: Arc<CircuitBreaker>,
    reported: bool,
}

impl Permit {
    pub fn succeeded(mut self) {
        self.reported = true;
        *self.breaker.state.lock().expect("breaker") = State::Closed {
            consecutive_failures: 0,
        };
    }

    pub fn failed(mut self) {
        self.reported = true;
        let breaker = &self.breaker;
        let mut state = breaker.state.lock().expect("breaker");
        let failures = match &*state {
            State::Closed {
                consecutive_failures,
            } => consecutive_failures + 1,
            State::HalfOpen | State::Open { .. } => breaker.policy.failures.max(1),
        };
        *state = if failures >= breaker.policy.failures.max(1) {
            State::Open {
                until: Instant::now() + breaker.policy.reset_after,
            }
        } else {
            State::Closed {
                consecutive_failures: failures,
            }
        };
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.reported {
            return;
        }
        let mut state = self.breaker.state.lock().expect("breaker");
        if matches!(*state, State::HalfOpen) {
            // The probe never finished: let the next caller probe instead.
            *state = State::Open {
                until: Instant::now(),
            };
        }
    }
}

/// One breaker (one host).
#[derive(Debug)]
pub struct CircuitBreaker {
    policy: BreakerPolicy,
    state: Mutex<State>,
}

impl CircuitBreaker {
    pub fn new(policy: BreakerPolicy) -> Self {
        CircuitBreaker {
            policy,
            state: Mutex::new(State::Closed {
                consecutive_failures: 0,
            }),
        }
    }

    /// Let a request through, or refuse it while the breaker is open (or probing).
    pub fn permit(self: &Arc<Self>) -> Result<Permit, Refused> {
        let mut state = self.state.lock().expect("breaker");
        let now = Instant::now();
        match &*state {
            State::Closed { .. } => {}
            State::Open { until } if *until <= now => *state = State::HalfOpen,
            State::Open { until } => {
                return Err(Refused {
                    retry_in: *until - now,
                    failures: self.policy.failures,
                })
            }
            State::HalfOpen => {
                return Err(Refused {
                    retry_in: Duration::ZERO,
                    failures: self.policy.failures,
                })
            }
        }
        Ok(Permit {
            breaker: self.clone(),
            reported: false,
        })
    }
}

/// The process's breakers by key (a host) and policy.
pub struct Breakers(Keyed<CircuitBreaker>);

impl Breakers {
    pub fn get(&self, key: &str, policy: BreakerPolicy) -> Arc<CircuitBreaker> {
        let full = format!(
            "{key}\n{}/{}ms",
            policy.failures,
            policy.reset_after.as_millis()
        );
        self.0
            .get_or_insert_with(&full, || CircuitBreaker::new(policy))
    }
}

/// The process-wide [`Breakers`].
pub fn breakers() -> &'static Breakers {
    static BREAKERS: OnceLock<Breakers> = OnceLock::new();
    BREAKERS.get_or_init(|| Breakers(Keyed::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(failures: u32, reset_ms: u64) -> Arc<CircuitBreaker> {
        Arc::new(CircuitBreaker::new(BreakerPolicy {
            failures,
            reset_after: Duration::from_millis(reset_ms),
        }))
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let b = breaker(3, 60_000);
        b.permit().unwrap().failed();
        b.permit().unwrap().failed();
        b.permit().unwrap().succeeded();
        b.permit().unwrap().failed();
        b.permit().unwrap().failed();
        assert!(b.permit().is_ok(), "a success in between resets the count");
        b.permit().unwrap().failed();
        let refused = b.permit().err().expect("open");
        assert_eq!(refused.failures, 3);
        assert!(refused.retry_in > Duration::from_secs(59));
    }

    #[test]
    fn half_open_lets_one_probe_through() {
        let b = breaker(1, 20);
        b.permit().unwrap().failed();
        assert!(b.permit().is_err());
        std::thread::sleep(Duration::from_millis(25));
        let probe = b.permit().expect("probe after the reset time");
        assert!(b.permit().is_err(), "only one probe at a time");
        probe.failed();
        assert!(b.permit().is_err(), "a failed probe opens it again");
        std::thread::sleep(Duration::from_millis(25));
        b.permit().expect("second probe").succeeded();
        assert!(b.permit().is_ok());
        assert!(b.permit().is_ok(), "closed again");
    }

    #[test]
    fn an_abandoned_probe_frees_the_slot() {
        let b = breaker(1, 0);
        b.permit().unwrap().failed();
        drop(b.permit().expect("probe"));
        assert!(b.permit().is_ok());
    }
}

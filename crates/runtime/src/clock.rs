//! Real or virtual time, behind one cheap-to-clone handle.

use chrono::{DateTime, TimeZone, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug)]
enum Source {
    System,
    /// Milliseconds since the Unix epoch; advanced by `sleep` instead of waiting.
    Virtual(AtomicI64),
}

/// The time source of an execution.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Source>);

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl Clock {
    pub fn system() -> Self {
        Clock(Arc::new(Source::System))
    }

    /// A clock that starts at `start` and moves only when something sleeps on it.
    pub fn virtual_at(start: DateTime<Utc>) -> Self {
        Clock(Arc::new(Source::Virtual(AtomicI64::new(
            start.timestamp_millis(),
        ))))
    }

    pub fn is_virtual(&self) -> bool {
        matches!(*self.0, Source::Virtual(_))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &*self.0 {
            Source::System => Utc::now(),
            Source::Virtual(ms) => Utc
                .timestamp_millis_opt(ms.load(Ordering::SeqCst))
                .single()
                .unwrap_or_default(),
        }
    }

    /// Wait for `duration`: really on the system clock, instantly on a virtual one.
    pub async fn sleep(&self, duration: Duration) {
        match &*self.0 {
            Source::System => tokio::time::sleep(duration).await,
            Source::Virtual(ms) => {
                ms.fetch_add(duration.as_millis() as i64, Ordering::SeqCst);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn virtual_sleep_advances_without_waiting() {
        let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let clock = Clock::virtual_at(start);
        let wall = std::time::Instant::now();
        clock.sleep(Duration::from_secs(42)).await;
        assert_eq!((clock.now() - start).num_seconds(), 42);
        assert!(wall.elapsed() < Duration::from_secs(1));
    }
}

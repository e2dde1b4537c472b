//! Response caches shared by every execution of the process: entries live for a fixed time and
//! are filled once however many callers ask at the same moment (single flight): the first caller
//! runs the request, the others wait for its answer. A failed fill caches nothing.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

struct Entry<T> {
    created: Instant,
    value: OnceCell<T>,
}

/// A cache of `T` by key with one time-to-live per lookup.
pub struct TtlCache<T> {
    entries: Mutex<HashMap<String, Arc<Entry<T>>>>,
}

impl<T> Default for TtlCache<T> {
    fn default() -> Self {
        TtlCache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

/// Whether a lookup was answered from the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    Hit,
    Miss,
}

impl<T: Clone> TtlCache<T> {
    /// The value under `key` if it is younger than `ttl`, else the one `fill` produces (stored
    /// when it succeeds). Concurrent callers of one key share one `fill`.
    pub async fn get_or_fill<E, F, Fut>(
        &self,
        key: &str,
        ttl: Duration,
        fill: F,
    ) -> Result<(T, Lookup), E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let entry = {
            let mut entries = self.entries.lock().expect("cache entries");
            let now = Instant::now();
            entries.retain(|_, e| now.duration_since(e.created) < ttl || e.value.get().is_none());
            entries
                .entry(key.to_string())
                .or_insert_with(|| {
                    Arc::new(Entry {
                        created: now,
                        value: OnceCell::new(),
                    })
                })
                .clone()
        };
        let mut filled = false;
        let value = entry
            .value
            .get_or_try_init(|| {
                filled = true;
                fill()
            })
            .await?;
        Ok((
            value.clone(),
            if filled { Lookup::Miss } else { Lookup::Hit },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_callers_share_one_fill() {
        let cache = TtlCache::<u32>::default();
        let fills = AtomicUsize::new(0);
        let ask = || async {
            cache
                .get_or_fill("k", Duration::from_secs(60), || async {
                    fills.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<_, ()>(7)
                })
                .await
                .unwrap()
        };
        let (a, b, c) = tokio::join!(ask(), ask(), ask());
        assert_eq!(fills.load(Ordering::SeqCst), 1);
        let lookups = [a.1, b.1, c.1];
        assert_eq!(lookups.iter().filter(|l| **l == Lookup::Miss).count(), 1);
        assert_eq!((a.0, b.0, c.0), (7, 7, 7));
    }

    #[tokio::test]
    async fn entries_expire_and_failures_are_not_kept() {
        let cache = TtlCache::<u32>::default();
        let ttl = Duration::from_millis(30);
        let failed = cache
            .get_or_fill("k", ttl, || async { Err::<u32, _>("down") })
            .await;
        assert!(failed.is_err());
        let (v, first) = cache
            .get_or_fill("k", ttl, || async { Ok::<_, ()>(1) })
            .await
            .unwrap();
        assert_eq!((v, first), (1, Lookup::Miss));
        let (_, second) = cache
            .get_or_fill("k", ttl, || async { Ok::<_, ()>(2) })
            .await
            .unwrap();
        assert_eq!(second, Lookup::Hit);
        tokio::time::sleep(Duration::from_millis(40)).await;
        let (v, third) = cache
            .get_or_fill("k", ttl, || async { Ok::<_, ()>(3) })
            .await
            .unwrap();
        assert_eq!((v, third), (3, Lookup::Miss));
    }
}

//! Response caches shared by every execution of the process: entries live for a fixed time and
//! are filled once however many callers ask at the same moment (single flight): the first caller
//! runs the request, the others wait for its answer. A failed fill caches nothing. A fill says
//! how long its value lives, so a value read from a shared store (Redis) expires here when it
//! expires there.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

struct Entry<T> {
    /// The value and when it expires.
    value: OnceCell<(T, Instant)>,
}

/// What a fill produced: the value, how long to keep it, and whether it was itself found in a
/// cache (a shared store) rather than fetched.
pub struct Filled<T> {
    pub value: T,
    pub ttl: Duration,
    pub lookup: Lookup,
}

/// A cache of `T` by key; each value lives as long as its fill says.
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
    /// The value under `key` if it has not expired, else the one `fill` produces (kept when
    /// it succeeds). Concurrent callers of one key share one `fill`; they see a hit, the caller
    /// that filled sees the fill's own lookup.
    pub async fn get_or_fill<E, F, Fut>(&self, key: &str, fill: F) -> Result<(T, Lookup), E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Filled<T>, E>>,
    {
        let entry = {
            let mut entries = self.entries.lock().expect("cache entries");
            let now = Instant::now();
            entries.retain(|_, e| e.value.get().is_none_or(|(_, expires)| *expires > now));
            entries
                .entry(key.to_string())
                .or_insert_with(|| {
                    Arc::new(Entry {
                        value: OnceCell::new(),
                    })
                })
                .clone()
        };
        let mut lookup = Lookup::Hit;
        let (value, _) = entry
            .value
            .get_or_try_init(|| async {
                let filled = fill().await?;
                lookup = filled.lookup;
                Ok((filled.value, Instant::now() + filled.ttl))
            })
            .await?;
        Ok((value.clone(), lookup))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn fetched(value: u32, ttl: Duration) -> Filled<u32> {
        Filled {
            value,
            ttl,
            lookup: Lookup::Miss,
        }
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fill() {
        let cache = TtlCache::<u32>::default();
        let fills = AtomicUsize::new(0);
        let ask = || async {
            cache
                .get_or_fill("k", || async {
                    fills.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<_, ()>(fetched(7, Duration::from_secs(60)))
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
            .get_or_fill("k", || async { Err::<Filled<u32>, _>("down") })
            .await;
        assert!(failed.is_err());
        let (v, first) = cache
            .get_or_fill("k", || async { Ok::<_, ()>(fetched(1, ttl)) })
            .await
            .unwrap();
        assert_eq!((v, first), (1, Lookup::Miss));
        let (_, second) = cache
            .get_or_fill("k", || async { Ok::<_, ()>(fetched(2, ttl)) })
            .await
            .unwrap();
        assert_eq!(second, Lookup::Hit);
        tokio::time::sleep(Duration::from_millis(40)).await;
        let (v, third) = cache
            .get_or_fill("k", || async { Ok::<_, ()>(fetched(3, ttl)) })
            .await
            .unwrap();
        assert_eq!((v, third), (3, Lookup::Miss));
    }

    #[tokio::test]
    async fn a_value_lives_as_long_as_its_fill_says() {
        let cache = TtlCache::<u32>::default();
        let from_store = || async {
            Ok::<_, ()>(Filled {
                value: 9,
                ttl: Duration::from_millis(10),
                lookup: Lookup::Hit,
            })
        };
        assert_eq!(
            cache.get_or_fill("k", from_store).await.unwrap(),
            (9, Lookup::Hit)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (v, _) = cache
            .get_or_fill("k", || async {
                Ok::<_, ()>(fetched(4, Duration::from_secs(9)))
            })
            .await
            .unwrap();
        assert_eq!(v, 4, "the short-lived value expired");
    }
}

//! Replies about jobs held in the process that waits for them (the one holding a webhook's HTTP
//! request), each job's in order, until its waiter takes them. Both backends deliver into one:
//! the embedded queue directly, the Redis one from the single reader of the process's inbox
//! list. A delivery wakes only the waiter of that job.

use crate::REPLY_TTL;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[derive(Default)]
pub(crate) struct Mailboxes {
    boxes: Mutex<HashMap<String, Mailbox>>,
    deliveries: AtomicUsize,
}

/// One job's replies not taken yet, with when each expires.
#[derive(Default)]
struct Mailbox {
    messages: VecDeque<(Instant, String)>,
    delivered: Arc<Notify>,
}

/// Deliveries between two sweeps of replies nobody took.
const SWEEP_EVERY: usize = 1024;

impl Mailboxes {
    /// Hold `message` for the waiter of job `id` (kept [`REPLY_TTL`] when nobody waits).
    pub(crate) fn deliver(&self, id: &str, message: String) {
        let now = Instant::now();
        let mut boxes = self.boxes.lock().expect("mailboxes");
        if self.deliveries.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            boxes.retain(|_, mailbox| {
                mailbox.messages.retain(|(expires, _)| *expires > now);
                // (A box whose notifier is shared has a waiter.)
                !mailbox.messages.is_empty() || Arc::strong_count(&mailbox.delivered) > 1
            });
        }
        let mailbox = boxes.entry(id.to_string()).or_default();
        mailbox.messages.push_back((now + REPLY_TTL, message));
        mailbox.delivered.notify_one();
    }

    /// The next reply about job `id`, waiting up to `timeout`; `None` when none came.
    pub(crate) async fn take(&self, id: &str, timeout: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let delivered = {
                let mut boxes = self.boxes.lock().expect("mailboxes");
                let mailbox = boxes.entry(id.to_string()).or_default();
                let now = Instant::now();
                while let Some((expires, message)) = mailbox.messages.pop_front() {
                    if expires > now {
                        if mailbox.messages.is_empty() {
                            boxes.remove(id);
                        }
                        return Some(message);
                    }
                }
                mailbox.delivered.clone()
            };
            // A delivery between the unlock and this wait left a permit: it returns at once.
            if tokio::time::timeout_at(deadline, delivered.notified())
                .await
                .is_err()
            {
                let mut boxes = self.boxes.lock().expect("mailboxes");
                if boxes.get(id).is_some_and(|m| m.messages.is_empty()) {
                    boxes.remove(id);
                }
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reply_wakes_its_own_waiter_and_is_kept_until_taken() {
        let mailboxes = Arc::new(Mailboxes::default());
        mailboxes.deliver("1", "early".into());
        let short = Duration::from_millis(50);
        assert_eq!(mailboxes.take("1", short).await.as_deref(), Some("early"));
        assert_eq!(mailboxes.take("1", short).await, None);

        let waiting = {
            let mailboxes = mailboxes.clone();
            tokio::spawn(async move { mailboxes.take("2", Duration::from_secs(10)).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        mailboxes.deliver("3", "other".into());
        mailboxes.deliver("2", "late".into());
        assert_eq!(waiting.await.unwrap().as_deref(), Some("late"));
        assert_eq!(mailboxes.take("3", short).await.as_deref(), Some("other"));
        assert!(mailboxes.boxes.lock().unwrap().is_empty(), "taken boxes go");
    }
}

//! Group commit for the Redis backend. Under load Redis spends most of each job on the plumbing
//! of every `redis.call` and script run rather than on the data, so requests made at the same
//! time (webhooks enqueueing, a worker's slots acknowledging their jobs and taking the next) are
//! merged into one script call: one variadic `ZADD`/`ZREM`/`ZPOPMIN` for the whole batch
//! instead of one per job. A lone request goes out at once, as a batch of one; while batches are
//! in flight, new requests gather into the next.

use crate::QueueError;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// The reply a request waits for.
type Reply<T> = oneshot::Sender<Result<T, QueueError>>;

/// Sends requests to a task that runs them in batches with `run`.
pub(crate) struct GroupCommit<Request, Answer> {
    requests: mpsc::UnboundedSender<(Request, Reply<Answer>)>,
}

impl<Request: Send + 'static, Answer: Send + 'static> GroupCommit<Request, Answer> {
    /// Start the batching task (on the current tokio runtime): at most `max_batch` requests
    /// per call of `run`, at most `max_in_flight` calls at once. `run` answers each request of
    /// its batch, in order; its error answers all of them.
    pub(crate) fn start<Run, Running>(max_batch: usize, max_in_flight: usize, run: Run) -> Self
    where
        Run: Fn(Vec<Request>) -> Running + Send + Sync + 'static,
        Running: Future<Output = Result<Vec<Answer>, QueueError>> + Send + 'static,
    {
        let (requests, mut pending) = mpsc::unbounded_channel::<(Request, Reply<Answer>)>();
        let in_flight = Arc::new(Semaphore::new(max_in_flight));
        tokio::spawn(async move {
            while let Some(first) = pending.recv().await {
                // Waiting for a free slot is what lets the next batch gather.
                let Ok(slot) = in_flight.clone().acquire_owned().await else {
                    return;
                };
                let mut batch = vec![first];
                while batch.len() < max_batch {
                    match pending.try_recv() {
                        Ok(request) => batch.push(request),
                        Err(_) => break,
                    }
                }
                let (batch, replies): (Vec<Request>, Vec<Reply<Answer>>) =
                    batch.into_iter().unzip();
                let running = run(batch);
                tokio::spawn(async move {
                    match running.await {
                        Ok(answers) => {
                            for (reply, answer) in replies.into_iter().zip(answers) {
                                // A caller that stopped waiting no longer wants its answer.
                                let _ = reply.send(Ok(answer));
                            }
                        }
                        Err(e) => {
                            for reply in replies {
                                let _ = reply.send(Err(e.clone()));
                            }
                        }
                    }
                    drop(slot);
                });
            }
        });
        GroupCommit { requests }
    }

    /// Run `request` in the next batch and wait for its answer.
    pub(crate) async fn call(&self, request: Request) -> Result<Answer, QueueError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || QueueError::Backend("the queue's batching task has stopped".into());
        self.requests
            .send((request, reply))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn concurrent_requests_share_batches_and_each_gets_its_own_answer() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let doubling = GroupCommit::start(16, 1, move |batch: Vec<u64>| {
            counted.fetch_add(1, Ordering::Relaxed);
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(batch.into_iter().map(|n| n * 2).collect())
            }
        });
        let doubling = Arc::new(doubling);
        let tasks: Vec<_> = (0..40u64)
            .map(|n| {
                let doubling = doubling.clone();
                tokio::spawn(async move { (n, doubling.call(n).await.unwrap()) })
            })
            .collect();
        for task in tasks {
            let (n, doubled) = task.await.unwrap();
            assert_eq!(doubled, n * 2);
        }
        // 40 requests in batches of at most 16: at least 3 calls, far fewer than 40.
        let calls = calls.load(Ordering::Relaxed);
        assert!((3..40).contains(&calls), "{calls} calls");
    }

    #[tokio::test]
    async fn an_error_answers_every_request_of_its_batch() {
        let failing = GroupCommit::start(8, 2, |_: Vec<u8>| async {
            Err::<Vec<u8>, _>(QueueError::Backend("Redis went away".into()))
        });
        let error = failing.call(1).await.unwrap_err();
        assert_eq!(error.to_string(), "queue backend: Redis went away");
    }
}

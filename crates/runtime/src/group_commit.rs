//! Group commit: requests made at the same time by different executions, merged into one call
//! to a server. Under load a server spends most of a small request on its plumbing (a round
//! trip, a script run, a transaction's commit) rather than on the data: the queue's Redis
//! backend merges enqueues and acknowledgements into one script call, the Postgres node the
//! lone writes of concurrent executions into one transaction. A lone request goes out at once,
//! as a batch of one; while batches are in flight, new requests gather into the next.

use std::future::Future;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// The reply a request waits for.
type Reply<T, E> = oneshot::Sender<Result<T, E>>;

/// What a caller hears when the batching task is gone (its runtime shut down).
#[derive(Debug)]
pub struct Stopped;

/// Sends requests to a task that runs them in batches with `run`.
pub struct GroupCommit<Request, Answer, E> {
    requests: mpsc::UnboundedSender<(Request, Reply<Answer, E>)>,
}

impl<Request, Answer, E> GroupCommit<Request, Answer, E>
where
    Request: Send + 'static,
    Answer: Send + 'static,
    E: Clone + From<Stopped> + Send + 'static,
{
    /// Start the batching task (on the current tokio runtime): at most `max_batch` requests
    /// per call of `run`, at most `max_in_flight` calls at once. `run` answers each request of
    /// its batch, in order; its error answers all of them.
    pub fn start<Run, Running>(max_batch: usize, max_in_flight: usize, run: Run) -> Self
    where
        Run: Fn(Vec<Request>) -> Running + Send + Sync + 'static,
        Running: Future<Output = Result<Vec<Answer>, E>> + Send + 'static,
    {
        let (requests, mut pending) = mpsc::unbounded_channel::<(Request, Reply<Answer, E>)>();
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
                let (batch, replies): (Vec<Request>, Vec<Reply<Answer, E>>) =
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
    pub async fn call(&self, request: Request) -> Result<Answer, E> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send((request, reply))
            .map_err(|_| E::from(Stopped))?;
        answer.await.map_err(|_| E::from(Stopped))?
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
                Ok::<_, Failure>(batch.into_iter().map(|n| n * 2).collect())
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
            Err::<Vec<u8>, _>(Failure("the server went away"))
        });
        let error = failing.call(1).await.unwrap_err();
        assert_eq!(error, Failure("the server went away"));
    }

    #[derive(Clone, Debug, PartialEq)]
    struct Failure(&'static str);

    impl From<Stopped> for Failure {
        fn from(_: Stopped) -> Self {
            Failure("stopped")
        }
    }
}

//! Sluice's job queue: what queue mode hands executions through, from the process that accepted
//! them to the workers that run them. One [`Queue`] trait, two backends with one behaviour
//! (checked by one conformance suite): [`EmbeddedQueue`] keeps jobs in the store's database
//! (durable, no extra service) and [`RedisQueue`] keeps them in Redis (many processes on many
//! hosts). A job carries an id (the execution id in queue mode) and a small payload; the data
//! lives in the store.
//!
//! Delivery is at least once: a reserved job is leased to one worker, which extends the lease
//! while it runs; a job whose lease runs out (its worker died or hung) is counted as stalled and
//! given to another worker, and after more than `max_stalls` stalls (or `max_failures` failed
//! attempts) it goes to the dead-letter queue. [`Queue::ack`] records a job's result once, even
//! when it ran twice.
//!
//! Order: jobs are taken by `ready time + rank × aging_step`, so a higher priority (lower rank)
//! goes first, and a low-priority job that has waited `(rank difference) × aging_step` goes
//! before a high-priority one that has just arrived: no priority starves.

mod backoff;
mod embedded;
mod mailbox;
mod redis_backend;

pub use backoff::{retry_delay, Backoff};
pub use embedded::EmbeddedQueue;
pub use redis_backend::{RedisConfig, RedisQueue};

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Clone, Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue configuration: {0}")]
    Config(String),
    #[error("queue backend: {0}")]
    Backend(String),
    #[error("the queue is full ({0} jobs waiting)")]
    Full(u64),
}

impl From<sluice_runtime::group_commit::Stopped> for QueueError {
    fn from(_: sluice_runtime::group_commit::Stopped) -> Self {
        QueueError::Backend("the queue's batching task has stopped".into())
    }
}

impl From<sluice_store::StoreError> for QueueError {
    fn from(e: sluice_store::StoreError) -> Self {
        QueueError::Backend(e.to_string())
    }
}

impl From<redis::RedisError> for QueueError {
    fn from(e: redis::RedisError) -> Self {
        QueueError::Backend(e.to_string())
    }
}

/// How urgent a job is. Named levels map to ranks 10, 50 and 90; a numeric priority is a rank
/// from 0 (most urgent) to 100.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Priority {
    High,
    Normal,
    Low,
    Rank(u8),
}

impl Priority {
    pub fn rank(self) -> i64 {
        match self {
            Priority::High => 10,
            Priority::Normal => 50,
            Priority::Low => 90,
            Priority::Rank(r) => i64::from(r.min(100)),
        }
    }

    /// `high`, `normal`, `low` or a number from 0 to 100.
    pub fn parse(text: &str) -> Option<Priority> {
        match text.trim().to_ascii_lowercase().as_str() {
            "high" => Some(Priority::High),
            "normal" => Some(Priority::Normal),
            "low" => Some(Priority::Low),
            other => other
                .parse::<u8>()
                .ok()
                .filter(|r| *r <= 100)
                .map(Priority::Rank),
        }
    }

    /// The level a rank is counted under in [`Stats`].
    pub fn level(rank: i64) -> Level {
        match rank {
            ..=33 => Level::High,
            34..=66 => Level::Normal,
            _ => Level::Low,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    High,
    Normal,
    Low,
}

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob {
    /// Unique: enqueueing an id the queue already knows (in any state) adds nothing.
    pub id: String,
    pub payload: String,
    pub priority: Priority,
    /// Not taken before this much time has passed.
    pub delay: Duration,
    /// A job with the same key enqueued within the TTL is not added (the first one's id is
    /// returned).
    pub dedup: Option<(String, Duration)>,
    /// Refuse the job ([`QueueError::Full`]) when this many jobs already wait (ready or
    /// delayed): a bounded queue.
    pub max_waiting: Option<u64>,
}

impl NewJob {
    pub fn new(id: impl Into<String>, payload: impl Into<String>) -> Self {
        NewJob {
            id: id.into(),
            payload: payload.into(),
            priority: Priority::Normal,
            delay: Duration::ZERO,
            dedup: None,
            max_waiting: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enqueued {
    Added,
    /// Not added: this id, or the id of the job holding the dedup key, is already known.
    Duplicate(String),
}

/// A reserved job, leased to one worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub payload: String,
    pub rank: i64,
    /// Identifies this reservation: it changes each time the job is reserved again, so a worker
    /// that lost its lease cannot extend or give back the job another worker now holds.
    pub token: i64,
    /// Times the job was taken from a worker whose lease ran out.
    pub stalls: i64,
    /// Failed attempts so far.
    pub failures: i64,
    pub enqueued_at: i64,
}

impl Job {
    /// True on the job's first reservation (a new job's token is 0 and each reservation adds
    /// one): no worker ran it before, so nothing of it can have ended yet.
    pub fn first_delivery(&self) -> bool {
        self.token == 1
    }
}

/// What [`Queue::extend`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lease {
    /// Still this worker's, until the new deadline.
    Held,
    /// The job was canceled: stop running it.
    Canceled,
    /// Another worker has it now, or it ended.
    Lost,
}

/// What to do with a job that did not succeed.
#[derive(Clone, Debug)]
pub enum Nack {
    /// It failed: run it again after `delay`, or dead-letter it once it failed more than
    /// `max_failures` times.
    Retry { delay: Duration, error: String },
    /// It failed for good (its retries are spent): dead-letter it now, whatever `max_failures`
    /// says.
    Bury { error: String },
    /// Hand it back untouched (a worker shutting down): another worker takes it at once.
    Release,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nacked {
    Requeued,
    DeadLettered,
    /// The job was no longer this reservation's.
    Lost,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Canceled {
    /// It was waiting (or delayed) and will not run.
    Waiting,
    /// A worker runs it; the worker learns at its next lease extension.
    Running,
    /// No such job, or it already ended.
    NotFound,
}

/// A job in the dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeadJob {
    pub id: String,
    pub payload: String,
    pub rank: i64,
    pub stalls: i64,
    pub failures: i64,
    pub error: String,
    pub enqueued_at: i64,
    pub dead_at: i64,
}

/// A worker's report about itself (see [`Queue::report_worker`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerStatus {
    pub id: String,
    pub host: String,
    pub pid: u32,
    pub concurrency: usize,
    pub running: usize,
    pub completed: u64,
    pub started_at: i64,
    /// `running`, or `stopping` during a graceful shutdown.
    pub state: String,
    /// When the report was made (ms).
    pub seen_at: i64,
}

/// The queue at a glance (`sluice queue stats`, `/metrics`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Jobs ready to run, per priority level.
    pub waiting_high: u64,
    pub waiting_normal: u64,
    pub waiting_low: u64,
    /// Jobs whose delay has not passed yet.
    pub delayed: u64,
    /// Jobs leased to a worker.
    pub in_flight: u64,
    pub dead: u64,
    /// Age (ms) of the oldest job ready to run: the queue's lag.
    pub oldest_waiting_ms: u64,
    /// Jobs completed in the last [`RATE_WINDOW`], per second.
    pub jobs_per_second: f64,
    /// Workers that reported within the last three report intervals.
    pub workers: Vec<WorkerStatus>,
}

impl Stats {
    pub fn waiting(&self) -> u64 {
        self.waiting_high + self.waiting_normal + self.waiting_low
    }
}

/// The window over which [`Stats::jobs_per_second`] is measured.
pub const RATE_WINDOW: Duration = Duration::from_secs(10);

/// Behaviour shared by both backends.
#[derive(Clone, Debug)]
pub struct QueueConfig {
    /// How much waiting one rank step is worth (see the crate documentation).
    pub aging_step: Duration,
    /// A job whose lease ran out more than this many times goes to the dead-letter queue.
    pub max_stalls: i64,
    /// A job that failed more than this many times goes to the dead-letter queue.
    pub max_failures: i64,
    /// How long finished jobs are remembered (results, and duplicate ids refused).
    pub retention: Duration,
    /// Workers that have not reported for this long are left out of [`Stats::workers`].
    pub worker_ttl: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            aging_step: Duration::from_millis(100),
            max_stalls: 1,
            max_failures: 0,
            retention: Duration::from_secs(3600),
            worker_ttl: Duration::from_secs(30),
        }
    }
}

impl QueueConfig {
    /// Settings from `lookup` (an environment): `QUEUE_WORKER_MAX_STALLED_COUNT` (n8n's name,
    /// default 1), `SLUICE_QUEUE_MAX_FAILURES` (default 0) and `SLUICE_QUEUE_AGING_STEP` (ms,
    /// default 100).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, QueueError> {
        let mut config = QueueConfig::default();
        let number = |name: &str| -> Result<Option<i64>, QueueError> {
            lookup(name).map_or(Ok(None), |v| {
                v.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .map(Some)
                    .ok_or_else(|| {
                        QueueError::Config(format!("{name}: not a non-negative number: '{v}'"))
                    })
            })
        };
        if let Some(n) = number("QUEUE_WORKER_MAX_STALLED_COUNT")? {
            config.max_stalls = n;
        }
        if let Some(n) = number("SLUICE_QUEUE_MAX_FAILURES")? {
            config.max_failures = n;
        }
        if let Some(ms) = number("SLUICE_QUEUE_AGING_STEP")? {
            config.aging_step = Duration::from_millis(ms as u64);
        }
        Ok(config)
    }
}

/// The order key of a job ready at `ready_at` (ms) with rank `rank`.
fn order_score(ready_at: i64, rank: i64, config: &QueueConfig) -> i64 {
    ready_at + rank * config.aging_step.as_millis() as i64
}

#[async_trait::async_trait]
pub trait Queue: Send + Sync {
    async fn enqueue(&self, job: NewJob) -> Result<Enqueued, QueueError>;

    /// Lease the next ready job to `worker` for `lease`, waiting up to `wait` for one.
    async fn reserve(
        &self,
        worker: &str,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<Job>, QueueError>;

    /// Extend the lease of a job this worker holds (its heartbeat).
    async fn extend(&self, job: &Job, lease: Duration) -> Result<Lease, QueueError>;

    /// The job ended: record `result` unless a result was recorded already (a job that ran
    /// twice). True when this call recorded it.
    async fn ack(&self, job: &Job, result: &str) -> Result<bool, QueueError>;

    /// [`Queue::ack`] `job`, then lease the next ready job to `worker` without waiting: a worker
    /// that finished a job takes the next in the same step (one round trip on Redis instead of
    /// two). Returns whether this call recorded the result, and the next job if one was ready.
    async fn ack_and_reserve(
        &self,
        job: &Job,
        result: &str,
        worker: &str,
        lease: Duration,
    ) -> Result<(bool, Option<Job>), QueueError> {
        let recorded = self.ack(job, result).await?;
        Ok((recorded, self.reserve(worker, lease, Duration::ZERO).await?))
    }

    async fn nack(&self, job: &Job, nack: Nack) -> Result<Nacked, QueueError>;

    async fn cancel(&self, id: &str) -> Result<Canceled, QueueError>;

    /// The result recorded for a finished job (while it is retained).
    async fn result(&self, id: &str) -> Result<Option<String>, QueueError>;

    /// Take back the jobs whose lease ran out: requeue them, or dead-letter those that stalled
    /// too often. Returns the ids dead-lettered.
    async fn reap(&self) -> Result<Vec<String>, QueueError>;

    async fn stats(&self) -> Result<Stats, QueueError>;

    /// Jobs waiting, ready or delayed (what [`NewJob::max_waiting`] bounds); cheaper than
    /// [`Queue::stats`].
    async fn depth(&self) -> Result<u64, QueueError>;

    /// Record a worker's status (shown by [`Queue::stats`] while it keeps reporting); a report
    /// with `state == "gone"` removes it.
    async fn report_worker(&self, status: &WorkerStatus) -> Result<(), QueueError>;

    /// Dead-lettered jobs, oldest first.
    async fn dead_jobs(&self) -> Result<Vec<DeadJob>, QueueError>;

    /// Dead-lettered job `id`; `None` when it is not in the dead-letter queue.
    async fn dead_job(&self, id: &str) -> Result<Option<DeadJob>, QueueError>;

    /// Put a dead-lettered job back in the queue (counts reset). False when it is not dead.
    async fn replay(&self, id: &str) -> Result<bool, QueueError>;

    /// Forget one dead-lettered job (it was replayed as a new job). False when it is not dead.
    async fn forget_dead(&self, id: &str) -> Result<bool, QueueError>;

    /// Forget the dead-lettered jobs; returns their ids.
    async fn purge_dead(&self) -> Result<Vec<String>, QueueError>;

    /// Where replies to this process go: a job whose answer this process waits for carries it,
    /// and the worker running the job passes it to [`Queue::reply`].
    fn reply_address(&self) -> String;

    /// Send `message` about job `id` to the process at reply address `to` (a worker relaying a
    /// webhook answer to the process holding the HTTP request). Kept a minute when nobody waits
    /// yet.
    async fn reply(&self, to: &str, id: &str, message: &str) -> Result<(), QueueError>;

    /// The next reply to this process about job `id`, waiting up to `timeout`; `None` when none
    /// came.
    async fn wait_reply(&self, id: &str, timeout: Duration) -> Result<Option<String>, QueueError>;

    /// True when the backend answers (readiness).
    async fn ping(&self) -> bool;
}

/// How long a reply nobody has read yet is kept.
pub const REPLY_TTL: Duration = Duration::from_secs(60);

//! The embedded backend: jobs are rows of the store's database (`queue_jobs`, created by the
//! store's migrations), so they survive a restart without any other service, on SQLite or
//! Postgres. Every state change is one conditional UPDATE (a compare-and-set on the state and
//! the reservation token), so processes sharing the database never both take a job. Waiting
//! workers are woken at once by enqueues in this process and poll for the others' enqueues.
//! Replies (webhook answers relayed by the worker) stay in memory: the embedded queue serves
//! one process, which holds both the request and the worker.

use crate::mailbox::Mailboxes;
use crate::{
    order_score, Canceled, DeadJob, Enqueued, Job, Lease, Nack, Nacked, NewJob, Priority, Queue,
    QueueConfig, QueueError, Stats, WorkerStatus, RATE_WINDOW,
};
use sluice_store::{now_ms, Db, Row, Stmt, Store, Val};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How often a waiting reservation looks for jobs enqueued by other processes.
const POLL: Duration = Duration::from_millis(100);

const JOB_COLUMNS: &str = "id, payload, job_rank, token, stalls, failures, enqueued_at";

pub struct EmbeddedQueue {
    db: Arc<dyn Db>,
    config: QueueConfig,
    enqueued: Notify,
    /// Orders jobs that share a score (first in, first out).
    seq: AtomicI64,
    /// Replies not taken yet (the embedded queue relays within its own process).
    mailboxes: Mailboxes,
    /// Held by a bounded enqueue from its count to its insert, so this process's enqueues
    /// never overshoot the bound together.
    bounded_enqueue: tokio::sync::Mutex<()>,
}

impl EmbeddedQueue {
    pub fn new(store: &Store, config: QueueConfig) -> Self {
        EmbeddedQueue {
            db: store.database(),
            config,
            enqueued: Notify::new(),
            seq: AtomicI64::new(now_ms() * 1000),
            mailboxes: Mailboxes::default(),
            bounded_enqueue: tokio::sync::Mutex::new(()),
        }
    }

    async fn try_reserve(&self, worker: &str, lease: Duration) -> Result<Option<Job>, QueueError> {
        loop {
            let now = now_ms();
            let Some(candidate) = self
                .db
                .query(
                    "SELECT id, token FROM queue_jobs WHERE state = 'waiting' AND ready_at <= $1 \
                     ORDER BY score, seq LIMIT 1",
                    vec![now.into()],
                )
                .await?
                .into_iter()
                .next()
            else {
                return Ok(None);
            };
            let mut it = candidate.into_iter();
            let (id, token) = (
                it.next().unwrap_or(Val::Null),
                it.next().unwrap_or(Val::Null),
            );
            let rows = self
                .db
                .query(
                    &format!(
                        "UPDATE queue_jobs SET state = 'active', worker = $1, lease_until = $2, \
                         token = token + 1 WHERE id = $3 AND state = 'waiting' AND token = $4 \
                         RETURNING {JOB_COLUMNS}"
                    ),
                    vec![
                        worker.into(),
                        (now + lease.as_millis() as i64).into(),
                        id,
                        token,
                    ],
                )
                .await?;
            // Another process took it between the two statements: look again.
            if let Some(row) = rows.into_iter().next() {
                return Ok(Some(job(row)));
            }
        }
    }

    /// Whether the queue knows job `id` (in any state).
    async fn known(&self, id: &str) -> Result<bool, QueueError> {
        let count = self
            .count(
                "SELECT COUNT(*) FROM queue_jobs WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        Ok(count > 0)
    }

    async fn count(&self, sql: &str, params: Vec<Val>) -> Result<i64, QueueError> {
        Ok(self
            .db
            .query(sql, params)
            .await?
            .first()
            .and_then(|r| r[0].int())
            .unwrap_or(0))
    }

    /// Dead-lettered jobs, oldest first, narrowed by `and` (an SQL condition on `params`).
    async fn dead_jobs_where(
        &self,
        and: &str,
        params: Vec<Val>,
    ) -> Result<Vec<DeadJob>, QueueError> {
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT id, payload, job_rank, stalls, failures, error, enqueued_at, \
                     finished_at FROM queue_jobs WHERE state = 'dead' {and} ORDER BY finished_at, id"
                ),
                params,
            )
            .await?;
        Ok(rows.into_iter().map(dead_job).collect())
    }
}

/// A row of `dead_jobs_where`'s columns.
fn dead_job(row: Row) -> DeadJob {
    let mut it = row.into_iter();
    let mut next = || it.next().unwrap_or(Val::Null);
    DeadJob {
        id: next().into_text().unwrap_or_default(),
        payload: next().into_text().unwrap_or_default(),
        rank: next().int().unwrap_or(0),
        stalls: next().int().unwrap_or(0),
        failures: next().int().unwrap_or(0),
        error: next().into_text().unwrap_or_default(),
        enqueued_at: next().int().unwrap_or(0),
        dead_at: next().int().unwrap_or(0),
    }
}

fn job(row: Row) -> Job {
    let mut it = row.into_iter();
    let mut next = || it.next().unwrap_or(Val::Null);
    Job {
        id: next().into_text().unwrap_or_default(),
        payload: next().into_text().unwrap_or_default(),
        rank: next().int().unwrap_or(0),
        token: next().int().unwrap_or(0),
        stalls: next().int().unwrap_or(0),
        failures: next().int().unwrap_or(0),
        enqueued_at: next().int().unwrap_or(0),
    }
}

#[async_trait::async_trait]
impl Queue for EmbeddedQueue {
    async fn enqueue(&self, new: NewJob) -> Result<Enqueued, QueueError> {
        let now = now_ms();
        // Counted before the insert, under a lock of this process: other processes sharing the
        // database may still overshoot the bound by the enqueues they make at the same moment
        // (Redis checks it atomically).
        let _counted = match new.max_waiting {
            Some(_) => Some(self.bounded_enqueue.lock().await),
            None => None,
        };
        if let Some(max) = new.max_waiting {
            let depth = self.depth().await?;
            if depth >= max && !self.known(&new.id).await? {
                return Err(QueueError::Full(depth));
            }
        }
        if let Some((key, ttl)) = &new.dedup {
            let counts = self
                .db
                .transaction(vec![
                    Stmt::new(
                        "DELETE FROM queue_dedup WHERE dedup_key = $1 AND expires_at <= $2",
                        vec![key.as_str().into(), now.into()],
                    ),
                    Stmt::new(
                        "INSERT INTO queue_dedup (dedup_key, job_id, expires_at) \
                         VALUES ($1, $2, $3) ON CONFLICT (dedup_key) DO NOTHING",
                        vec![
                            key.as_str().into(),
                            new.id.as_str().into(),
                            (now + ttl.as_millis() as i64).into(),
                        ],
                    ),
                ])
                .await?;
            if counts[1] == 0 {
                let holder = self
                    .db
                    .query(
                        "SELECT job_id FROM queue_dedup WHERE dedup_key = $1",
                        vec![key.as_str().into()],
                    )
                    .await?
                    .into_iter()
                    .next()
                    .and_then(|r| r.into_iter().next())
                    .and_then(Val::into_text)
                    .unwrap_or_default();
                return Ok(Enqueued::Duplicate(holder));
            }
        }
        let rank = new.priority.rank();
        let ready_at = now + new.delay.as_millis() as i64;
        let added = self
            .db
            .execute(
                "INSERT INTO queue_jobs (id, payload, job_rank, score, seq, ready_at, enqueued_at, \
                 state) VALUES ($1, $2, $3, $4, $5, $6, $7, 'waiting') ON CONFLICT (id) DO NOTHING",
                vec![
                    new.id.as_str().into(),
                    new.payload.into(),
                    rank.into(),
                    order_score(ready_at, rank, &self.config).into(),
                    self.seq.fetch_add(1, Ordering::Relaxed).into(),
                    ready_at.into(),
                    now.into(),
                ],
            )
            .await?;
        if added == 0 {
            return Ok(Enqueued::Duplicate(new.id));
        }
        self.enqueued.notify_waiters();
        Ok(Enqueued::Added)
    }

    async fn reserve(
        &self,
        worker: &str,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<Job>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let enqueued = self.enqueued.notified();
            if let Some(job) = self.try_reserve(worker, lease).await? {
                return Ok(Some(job));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let _ = tokio::time::timeout(POLL.min(deadline - now), enqueued).await;
        }
    }

    async fn extend(&self, job: &Job, lease: Duration) -> Result<Lease, QueueError> {
        let updated = self
            .db
            .execute(
                "UPDATE queue_jobs SET lease_until = $1 WHERE id = $2 AND state = 'active' \
                 AND token = $3",
                vec![
                    (now_ms() + lease.as_millis() as i64).into(),
                    job.id.as_str().into(),
                    job.token.into(),
                ],
            )
            .await?;
        if updated > 0 {
            return Ok(Lease::Held);
        }
        let canceled = self
            .count(
                "SELECT COUNT(*) FROM queue_jobs WHERE id = $1 AND state = 'canceled'",
                vec![job.id.as_str().into()],
            )
            .await?;
        Ok(if canceled > 0 {
            Lease::Canceled
        } else {
            Lease::Lost
        })
    }

    async fn ack(&self, job: &Job, result: &str) -> Result<bool, QueueError> {
        let updated = self
            .db
            .execute(
                "UPDATE queue_jobs SET state = 'done', result = $1, finished_at = $2, \
                 worker = NULL, lease_until = NULL, payload = '' WHERE id = $3 \
                 AND state IN ('waiting', 'active')",
                vec![result.into(), now_ms().into(), job.id.as_str().into()],
            )
            .await?;
        Ok(updated > 0)
    }

    async fn nack(&self, job: &Job, nack: Nack) -> Result<Nacked, QueueError> {
        let now = now_ms();
        let nack = match nack {
            Nack::Retry { error, .. } if job.failures + 1 > self.config.max_failures => {
                Nack::Bury { error }
            }
            other => other,
        };
        let (sql, params, outcome) = match nack {
            Nack::Release => (
                "UPDATE queue_jobs SET state = 'waiting', worker = NULL, lease_until = NULL \
                 WHERE id = $1 AND state = 'active' AND token = $2",
                vec![job.id.as_str().into(), job.token.into()],
                Nacked::Requeued,
            ),
            Nack::Bury { error } => (
                "UPDATE queue_jobs SET state = 'dead', failures = failures + 1, error = $3, \
                 finished_at = $4, worker = NULL, lease_until = NULL \
                 WHERE id = $1 AND state = 'active' AND token = $2",
                vec![
                    job.id.as_str().into(),
                    job.token.into(),
                    error.into(),
                    now.into(),
                ],
                Nacked::DeadLettered,
            ),
            Nack::Retry { delay, error } => {
                let ready_at = now + delay.as_millis() as i64;
                (
                    "UPDATE queue_jobs SET state = 'waiting', failures = failures + 1, \
                     error = $3, ready_at = $4, score = $5, worker = NULL, lease_until = NULL \
                     WHERE id = $1 AND state = 'active' AND token = $2",
                    vec![
                        job.id.as_str().into(),
                        job.token.into(),
                        error.into(),
                        ready_at.into(),
                        order_score(ready_at, job.rank, &self.config).into(),
                    ],
                    Nacked::Requeued,
                )
            }
        };
        if self.db.execute(sql, params).await? == 0 {
            return Ok(Nacked::Lost);
        }
        if outcome == Nacked::Requeued {
            self.enqueued.notify_waiters();
        }
        Ok(outcome)
    }

    async fn cancel(&self, id: &str) -> Result<Canceled, QueueError> {
        let rows = self
            .db
            .query(
                "SELECT state FROM queue_jobs WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        let state = rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .and_then(Val::into_text);
        let outcome = match state.as_deref() {
            Some("waiting") => Canceled::Waiting,
            Some("active") => Canceled::Running,
            _ => return Ok(Canceled::NotFound),
        };
        let updated = self
            .db
            .execute(
                "UPDATE queue_jobs SET state = 'canceled', finished_at = $1, worker = NULL, \
                 lease_until = NULL WHERE id = $2 AND state = $3",
                vec![now_ms().into(), id.into(), state.into()],
            )
            .await?;
        // It changed state meanwhile (reserved, or ended): decide again.
        if updated == 0 {
            return Box::pin(self.cancel(id)).await;
        }
        Ok(outcome)
    }

    async fn result(&self, id: &str) -> Result<Option<String>, QueueError> {
        Ok(self
            .db
            .query(
                "SELECT result FROM queue_jobs WHERE id = $1 AND state = 'done'",
                vec![id.into()],
            )
            .await?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .and_then(Val::into_text))
    }

    async fn reap(&self) -> Result<Vec<String>, QueueError> {
        let now = now_ms();
        let expired = self
            .db
            .query(
                "SELECT id, token, stalls FROM queue_jobs WHERE state = 'active' \
                 AND lease_until < $1",
                vec![now.into()],
            )
            .await?;
        let mut dead = Vec::new();
        let mut requeued = false;
        for row in expired {
            let mut it = row.into_iter();
            let id = it.next().and_then(Val::into_text).unwrap_or_default();
            let token = it.next().and_then(|v| v.int()).unwrap_or(0);
            let stalls = it.next().and_then(|v| v.int()).unwrap_or(0) + 1;
            let dies = stalls > self.config.max_stalls;
            let updated = self
                .db
                .execute(
                    "UPDATE queue_jobs SET stalls = stalls + 1, state = $1, error = $2, \
                     finished_at = $3, worker = NULL, lease_until = NULL \
                     WHERE id = $4 AND state = 'active' AND token = $5",
                    vec![
                        if dies { "dead" } else { "waiting" }.into(),
                        dies.then(|| format!("stalled {stalls} times (its worker stopped)"))
                            .into(),
                        dies.then_some(now).into(),
                        id.as_str().into(),
                        token.into(),
                    ],
                )
                .await?;
            if updated > 0 && dies {
                dead.push(id);
            } else if updated > 0 {
                requeued = true;
            }
        }
        if requeued {
            self.enqueued.notify_waiters();
        }
        let retention = now - self.config.retention.as_millis() as i64;
        self.db
            .transaction(vec![
                Stmt::new(
                    "DELETE FROM queue_jobs WHERE state IN ('done', 'canceled') \
                     AND finished_at < $1",
                    vec![retention.into()],
                ),
                Stmt::new(
                    "DELETE FROM queue_dedup WHERE expires_at <= $1",
                    vec![now.into()],
                ),
            ])
            .await?;
        Ok(dead)
    }

    async fn stats(&self) -> Result<Stats, QueueError> {
        let now = now_ms();
        let mut stats = Stats::default();
        let ready = self
            .db
            .query(
                "SELECT job_rank, COUNT(*), MIN(ready_at) FROM queue_jobs \
                 WHERE state = 'waiting' AND ready_at <= $1 GROUP BY job_rank",
                vec![now.into()],
            )
            .await?;
        let mut oldest = now;
        for row in ready {
            let (rank, count) = (row[0].int().unwrap_or(0), row[1].int().unwrap_or(0) as u64);
            oldest = oldest.min(row[2].int().unwrap_or(now));
            match Priority::level(rank) {
                crate::Level::High => stats.waiting_high += count,
                crate::Level::Normal => stats.waiting_normal += count,
                crate::Level::Low => stats.waiting_low += count,
            }
        }
        stats.oldest_waiting_ms = (now - oldest).max(0) as u64;
        let window = RATE_WINDOW.as_millis() as i64;
        let row = self
            .db
            .query(
                "SELECT \
                 COUNT(CASE WHEN state = 'waiting' AND ready_at > $1 THEN 1 END), \
                 COUNT(CASE WHEN state = 'active' THEN 1 END), \
                 COUNT(CASE WHEN state = 'dead' THEN 1 END), \
                 COUNT(CASE WHEN state = 'done' AND finished_at > $2 THEN 1 END) \
                 FROM queue_jobs",
                vec![now.into(), (now - window).into()],
            )
            .await?
            .into_iter()
            .next()
            .unwrap_or_default();
        let at = |i: usize| row.get(i).and_then(Val::int).unwrap_or(0).max(0) as u64;
        stats.delayed = at(0);
        stats.in_flight = at(1);
        stats.dead = at(2);
        stats.jobs_per_second = at(3) as f64 / RATE_WINDOW.as_secs_f64();
        let seen_after = now - self.config.worker_ttl.as_millis() as i64;
        for row in self
            .db
            .query(
                "SELECT status FROM queue_workers WHERE seen_at > $1 ORDER BY id",
                vec![seen_after.into()],
            )
            .await?
        {
            if let Some(status) = row.into_iter().next().and_then(Val::into_text) {
                stats.workers.push(
                    serde_json::from_str(&status)
                        .map_err(|e| QueueError::Backend(format!("worker report: {e}")))?,
                );
            }
        }
        Ok(stats)
    }

    async fn depth(&self) -> Result<u64, QueueError> {
        let waiting = self
            .count(
                "SELECT COUNT(*) FROM queue_jobs WHERE state = 'waiting'",
                vec![],
            )
            .await?;
        Ok(waiting.max(0) as u64)
    }

    async fn report_worker(&self, status: &WorkerStatus) -> Result<(), QueueError> {
        if status.state == "gone" {
            self.db
                .execute(
                    "DELETE FROM queue_workers WHERE id = $1",
                    vec![status.id.as_str().into()],
                )
                .await?;
            return Ok(());
        }
        let json = serde_json::to_string(status).expect("a worker status serializes");
        self.db
            .execute(
                "INSERT INTO queue_workers (id, seen_at, status) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at, \
                 status = excluded.status",
                vec![
                    status.id.as_str().into(),
                    status.seen_at.into(),
                    json.into(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn dead_jobs(&self) -> Result<Vec<DeadJob>, QueueError> {
        self.dead_jobs_where("", vec![]).await
    }

    async fn dead_job(&self, id: &str) -> Result<Option<DeadJob>, QueueError> {
        Ok(self
            .dead_jobs_where("AND id = $1", vec![id.into()])
            .await?
            .pop())
    }

    async fn replay(&self, id: &str) -> Result<bool, QueueError> {
        let now = now_ms();
        let rows = self
            .db
            .query(
                "SELECT job_rank FROM queue_jobs WHERE id = $1 AND state = 'dead'",
                vec![id.into()],
            )
            .await?;
        let Some(rank) = rows.first().and_then(|r| r[0].int()) else {
            return Ok(false);
        };
        let updated = self
            .db
            .execute(
                "UPDATE queue_jobs SET state = 'waiting', stalls = 0, failures = 0, error = NULL, \
                 finished_at = NULL, ready_at = $1, score = $2 WHERE id = $3 AND state = 'dead'",
                vec![
                    now.into(),
                    order_score(now, rank, &self.config).into(),
                    id.into(),
                ],
            )
            .await?;
        if updated > 0 {
            self.enqueued.notify_waiters();
        }
        Ok(updated > 0)
    }

    async fn forget_dead(&self, id: &str) -> Result<bool, QueueError> {
        let deleted = self
            .db
            .execute(
                "DELETE FROM queue_jobs WHERE id = $1 AND state = 'dead'",
                vec![id.into()],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn purge_dead(&self) -> Result<Vec<String>, QueueError> {
        let rows = self
            .db
            .query(
                "DELETE FROM queue_jobs WHERE state = 'dead' RETURNING id",
                vec![],
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().and_then(Val::into_text))
            .collect())
    }

    fn reply_address(&self) -> String {
        String::new()
    }

    async fn reply(&self, _to: &str, id: &str, message: &str) -> Result<(), QueueError> {
        self.mailboxes.deliver(id, message.to_string());
        Ok(())
    }

    async fn wait_reply(&self, id: &str, timeout: Duration) -> Result<Option<String>, QueueError> {
        Ok(self.mailboxes.take(id, timeout).await)
    }

    async fn ping(&self) -> bool {
        self.db.query("SELECT 1", vec![]).await.is_ok()
    }
}

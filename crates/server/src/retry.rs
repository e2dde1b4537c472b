//! Retries of failed executions in queue mode, a workflow setting:
//!
//! ```json
//! "settings": {"retryFailedExecutions": {"maxRetries": 3, "initialDelayMs": 1000, "maxDelayMs": 60000}}
//! ```
//!
//! When an execution a worker ran ends in `error`, the worker accepts a new execution of the
//! same trigger items (mode `retry`, `retryOf` the failed one) and enqueues it delayed: the delay
//! doubles from `initialDelayMs` with every retry, up to `maxDelayMs`, with jitter (see
//! [`sluice_queue::retry_delay`]) so executions that failed together do not all come back
//! together. After `maxRetries` retries the last one stays failed and its job goes to the
//! dead-letter queue (`sluice queue dlq replay` starts it afresh; see [`replay_dead_job`]).
//! `maxRetries: 0` sends a failed execution there at once. Each attempt is an execution
//! of its own (as n8n's retries are), so every attempt's run data is kept; the delay waits in the
//! queue, durable, not in a process.

use crate::app::{resume_json, App};
use crate::error::ApiError;
use crate::queued::{submit, CarriedStart, JobPayload};
use axum::http::StatusCode;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sluice_engine::RunOutcome;
use sluice_queue::{DeadJob, NewJob, Priority, Queue};
use sluice_store::{NewExecution, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// The setting's name in a workflow's `settings`.
const SETTING: &str = "retryFailedExecutions";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub initial_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The policy in a workflow's `settings`, if it has one; an error names what is wrong.
    pub fn from_settings(settings: &Map<String, Value>) -> Result<Option<Self>, String> {
        let Some(value) = settings.get(SETTING) else {
            return Ok(None);
        };
        let object = value
            .as_object()
            .ok_or_else(|| format!("settings.{SETTING} must be an object, not {value}"))?;
        let number = |field: &str, default: Option<u64>| -> Result<u64, String> {
            match object.get(field) {
                None => default.ok_or_else(|| format!("settings.{SETTING}.{field} is required")),
                Some(v) => v.as_u64().ok_or_else(|| {
                    format!("settings.{SETTING}.{field} must be a whole number >= 0, not {v}")
                }),
            }
        };
        let max_retries = number("maxRetries", None)?;
        let initial = number("initialDelayMs", Some(1000))?;
        let max = number("maxDelayMs", Some(initial.max(60_000)))?;
        if max < initial {
            return Err(format!(
                "settings.{SETTING}.maxDelayMs ({max}) is shorter than initialDelayMs ({initial})"
            ));
        }
        Ok(Some(RetryPolicy {
            max_retries: u32::try_from(max_retries)
                .map_err(|_| format!("settings.{SETTING}.maxRetries is too large"))?,
            initial_delay: Duration::from_millis(initial),
            max_delay: Duration::from_millis(max),
        }))
    }

    /// The delay before retry number `retry` (1 for the first), or `None` past the last.
    pub fn delay(&self, retry: u32) -> Option<Duration> {
        (retry <= self.max_retries)
            .then(|| sluice_queue::retry_delay(retry, self.initial_delay, self.max_delay))
    }
}

/// After execution `failed` (run from the job `payload`, at `rank`) ended in error: accept and
/// enqueue its next retry, unless it was the last. Returns the retry's id.
pub(crate) async fn schedule(
    app: &App,
    queue: &Arc<dyn Queue>,
    failed: i64,
    resume: &RawValue,
    payload: &JobPayload,
    rank: i64,
    policy: RetryPolicy,
) -> Result<Option<i64>, ApiError> {
    let next = payload.retry + 1;
    let Some(delay) = policy.delay(next) else {
        return Ok(None);
    };
    let attempt = Attempt {
        workflow_id: &payload.workflow_id,
        retry_of: failed,
        resume: Some(resume.to_owned()),
        retry: next,
        rank,
        delay,
    };
    let (id, job) = attempt.accept(&app.store).await?;
    submit(queue.clone(), job)
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    tracing::info!("execution {failed} failed: retry {next} is execution {id}, in {delay:?}");
    Ok(Some(id))
}

/// A new execution that repeats an ended one from the items it started with.
struct Attempt<'a> {
    workflow_id: &'a str,
    retry_of: i64,
    /// `{items, startNode}`: what it starts from.
    resume: Option<Box<RawValue>>,
    /// Which retry it is (0: a fresh start with the workflow's retries all ahead of it).
    retry: u32,
    rank: i64,
    delay: Duration,
}

impl Attempt<'_> {
    /// Accept the execution in the store; returns its id and the job that runs it.
    async fn accept(self, store: &Store) -> Result<(i64, NewJob), StoreError> {
        const MODE: &str = "retry";
        let payload = JobPayload {
            workflow_id: self.workflow_id.to_string(),
            reply: None,
            reply_to: None,
            retry: self.retry,
            start: self.resume.map(|resume| CarriedStart {
                mode: MODE.into(),
                retry_of: Some(self.retry_of),
                resume,
            }),
            unwritten: false,
        };
        let (text, resume, _) = payload.into_text();
        let new = NewExecution {
            workflow_id: self.workflow_id.to_string(),
            mode: MODE.into(),
            retry_of: Some(self.retry_of),
            resume,
        };
        let id = store.accept_execution(new).await?;
        let job = NewJob {
            priority: Priority::Rank(self.rank.clamp(0, 100) as u8),
            delay: self.delay,
            ..NewJob::new(id.to_string(), text)
        };
        Ok((id, job))
    }
}

/// A dead-lettered job put back to work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replayed {
    /// The dead job.
    pub job: String,
    /// The execution that now waits in the queue: the job's own when it never ended (it
    /// stalled), a new one repeating it when it failed for good.
    pub execution: String,
}

/// Replay dead-lettered job `id`: a job that stalled goes back to the queue as it is; the job of
/// an execution that failed after its retries becomes a new execution (mode `retry`, `retryOf`
/// the failed one) from the items the failed one started with, with the workflow's retries all
/// ahead of it. `None` when `id` is not in the dead-letter queue.
pub async fn replay_dead_job(
    store: &Store,
    queue: &dyn Queue,
    id: &str,
) -> Result<Option<Replayed>, String> {
    match queue.dead_job(id).await.map_err(|e| e.to_string())? {
        Some(dead) => replay(store, queue, &dead).await,
        None => Ok(None),
    }
}

/// [`replay_dead_job`] for a job read from the dead-letter queue.
pub(crate) async fn replay(
    store: &Store,
    queue: &dyn Queue,
    dead: &DeadJob,
) -> Result<Option<Replayed>, String> {
    let id = dead.id.as_str();
    let record = match id.parse::<i64>() {
        Ok(execution) => store
            .get_execution(execution, true)
            .await
            .map_err(|e| format!("execution {id}: {e}"))?,
        Err(_) => None,
    };
    // A job whose workers kept dying: its execution (crashed when it was dead-lettered) runs
    // again under its own id.
    let stalled = record
        .as_ref()
        .is_none_or(|record| record.stopped_at.is_none() || record.status == "crashed");
    let Some(record) = record.filter(|_| !stalled) else {
        return replay_stalled(store, queue, id).await;
    };
    let payload: JobPayload = serde_json::from_str(&dead.payload)
        .map_err(|e| format!("job {id}: unreadable payload: {e}"))?;
    let (start_node, items) = record
        .data
        .as_ref()
        .and_then(started_with)
        .ok_or_else(|| format!("execution {id}: its run data has no start node to repeat"))?;
    let attempt = Attempt {
        workflow_id: &payload.workflow_id,
        retry_of: record.id,
        resume: Some(resume_json(&items, Some(&start_node))),
        retry: 0,
        rank: dead.rank,
        delay: Duration::ZERO,
    };
    let (execution, job) = attempt
        .accept(store)
        .await
        .map_err(|e| format!("execution {id}: cannot accept its replay: {e}"))?;
    if let Err(e) = queue.enqueue(job).await {
        // Not left "running" with no job to run it.
        let _ = store.mark_crashed(execution).await;
        return Err(format!("job {id}: cannot enqueue its replay: {e}"));
    }
    queue.forget_dead(id).await.map_err(|e| e.to_string())?;
    tracing::info!("dead job {id} replayed as execution {execution}");
    Ok(Some(Replayed {
        job: id.to_string(),
        execution: execution.to_string(),
    }))
}

/// Put stalled job `id` back in the queue, its execution back to running.
async fn replay_stalled(
    store: &Store,
    queue: &dyn Queue,
    id: &str,
) -> Result<Option<Replayed>, String> {
    let mut reopened = None;
    if let Ok(execution) = id.parse::<i64>() {
        let crashed = store
            .reopen_crashed(execution)
            .await
            .map_err(|e| format!("execution {id}: {e}"))?;
        reopened = crashed.then_some(execution);
    }
    let replayed = queue.replay(id).await;
    if let (Some(execution), false) = (reopened, matches!(replayed, Ok(true))) {
        // Not left "running" with no job to run it.
        let _ = store.mark_crashed(execution).await;
    }
    let replayed = replayed.map_err(|e| e.to_string())?;
    Ok(replayed.then(|| Replayed {
        job: id.to_string(),
        execution: id.to_string(),
    }))
}

/// The start node of a finished execution's run data (`{resultData: {runData}}`) and the items
/// it emitted: the node run first (`executionIndex` 0).
pub(crate) fn started_with(data: &Value) -> Option<(String, Value)> {
    let runs = data["resultData"]["runData"].as_object()?;
    runs.iter().find_map(|(node, tasks)| {
        let first = &tasks[0];
        (first["executionIndex"].as_u64() == Some(0))
            .then(|| (node.clone(), first["data"]["main"][0].clone()))
    })
}

/// Why an execution whose retries are spent goes to the dead-letter queue.
pub(crate) fn spent_message(payload: &JobPayload, outcome: Option<&RunOutcome>) -> String {
    let cause = outcome
        .and_then(|o| o.error.as_ref())
        .map_or_else(|| "it did not finish".to_string(), |e| e.to_string());
    match payload.retry {
        0 => format!("failed: {cause}"),
        1 => format!("failed after 1 retry: {cause}"),
        n => format!("failed after {n} retries: {cause}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sluice_queue::{EmbeddedQueue, QueueConfig};
    use sluice_store::testing::TestDb;

    /// A crashed execution whose job the queue cannot put back (here: it has no such
    /// dead-lettered job) is not left running with nothing to run it: it is crashed again.
    #[tokio::test]
    async fn a_replay_the_queue_refuses_leaves_the_execution_crashed() {
        let db = TestDb::new(false, "replay_test").await;
        let store = db.open().await;
        let queue = EmbeddedQueue::new(&store, QueueConfig::default());
        let id = store
            .accept_execution(NewExecution {
                workflow_id: "wf".into(),
                mode: "webhook".into(),
                retry_of: None,
                resume: None,
            })
            .await
            .unwrap();
        store.mark_crashed(id).await.unwrap();
        let replayed = replay_stalled(&store, &queue, &id.to_string()).await;
        assert!(
            matches!(replayed, Ok(None)),
            "{:?}",
            replayed.map(|r| r.is_some())
        );
        let execution = store.get_execution(id, false).await.unwrap().unwrap();
        assert_eq!(execution.status, "crashed");
        store.close().await;
    }

    fn settings(value: Value) -> Map<String, Value> {
        json!({ SETTING: value }).as_object().unwrap().clone()
    }

    #[test]
    fn the_setting_is_read_with_defaults_and_bad_values_are_named() {
        assert_eq!(RetryPolicy::from_settings(&Map::new()), Ok(None));
        let policy = RetryPolicy::from_settings(&settings(json!({"maxRetries": 2})))
            .unwrap()
            .unwrap();
        assert_eq!(policy.initial_delay, Duration::from_secs(1));
        assert_eq!(policy.max_delay, Duration::from_secs(60));
        assert!(policy.delay(2).is_some());
        assert_eq!(policy.delay(3), None, "two retries, then it stays failed");
        let bad = RetryPolicy::from_settings(&settings(json!({"maxRetries": "3"})));
        assert_eq!(
            bad.unwrap_err(),
            "settings.retryFailedExecutions.maxRetries must be a whole number >= 0, not \"3\""
        );
        let missing = RetryPolicy::from_settings(&settings(json!({})));
        assert!(missing.unwrap_err().contains("maxRetries is required"));
        let inverted = RetryPolicy::from_settings(&settings(
            json!({"maxRetries": 1, "initialDelayMs": 500, "maxDelayMs": 100}),
        ));
        assert!(inverted.unwrap_err().contains("is shorter than"));
    }
}

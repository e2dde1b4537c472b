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
//! together. After `maxRetries` retries the last one stays failed. Each attempt is an execution
//! of its own (as n8n's retries are), so every attempt's run data is kept; the delay waits in the
//! queue, durable, not in a process.

use crate::app::App;
use crate::error::ApiError;
use crate::queued::{submit, JobPayload};
use axum::http::StatusCode;
use serde_json::{Map, Value};
use sluice_queue::{NewJob, Priority, Queue};
use sluice_store::NewExecution;
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
    resume: Option<&Value>,
    payload: &JobPayload,
    rank: i64,
    policy: RetryPolicy,
) -> Result<Option<i64>, ApiError> {
    let next = payload.retry + 1;
    let Some(delay) = policy.delay(next) else {
        return Ok(None);
    };
    let new = NewExecution {
        workflow_id: payload.workflow_id.clone(),
        mode: "retry".into(),
        retry_of: Some(failed),
        resume: resume.cloned(),
    };
    let id = app.store.accept_execution(new).await?;
    let retry = JobPayload {
        workflow_id: payload.workflow_id.clone(),
        reply: None,
        retry: next,
    };
    let job = NewJob {
        priority: Priority::Rank(rank.clamp(0, 100) as u8),
        delay,
        ..NewJob::new(
            id.to_string(),
            serde_json::to_string(&retry).expect("a job payload serializes"),
        )
    };
    submit(queue.clone(), job)
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    tracing::info!("execution {failed} failed: retry {next} is execution {id}, in {delay:?}");
    Ok(Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

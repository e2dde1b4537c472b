//! Queue mode on the process that accepts executions (`EXECUTIONS_MODE=queue`): an execution a
//! worker can run (one accepted with what a restart needs: its trigger items and start node) is
//! committed to the store first, as always, and then enqueued under its execution id instead of
//! running here. The job carries ids only; a worker reads the rest from the store. Manual runs
//! stay on this process, as in n8n.
//!
//! Enqueueing is idempotent (the job id is the execution id), so when Redis cannot be reached the
//! enqueue is retried in the background with backoff, and crash recovery simply enqueues again
//! what a dead process had accepted: nothing committed is lost.

use crate::app::{App, Start, Started};
use crate::deployed::Deployed;
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sluice_queue::{NewJob, Priority, Queue};
use sluice_store::{ExecutionRow, NewExecution};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// What a job carries (the execution id is the job id).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobPayload {
    pub workflow_id: String,
}

/// Longest pause between two attempts to enqueue while the queue is unreachable.
const MAX_ENQUEUE_BACKOFF: Duration = Duration::from_secs(10);

/// The priority of a workflow's executions: `settings.priority` (`high`, `normal`, `low` or a
/// rank from 0, most urgent, to 100), normal otherwise.
pub fn workflow_priority(wf: &Deployed) -> Priority {
    let settings = &wf.compiled.workflow().settings.extra;
    match settings.get("priority") {
        Some(serde_json::Value::String(text)) => Priority::parse(text),
        Some(serde_json::Value::Number(n)) => n.as_u64().and_then(|r| {
            u8::try_from(r)
                .ok()
                .filter(|r| *r <= 100)
                .map(Priority::Rank)
        }),
        _ => None,
    }
    .unwrap_or(Priority::Normal)
}

impl App {
    /// The queue `start` goes to, or `None` when it runs in this process.
    pub(crate) fn queue_for(&self, start: &Start) -> Option<Arc<dyn Queue>> {
        let queued = start.resumable && start.mode != "manual";
        self.queue.clone().filter(|_| queued)
    }

    /// Commit the execution (unless it is already in the store) and enqueue it. The returned
    /// [`Started`] never receives a response or an outcome: a worker runs it.
    pub(crate) async fn enqueue(
        self: &Arc<Self>,
        queue: Arc<dyn Queue>,
        wf: &Deployed,
        start: Start,
    ) -> Result<Started, ApiError> {
        let id = match start.existing_id {
            Some(id) => id,
            None => {
                let new = NewExecution {
                    workflow_id: wf.id.clone(),
                    mode: start.mode.into(),
                    retry_of: start.retry_of,
                    resume: Some(json!({ "items": start.items, "startNode": start.start_node })),
                };
                self.store.accept_execution(new).await?
            }
        };
        let payload = JobPayload {
            workflow_id: wf.id.clone(),
        };
        let job = NewJob {
            priority: workflow_priority(wf),
            ..NewJob::new(
                id.to_string(),
                serde_json::to_string(&payload).expect("a job payload serializes"),
            )
        };
        if let Err(e) = queue.enqueue(job.clone()).await {
            tracing::error!("execution {id}: cannot enqueue it yet ({e}); retrying");
            tokio::spawn(enqueue_until_accepted(queue, job));
        }
        let (_, response) = oneshot::channel();
        let (_, done) = oneshot::channel();
        Ok(Started {
            id,
            row: Arc::new(ExecutionRow::written(id)),
            response,
            done,
            chunks: None,
        })
    }
}

/// Enqueue `job` again and again, with growing pauses, until the queue takes it.
async fn enqueue_until_accepted(queue: Arc<dyn Queue>, job: NewJob) {
    let mut pause = Duration::from_millis(100);
    loop {
        tokio::time::sleep(pause).await;
        match queue.enqueue(job.clone()).await {
            Ok(_) => {
                tracing::info!("execution {}: enqueued", job.id);
                return;
            }
            Err(e) => tracing::warn!("execution {}: still cannot enqueue it: {e}", job.id),
        }
        pause = (pause * 2).min(MAX_ENQUEUE_BACKOFF);
    }
}

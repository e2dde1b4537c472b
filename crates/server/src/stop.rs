//! Stopping an execution (`POST /api/v1/executions/{id}/stop`, `sluice execution stop ID`),
//! wherever it is: running in this process (its run is dropped at its next await), waiting in
//! queue mode's queue (taken out, so no worker runs it), or running on a worker (the job is
//! marked canceled; the worker learns at its next lease extension and drops the run). Either
//! way the execution ends as `canceled`, as in n8n. An execution that already ended is left
//! alone (a conflict, not a success).

use crate::app::App;
use crate::error::ApiError;
use axum::http::StatusCode;
use sluice_queue::{Canceled, Queue};
use sluice_store::{ExecutionRecord, Finished, Store};
use std::time::{Duration, Instant};

/// The status of a stopped execution (n8n's).
pub(crate) const CANCELED: &str = "canceled";

/// How long a stop waits for the process running the execution to record its end; past it,
/// the end is recorded here (the first end written is the one kept).
const STOP_WAIT: Duration = Duration::from_secs(10);

/// The run data of a canceled execution.
pub(crate) fn canceled_data() -> String {
    serde_json::json!({"resultData": {"runData": {}, "error": {
        "message": "The execution was canceled"}}})
    .to_string()
}

/// Why an execution could not be stopped.
#[derive(Debug)]
pub enum StopError {
    NotFound(i64),
    /// It ended already, with this status.
    Ended(i64, String),
    /// It runs in another `sluice serve` process, outside queue mode.
    Elsewhere(i64),
    Backend(String),
}

impl std::fmt::Display for StopError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopError::NotFound(id) => write!(f, "execution {id} not found"),
            StopError::Ended(id, status) => {
                write!(f, "execution {id} already ended (status {status})")
            }
            StopError::Elsewhere(id) => write!(
                f,
                "execution {id} runs inside a `sluice serve` process: stop it through that \
                 server's API (POST /api/v1/executions/{id}/stop)"
            ),
            StopError::Backend(e) => f.write_str(e),
        }
    }
}

impl From<StopError> for ApiError {
    fn from(e: StopError) -> Self {
        let status = match e {
            StopError::NotFound(_) => StatusCode::NOT_FOUND,
            StopError::Ended(..) | StopError::Elsewhere(_) => StatusCode::CONFLICT,
            StopError::Backend(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, e.to_string())
    }
}

fn backend(e: impl std::fmt::Display) -> StopError {
    StopError::Backend(e.to_string())
}

/// Stop execution `id` from outside any server (`sluice execution stop`): through the queue
/// in queue mode. Returns the execution as it ended.
pub async fn stop_execution(
    store: &Store,
    queue: Option<&dyn Queue>,
    id: i64,
) -> Result<ExecutionRecord, StopError> {
    stop(store, queue, None, id).await
}

/// Stop execution `id` on behalf of `app` (its API).
pub(crate) async fn stop_in(app: &App, id: i64) -> Result<ExecutionRecord, StopError> {
    stop(&app.store, app.queue.as_deref(), Some(app), id).await
}

async fn stop(
    store: &Store,
    queue: Option<&dyn Queue>,
    local: Option<&App>,
    id: i64,
) -> Result<ExecutionRecord, StopError> {
    let record = record(store, id).await?;
    if record.stopped_at.is_some() {
        return Err(StopError::Ended(id, record.status));
    }
    if local.is_some_and(|app| app.cancel_running(id)) {
        return ended(store, id, false).await;
    }
    let Some(queue) = queue else {
        return Err(StopError::Elsewhere(id));
    };
    match queue.cancel(&id.to_string()).await.map_err(backend)? {
        Canceled::Running => ended(store, id, false).await,
        // Waiting (or not in the queue at all: still being enqueued, so a worker that gets it
        // later finds it ended and does not run it).
        Canceled::Waiting | Canceled::NotFound => ended(store, id, true).await,
    }
}

/// The execution once its end is recorded: wait for whoever runs it (unless `now`), then
/// record it as canceled here if it has not ended yet.
async fn ended(store: &Store, id: i64, now: bool) -> Result<ExecutionRecord, StopError> {
    let deadline = Instant::now() + if now { Duration::ZERO } else { STOP_WAIT };
    loop {
        let current = record(store, id).await?;
        if current.stopped_at.is_some() {
            return Ok(current);
        }
        if Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let finished = Finished {
        status: CANCELED.into(),
        data_json: canceled_data(),
        keep: true,
        custom_data: Default::default(),
    };
    store
        .finish_execution(id, finished)
        .await
        .map_err(backend)?;
    // Ended by this write, or by the runner's just before it.
    record(store, id).await
}

async fn record(store: &Store, id: i64) -> Result<ExecutionRecord, StopError> {
    store
        .get_execution(id, false)
        .await
        .map_err(backend)?
        .ok_or(StopError::NotFound(id))
}

//! Queue mode's part of `/api/v1` (and the functions `sluice queue` shares with it): the queue's
//! stats, and the dead-letter queue: list, show, replay one or all (see `retry`), purge. Purging marks the
//! purged executions crashed in the store, so none stays "running" for ever.

use crate::app::App;
use crate::error::ApiError;
use crate::retry::{self, replay_dead_job, Replayed};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use sluice_queue::{DeadJob, Queue};
use sluice_store::Store;
use std::sync::Arc;

type ApiResult = Result<Json<Value>, ApiError>;

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/stats", get(stats))
        .route("/dlq", get(list).delete(purge))
        .route("/dlq/replay", post(replay_all))
        .route("/dlq/{id}", get(show))
        .route("/dlq/{id}/replay", post(replay))
}

fn queue(app: &App) -> Result<&dyn Queue, ApiError> {
    app.queue
        .as_deref()
        .ok_or_else(|| ApiError::not_found("this server does not run in queue mode"))
}

fn unavailable(e: sluice_queue::QueueError) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
}

/// A dead-lettered job as the API and `sluice queue dlq` show it.
pub fn dead_job_json(job: &DeadJob) -> Value {
    json!({
        "id": job.id,
        "payload": serde_json::from_str::<Value>(&job.payload).unwrap_or(Value::Null),
        "rank": job.rank,
        "stalls": job.stalls,
        "failures": job.failures,
        "error": job.error,
        "enqueuedAt": sluice_store::iso(job.enqueued_at),
        "deadAt": sluice_store::iso(job.dead_at),
    })
}

/// Replay every dead-lettered job (see [`replay_dead_job`]), reading the queue once.
pub async fn replay_every_dead_job(
    store: &Store,
    queue: &dyn Queue,
) -> Result<Vec<Replayed>, String> {
    let mut replayed = Vec::new();
    for job in queue.dead_jobs().await.map_err(|e| e.to_string())? {
        replayed.extend(retry::replay(store, queue, &job).await?);
    }
    Ok(replayed)
}

/// The API's answer to a replay.
fn replayed_json(replayed: &[Replayed]) -> Value {
    json!({
        "replayed": replayed.iter().map(|r| &r.job).collect::<Vec<_>>(),
        "executions": replayed.iter().map(|r| &r.execution).collect::<Vec<_>>(),
    })
}

/// Forget the dead-lettered jobs and mark their executions crashed; returns their ids.
pub async fn purge_dead_jobs(store: &Store, queue: &dyn Queue) -> Result<Vec<String>, String> {
    let purged = queue.purge_dead().await.map_err(|e| e.to_string())?;
    for id in &purged {
        if let Ok(execution) = id.parse::<i64>() {
            store
                .mark_crashed(execution)
                .await
                .map_err(|e| format!("execution {id}: {e}"))?;
        }
    }
    Ok(purged)
}

async fn stats(State(app): State<Arc<App>>) -> ApiResult {
    let stats = queue(&app)?.stats().await.map_err(unavailable)?;
    Ok(Json(serde_json::to_value(stats).expect("stats serialize")))
}

async fn list(State(app): State<Arc<App>>) -> ApiResult {
    let jobs = queue(&app)?.dead_jobs().await.map_err(unavailable)?;
    Ok(Json(
        json!({"data": jobs.iter().map(dead_job_json).collect::<Vec<_>>()}),
    ))
}

async fn show(State(app): State<Arc<App>>, Path(id): Path<String>) -> ApiResult {
    let job = queue(&app)?
        .dead_job(&id)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| ApiError::not_found(format!("job {id} is not in the dead-letter queue")))?;
    Ok(Json(dead_job_json(&job)))
}

async fn replay(State(app): State<Arc<App>>, Path(id): Path<String>) -> ApiResult {
    let replayed = replay_dead_job(&app.store, queue(&app)?, &id)
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e))?
        .ok_or_else(|| ApiError::not_found(format!("job {id} is not in the dead-letter queue")))?;
    Ok(Json(replayed_json(&[replayed])))
}

async fn replay_all(State(app): State<Arc<App>>) -> ApiResult {
    let replayed = replay_every_dead_job(&app.store, queue(&app)?)
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e))?;
    Ok(Json(replayed_json(&replayed)))
}

async fn purge(State(app): State<Arc<App>>) -> ApiResult {
    let purged = purge_dead_jobs(&app.store, queue(&app)?)
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e))?;
    Ok(Json(json!({ "purged": purged })))
}

//! What the stand-in upstream counts, the notifications sink that feeds most of it, and
//! `GET /stats`, which benchmarks and tests read to check what arrived.

use super::Upstream;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Default)]
pub struct Stats {
    /// API requests (customers and notifications), whatever their answer.
    pub requests: AtomicU64,
    /// Notifications accepted: one per object posted, one per element of an array.
    pub notifications_received: AtomicU64,
    /// `POST /notifications` requests accepted.
    pub notification_requests: AtomicU64,
    /// 429 answers.
    pub rate_limited: AtomicU64,
    /// 500/503 answers injected.
    pub errors_injected: AtomicU64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Snapshot {
    requests: u64,
    notifications_received: u64,
    notification_requests: u64,
    rate_limited: u64,
    errors_injected: u64,
}

pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// `GET /stats`: the counters as JSON.
pub async fn snapshot(State(upstream): State<Arc<Upstream>>) -> Json<impl Serialize> {
    let stats = &upstream.stats;
    let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    Json(Snapshot {
        requests: read(&stats.requests),
        notifications_received: read(&stats.notifications_received),
        notification_requests: read(&stats.notification_requests),
        rate_limited: read(&stats.rate_limited),
        errors_injected: read(&stats.errors_injected),
    })
}

/// `POST /notifications`: one JSON object, or an array of them sent as a batch; answers 202
/// with the number received.
pub async fn notifications(
    State(upstream): State<Arc<Upstream>>,
    Json(body): Json<Value>,
) -> Response {
    let received = match &body {
        Value::Object(_) => 1,
        Value::Array(batch) => batch.len() as u64,
        _ => {
            let error = json!({"error": "expected a JSON object or an array of them"});
            return (StatusCode::BAD_REQUEST, Json(error)).into_response();
        }
    };
    add(&upstream.stats.notification_requests, 1);
    add(&upstream.stats.notifications_received, received);
    (StatusCode::ACCEPTED, Json(json!({"received": received}))).into_response()
}

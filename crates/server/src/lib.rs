//! `sluice serve`: the long-running process. An axum server with n8n's public REST API
//! (`/api/v1`), production and test webhooks, health and Prometheus metrics, a scheduler for
//! Schedule/Cron triggers, crash recovery and graceful shutdown, over a
//! [`sluice_store::Store`]. Several processes can share one database: each runs its own
//! executions, takes over those of processes that died, and picks up workflow changes the
//! others make.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<sluice_store::Store>) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5678").await?;
//! let config = sluice_server::ServerConfig::default();
//! sluice_server::serve(listener, store, config, std::future::pending()).await.unwrap();
//! # Ok(()) }
//! ```

mod api;
mod app;
mod body;
mod deployed;
mod error;
mod form;
mod metrics;
mod multipart;
mod priority;
mod queue_api;
mod queued;
mod recovery;
mod retry;
mod routes;
mod schedule;
mod stop;
mod sync;
mod webhook;
mod webhook_guard;
mod webhook_request;
mod webhook_stream;
mod worker;

pub use queue_api::{dead_job_json, purge_dead_jobs, replay_every_dead_job};
pub use retry::{replay_dead_job, Replayed};
pub use stop::{stop_execution, StopError};
pub use worker::{run as run_worker, WorkerConfig};

use crate::app::App;
use crate::error::ApiError;
use axum::extract::State;
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::json;
use sluice_engine::{ExecutionOptions, Streaming};
use sluice_runtime::{BinaryData, Clock};
use sluice_store::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Entry points for the fuzz targets in `fuzz/`: the server's readings of untrusted input,
/// without a running server.
#[doc(hidden)]
pub mod fuzzing {
    use sluice_model::{Item, JsonObject};
    use sluice_nodes::trigger::schedule::Timing;
    use sluice_nodes::trigger::webhook::WebhookConfig;

    /// The Webhook trigger's item for `request` (headers, query string, body), as `/webhook/*`
    /// builds it; an error is the message the caller would get.
    pub fn webhook_item(
        config: &WebhookConfig,
        request: &axum::http::Request<Vec<u8>>,
        params: JsonObject,
    ) -> Result<Item, String> {
        crate::webhook_request::trigger_item(
            config,
            request.headers(),
            request.uri(),
            params,
            request.body(),
        )
        .map_err(|e| e.message)
    }

    /// When `timing` next fires after `after` in `tz`, as the scheduler computes it.
    pub fn next_time(
        timing: &Timing,
        tz: chrono_tz::Tz,
        after: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
        crate::schedule::next_time(timing, tz, after)
    }
}

/// Server settings (n8n's variable names where n8n has one).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Largest request body in bytes (`N8N_PAYLOAD_SIZE_MAX`, in MB; default 16).
    pub payload_size_max: usize,
    /// How long shutdown waits for running executions (`N8N_GRACEFUL_SHUTDOWN_TIMEOUT`, s).
    pub graceful_shutdown_timeout: Duration,
    /// Run again executions a crash interrupted after they were accepted with `onReceived`
    /// (`SLUICE_RESUME_ON_START`, default true); otherwise mark them crashed. Applies on start
    /// and to the executions of other processes found dead.
    pub resume_on_start: bool,
    /// `$env` in expressions (see `sluice run`).
    pub allow_env_access: bool,
    /// Public URL prefix for `webhookUrl` and error-workflow links (`WEBHOOK_URL`).
    pub base_url: String,
    /// How often executions are pruned: every minute by default, so that a busy server's store
    /// stays near the maximum count (at 10,000 executions/s an hour adds 36 million rows).
    pub prune_interval: Duration,
    /// How often this process proves it is alive and looks for executions of dead processes
    /// (`SLUICE_HEARTBEAT_INTERVAL`, s, default 5); a process whose heartbeat is
    /// [`sluice_store::STALE_HEARTBEATS`] intervals late is taken for dead.
    pub heartbeat_interval: Duration,
    /// How often this process checks for workflows activated, deactivated or changed by other
    /// processes (`SLUICE_WORKFLOW_SYNC_INTERVAL`, s, default 2).
    pub workflow_sync_interval: Duration,
    /// The scheduler's time (a virtual clock lets tests run schedules without waiting).
    pub clock: Clock,
    /// Reverse proxies in front of the server whose `X-Forwarded-For` is trusted when a webhook's
    /// IP whitelist looks for the caller's address (`N8N_PROXY_HOPS`, default 0).
    pub proxy_hops: usize,
    /// Queue mode: how long a webhook answered by Respond to Webhook or by its last node waits
    /// for the worker's answer (`SLUICE_QUEUE_REPLY_TIMEOUT`, s, default 300).
    pub queue_reply_timeout: Duration,
    /// Queue mode: at most this many webhook executions wait in the queue
    /// (`SLUICE_QUEUE_MAX_DEPTH`; default unbounded); see [`Overflow`].
    pub queue_max_depth: Option<u64>,
    /// What a webhook finds when the queue is full (`SLUICE_QUEUE_OVERFLOW`).
    pub queue_overflow: Overflow,
    /// Where executions keep binary data (`N8N_DEFAULT_BINARY_DATA_MODE`; `sluice serve` keeps
    /// it in files under its data directory); an execution's files go when it is deleted or
    /// pruned.
    pub binary_data: BinaryData,
    /// The most megabytes of items one execution may hold (`SLUICE_EXECUTION_MEMORY_MB`; default
    /// none): past it the execution fails, naming the node, and the process goes on.
    pub execution_memory_mb: Option<u64>,
    /// `SLUICE_RUN_DATA_MAX_ITEMS` (default 10,000; `all`: no bound): each node output's
    /// run data keeps its count and its first this many items, except for executions whose
    /// caller needs the last node's whole output (see [`app::Start::whole_last_output`]) and
    /// for outputs a later node reads by name.
    pub run_data_max_items: Option<usize>,
    /// Streamed chains (`SLUICE_STREAM`, `SLUICE_STREAM_CHUNK_ITEMS`, `SLUICE_SORT_MEMORY_MB`).
    pub streaming: Streaming,
}

/// What a webhook request meets when the queue holds `queue_max_depth` jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// `reject` (default): 429 with `Retry-After`; nothing is accepted.
    Reject,
    /// `wait`: the request waits for room up to this long (`SLUICE_QUEUE_OVERFLOW_TIMEOUT`, s,
    /// default 30), then is rejected as above.
    Wait(Duration),
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            payload_size_max: 16 * 1024 * 1024,
            graceful_shutdown_timeout: Duration::from_secs(30),
            resume_on_start: true,
            allow_env_access: false,
            base_url: "http://localhost:5678".into(),
            prune_interval: Duration::from_secs(60),
            heartbeat_interval: Duration::from_secs(5),
            workflow_sync_interval: Duration::from_secs(2),
            clock: Clock::system(),
            proxy_hops: 0,
            queue_reply_timeout: Duration::from_secs(300),
            queue_max_depth: None,
            queue_overflow: Overflow::Reject,
            binary_data: BinaryData::memory(),
            execution_memory_mb: None,
            run_data_max_items: None,
            streaming: Streaming::default(),
        }
    }
}

impl ServerConfig {
    /// Settings from the environment; `port` completes the default base URL.
    pub fn from_env(port: u16) -> Result<Self, String> {
        let mut config = ServerConfig {
            base_url: format!("http://localhost:{port}"),
            ..ServerConfig::default()
        };
        let number = |name: &str| -> Result<Option<u64>, String> {
            std::env::var(name).ok().map_or(Ok(None), |v| {
                v.trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("{name}: not a number: '{v}'"))
            })
        };
        if let Some(mb) = number("N8N_PAYLOAD_SIZE_MAX")? {
            config.payload_size_max = (mb as usize) * 1024 * 1024;
        }
        if let Some(hops) = number("N8N_PROXY_HOPS")? {
            config.proxy_hops = hops as usize;
        }
        if let Some(s) = number("N8N_GRACEFUL_SHUTDOWN_TIMEOUT")? {
            config.graceful_shutdown_timeout = Duration::from_secs(s);
        }
        if let Some(interval) = seconds("SLUICE_HEARTBEAT_INTERVAL")? {
            config.heartbeat_interval = interval;
        }
        if let Some(interval) = seconds("SLUICE_WORKFLOW_SYNC_INTERVAL")? {
            config.workflow_sync_interval = interval;
        }
        if let Some(timeout) = seconds("SLUICE_QUEUE_REPLY_TIMEOUT")? {
            config.queue_reply_timeout = timeout;
        }
        match number("SLUICE_QUEUE_MAX_DEPTH")? {
            Some(0) => return Err("SLUICE_QUEUE_MAX_DEPTH: must be at least 1".into()),
            depth => config.queue_max_depth = depth,
        }
        config.queue_overflow = match std::env::var("SLUICE_QUEUE_OVERFLOW").as_deref() {
            Err(_) | Ok("reject") => Overflow::Reject,
            Ok("wait") => Overflow::Wait(
                seconds("SLUICE_QUEUE_OVERFLOW_TIMEOUT")?.unwrap_or(Duration::from_secs(30)),
            ),
            Ok(other) => {
                return Err(format!(
                    "SLUICE_QUEUE_OVERFLOW: expected 'reject' or 'wait', not '{other}'"
                ))
            }
        };
        config.execution_memory_mb = ExecutionOptions::memory_budget_mb_from_env()?;
        config.run_data_max_items = ExecutionOptions::run_data_max_items_from_env()?;
        config.streaming = Streaming::from_env()?;
        if let Ok(v) = std::env::var("SLUICE_RESUME_ON_START") {
            config.resume_on_start = v != "false";
        }
        if let Ok(url) = std::env::var("WEBHOOK_URL") {
            config.base_url = url.trim_end_matches('/').to_string();
        }
        Ok(config)
    }
}

/// A duration in seconds (fractions allowed) from the environment variable `name`.
fn seconds(name: &str) -> Result<Option<Duration>, String> {
    std::env::var(name).ok().map_or(Ok(None), |v| {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| Some(Duration::from_secs_f64(s)))
            .ok_or_else(|| format!("{name}: not a positive number of seconds: '{v}'"))
    })
}

/// Background tasks, aborted when this is dropped (also when the `serve` future is dropped).
struct Tasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Serve on `listener` until `shutdown` resolves: then stop accepting, let running executions
/// finish (up to the graceful timeout), commit pending writes, deregister and return.
pub async fn serve(
    listener: TcpListener,
    store: Arc<Store>,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    serve_with(listener, store, config, None, shutdown).await
}

/// [`serve`]; with a queue, in queue mode: executions that a worker can run are enqueued
/// there (see [`run_worker`]) instead of running in this process.
pub async fn serve_with(
    listener: TcpListener,
    store: Arc<Store>,
    config: ServerConfig,
    queue: Option<Arc<dyn sluice_queue::Queue>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    run_server(listener, store, config, queue, Role::Main, shutdown).await
}

/// `sluice webhook`: a webhook-only process in queue mode, as n8n's: it serves the production
/// webhooks of the active workflows (and health and metrics), enqueues their executions and
/// relays the workers' answers; no API, no test webhooks, no schedules, no pruning: those are
/// the main process's. Run several behind a load balancer.
pub async fn serve_webhooks(
    listener: TcpListener,
    store: Arc<Store>,
    config: ServerConfig,
    queue: Arc<dyn sluice_queue::Queue>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    run_server(
        listener,
        store,
        config,
        Some(queue),
        Role::Webhook,
        shutdown,
    )
    .await
}

/// What a server process does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Everything: API, webhooks, schedules, pruning.
    Main,
    /// Production webhooks only (`sluice webhook`).
    Webhook,
}

async fn run_server(
    listener: TcpListener,
    store: Arc<Store>,
    config: ServerConfig,
    queue: Option<Arc<dyn sluice_queue::Queue>>,
    role: Role,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    metrics::start_upkeep();
    let app = App::new(store.clone(), config, queue);
    recovery::register(&app).await.map_err(|e| e.message)?;
    let heartbeat = Tasks(vec![tokio::spawn(recovery::heartbeat(app.clone()))]);
    let version = store.workflows_version().await.map_err(|e| e.to_string())?;
    app.reload().await.map_err(|e| e.message)?;
    recovery::recover(&app, recovery::Abandoned::All)
        .await
        .map_err(|e| e.message)?;
    let mut background = Tasks(vec![
        tokio::spawn(recovery::watch(app.clone())),
        tokio::spawn(sync::run(app.clone(), version)),
    ]);
    if role == Role::Main {
        background.0.push(tokio::spawn(schedule::run(app.clone())));
        background.0.push(tokio::spawn(prune(app.clone())));
    }
    let router = router(app.clone(), role);
    // The peer address is for webhooks' IP whitelists.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|e| e.to_string())?;
    drop(background);
    if !app.wait_idle(app.config.graceful_shutdown_timeout).await {
        tracing::warn!(
            "shutdown timeout: executions still running are taken over by another process \
             sharing the database, or on next start"
        );
    }
    drop(heartbeat);
    store.close().await;
    Ok(())
}

fn router(app: Arc<App>, role: Role) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/healthz/readiness", get(readiness))
        .route(
            "/metrics",
            get(|State(app): State<Arc<App>>| async move {
                metrics::render(app.queue.as_deref()).await
            }),
        )
        .route("/webhook/{*path}", any(webhook::answer::<false>))
        .route("/form/{*path}", any(form::answer::<false>));
    if role == Role::Main {
        router = router
            .route("/webhook-test/{*path}", any(webhook::answer::<true>))
            .route("/form-test/{*path}", any(form::answer::<true>))
            .nest("/api/v1", api::router(app.clone()));
    }
    router
        .fallback(|| async { ApiError::not_found("not found") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
            )
        })
        .with_state(app)
}

async fn readiness(State(app): State<Arc<App>>) -> Result<Json<serde_json::Value>, ApiError> {
    ready(&app.store, app.queue.as_deref()).await
}

/// Ready when the database answers, and the queue too in queue mode.
async fn ready(
    store: &Store,
    queue: Option<&dyn sluice_queue::Queue>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let unavailable = |what: &str| ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, what);
    if !store.ping().await {
        return Err(unavailable("the database does not answer"));
    }
    if let Some(queue) = queue {
        if !queue.ping().await {
            return Err(unavailable("the queue (Redis) does not answer"));
        }
    }
    Ok(Json(json!({"status": "ok"})))
}

/// A worker's health server (`QUEUE_HEALTH_CHECK_ACTIVE`): `/healthz`, `/healthz/readiness`
/// (database and queue) and `/metrics`.
fn health_router(store: Arc<Store>, queue: Arc<dyn sluice_queue::Queue>) -> Router {
    let (ready_store, ready_queue) = (store, queue.clone());
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route(
            "/healthz/readiness",
            get(move || async move { ready(&ready_store, Some(ready_queue.as_ref())).await }),
        )
        .route(
            "/metrics",
            get(move || async move { metrics::render(Some(queue.as_ref())).await }),
        )
}

async fn prune(app: Arc<App>) {
    loop {
        match app.store.prune(sluice_store::now_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("pruned {n} executions"),
            Err(e) => tracing::error!("pruning: {e}"),
        }
        if let Err(e) = prune_binary_data(&app).await {
            tracing::error!("pruning binary data: {e}");
        }
        tokio::time::sleep(app.config.prune_interval).await;
    }
}

/// Remove the binary data files of executions the store no longer has (pruned or deleted),
/// leaving those of executions running here, whose rows may not be written yet.
async fn prune_binary_data(app: &App) -> Result<(), String> {
    let binary_data = &app.config.binary_data;
    for name in binary_data
        .executions_on_disk()
        .map_err(|e| e.to_string())?
    {
        let Ok(id) = name.parse::<i64>() else {
            continue;
        };
        if app.is_running(id) {
            continue;
        }
        let stored = app
            .store
            .get_execution(id, false)
            .await
            .map_err(|e| e.to_string())?;
        if stored.is_none() {
            binary_data
                .delete_execution(&name)
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

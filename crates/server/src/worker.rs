//! `sluice worker`: runs the executions queue mode enqueues. It keeps the active workflows built
//! (and follows changes, like `serve`), reserves up to `concurrency` jobs at a time, runs each
//! from the execution row in the store under its id, extends the job's lease while it runs, and
//! acknowledges it once the end is committed. An execution found already finished (its job ran
//! before, on a worker that died before acknowledging) is acknowledged without running again.
//! A lease extension that finds the job canceled stops the run (see `stop`); a webhook's answer
//! (or its streamed lines) is relayed to the process holding the request; a failed execution of
//! a workflow with `settings.retryFailedExecutions` is followed by its retry (see `retry`).
//! While the queue is away the worker backs off and keeps trying to record its jobs' ends.
//! Every worker also takes back the jobs of workers that died (`reap`; a webhook caller waiting
//! for a job it dead-letters is answered then) and reports its status.
//! On shutdown it takes no new jobs, lets running ones finish within the graceful timeout, and
//! hands the rest back to the queue.

use crate::app::{App, Start, StartId};
use crate::error::ApiError;
use crate::queued::{CarriedStart, JobPayload, Relay, ReplyKind};
use crate::recovery::mode_name;
use crate::retry;
use crate::{health_router, metrics, sync, ServerConfig, Tasks};
use serde::Deserialize;
use serde_json::Value;
use sluice_model::Item;
use sluice_queue::{Backoff, Job, Lease, Nack, Queue, WorkerStatus};
use sluice_store::{now_ms, NewExecution, Store};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Longest pause between two attempts to reach the queue.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How long a worker keeps trying to record a job's end while the queue is away.
const RECORD_END_FOR: Duration = Duration::from_secs(60);

/// Worker settings (n8n's variable names where n8n has one).
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Jobs run at once (`--concurrency`, `N8N_CONCURRENCY_PRODUCTION_LIMIT`; default 10).
    pub concurrency: usize,
    /// How long a reserved job is this worker's without a heartbeat (`QUEUE_WORKER_LOCK_DURATION`,
    /// ms; default 30 s).
    pub lease: Duration,
    /// How often the lease is extended (`QUEUE_WORKER_LOCK_RENEW_TIME`, ms; default 5 s).
    pub renew: Duration,
    /// How often this worker looks for jobs whose lease ran out (`QUEUE_WORKER_STALLED_INTERVAL`,
    /// ms; default 5 s).
    pub stalled_interval: Duration,
    /// How often the worker reports its status to the queue.
    pub report_interval: Duration,
    /// The health server's port (`QUEUE_HEALTH_CHECK_ACTIVE=true`, `QUEUE_HEALTH_CHECK_PORT`,
    /// default 5678); none unless active.
    pub health_port: Option<u16>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 10,
            lease: Duration::from_secs(30),
            renew: Duration::from_secs(5),
            stalled_interval: Duration::from_secs(5),
            report_interval: Duration::from_secs(5),
            health_port: None,
        }
    }
}

impl WorkerConfig {
    /// Settings from `lookup` (an environment); `concurrency` is the command line's.
    pub fn from_lookup(
        concurrency: Option<usize>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let mut config = WorkerConfig::default();
        let number = |name: &str| -> Result<Option<i64>, String> {
            lookup(name).map_or(Ok(None), |v| {
                v.trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("{name}: not a number: '{v}'"))
            })
        };
        let millis = |name: &str| -> Result<Option<Duration>, String> {
            match number(name)? {
                Some(ms) if ms > 0 => Ok(Some(Duration::from_millis(ms as u64))),
                Some(ms) => Err(format!("{name}: must be positive, not {ms}")),
                None => Ok(None),
            }
        };
        match number("N8N_CONCURRENCY_PRODUCTION_LIMIT")? {
            Some(limit) if limit > 0 => config.concurrency = limit as usize,
            _ => {
                if let Some(n) = concurrency {
                    config.concurrency = n.max(1);
                }
            }
        }
        if let Some(lease) = millis("QUEUE_WORKER_LOCK_DURATION")? {
            config.lease = lease;
        }
        if let Some(renew) = millis("QUEUE_WORKER_LOCK_RENEW_TIME")? {
            config.renew = renew;
        }
        if let Some(interval) = millis("QUEUE_WORKER_STALLED_INTERVAL")? {
            config.stalled_interval = interval;
        }
        if matches!(
            lookup("QUEUE_HEALTH_CHECK_ACTIVE").as_deref(),
            Some("true" | "1")
        ) {
            let port = number("QUEUE_HEALTH_CHECK_PORT")?.unwrap_or(5678);
            config.health_port = Some(
                u16::try_from(port)
                    .map_err(|_| format!("QUEUE_HEALTH_CHECK_PORT: not a port: {port}"))?,
            );
        }
        if config.renew >= config.lease {
            return Err(format!(
                "QUEUE_WORKER_LOCK_RENEW_TIME ({} ms) must be shorter than \
                 QUEUE_WORKER_LOCK_DURATION ({} ms)",
                config.renew.as_millis(),
                config.lease.as_millis()
            ));
        }
        Ok(config)
    }
}

/// This worker's identity and counters, shared by its tasks.
struct Worker {
    app: Arc<App>,
    queue: Arc<dyn Queue>,
    config: WorkerConfig,
    status: Mutex<WorkerStatus>,
    completed: AtomicU64,
    /// Jobs running now, by id.
    running: Mutex<HashMap<String, Job>>,
    /// Set once shutdown starts: a finished job then no longer takes the next one.
    stopping: AtomicBool,
}

impl Worker {
    fn report(&self, state: &str) -> WorkerStatus {
        let mut status = self.status.lock().expect("worker status");
        status.state = state.into();
        status.running = self.running.lock().expect("running jobs").len();
        status.completed = self.completed.load(Ordering::Relaxed);
        status.seen_at = now_ms();
        status.clone()
    }
}

/// Run jobs from `queue` until `shutdown` resolves, then stop as the module doc says; with a
/// `health` listener, serve the health server on it meanwhile.
pub async fn run(
    store: Arc<Store>,
    queue: Arc<dyn Queue>,
    server: ServerConfig,
    config: WorkerConfig,
    health: Option<tokio::net::TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    metrics::start_upkeep();
    let shutdown_timeout = server.graceful_shutdown_timeout;
    let app = App::new(store.clone(), server, None);
    let version = store.workflows_version().await.map_err(|e| e.to_string())?;
    app.reload().await.map_err(|e| e.message)?;
    let id = format!("{}-{}", hostname(), std::process::id());
    let worker = Arc::new(Worker {
        status: Mutex::new(WorkerStatus {
            id: id.clone(),
            host: hostname(),
            pid: std::process::id(),
            concurrency: config.concurrency,
            running: 0,
            completed: 0,
            started_at: now_ms(),
            state: "running".into(),
            seen_at: now_ms(),
        }),
        app: app.clone(),
        queue: queue.clone(),
        config: config.clone(),
        completed: AtomicU64::new(0),
        running: Mutex::new(HashMap::new()),
        stopping: AtomicBool::new(false),
    });
    let mut background = Tasks(vec![
        tokio::spawn(sync::run(app.clone(), version)),
        tokio::spawn(reap(worker.clone())),
        tokio::spawn(report(worker.clone())),
    ]);
    if let Some(listener) = health {
        let router = health_router(store.clone(), queue.clone());
        background.0.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!("health server: {e}");
            }
        }));
    }
    tracing::info!(
        "worker {id} running up to {} jobs at once",
        config.concurrency
    );
    let (stop, mut stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let slots = Arc::new(Semaphore::new(config.concurrency));
    let mut backoff = Backoff::new(Duration::from_millis(100), MAX_BACKOFF);
    // A reservation is never dropped half-way (its job would stall): the wait is short and the
    // shutdown is checked between two.
    while !*stopping.borrow() {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = stopping.changed() => break,
        };
        match queue
            .reserve(&id, config.lease, Duration::from_secs(1))
            .await
        {
            Ok(Some(job)) => {
                backoff.reset();
                let worker = worker.clone();
                // The slot runs jobs back to back while the queue hands over the next one.
                tokio::spawn(async move {
                    let mut next = Some(job);
                    while let Some(job) = next {
                        worker
                            .running
                            .lock()
                            .expect("running jobs")
                            .insert(job.id.clone(), job.clone());
                        next = run_job(&worker, &job).await;
                        worker.running.lock().expect("running jobs").remove(&job.id);
                    }
                    drop(slot);
                });
            }
            Ok(None) => {}
            Err(e) => {
                let pause = backoff.pause();
                tracing::error!("reserving a job: {e} (retrying in {pause:?})");
                tokio::time::sleep(pause).await;
            }
        }
    }
    worker.stopping.store(true, Ordering::Relaxed);
    tracing::info!("worker {id} stopping: waiting for running jobs");
    let _ = queue.report_worker(&worker.report("stopping")).await;
    let all = u32::try_from(config.concurrency).unwrap_or(u32::MAX);
    if tokio::time::timeout(shutdown_timeout, slots.acquire_many(all))
        .await
        .is_err()
    {
        let left: Vec<Job> = worker
            .running
            .lock()
            .expect("running jobs")
            .values()
            .cloned()
            .collect();
        tracing::warn!(
            "shutdown timeout: handing {} running jobs back to the queue",
            left.len()
        );
        for job in left {
            if let Err(e) = queue.nack(&job, Nack::Release).await {
                tracing::error!("job {}: cannot hand it back: {e}", job.id);
            }
        }
    }
    drop(background);
    let _ = queue.report_worker(&worker.report("gone")).await;
    store.close().await;
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Run one job with its lease kept alive, then acknowledge it (or hand it back on failure).
/// Unless the worker is stopping, the acknowledgement reserves the next ready job, returned
/// here for the same slot to run.
async fn run_job(worker: &Worker, job: &Job) -> Option<Job> {
    let queue = &worker.queue;
    let heartbeat = {
        let (queue, job, config) = (queue.clone(), job.clone(), worker.config.clone());
        let app = worker.app.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(config.renew).await;
                match queue.extend(&job, config.lease).await {
                    Ok(Lease::Held) => {}
                    // Until the run is found (it may not have started yet): this task ends
                    // with the job.
                    Ok(Lease::Canceled) => {
                        if job.id.parse().is_ok_and(|id| app.cancel_running(id)) {
                            tracing::info!("job {}: canceled while running; stopped it", job.id);
                            return;
                        }
                    }
                    Ok(Lease::Lost) => {
                        tracing::warn!(
                            "job {}: its lease ran out and another worker may run it too \
                             (its end is recorded once)",
                            job.id
                        );
                        return;
                    }
                    Err(e) => tracing::error!("job {}: cannot extend its lease: {e}", job.id),
                }
            }
        })
    };
    let outcome = execute(&worker.app, queue, job).await;
    heartbeat.abort();
    if let Err(e) = &outcome {
        tracing::error!("job {}: {}", job.id, e.message);
    }
    // While the queue is away (Redis restarting) the end is recorded again with growing pauses;
    // past the deadline the lease runs out and another worker finds the execution ended.
    let mut backoff = Backoff::new(Duration::from_millis(100), MAX_BACKOFF);
    let deadline = tokio::time::Instant::now() + RECORD_END_FOR;
    let mut next = None;
    loop {
        let recorded = match &outcome {
            Ok(Ended {
                bury: Some(error), ..
            }) => {
                let bury = Nack::Bury {
                    error: error.clone(),
                };
                queue.nack(job, bury).await.map(drop)
            }
            Ok(Ended { status, .. }) if !worker.stopping.load(Ordering::Relaxed) => {
                let worker_id = worker.status.lock().expect("worker status").id.clone();
                queue
                    .ack_and_reserve(job, status, &worker_id, worker.config.lease)
                    .await
                    .map(|(_, reserved)| next = reserved)
            }
            Ok(Ended { status, .. }) => queue.ack(job, status).await.map(drop),
            Err(e) => {
                let retry = Nack::Retry {
                    delay: Duration::from_secs(1),
                    error: e.message.clone(),
                };
                queue.nack(job, retry).await.map(drop)
            }
        };
        match recorded {
            Ok(()) => break,
            Err(e) if tokio::time::Instant::now() < deadline => {
                let pause = backoff.pause();
                tracing::warn!(
                    "job {}: cannot record its end yet ({e}); again in {pause:?}",
                    job.id
                );
                tokio::time::sleep(pause).await;
            }
            Err(e) => {
                tracing::error!("job {}: cannot record its end in the queue: {e}", job.id);
                break;
            }
        }
    }
    worker.completed.fetch_add(1, Ordering::Relaxed);
    next
}

/// How the execution behind a job ended.
struct Ended {
    /// The execution's status in the store.
    status: String,
    /// Why the job goes to the dead-letter queue instead of being acknowledged: the execution
    /// failed and its workflow's retries are spent.
    bury: Option<String>,
}

/// The id a job's first attempt runs under: its row is in the store, or left to this worker.
fn start_id(payload: &JobPayload, id: i64) -> StartId {
    if payload.unwritten {
        StartId::Reserved(id)
    } else {
        StartId::Accepted(id)
    }
}

/// Where a job's execution stands in the store.
enum Stored {
    /// Not ended: it runs from this start.
    Unfinished(CarriedStart),
    /// An earlier attempt ended it, with this status and, when kept, its run data.
    Ended { status: String, data: Option<Value> },
}

/// Execution `id` as the store holds it; `None` when it has no row.
async fn stored_start(app: &App, id: i64) -> Result<Option<Stored>, ApiError> {
    let Some(record) = app.store.get_execution(id, true).await? else {
        return Ok(None);
    };
    if record.stopped_at.is_some() {
        return Ok(Some(Stored::Ended {
            status: record.status,
            data: record.data,
        }));
    }
    let resume = record
        .data
        .and_then(|mut d| d.get_mut("resume").map(Value::take))
        .unwrap_or_default();
    Ok(Some(Stored::Unfinished(CarriedStart {
        mode: record.mode,
        retry_of: record.retry_of,
        resume: serde_json::value::to_raw_value(&resume).expect("JSON serializes"),
    })))
}

/// Output 0 of the last run of the last node, from a finished execution's run data (n8n's
/// `{resultData: {runData, lastNodeExecuted}}`), as [`sluice_engine::RunOutcome::last_output`]
/// has it.
fn stored_last_output(data: &Value) -> Option<Vec<Item>> {
    let result = &data["resultData"];
    let last_node = result["lastNodeExecuted"].as_str()?;
    let last_run = result["runData"][last_node].as_array()?.last()?;
    serde_json::from_value(last_run["data"]["main"][0].clone()).ok()
}

/// Relay the end of `job`'s execution, found in the store, to the caller waiting for it, if
/// any: the earlier attempt that recorded it may have died before relaying it (a process no
/// longer waiting for it drops it).
async fn relay_stored_end(
    queue: &dyn Queue,
    job: &Job,
    payload: &JobPayload,
    status: &str,
    data: Option<&Value>,
) {
    let (Some(kind), Some(reply_to)) = (payload.reply, &payload.reply_to) else {
        return;
    };
    let last_output = match kind {
        ReplyKind::LastNode => data.and_then(stored_last_output),
        _ => None,
    };
    let done = Relay::Done {
        status: status.to_string(),
        last_output: last_output.unwrap_or_default(),
    };
    relay(queue, reply_to, &job.id, done).await;
}

/// What an execution starts from (see [`crate::app::Start::resume_json`]).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResumeDoc {
    items: Vec<Item>,
    #[serde(default)]
    start_node: Option<String>,
}

/// Run the execution behind `job` to its end (committed), relaying the webhook answer the job
/// asks for.
async fn execute(app: &Arc<App>, queue: &Arc<dyn Queue>, job: &Job) -> Result<Ended, ApiError> {
    let id: i64 = job
        .id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("job id '{}' is no execution id", job.id)))?;
    let mut payload: JobPayload = serde_json::from_str(&job.payload)
        .map_err(|e| ApiError::bad_request(format!("job {id}: unreadable payload: {e}")))?;
    let carried = payload.start.take();
    // A first delivery runs from the start its job carries; a later one asks the store whether
    // an earlier attempt ended the execution (or wrote the row it runs under).
    let (from, start_id) = match carried {
        Some(from) if job.first_delivery() => (from, start_id(&payload, id)),
        carried => match stored_start(app, id).await? {
            Some(Stored::Unfinished(from)) => (from, StartId::Accepted(id)),
            Some(Stored::Ended { status, data }) => {
                relay_stored_end(queue.as_ref(), job, &payload, &status, data.as_ref()).await;
                return Ok(Ended { status, bury: None });
            }
            None => match carried.filter(|_| payload.unwritten) {
                Some(from) => (from, StartId::Reserved(id)),
                None => {
                    return Err(ApiError::not_found(format!(
                        "execution {id} is not in the store"
                    )))
                }
            },
        },
    };
    let resume = from.resume;
    // Read from the text: the start is kept for a retry.
    let ResumeDoc { items, start_node } = serde_json::from_str(resume.get()).map_err(|_| {
        ApiError::bad_request(format!("execution {id} has no trigger items to start from"))
    })?;
    let wf = app.load(&payload.workflow_id).await?;
    let retry_policy = wf.retry;
    let start = Start {
        mode: mode_name(&from.mode),
        start_node,
        items,
        resumable: true,
        retry_of: from.retry_of,
        id: start_id,
        priority: None,
        whole_last_output: payload.reply == Some(ReplyKind::LastNode),
    };
    let streamed = payload.reply == Some(ReplyKind::Streaming);
    let mut started = app.start_with(wf, start, streamed).await?;
    let reply_to = payload.reply_to.as_deref().unwrap_or_default();
    let relay = |message: Relay| relay(queue.as_ref(), reply_to, &job.id, message);
    // The chunks end when the execution does.
    if let Some(chunks) = started.chunks.as_mut() {
        while let Some(chunk) = chunks.recv().await {
            relay(Relay::Chunk {
                line: chunk.to_line(),
            })
            .await;
        }
    }
    let mut answered = false;
    if payload.reply == Some(ReplyKind::ResponseNode) {
        // Relayed at once, also when the row is left to this worker and not written yet: until
        // the job is acknowledged it is the execution's record, and a worker dying now has it
        // run again (had the end been recorded first, that run would find it ended and the
        // caller would never be answered).
        if let Ok(response) = (&mut started.response).await {
            relay(Relay::response(response)).await;
            answered = true;
        }
    }
    let outcome = (&mut started.done).await.ok();
    started.recorded(app).await?;
    // No outcome: it was canceled, or failed to run; the store has how it ended.
    let status = match &outcome {
        Some(outcome) => outcome.status.as_str().to_string(),
        None => app
            .store
            .get_execution(id, false)
            .await?
            .map_or_else(|| "error".into(), |r| r.status),
    };
    // The execution ended either way: a retry that cannot be scheduled is logged, not a reason
    // to run this job again.
    let mut bury = None;
    if let Some(policy) = retry_policy.filter(|_| status == "error") {
        match retry::schedule(app, queue, id, &resume, &payload, job.rank, policy).await {
            Ok(Some(_)) => {}
            Ok(None) => bury = Some(retry::spent_message(&payload, outcome.as_ref())),
            Err(e) => tracing::error!("execution {id}: cannot schedule its retry: {}", e.message),
        }
    }
    if let Some(kind) = payload.reply.filter(|_| !answered) {
        let last_output = match (kind, &outcome) {
            (ReplyKind::LastNode, Some(outcome)) => outcome.last_output().to_vec(),
            _ => Vec::new(),
        };
        relay(Relay::Done {
            status: status.clone(),
            last_output,
        })
        .await;
    }
    Ok(Ended { status, bury })
}

/// Take back the jobs of dead workers every stalled interval (until the task is dropped).
async fn reap(worker: Arc<Worker>) {
    loop {
        tokio::time::sleep(worker.config.stalled_interval).await;
        match worker.queue.reap().await {
            Ok(dead) if !dead.is_empty() => {
                tracing::error!(
                    "jobs stalled too often and moved to the dead-letter queue: {}",
                    dead.join(", ")
                );
                for id in &dead {
                    end_dead_lettered(&worker.app.store, worker.queue.as_ref(), id).await;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!("looking for stalled jobs: {e}"),
        }
    }
}

/// The execution of a job that was just dead-lettered because its workers kept dying ends as
/// crashed, as n8n ends a job past its stall limit: no worker runs it again unless it is
/// replayed, which puts it back to running ([`crate::retry::replay_dead_job`]). A webhook caller
/// waiting for its answer gets "Error in workflow" now, instead of when the reply timeout passes.
async fn end_dead_lettered(store: &Store, queue: &dyn Queue, id: &str) {
    let Ok(execution) = id.parse::<i64>() else {
        return;
    };
    let job = match queue.dead_job(id).await {
        Ok(job) => job,
        Err(e) => {
            tracing::warn!("job {id}: reading it from the dead-letter queue: {e}");
            None
        }
    };
    let payload = job.and_then(|job| serde_json::from_str::<JobPayload>(&job.payload).ok());
    // A row left to the worker that never wrote it is written crashed, with its start.
    let ended = match payload.as_ref() {
        Some(JobPayload {
            workflow_id,
            unwritten: true,
            start: Some(start),
            ..
        }) => {
            let new = NewExecution {
                workflow_id: workflow_id.clone(),
                mode: start.mode.clone(),
                retry_of: start.retry_of,
                resume: Some(start.resume.clone()),
            };
            store.mark_crashed_or_record(execution, new).await
        }
        _ => store.mark_crashed(execution).await,
    };
    if let Err(e) = ended {
        tracing::warn!("execution {execution}: cannot mark it crashed: {e}");
    }
    let reply_to = payload
        .as_ref()
        .filter(|payload| payload.reply.is_some())
        .and_then(|payload| payload.reply_to.as_deref());
    if let Some(reply_to) = reply_to {
        let crashed = Relay::Done {
            status: "crashed".into(),
            last_output: Vec::new(),
        };
        relay(queue, reply_to, id, crashed).await;
    }
}

/// Send job `id`'s webhook answer (or part of it) to the process holding the request.
async fn relay(queue: &dyn Queue, reply_to: &str, id: &str, message: Relay) {
    let text = serde_json::to_string(&message).expect("a relay message serializes");
    if let Err(e) = queue.reply(reply_to, id, &text).await {
        tracing::error!("job {id}: cannot relay its webhook answer: {e}");
    }
}

/// Report this worker's status every report interval (until the task is dropped).
async fn report(worker: Arc<Worker>) {
    loop {
        if let Err(e) = worker.queue.report_worker(&worker.report("running")).await {
            tracing::warn!("reporting this worker's status: {e}");
        }
        tokio::time::sleep(worker.config.report_interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sluice_queue::{EmbeddedQueue, QueueConfig};
    use sluice_store::testing::TestDb;

    /// A job reserved again after an earlier attempt recorded its execution's end (and may
    /// have died before relaying it) relays that end again: a `lastNode` caller still waiting
    /// gets the last node's items from the stored run data.
    #[tokio::test]
    async fn a_job_found_ended_relays_its_stored_end_again() {
        let db = TestDb::new(false, "relay_again").await;
        let store = db.open().await;
        let queue: Arc<dyn Queue> = Arc::new(EmbeddedQueue::new(&store, QueueConfig::default()));
        let app = App::new(store.clone(), ServerConfig::default(), None);
        let workflow = json!({"name": "doubled", "nodes": [
            {"name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
             "position": [0, 0], "parameters": {"httpMethod": "POST", "path": "doubled",
             "responseMode": "lastNode", "options": {}}},
            {"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4,
             "position": [200, 0], "parameters": {"assignments": {"assignments": [
                 {"id": "1", "name": "doubled", "value": "={{ $json.body.n * 2 }}",
                  "type": "number"}]}, "options": {}}}],
            "connections": {"Webhook": {"main": [[{"node": "Set", "type": "main", "index": 0}]]}}});
        store.put_workflow(Some("wf"), workflow).await.unwrap();
        // The earlier attempt: it ran, and its end is in the store with its run data.
        let start = Start {
            mode: "webhook",
            start_node: Some("Webhook".into()),
            items: vec![Item::from_value(json!({"body": {"n": 21}}))],
            resumable: true,
            retry_of: None,
            id: StartId::New,
            priority: None,
            whole_last_output: true,
        };
        let mut started = app
            .start_with(app.load("wf").await.unwrap(), start, false)
            .await
            .unwrap();
        (&mut started.done).await.unwrap();
        started.recorded(&app).await.unwrap();
        let payload = JobPayload {
            workflow_id: "wf".into(),
            reply: Some(ReplyKind::LastNode),
            reply_to: Some(queue.reply_address()),
            retry: 0,
            start: None,
            unwritten: false,
        };
        let job = Job {
            id: started.id.to_string(),
            payload: serde_json::to_string(&payload).unwrap(),
            rank: 0,
            token: 2,
            stalls: 1,
            failures: 0,
            enqueued_at: 0,
        };
        let ended = execute(&app, &queue, &job).await.unwrap();
        assert_eq!(ended.status, "success");
        let reply = queue
            .wait_reply(&job.id, Duration::from_secs(5))
            .await
            .unwrap()
            .expect("the end relayed again");
        let Relay::Done {
            status,
            last_output,
        } = serde_json::from_str(&reply).unwrap()
        else {
            panic!("not the end: {reply}");
        };
        assert_eq!(status, "success");
        assert_eq!(last_output.len(), 1);
        assert_eq!(last_output[0].json["doubled"], json!(42));
        store.close().await;
    }

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn settings_follow_n8n_variables() {
        let default = WorkerConfig::from_lookup(None, lookup(&[])).unwrap();
        assert_eq!((default.concurrency, default.health_port), (10, None));
        let flag = WorkerConfig::from_lookup(Some(3), lookup(&[])).unwrap();
        assert_eq!(flag.concurrency, 3);
        let env = WorkerConfig::from_lookup(
            Some(3),
            lookup(&[
                ("N8N_CONCURRENCY_PRODUCTION_LIMIT", "20"),
                ("QUEUE_WORKER_LOCK_DURATION", "60000"),
                ("QUEUE_WORKER_LOCK_RENEW_TIME", "10000"),
                ("QUEUE_WORKER_STALLED_INTERVAL", "30000"),
                ("QUEUE_HEALTH_CHECK_ACTIVE", "true"),
                ("QUEUE_HEALTH_CHECK_PORT", "5680"),
            ]),
        )
        .unwrap();
        assert_eq!(env.concurrency, 20, "the environment's limit wins");
        assert_eq!(env.lease, Duration::from_secs(60));
        assert_eq!(env.renew, Duration::from_secs(10));
        assert_eq!(env.stalled_interval, Duration::from_secs(30));
        assert_eq!(env.health_port, Some(5680));
        let unlimited = WorkerConfig::from_lookup(
            Some(4),
            lookup(&[("N8N_CONCURRENCY_PRODUCTION_LIMIT", "-1")]),
        )
        .unwrap();
        assert_eq!(unlimited.concurrency, 4, "-1 leaves it to --concurrency");
        let bad = WorkerConfig::from_lookup(
            None,
            lookup(&[
                ("QUEUE_WORKER_LOCK_DURATION", "1000"),
                ("QUEUE_WORKER_LOCK_RENEW_TIME", "1000"),
            ]),
        );
        assert!(bad.unwrap_err().contains("must be shorter"));
    }
}

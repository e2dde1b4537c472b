//! The server's shared state and the one place executions start: accepted durably in the
//! store, run on the tokio pool with a per-execution host (webhook responses, sub-workflows),
//! finished through the store's batched writer, counted for metrics and for graceful shutdown,
//! and followed by the error workflow when they fail. In queue mode, executions a worker can
//! run are enqueued instead (see `queued`).

use crate::deployed::Deployed;
use crate::error::ApiError;
use crate::metrics;
use crate::routes::Routes;
use crate::stop::{canceled_data, CANCELED};
use crate::ServerConfig;
use axum::http::StatusCode;
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sluice_engine::{
    Credentials, ExecutionHost, ExecutionOptions, Host, NodeError, Registry, RunOutcome,
    StreamChunk, SubWorkflow, SubWorkflowRequest, WebhookResponse,
};
use sluice_model::{Item, JsonObject};
use sluice_runtime::{BinaryDataMode, CredentialRef, CredentialSource};
use sluice_store::{ExecutionRow, Finished, NewExecution, Store};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Notify};

/// An execution still running after this long gets its row written, so it is listed as
/// running (shorter ones are written once, when they end or are answered).
const LIST_AS_RUNNING_AFTER: Duration = Duration::from_secs(1);

/// How long a webhook answered by Respond to Webhook waits for its execution to end before
/// the answer goes out, so the execution's row is written once, finished.
const ANSWER_GRACE: Duration = Duration::from_millis(3);

/// Which id an execution runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartId {
    /// A new execution: an id is taken here (its row written as [`Start::resumable`] says).
    New,
    /// An execution whose row is in the store already (crash recovery, most queue jobs).
    Accepted(i64),
    /// A queue job's execution whose row nobody wrote: it is deferred here under that id
    /// (a webhook whose caller waits for the answer, see `sluice_store::ExecutionRow`).
    Reserved(i64),
}

/// How to start one execution.
pub struct Start {
    pub mode: &'static str,
    /// The trigger node to start from (default: the workflow's first trigger).
    pub start_node: Option<String>,
    pub items: Vec<Item>,
    /// Store the items so a restart can run it again (accepted before it was answered).
    pub resumable: bool,
    pub retry_of: Option<i64>,
    /// The id it runs under.
    pub id: StartId,
    /// Queue mode: the job's priority, instead of the workflow's (a webhook's
    /// `X-Sluice-Priority`).
    pub priority: Option<sluice_queue::Priority>,
    /// The caller needs the last node's whole output (a webhook answering with it, a
    /// sub-workflow's result): the run data keeps every item instead of
    /// [`ServerConfig::run_data_max_items`](crate::ServerConfig::run_data_max_items).
    pub whole_last_output: bool,
}

impl Start {
    /// What a restart needs to run it again (see [`resume_json`]).
    pub fn resume_json(&self) -> Box<RawValue> {
        resume_json(&self.items, self.start_node.as_deref())
    }
}

/// What an execution starts from, `{items, startNode}`, as JSON text written straight from the
/// items: the store keeps it for a restart, a queue-mode job carries it to its worker.
pub fn resume_json<I: Serialize + ?Sized>(items: &I, start_node: Option<&str>) -> Box<RawValue> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Resume<'a, I: ?Sized> {
        items: &'a I,
        start_node: Option<&'a str>,
    }
    serde_json::value::to_raw_value(&Resume { items, start_node }).expect("items serialize")
}

/// A started execution.
pub struct Started {
    pub id: i64,
    /// Its row in the store (see [`Started::recorded`]).
    pub(crate) row: Arc<ExecutionRow>,
    /// The Respond to Webhook answer; closed without one when the execution ends first.
    pub response: oneshot::Receiver<WebhookResponse>,
    pub done: oneshot::Receiver<RunOutcome>,
    /// The chunks of a streamed webhook answer (started with [`App::start_with`] `streamed`).
    pub chunks: Option<mpsc::UnboundedReceiver<StreamChunk>>,
}

impl Started {
    /// Wait until the execution's row is in the store (written now if it was deferred): call it
    /// before telling a client the execution exists, so a crash cannot lose what was answered.
    pub async fn recorded(&self, app: &App) -> Result<(), ApiError> {
        Ok(app.store.commit_row(&self.row).await?)
    }

    /// [`Started::recorded`], after giving a still-running execution `ANSWER_GRACE` to end
    /// (its one finished row then serves both).
    pub async fn recorded_soon(mut self, app: &App) -> Result<(), ApiError> {
        let _ = tokio::time::timeout(ANSWER_GRACE, &mut self.done).await;
        self.recorded(app).await
    }
}

pub struct App {
    pub store: Arc<Store>,
    pub registry: Registry,
    pub config: ServerConfig,
    pub routes: RwLock<Arc<Routes>>,
    /// Wakes the scheduler when the active workflows change.
    pub routes_changed: Notify,
    in_flight: AtomicUsize,
    idle: Notify,
    api_keys: Mutex<HashSet<String>>,
    /// Queue mode: where executions that a worker can run go (see `queued`).
    pub queue: Option<Arc<dyn sluice_queue::Queue>>,
    /// The executions running in this process, each with the switch that cancels it.
    cancels: Mutex<HashMap<i64, oneshot::Sender<()>>>,
    /// Stored workflows that are not active, built for manual and sub-workflow runs, with the
    /// JSON they were built from: a workflow is built again only when its JSON changed, not at
    /// every call (a sub-workflow called once per batch was built once per batch).
    built_inactive: Mutex<HashMap<String, (Value, Arc<Deployed>)>>,
}

impl App {
    pub fn new(
        store: Arc<Store>,
        config: ServerConfig,
        queue: Option<Arc<dyn sluice_queue::Queue>>,
    ) -> Arc<App> {
        Arc::new(App {
            queue,
            store,
            registry: sluice_nodes::registry(),
            config,
            routes: RwLock::new(Arc::new(Routes::default())),
            routes_changed: Notify::new(),
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
            api_keys: Mutex::new(HashSet::new()),
            cancels: Mutex::new(HashMap::new()),
            built_inactive: Mutex::new(HashMap::new()),
        })
    }

    /// The trigger items with their inline binary data (a webhook upload) kept the way this
    /// process keeps binary data: on disk for execution `id` in filesystem mode.
    fn adopt_binary_data(&self, id: i64, items: Vec<Item>) -> Result<Vec<Item>, ApiError> {
        let store = &self.config.binary_data;
        if store.mode() == BinaryDataMode::Memory {
            return Ok(items);
        }
        items
            .into_iter()
            .map(|mut item| {
                if let Some(map) = &item.binary {
                    let mut adopted = JsonObject::new();
                    for (name, entry) in map.iter() {
                        let kept = match entry.as_object() {
                            Some(entry) => {
                                Value::Object(store.adopt(&id.to_string(), entry).map_err(|e| {
                                    ApiError::new(
                                        StatusCode::INTERNAL_SERVER_ERROR,
                                        format!("cannot keep binary property '{name}': {e}"),
                                    )
                                })?)
                            }
                            None => entry.clone(),
                        };
                        adopted.insert(name.clone(), kept);
                    }
                    item.binary = Some(Arc::new(adopted));
                }
                Ok(item)
            })
            .collect()
    }

    /// True while execution `id` runs in this process.
    pub fn is_running(&self, id: i64) -> bool {
        self.cancels.lock().expect("cancels").contains_key(&id)
    }

    /// Cancel the execution `id` if it runs in this process: it stops at its next await and
    /// ends as `canceled`. False when it does not run here.
    pub fn cancel_running(&self, id: i64) -> bool {
        let cancel = self.cancels.lock().expect("cancels").remove(&id);
        cancel.is_some_and(|switch| switch.send(()).is_ok())
    }

    /// Build a workflow from its stored JSON (400 naming the problem when it cannot be built).
    pub fn deploy(&self, id: &str, json: &Value) -> Result<Arc<Deployed>, ApiError> {
        Deployed::build(id, json, &self.registry)
    }

    /// A stored workflow, built (the active copy when it is deployed).
    pub async fn load(&self, id: &str) -> Result<Arc<Deployed>, ApiError> {
        if let Some(d) = self.routes().workflow(id) {
            return Ok(d);
        }
        let record = self
            .store
            .get_workflow(id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("workflow {id} not found")))?;
        let built = self.built_inactive.lock().expect("built workflows");
        if let Some((json, deployed)) = built.get(&record.id) {
            if *json == record.data {
                return Ok(deployed.clone());
            }
        }
        drop(built);
        let deployed = self.deploy(&record.id, &record.data)?;
        self.built_inactive
            .lock()
            .expect("built workflows")
            .insert(record.id, (record.data, deployed.clone()));
        Ok(deployed)
    }

    pub fn routes(&self) -> Arc<Routes> {
        self.routes.read().expect("routes lock").clone()
    }

    /// Rebuild the webhook and schedule tables from the active workflows. One that cannot be
    /// built, or whose webhook clashes with another's, is logged and left out (the others are
    /// served); the API shows why on the workflow.
    pub async fn reload(&self) -> Result<(), ApiError> {
        let mut routes = Routes::default();
        for record in self.store.active_workflows().await? {
            let added = self
                .deploy(&record.id, &record.data)
                .and_then(|d| routes.add(d).map_err(ApiError::bad_request));
            if let Err(e) = added {
                tracing::error!(
                    "workflow {} cannot be activated, not serving it: {}",
                    record.id,
                    e.message
                );
                routes.reject(record.id, e.message);
            }
        }
        *self.routes.write().expect("routes lock") = Arc::new(routes);
        self.routes_changed.notify_waiters();
        Ok(())
    }

    /// The data of the stored credential `id`, which must be of type `kind` (the same lookup
    /// nodes get through [`ExecutionOptions::credentials`]).
    pub async fn credential(&self, kind: &str, id: &str) -> Result<Value, String> {
        let reference = CredentialRef {
            id: Some(id.to_string()),
            name: None,
        };
        self.store
            .find(kind, &reference)
            .await
            .map_err(|e| e.to_string())
    }

    /// Whether `key` is a valid API key (cached after the first check).
    pub async fn api_key_valid(&self, key: &str) -> Result<bool, ApiError> {
        if self.api_keys.lock().expect("key cache").contains(key) {
            return Ok(true);
        }
        let valid = self.store.verify_api_key(key).await?;
        if valid {
            self.api_keys
                .lock()
                .expect("key cache")
                .insert(key.to_string());
        }
        Ok(valid)
    }

    /// Accept an execution (durably), then run it in the background.
    /// (Boxed: an execution can start another one — error workflows, sub-workflows.)
    pub fn start(
        self: &Arc<Self>,
        wf: Arc<Deployed>,
        start: Start,
    ) -> BoxFuture<'static, Result<Started, ApiError>> {
        self.start_with(wf, start, false)
    }

    /// [`App::start`]; `streamed` collects the chunks of a streamed webhook answer in
    /// [`Started::chunks`].
    pub fn start_with(
        self: &Arc<Self>,
        wf: Arc<Deployed>,
        start: Start,
        streamed: bool,
    ) -> BoxFuture<'static, Result<Started, ApiError>> {
        let this = self.clone();
        Box::pin(async move { this.start_now(wf, start, streamed).await })
    }

    async fn start_now(
        self: Arc<Self>,
        wf: Arc<Deployed>,
        start: Start,
        streamed: bool,
    ) -> Result<Started, ApiError> {
        if let Some(queue) = self.queue_for(&start) {
            return self.enqueue(queue, &wf, start).await;
        }
        // (The start of an execution accepted earlier, a queue worker's job, is in its row.)
        let new = || NewExecution {
            workflow_id: wf.id.clone(),
            mode: start.mode.into(),
            retry_of: start.retry_of,
            resume: start.resumable.then(|| start.resume_json()),
        };
        let row = Arc::new(match start.id {
            StartId::Accepted(id) => ExecutionRow::written(id),
            StartId::Reserved(id) => self.store.defer_reserved(id, new()),
            StartId::New if start.resumable => {
                ExecutionRow::written(self.store.accept_execution(new()).await?)
            }
            StartId::New => self.store.defer_execution(new()).await?,
        });
        let id = row.id();
        // The saved static data; before the first save, the workflow JSON's `staticData`.
        let static_data = if wf.uses_static_data && !wf.id.is_empty() {
            self.store.workflow_static_data(&wf.id).await?
        } else {
            None
        };
        let (respond_tx, response) = oneshot::channel();
        let (done_tx, done) = oneshot::channel();
        let (stream, chunks) = if streamed {
            let (sender, receiver) = mpsc::unbounded_channel();
            (Some(sender), Some(receiver))
        } else {
            (None, None)
        };
        let host = Arc::new(ExecHost {
            app: self.clone(),
            responder: Mutex::new(Some(respond_tx)),
            stream,
        });
        let trigger_items = self.adopt_binary_data(id, start.items)?;
        let options = ExecutionOptions {
            execution_id: id.to_string(),
            mode: start.mode.into(),
            trigger_items: Some(trigger_items),
            binary_data: self.config.binary_data.clone(),
            start_node: start.start_node,
            use_pin_data: false,
            allow_env_access: self.config.allow_env_access,
            host: Some(Host(host)),
            credentials: Some(Credentials(self.store.clone())),
            static_data,
            memory_budget_mb: self.config.execution_memory_mb,
            streaming: self.config.streaming,
            run_data_max_items: self
                .config
                .run_data_max_items
                .filter(|_| !start.whole_last_output),
            ..ExecutionOptions::default()
        };
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        metrics::execution_started();
        let app = self.clone();
        let mode = start.mode;
        let running_row = row.clone();
        let (cancel, canceled) = oneshot::channel();
        self.cancels.lock().expect("cancels").insert(id, cancel);
        tokio::spawn(async move {
            let run = wf.compiled.run(options);
            tokio::pin!(run);
            let run_to_end = async {
                tokio::select! {
                    biased;
                    result = &mut run => result,
                    () = tokio::time::sleep(LIST_AS_RUNNING_AFTER) => {
                        if let Err(e) = app.store.write_running(&running_row).await {
                            tracing::error!("execution {id}: cannot record it as running: {e}");
                        }
                        run.await
                    }
                }
            };
            // Dropping the run at its next await is what cancels it.
            let result = tokio::select! {
                result = run_to_end => Some(result),
                Ok(()) = canceled => None,
            };
            app.cancels.lock().expect("cancels").remove(&id);
            app.finish(&wf, &running_row, mode, result, done_tx).await;
        });
        Ok(Started {
            id,
            row,
            response,
            done,
            chunks,
        })
    }

    async fn finish(
        self: &Arc<Self>,
        wf: &Deployed,
        row: &ExecutionRow,
        mode: &str,
        result: Option<Result<RunOutcome, sluice_engine::EngineError>>,
        done: oneshot::Sender<RunOutcome>,
    ) {
        let (status, message, last_node) = match &result {
            Some(Ok(outcome)) => (
                outcome.status.as_str(),
                outcome.error.as_ref().map(ToString::to_string),
                outcome.last_node.clone(),
            ),
            Some(Err(e)) => ("error", Some(e.to_string()), None),
            // Canceled: no error workflow, as in n8n.
            None => (CANCELED, None, None),
        };
        let settings = &wf.compiled.workflow().settings.extra;
        let keep = status == CANCELED || self.store.config().saving.keeps(status, mode, settings);
        // The run data document only when it is kept (a thousand executions a second that are
        // not saved spent 5% of a worker's time writing it).
        let data_json = match &result {
            _ if !keep => String::new(),
            Some(Ok(outcome)) => outcome.to_n8n_json_text(),
            Some(Err(e)) => {
                json!({"resultData": {"runData": {}, "error": {"message": e.to_string()}}})
                    .to_string()
            }
            None => canceled_data(),
        };
        let result = result.and_then(Result::ok);
        // As n8n: saved after the execution when it changed, except for manual runs and
        // workflows that are not stored (sub-workflows from a file or parameter).
        if let Some(outcome) = &result {
            if outcome.static_data_changed && mode != "manual" && !wf.id.is_empty() {
                if let Err(e) = self
                    .store
                    .save_workflow_static_data(&wf.id, &outcome.static_data)
                    .await
                {
                    tracing::error!("workflow {}: cannot save its static data: {e}", wf.id);
                }
            }
        }
        let finished = Finished {
            status: status.into(),
            data_json,
            keep,
            custom_data: result
                .as_ref()
                .map(|outcome| outcome.custom_data.clone())
                .unwrap_or_default(),
        };
        let id = row.id();
        if let Err(e) = self.store.finish_row(row, finished).await {
            tracing::error!("execution {id}: cannot record its end: {e}");
        }
        wf.metrics.execution_finished(status, result.as_ref());
        if let Some(message) = message {
            self.run_error_workflow(wf, id, mode, &message, last_node)
                .await;
        }
        if let Some(outcome) = result {
            let _ = done.send(outcome);
        }
        if self.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// `settings.errorWorkflow`: start it with the Error Trigger's `{execution, workflow}`.
    async fn run_error_workflow(
        self: &Arc<Self>,
        wf: &Deployed,
        id: i64,
        mode: &str,
        message: &str,
        last_node: Option<String>,
    ) {
        let Some(error_wf) = wf.compiled.workflow().settings.extra.get("errorWorkflow") else {
            return;
        };
        let Some(error_id) = error_wf.as_str().filter(|s| !s.is_empty() && *s != wf.id) else {
            return;
        };
        let item = json!({
            "execution": {
                "id": id.to_string(),
                "url": format!("{}/execution/{id}", self.config.base_url),
                "retryOf": null,
                "error": {"message": message, "stack": ""},
                "lastNodeExecuted": last_node,
                "mode": mode,
            },
            "workflow": {"id": wf.id, "name": wf.name},
        });
        let started = match self.load(error_id).await {
            Ok(target) => {
                let start = Start {
                    mode: "error",
                    start_node: None,
                    items: vec![Item::from_value(item)],
                    resumable: false,
                    retry_of: None,
                    id: StartId::New,
                    priority: None,
                    whole_last_output: false,
                };
                self.start(target, start).await.map(|_| ())
            }
            Err(e) => Err(e),
        };
        if let Err(e) = started {
            tracing::error!(
                "error workflow {error_id} for execution {id}: {}",
                e.message
            );
        }
    }

    /// Wait until no execution runs, or `timeout` passes; false on timeout.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, async {
            loop {
                let idle = self.idle.notified();
                if self.in_flight.load(Ordering::SeqCst) == 0 {
                    return;
                }
                idle.await;
            }
        })
        .await
        .is_ok()
    }
}

/// What one execution may ask of the server.
struct ExecHost {
    app: Arc<App>,
    responder: Mutex<Option<oneshot::Sender<WebhookResponse>>>,
    /// The streamed answer (Webhook `responseMode: streaming`).
    stream: Option<mpsc::UnboundedSender<StreamChunk>>,
}

#[async_trait::async_trait]
impl ExecutionHost for ExecHost {
    fn respond(&self, response: WebhookResponse) -> bool {
        let sender = self.responder.lock().expect("responder").take();
        sender.is_some_and(|tx| tx.send(response).is_ok())
    }

    fn send_chunk(&self, chunk: StreamChunk) -> bool {
        self.stream.as_ref().is_some_and(|s| s.send(chunk).is_ok())
    }

    async fn execute_workflow(&self, request: SubWorkflowRequest) -> Result<Vec<Item>, NodeError> {
        let wf = match &request.workflow {
            SubWorkflow::Stored(id) => self.app.load(id).await,
            SubWorkflow::Definition(json) => self.app.deploy("", json),
        }
        .map_err(|e| NodeError::new(e.message))?;
        let start = Start {
            mode: "integrated",
            start_node: None,
            items: request.items,
            resumable: false,
            retry_of: None,
            id: StartId::New,
            priority: None,
            whole_last_output: true,
        };
        let started = self
            .app
            .start(wf, start)
            .await
            .map_err(|e| NodeError::new(e.message))?;
        if !request.wait {
            return Ok(Vec::new());
        }
        started
            .done
            .await
            .map_err(|_| NodeError::new("the sub-workflow could not run"))?
            .into_sub_workflow_result()
    }
}

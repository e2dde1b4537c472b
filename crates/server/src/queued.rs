//! Queue mode on the process that accepts executions (`EXECUTIONS_MODE=queue`): an execution a
//! worker can run (one accepted with what a restart needs: its trigger items and start node) is
//! committed to the store first, and then enqueued under its execution id instead of running
//! here. A webhook whose caller waits for the answer (`responseNode`, `lastNode`) is not: its
//! caller is told nothing until the worker answers, so, as `sluice serve` defers such an
//! execution's row, its job carries the start under a reserved id and its worker writes the row
//! (one finished row, or none when the saving policy drops it). Until then it is counted in the
//! queue's statistics but not listed among the executions. The job carries ids and, when small, a copy of the start ([`CarriedStart`]);
//! a worker reads the rest from the store. Manual runs stay on this process, as in n8n.
//!
//! Enqueueing is idempotent (the job id is the execution id), so when Redis cannot be reached the
//! enqueue is retried in the background with backoff, and crash recovery simply enqueues again
//! what a dead process had accepted: nothing committed is lost.
//!
//! Fresh webhook executions meet the queue's bound (`SLUICE_QUEUE_MAX_DEPTH`): when it is full
//! the request is refused with a 429 (or waits for room, `SLUICE_QUEUE_OVERFLOW=wait`) and
//! nothing of it stays in the store. A request's `X-Sluice-Priority` overrides the workflow's
//! `settings.priority`.
//!
//! A webhook answered by Respond to Webhook (`responseNode`) or by its last node (`lastNode`) is
//! enqueued too: the worker relays the answer, or the execution's end with the last node's
//! items, through the queue's replies ([`Relay`]), and this process answers the HTTP request
//! from it, or with a 504 naming the execution when none comes in time. A streaming webhook
//! (`responseMode: streaming`) is enqueued as well and its lines relayed one by one.

use crate::app::{App, Start, StartId, Started};
use crate::deployed::Deployed;
use crate::error::ApiError;
use crate::routes::WebhookTarget;
use crate::webhook::{last_node_response, workflow_error};
use crate::webhook_stream::{error_line, streamed};
use crate::Overflow;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sluice_engine::{ResponseBody, WebhookResponse};
use sluice_model::Item;
use sluice_nodes::trigger::webhook::ResponseMode;
use sluice_queue::{Backoff, Enqueued, NewJob, Priority, Queue, QueueError};
use sluice_store::{ExecutionRow, NewExecution, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// What a job carries (the execution id is the job id).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobPayload {
    pub workflow_id: String,
    /// What the process holding the HTTP request waits for, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<ReplyKind>,
    /// Where the reply goes (that process's [`Queue::reply_address`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Which retry of a failed execution this is (0: not a retry; see `retry`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retry: u32,
    /// What a new execution starts from, as the store holds it too (unless `unwritten`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<CarriedStart>,
    /// The execution has no row in the store: the worker writes it (see the module docs).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unwritten: bool,
}

/// A new execution's start, carried in its job so that the worker's first attempt need not read
/// it back from the store (one statement less per execution). A later attempt reads the store,
/// which says whether an earlier one ended the execution.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CarriedStart {
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<i64>,
    /// `{items, startNode}`, as JSON text (see [`Start::resume_json`]).
    pub resume: Box<RawValue>,
}

/// The longest job payload that carries its start: bigger trigger items are read from the
/// store, not copied into every job.
const MAX_CARRIED_PAYLOAD: usize = 64 * 1024;

impl JobPayload {
    /// The job's text, which carries the start unless that makes it longer than
    /// [`MAX_CARRIED_PAYLOAD`], and the start's resume, taken out for the store's copy.
    /// A payload too long to carry its start stops serializing at the limit, so a large upload
    /// is not written out once more only to be dropped; its execution is then written to the
    /// store by the accepting process whatever `unwritten` asked (returned: whether it is left
    /// to the worker).
    pub fn into_text(mut self) -> (String, Option<Box<RawValue>>, bool) {
        let mut bounded = BoundedText {
            text: Vec::new(),
            limit: if self.start.is_some() {
                MAX_CARRIED_PAYLOAD
            } else {
                usize::MAX
            },
        };
        let fits = serde_json::to_writer(&mut bounded, &self).is_ok();
        let resume = self.start.take().map(|start| start.resume);
        let text = if fits {
            String::from_utf8(bounded.text).expect("serde_json writes UTF-8")
        } else {
            self.unwritten = false;
            serde_json::to_string(&self).expect("a job payload serializes")
        };
        (text, resume, self.unwritten)
    }
}

/// Serialized text that refuses to grow past `limit` bytes.
struct BoundedText {
    text: Vec<u8>,
    limit: usize,
}

impl std::io::Write for BoundedText {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + bytes.len() > self.limit {
            return Err(std::io::Error::other("longer than the limit"));
        }
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReplyKind {
    /// Respond to Webhook's answer, or the end when it never answers.
    ResponseNode,
    /// The end, with the last node's items.
    LastNode,
    /// The chunks of a streamed answer, then the end.
    Streaming,
}

/// A message a worker relays about a job.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Relay {
    Response {
        status: u16,
        headers: Vec<(String, String)>,
        body: RelayedBody,
    },
    /// One line of a streamed answer.
    Chunk { line: String },
    Done {
        status: String,
        #[serde(default)]
        last_output: Vec<Item>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RelayedBody {
    Empty,
    Json { value: Value },
    Text { text: String },
    Binary { base64: String, mime_type: String },
}

impl Relay {
    pub fn response(response: WebhookResponse) -> Relay {
        let body = match response.body {
            ResponseBody::Empty => RelayedBody::Empty,
            ResponseBody::Json(value) => RelayedBody::Json { value },
            ResponseBody::Text(text) => RelayedBody::Text { text },
            ResponseBody::Binary { data, mime_type } => RelayedBody::Binary {
                base64: base64::engine::general_purpose::STANDARD.encode(data),
                mime_type,
            },
        };
        Relay::Response {
            status: response.status,
            headers: response.headers,
            body,
        }
    }
}

impl RelayedBody {
    fn into_body(self) -> ResponseBody {
        match self {
            RelayedBody::Empty => ResponseBody::Empty,
            RelayedBody::Json { value } => ResponseBody::Json(value),
            RelayedBody::Text { text } => ResponseBody::Text(text),
            RelayedBody::Binary { base64, mime_type } => ResponseBody::Binary {
                data: base64::engine::general_purpose::STANDARD
                    .decode(base64)
                    .unwrap_or_default(),
                mime_type,
            },
        }
    }
}

/// The `Retry-After` of a webhook refused because the queue is full.
const RETRY_AFTER_SECONDS: u64 = 1;

/// Longest pause between two attempts to enqueue while the queue is unreachable.
const MAX_ENQUEUE_BACKOFF: Duration = Duration::from_secs(10);

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
        let id = self.enqueue_job(queue, wf, start, None).await?;
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

    /// [`App::enqueue`], asking the worker for `reply`; returns the execution id. A fresh
    /// webhook execution meets the queue's bound (`queue_max_depth`) and its overflow policy.
    async fn enqueue_job(
        &self,
        queue: Arc<dyn Queue>,
        wf: &Deployed,
        start: Start,
        reply: Option<ReplyKind>,
    ) -> Result<i64, ApiError> {
        // (An execution accepted before may have run in part: its job carries no start.)
        let carried = (start.id == StartId::New).then(|| CarriedStart {
            mode: start.mode.into(),
            retry_of: start.retry_of,
            resume: start.resume_json(),
        });
        let payload = JobPayload {
            workflow_id: wf.id.clone(),
            reply_to: reply.map(|_| queue.reply_address()),
            reply,
            retry: 0,
            unwritten: carried.is_some()
                && matches!(reply, Some(ReplyKind::ResponseNode | ReplyKind::LastNode)),
            start: carried,
        };
        let (text, resume, unwritten) = payload.into_text();
        let job = NewJob {
            priority: start
                .priority
                .unwrap_or_else(|| wf.priority.of(&wf.id, start.items.first())),
            ..NewJob::new("", text)
        };
        if let StartId::Accepted(id) | StartId::Reserved(id) = start.id {
            let job = NewJob {
                id: id.to_string(),
                ..job
            };
            submit(queue, job)
                .await
                .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
            return Ok(id);
        }
        let new = NewExecution {
            workflow_id: wf.id.clone(),
            mode: start.mode.into(),
            retry_of: start.retry_of,
            resume,
        };
        let bound = self
            .config
            .queue_max_depth
            .filter(|_| start.mode == "webhook");
        let Some(max) = bound else {
            return admit(self.store.clone(), queue, new, job, unwritten).await;
        };
        let job = NewJob {
            max_waiting: Some(max),
            ..job
        };
        let patience = match self.config.queue_overflow {
            Overflow::Reject => Duration::ZERO,
            Overflow::Wait(timeout) => timeout,
        };
        let deadline = tokio::time::Instant::now() + patience;
        let mut backoff = Backoff::new(Duration::from_millis(20), Duration::from_millis(500));
        loop {
            // A task of its own: a client that leaves half-way leaves nothing half-accepted.
            let admitted = tokio::spawn(admit(
                self.store.clone(),
                queue.clone(),
                new.clone(),
                job.clone(),
                unwritten,
            ));
            let error = match admitted.await {
                Ok(admitted) => match admitted {
                    Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => e,
                    admitted => return admitted,
                },
                Err(e) => {
                    return Err(ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        e.to_string(),
                    ))
                }
            };
            // Wait for room (cheaply: the depth, not a full admission, each time).
            loop {
                if tokio::time::Instant::now() >= deadline {
                    return Err(error);
                }
                tokio::time::sleep(backoff.pause()).await;
                if !matches!(queue.depth().await, Ok(depth) if depth >= max) {
                    break;
                }
            }
        }
    }

    /// Queue mode's answer to a production webhook in `responseNode` or `lastNode` mode (`None`
    /// for `onReceived`, answered as outside queue mode, and `streaming`, see
    /// [`App::relayed_stream`]): enqueue the execution and answer from what the worker relays.
    pub(crate) async fn relayed_webhook(
        &self,
        target: &WebhookTarget,
        item: Item,
        priority: Option<Priority>,
    ) -> Option<Result<WebhookResponse, ApiError>> {
        let queue = self.queue.clone()?;
        let reply = match target.config.response_mode {
            ResponseMode::ResponseNode => ReplyKind::ResponseNode,
            ResponseMode::LastNode => ReplyKind::LastNode,
            ResponseMode::OnReceived | ResponseMode::Streaming => return None,
        };
        let start = webhook_start(target, item, priority);
        Some(
            async {
                let id = self
                    .enqueue_job(queue.clone(), &target.workflow, start, Some(reply))
                    .await?;
                self.await_relay(queue.as_ref(), id, target, reply).await
            }
            .await,
        )
    }

    /// Queue mode's answer to a production webhook in `streaming` mode: enqueue the execution
    /// and stream the lines its worker relays, ended by its end (an error line when it failed,
    /// or when no worker answers within the reply timeout).
    pub(crate) async fn relayed_stream(
        &self,
        target: &WebhookTarget,
        item: Item,
        priority: Option<Priority>,
    ) -> Result<Response, ApiError> {
        let queue = self
            .queue
            .clone()
            .ok_or_else(|| ApiError::not_found("this server does not run in queue mode"))?;
        let start = webhook_start(target, item, priority);
        let id = self
            .enqueue_job(
                queue.clone(),
                &target.workflow,
                start,
                Some(ReplyKind::Streaming),
            )
            .await?;
        let timeout = self.config.queue_reply_timeout;
        let lines = futures_util::stream::unfold(Some(queue), move |queue| async move {
            let queue = queue?;
            let line = match queue.wait_reply(&id.to_string(), timeout).await {
                Ok(Some(text)) => match serde_json::from_str::<Relay>(&text) {
                    Ok(Relay::Chunk { line }) => return Some((line, Some(queue))),
                    Ok(Relay::Done { status, .. }) if status == "success" => return None,
                    Ok(_) => error_line("Error in workflow"),
                    Err(e) => error_line(&format!("unreadable answer from its worker: {e}")),
                },
                Ok(None) => error_line(&format!(
                    "No worker answered within {} s (queue mode); execution {id} is still \
                     queued or running",
                    timeout.as_secs()
                )),
                Err(e) => error_line(&e.to_string()),
            };
            Some((line, None))
        });
        Ok(streamed(lines))
    }

    async fn await_relay(
        &self,
        queue: &dyn Queue,
        id: i64,
        target: &WebhookTarget,
        reply: ReplyKind,
    ) -> Result<WebhookResponse, ApiError> {
        let timeout = self.config.queue_reply_timeout;
        let message = queue
            .wait_reply(&id.to_string(), timeout)
            .await
            .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    format!(
                        "No worker answered within {} s (queue mode); execution {id} is \
                         still queued or running",
                        timeout.as_secs()
                    ),
                )
            })?;
        let relay: Relay = serde_json::from_str(&message).map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("execution {id}: unreadable answer from its worker: {e}"),
            )
        })?;
        match (relay, reply) {
            (
                Relay::Response {
                    status,
                    headers,
                    body,
                },
                _,
            ) => Ok(WebhookResponse {
                status,
                headers,
                body: body.into_body(),
            }),
            (Relay::Done { status, .. }, _) if status != "success" => Err(workflow_error()),
            (Relay::Done { last_output, .. }, ReplyKind::LastNode) => {
                last_node_response(&target.config, &last_output)
            }
            (Relay::Done { .. }, _) => Ok(WebhookResponse {
                status: 200,
                headers: Vec::new(),
                body: ResponseBody::Json(json!({"message": "Workflow executed successfully"})),
            }),
            (Relay::Chunk { .. }, _) => Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "execution {id}: its worker streamed an answer this webhook does not stream"
                ),
            )),
        }
    }
}

/// How a production webhook's execution whose answer a worker relays starts.
fn webhook_start(target: &WebhookTarget, item: Item, priority: Option<Priority>) -> Start {
    Start {
        mode: "webhook",
        start_node: Some(target.node.clone()),
        items: vec![item],
        resumable: true,
        retry_of: None,
        id: StartId::New,
        priority,
        whole_last_output: target.config.response_mode == ResponseMode::LastNode,
    }
}

/// Accept the execution `new` in the store (unless it is left `unwritten` to its worker) and
/// enqueue it as `job` (its id set); when the queue is full, take it out of the store again
/// and answer 429.
async fn admit(
    store: Arc<Store>,
    queue: Arc<dyn Queue>,
    new: NewExecution,
    job: NewJob,
    unwritten: bool,
) -> Result<i64, ApiError> {
    // The execution while no row holds it (its worker writes that row).
    let (id, unrecorded) = if unwritten {
        (store.reserve_execution_id().await?, Some(new))
    } else {
        (store.accept_execution(new).await?, None)
    };
    let job = NewJob {
        id: id.to_string(),
        ..job
    };
    match submit(queue, job).await {
        Err(QueueError::Full(depth)) => {
            if unrecorded.is_none() {
                store.delete_execution(id).await?;
            }
            Err(ApiError::too_many_requests(
                format!("the queue is full ({depth} executions waiting); try again later"),
                RETRY_AFTER_SECONDS,
            ))
        }
        // A new execution's id the queue knows already: its jobs come from another store (the
        // database was reset, or another one uses the same prefix). Nothing would ever run it.
        Ok(Enqueued::Duplicate(known)) if known == id.to_string() => {
            match unrecorded {
                Some(new) => store.mark_crashed_or_record(id, new).await?,
                None => store.mark_crashed(id).await?,
            }
            let message = format!(
                "the queue already holds a job for execution id {id} that this store did not \
                 make: Redis keeps jobs from another database (reset, or sharing \
                 QUEUE_BULL_PREFIX); use a prefix of its own or clear the old one"
            );
            tracing::error!("{message}");
            Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message))
        }
        _ => Ok(id),
    }
}

/// Enqueue `job`; when the queue cannot be reached, keep trying in the background (the
/// execution is committed already; counted as added). Only a full queue is an error.
pub(crate) async fn submit(queue: Arc<dyn Queue>, job: NewJob) -> Result<Enqueued, QueueError> {
    match queue.enqueue(job.clone()).await {
        Err(QueueError::Full(depth)) => Err(QueueError::Full(depth)),
        Err(e) => {
            tracing::error!(
                "execution {}: cannot enqueue it yet ({e}); retrying",
                job.id
            );
            let job = NewJob {
                max_waiting: None,
                ..job
            };
            tokio::spawn(enqueue_until_accepted(queue, job));
            Ok(Enqueued::Added)
        }
        Ok(enqueued) => Ok(enqueued),
    }
}

/// Enqueue `job` again and again, with growing pauses, until the queue takes it.
async fn enqueue_until_accepted(queue: Arc<dyn Queue>, job: NewJob) {
    let mut backoff = Backoff::new(Duration::from_millis(100), MAX_ENQUEUE_BACKOFF);
    loop {
        tokio::time::sleep(backoff.pause()).await;
        match queue.enqueue(job.clone()).await {
            Ok(_) => {
                tracing::info!("execution {}: enqueued", job.id);
                return;
            }
            Err(e) => tracing::warn!("execution {}: still cannot enqueue it: {e}", job.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(body: &str) -> JobPayload {
        JobPayload {
            workflow_id: "wf".into(),
            reply: Some(ReplyKind::ResponseNode),
            reply_to: Some("inbox".into()),
            retry: 0,
            start: Some(CarriedStart {
                mode: "webhook".into(),
                retry_of: None,
                resume: serde_json::value::to_raw_value(
                    &json!({"items": [{"json": {"body": body}}], "startNode": null}),
                )
                .unwrap(),
            }),
            unwritten: true,
        }
    }

    #[test]
    fn a_payload_carries_its_start_unless_that_makes_it_too_long() {
        let (text, resume, unwritten) = payload("x").into_text();
        assert!(unwritten, "the worker writes the row");
        let small: JobPayload = serde_json::from_str(&text).unwrap();
        assert!(small.unwritten);
        let start = small.start.expect("carried");
        let carried: Value = serde_json::from_str(start.resume.get()).unwrap();
        assert_eq!(carried["items"][0]["json"]["body"], "x");
        assert_eq!(start.mode, "webhook");
        assert_eq!(
            resume.map(|r| r.get().to_string()),
            Some(start.resume.get().to_string()),
            "the store's copy"
        );

        let body = "x".repeat(MAX_CARRIED_PAYLOAD);
        let (text, resume, unwritten) = payload(&body).into_text();
        assert!(
            !unwritten,
            "the accepting process writes the row of what the job cannot carry"
        );
        assert!(text.len() < 200, "{text}");
        let big: JobPayload = serde_json::from_str(&text).unwrap();
        assert!(big.start.is_none() && !big.unwritten);
        let stored: Value = serde_json::from_str(resume.unwrap().get()).unwrap();
        assert_eq!(stored["items"][0]["json"]["body"], body.as_str());
        assert_eq!(
            (big.workflow_id.as_str(), big.reply, big.reply_to.as_deref()),
            ("wf", Some(ReplyKind::ResponseNode), Some("inbox"))
        );
    }
}

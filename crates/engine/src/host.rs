//! What a running execution may ask of the process that started it, without the engine knowing
//! what that process is: Respond to Webhook hands its response to whoever waits for it (the
//! server answers the HTTP request while the execution goes on) or writes chunks into a streamed
//! answer, and Execute Workflow runs a sub-workflow (loaded from the store, recorded as its own
//! execution). `sluice run` provides no host; `sluice serve` provides one per execution through
//! [`ExecutionOptions::host`]. (Credentials come from [`ExecutionOptions::credentials`].)
//!
//! [`ExecutionOptions::host`]: crate::ExecutionOptions::host
//! [`ExecutionOptions::credentials`]: crate::ExecutionOptions::credentials

use crate::NodeError;
use sluice_model::{Item, Value};
use std::fmt;
use std::sync::Arc;

/// A response for the request that started the execution (plain data, no HTTP types).
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: ResponseBody,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ResponseBody {
    Empty,
    Json(Value),
    Text(String),
    Binary { data: Vec<u8>, mime_type: String },
}

/// One message of a streamed webhook answer (Webhook `responseMode: streaming`), sent to the
/// caller as one line of JSON: `{"type": "begin"|"item"|"end"|"error", "content"?, "metadata"?}`.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamChunk {
    pub kind: ChunkKind,
    pub content: Option<String>,
    /// The node run that wrote it (absent for the server's own `error` chunk).
    pub source: Option<ChunkSource>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkKind {
    Begin,
    Item,
    End,
    Error,
}

/// n8n's chunk `metadata`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChunkSource {
    pub node_id: String,
    pub node_name: String,
    pub item_index: usize,
    pub run_index: usize,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
}

impl StreamChunk {
    /// The chunk as sent: one JSON line, newline included.
    pub fn to_line(&self) -> String {
        let kind = match self.kind {
            ChunkKind::Begin => "begin",
            ChunkKind::Item => "item",
            ChunkKind::End => "end",
            ChunkKind::Error => "error",
        };
        let mut line = serde_json::json!({ "type": kind });
        if let Some(content) = &self.content {
            line["content"] = content.as_str().into();
        }
        if let Some(s) = &self.source {
            line["metadata"] = serde_json::json!({
                "nodeId": s.node_id,
                "nodeName": s.node_name,
                "itemIndex": s.item_index,
                "runIndex": s.run_index,
                "timestamp": s.timestamp,
            });
        }
        let mut text = line.to_string();
        text.push('\n');
        text
    }
}

/// Which workflow Execute Workflow runs.
#[derive(Clone, Debug)]
pub enum SubWorkflow {
    /// A stored workflow, by id.
    Stored(String),
    /// A workflow given as JSON (from a local file, a URL or the node's parameter).
    Definition(Value),
}

/// One sub-workflow run requested by Execute Workflow.
#[derive(Clone, Debug)]
pub struct SubWorkflowRequest {
    pub workflow: SubWorkflow,
    /// The items its trigger emits.
    pub items: Vec<Item>,
    /// Wait for it to finish (and return its last node's output), or only start it.
    pub wait: bool,
}

#[async_trait::async_trait]
pub trait ExecutionHost: Send + Sync {
    /// Answer the request that started this execution. False when nothing waits for an answer
    /// (not started by a webhook in responseNode mode, or already answered).
    fn respond(&self, response: WebhookResponse) -> bool;

    /// Write a chunk into the streamed answer. False when the request that started this
    /// execution is not answered by a stream (or its caller has gone).
    fn send_chunk(&self, _chunk: StreamChunk) -> bool {
        false
    }

    /// Run a sub-workflow; with `wait`, its last node's output items.
    async fn execute_workflow(&self, request: SubWorkflowRequest) -> Result<Vec<Item>, NodeError>;
}

/// A shared [`ExecutionHost`] (cloneable, printable, so options stay `Clone + Debug`).
#[derive(Clone)]
pub struct Host(pub Arc<dyn ExecutionHost>);

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Host")
    }
}

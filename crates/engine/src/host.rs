//! What a running execution may ask of the process that started it, without the engine knowing
//! what that process is: Respond to Webhook hands its response to whoever waits for it (the
//! server answers the HTTP request while the execution goes on), and Execute Workflow runs a
//! sub-workflow (loaded from the store, recorded as its own execution). `sluice run` provides no
//! host; `sluice serve` provides one per execution through [`ExecutionOptions::host`].
//!
//! [`ExecutionOptions::host`]: crate::ExecutionOptions::host

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

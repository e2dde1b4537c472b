//! The execution engine: builds a workflow's nodes once, then schedules and runs them exactly as
//! n8n does (v1 depth-first order with position-sorted siblings, or legacy v0), recording n8n-shaped
//! run data with a per-node profile on every run. Chains of item-wise nodes (see [`ItemWise`])
//! can run as pipelines of bounded chunks with the results of whole runs ([`Streaming`]).
//!
//! The engine knows no concrete node: nodes implement [`Node`] and are looked up in a [`Registry`]
//! by (type, typeVersion).

mod context;
mod credentials;
mod detached;
mod error;
mod execution;
mod host;
mod node;
mod options;
mod paired;
mod params;
mod progress;
mod registry;
mod run_data;

pub use context::{Counters, ExecuteContext, ItemScope, NodeState};
pub use credentials::Credentials;
pub use detached::DetachedContext;
pub use error::{EngineError, NodeError};
pub use execution::{item_bytes, CompiledWorkflow, RunOutcome, RunStatus};
pub use host::{
    ChunkKind, ChunkSource, ExecutionHost, Host, ResponseBody, StreamChunk, SubWorkflow,
    SubWorkflowRequest, WebhookResponse,
};
pub use node::{ItemSink, ItemSource, ItemWise, Node, NodeOutputs, RequiredInputs, SinkOutput};
pub use options::{ExecutionOptions, StreamMode, Streaming};
pub use params::{without_expressions, Param};
pub use progress::{NodeProgress, ProgressObserver};
pub use registry::{NodeKind, NodeSpec, Registry};
pub use run_data::{classify_duration, NodeProfile, NodeSummary, RunData, TaskData, TaskError};

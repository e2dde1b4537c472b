//! Building a workflow once and running it as n8n does, one job per module: [`build`] (nodes
//! built, graph indexed), [`run_loop`] (the execution's state and its loop), [`node_run`] (one
//! node run: pins, retries, error policy, task data), [`queue`] (children queued in v1 or v0
//! order, multi-input nodes waiting in slots), [`v0_forcing`] (legacy order's forced parents),
//! [`partial_release`] (v1 releasing waiting nodes with partial data), [`error_output`]
//! (`continueErrorOutput` routing), [`stream`] (chains of item-wise nodes run as pipelines of
//! chunks), [`paired_items`] (paired items filled in after a run), [`memory`] (the execution
//! memory budget: the items an execution holds, counted as nodes output them), and
//! the result: [`outcome`], its [`n8n_document`], and the [`sub_workflow_result`] handed back to
//! a calling workflow.

mod build;
mod error_output;
mod memory;
mod n8n_document;
mod node_run;
mod outcome;
mod paired_items;
mod partial_release;
mod queue;
mod run_loop;
mod stream;
mod sub_workflow_result;
mod v0_forcing;

pub use build::CompiledWorkflow;
pub use memory::item_bytes;
pub use outcome::{RunOutcome, RunStatus};

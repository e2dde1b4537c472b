//! Nodes that start executions from outside (HTTP requests, form submissions, schedules,
//! another workflow's failure or call) and the one that answers an HTTP request. The host
//! (`sluice serve`) reads their parameters through the config types here and feeds the trigger
//! its items; when the engine runs a trigger it passes those items on (the Execute Workflow
//! Trigger keeps only the fields it declares).

pub mod execute_workflow;
pub mod form_ending;
pub mod form_trigger;
pub mod ip_whitelist;
pub mod jwt;
pub mod respond_to_webhook;
pub mod schedule;
pub mod webhook;

use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::NodeDef;

pub fn specs() -> Vec<NodeSpec> {
    vec![
        webhook::SPEC,
        form_trigger::SPEC,
        form_ending::SPEC,
        respond_to_webhook::SPEC,
        schedule::SCHEDULE_SPEC,
        schedule::CRON_SPEC,
        schedule::INTERVAL_SPEC,
        execute_workflow::SPEC,
        execute_workflow::TRIGGER_SPEC,
        ERROR_TRIGGER_SPEC,
    ]
}

/// Error Trigger: started by the host with `{execution, workflow}` of a failed execution whose
/// workflow names this one in `settings.errorWorkflow`.
pub const ERROR_TRIGGER_SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.errorTrigger",
    versions: &[1.0],
    kind: NodeKind::Trigger,
    factory: pass_through,
};

/// The id of the node's credential of `kind` (`credentials: {kind: {id, name}}`), which the host
/// looks up when it needs the data.
pub fn credential_id(def: &NodeDef, kind: &str) -> Result<String, NodeError> {
    def.credentials
        .as_ref()
        .and_then(|c| c[kind]["id"].as_str())
        .map(String::from)
        .ok_or_else(|| NodeError::new(format!("a '{kind}' credential is required")))
}

/// A trigger whose items come from the host: it emits what it was started with.
struct PassThrough;

fn pass_through(_: &NodeDef, _: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(PassThrough))
}

#[async_trait::async_trait]
impl Node for PassThrough {
    fn passes_input_through(&self) -> bool {
        true
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        Ok(vec![ctx.main_input().to_vec()])
    }
}

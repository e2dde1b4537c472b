//! Execute Workflow (v1-1.3) and its trigger: run another workflow (stored, from a local file,
//! from a URL, or given as JSON in the parameter) with this node's items, once for all items
//! (`mode: once`) or once per item (`each`).
//!
//! What the sub-workflow gets: the input items as they are, or from v1.2, when the
//! sub-workflow declares its inputs, one item per input item built from `workflowInputs`
//! ([`inputs`]). What the node outputs: with `options.waitForSubWorkflow` (default true) the
//! sub-workflow's last node's items, paired to the input items they derive from (in `each`
//! mode: to the item that ran it); without waiting, its own input items.
//!
//! Under `sluice serve` the host runs the sub-workflow (stored workflows, recorded
//! executions); without a host, file, URL and parameter workflows run in-process, to the end,
//! built with the calling workflow's registry.

mod inputs;
mod source;
mod trigger;

pub use trigger::TRIGGER_SPEC;

use crate::util::params::{unsupported, Reader};
use inputs::WorkflowInputs;
use sluice_engine::{
    CompiledWorkflow, ExecuteContext, ExecutionOptions, Node, NodeError, NodeKind, NodeOutputs,
    NodeSpec, Param, SubWorkflow, SubWorkflowRequest,
};
use sluice_model::{Item, NodeDef, Value, Workflow};
use source::Source;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.executeWorkflow",
    versions: &[1.0, 1.1, 1.2, 1.3],
    kind: NodeKind::Regular,
    factory: build,
};

struct ExecuteWorkflow {
    source: Source,
    each: bool,
    /// `None`: the sub-workflow gets the input items as they are.
    inputs: Option<WorkflowInputs>,
}

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let r = Reader::fixed(params);
    let each = match r.str_or("mode", "once")? {
        "once" => false,
        "each" => true,
        other => return Err(unsupported("mode", other)),
    };
    Ok(Box::new(ExecuteWorkflow {
        source: Source::parse(params)?,
        each,
        inputs: WorkflowInputs::parse(def)?,
    }))
}

impl ExecuteWorkflow {
    /// The item the sub-workflow gets for input item `index`.
    fn passed_item(&self, ctx: &ExecuteContext<'_>, index: usize) -> Result<Item, NodeError> {
        match &self.inputs {
            Some(inputs) => inputs.item(ctx, index),
            None => {
                let item = &ctx.main_input()[index];
                Ok(Item {
                    json: item.json.clone(),
                    binary: item.binary.clone(),
                    paired_item: Default::default(),
                })
            }
        }
    }

    /// Run the sub-workflow for the input items `indexes`, with the parameters of the first.
    async fn run(
        &self,
        ctx: &ExecuteContext<'_>,
        indexes: std::ops::Range<usize>,
    ) -> Result<Option<Vec<Item>>, NodeError> {
        let first = indexes.start;
        let wait = !matches!(
            ctx.param("options.waitForSubWorkflow", first)
                .map_err(|e| e.with_item(first))?,
            Value::Bool(false)
        );
        let request = SubWorkflowRequest {
            workflow: self
                .source
                .workflow(ctx, first)
                .await
                .map_err(|e| e.with_item(first))?,
            items: indexes
                .map(|i| self.passed_item(ctx, i))
                .collect::<Result<_, _>>()?,
            wait,
        };
        let result = match ctx.host() {
            Some(host) => host.execute_workflow(request).await?,
            None => run_in_process(ctx, request).await?,
        };
        Ok(wait.then_some(result))
    }
}

/// Run a workflow given as JSON in this process (`sluice run`, `sluice test`), to the end, with
/// the node types the calling workflow was built with.
async fn run_in_process(
    ctx: &ExecuteContext<'_>,
    request: SubWorkflowRequest,
) -> Result<Vec<Item>, NodeError> {
    let SubWorkflow::Definition(json) = request.workflow else {
        return Err(NodeError::new(
            "workflows from the database can only be executed under `sluice serve`",
        ));
    };
    let workflow: Workflow = serde_json::from_value(json)
        .map_err(|e| NodeError::new(format!("invalid sub-workflow: {e}")))?;
    let compiled = CompiledWorkflow::build(workflow, ctx.registry())
        .map_err(|e| NodeError::new(format!("sub-workflow: {e}")))?;
    compiled
        .run(ExecutionOptions {
            trigger_items: Some(request.items),
            clock: ctx.clock().clone(),
            files: ctx.files().clone(),
            credentials: ctx.credential_source().cloned(),
            memory_budget_mb: ctx.memory_budget_mb(),
            streaming: ctx.streaming(),
            mode: "integrated".into(),
            ..ExecutionOptions::default()
        })
        .await
        .map_err(|e| NodeError::new(format!("sub-workflow: {e}")))?
        .into_sub_workflow_result()
}

#[async_trait::async_trait]
impl Node for ExecuteWorkflow {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let items = ctx.main_input();
        if !self.each {
            return Ok(vec![self
                .run(ctx, 0..items.len())
                .await?
                .unwrap_or_else(|| items.to_vec())]);
        }
        let mut out = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match self.run(ctx, index..index + 1).await {
                Ok(Some(result)) => out.extend(result.into_iter().map(|i| i.paired_to(index))),
                Ok(None) => out.push(item.clone()),
                Err(e) if ctx.continue_on_fail() => out.push(ctx.error_item(&e, index)),
                Err(e) => return Err(e.with_item(index)),
            }
        }
        Ok(vec![out])
    }
}

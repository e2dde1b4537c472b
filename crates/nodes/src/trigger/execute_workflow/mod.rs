//! Execute Workflow (v1-1.3) and its trigger: run another workflow (stored, from a local file,
//! or given as JSON in the parameter) with this node's items, once for all items or once per
//! item, and output its last node's items (or, without waiting, the input items).
//!
//! Under `sluice serve` the host runs it (stored workflows, recorded executions); without a
//! host, file and parameter workflows run in-process.

use super::pass_through;
use sluice_engine::{
    CompiledWorkflow, ExecuteContext, ExecutionOptions, Node, NodeError, NodeKind, NodeOutputs,
    NodeSpec, Param, RunStatus, SubWorkflow, SubWorkflowRequest,
};
use sluice_model::{Item, NodeDef, Value, Workflow};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.executeWorkflow",
    versions: &[1.0, 1.1, 1.2, 1.3],
    kind: NodeKind::Regular,
    factory: build,
};

/// Execute Workflow Trigger: emits the items the caller passed.
pub const TRIGGER_SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.executeWorkflowTrigger",
    versions: &[1.0, 1.1],
    kind: NodeKind::Trigger,
    factory: pass_through,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Database,
    LocalFile,
    Parameter,
}

struct ExecuteWorkflow {
    source: Source,
    each: bool,
}

fn build(def: &NodeDef, _: &Param) -> Result<Box<dyn Node>, NodeError> {
    let source = match def.parameters["source"].as_str().unwrap_or("database") {
        "database" => Source::Database,
        "localFile" => Source::LocalFile,
        "parameter" => Source::Parameter,
        other => {
            return Err(NodeError::new(format!("source '{other}' is not supported"))
                .with_parameter("source"))
        }
    };
    Ok(Box::new(ExecuteWorkflow {
        source,
        each: def.parameters["mode"].as_str() == Some("each"),
    }))
}

impl ExecuteWorkflow {
    fn workflow(&self, ctx: &ExecuteContext<'_>, item: usize) -> Result<SubWorkflow, NodeError> {
        Ok(match self.source {
            Source::Database => {
                let id = match ctx.param("workflowId", item)? {
                    Value::Object(rl) => rl.get("value").cloned().unwrap_or(Value::Null),
                    other => other,
                };
                match id {
                    Value::String(s) if !s.is_empty() => SubWorkflow::Stored(s),
                    Value::Number(n) => SubWorkflow::Stored(n.to_string()),
                    _ => {
                        return Err(
                            NodeError::new("No workflow ID given").with_parameter("workflowId")
                        )
                    }
                }
            }
            Source::LocalFile => {
                let path = ctx.param_str("workflowPath", item)?.unwrap_or_default();
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    NodeError::new(format!("cannot read workflow file '{path}': {e}"))
                        .with_parameter("workflowPath")
                })?;
                SubWorkflow::Definition(parse(&text, "workflowPath")?)
            }
            Source::Parameter => {
                SubWorkflow::Definition(match ctx.param("workflowJson", item)? {
                    Value::String(s) => parse(&s, "workflowJson")?,
                    other => other,
                })
            }
        })
    }

    async fn call(
        &self,
        ctx: &ExecuteContext<'_>,
        request: SubWorkflowRequest,
    ) -> Result<Vec<Item>, NodeError> {
        if let Some(host) = ctx.host() {
            return host.execute_workflow(request).await;
        }
        let SubWorkflow::Definition(json) = request.workflow else {
            return Err(NodeError::new(
                "workflows from the database can only be executed under `sluice serve`",
            ));
        };
        let workflow: Workflow = serde_json::from_value(json)
            .map_err(|e| NodeError::new(format!("invalid sub-workflow: {e}")))?;
        let compiled = CompiledWorkflow::build(workflow, &crate::registry())
            .map_err(|e| NodeError::new(format!("sub-workflow: {e}")))?;
        let outcome = compiled
            .run(ExecutionOptions {
                trigger_items: Some(request.items),
                clock: ctx.clock().clone(),
                mode: "integrated".into(),
                ..ExecutionOptions::default()
            })
            .await
            .map_err(|e| NodeError::new(format!("sub-workflow: {e}")))?;
        match (outcome.status, outcome.error.as_ref()) {
            (RunStatus::Error, Some(e)) => Err(NodeError::new(e.to_string())),
            _ => Ok(outcome.last_output().to_vec()),
        }
    }
}

fn parse(text: &str, parameter: &str) -> Result<Value, NodeError> {
    serde_json::from_str(text).map_err(|e| {
        NodeError::new(format!("the workflow is not valid JSON: {e}")).with_parameter(parameter)
    })
}

#[async_trait::async_trait]
impl Node for ExecuteWorkflow {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let items = ctx.main_input();
        let wait = !matches!(
            ctx.param("options.waitForSubWorkflow", 0)?,
            Value::Bool(false)
        );
        let batches: Vec<(usize, Vec<Item>)> = if self.each {
            items
                .iter()
                .enumerate()
                .map(|(i, it)| (i, vec![it.clone()]))
                .collect()
        } else {
            vec![(0, items.to_vec())]
        };
        let mut out = Vec::new();
        for (index, batch) in batches {
            let request = SubWorkflowRequest {
                workflow: self.workflow(ctx, index)?,
                items: batch
                    .into_iter()
                    .map(|i| Item::new((*i.json).clone()))
                    .collect(),
                wait,
            };
            let result = self
                .call(ctx, request)
                .await
                .map_err(|e| e.with_item(index))?;
            if self.each {
                out.extend(result.into_iter().map(|i| i.paired_to(index)));
            } else {
                out.extend(result);
            }
        }
        if !wait {
            return Ok(vec![items.to_vec()]);
        }
        Ok(vec![out])
    }
}

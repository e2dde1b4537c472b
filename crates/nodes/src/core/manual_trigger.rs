//! Manual Trigger: starts a manual run; emits the items the run was started with.

use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::NodeDef;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.manualTrigger",
    versions: &[1.0],
    kind: NodeKind::Trigger,
    factory: build,
};

struct ManualTrigger;

fn build(_: &NodeDef, _: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(ManualTrigger))
}

#[async_trait::async_trait]
impl Node for ManualTrigger {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        Ok(vec![ctx.main_input().to_vec()])
    }
}

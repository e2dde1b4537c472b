//! Manual Trigger, and the legacy Start node it replaced: start a manual run; emit the items the
//! run was started with.

use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::NodeDef;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.manualTrigger",
    versions: &[1.0],
    kind: NodeKind::Trigger,
    factory: build,
};

/// The legacy Start node (`n8n-nodes-base.start`, no parameters): a manual trigger under
/// another name, the start node of workflows made before Manual Trigger existed.
pub const START_SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.start",
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
    fn passes_input_through(&self) -> bool {
        true
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        Ok(vec![ctx.main_input().to_vec()])
    }
}

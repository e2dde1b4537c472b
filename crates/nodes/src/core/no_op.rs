//! No Operation: passes its input through unchanged.

use sluice_engine::{
    ExecuteContext, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::NodeDef;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.noOp",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build,
};

struct NoOp;

fn build(_: &NodeDef, _: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(NoOp))
}

#[async_trait::async_trait]
impl Node for NoOp {
    fn item_wise(&self) -> ItemWise {
        ItemWise::Yes
    }

    fn passes_input_through(&self) -> bool {
        true
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        Ok(vec![ctx.main_input().to_vec()])
    }
}

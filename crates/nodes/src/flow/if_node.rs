//! IF (`n8n-nodes-base.if`): sends each item to output 0 (true) or 1 (false) by its conditions.
//! v1 uses the legacy condition lists combined by `combineOperation`; v2–2.3 the filter
//! parameter. Under continueOnFail an item whose conditions fail to evaluate goes to false.

use super::conditions::{
    Combine, Conditions, FilterConditions, LegacyConditions, NodeSettings, CONVERT_TYPES_HINT,
};
use sluice_engine::{
    ExecuteContext, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::NodeDef;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.if",
    versions: &[1.0, 2.0, 2.1, 2.2, 2.3],
    kind: NodeKind::Regular,
    factory: build,
};

struct If {
    conditions: Conditions,
}

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let conditions = if def.version() < 2.0 {
        let combine = Combine::from_param(params, "combineOperation", "all", "any")?;
        Conditions::Legacy(LegacyConditions::build(params, combine)?)
    } else {
        let settings = NodeSettings::from_params(params, CONVERT_TYPES_HINT)?;
        Conditions::Filter(FilterConditions::build(
            params.at("conditions"),
            "conditions",
            &settings,
        )?)
    };
    Ok(Box::new(If { conditions }))
}

#[async_trait::async_trait]
impl Node for If {
    fn item_wise(&self) -> ItemWise {
        ItemWise::Yes
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let (true_items, false_items) = self.conditions.partition(ctx)?;
        Ok(vec![true_items, false_items])
    }

    fn outputs(&self) -> usize {
        2
    }
}

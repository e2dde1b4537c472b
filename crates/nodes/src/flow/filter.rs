//! Filter (`n8n-nodes-base.filter`): keeps the items that meet its conditions on output 0.
//! v1 uses the legacy condition lists combined by `combineConditions` (AND/OR); v2–2.3 the filter
//! parameter. Like n8n, v2+ also records the discarded items as a second output in run data,
//! although the node declares one output for connections: with `onError: continueErrorOutput`
//! that slot is the error output, so the discarded items are dropped instead. Under
//! continueOnFail an item whose conditions fail to evaluate is discarded.

use super::conditions::{
    Combine, Conditions, FilterConditions, LegacyConditions, NodeSettings, LESS_STRICT_HINT,
};
use sluice_engine::{
    ExecuteContext, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::{NodeDef, OnError};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.filter",
    versions: &[1.0, 2.0, 2.1, 2.2, 2.3],
    kind: NodeKind::Regular,
    factory: build,
};

struct Filter {
    conditions: Conditions,
    keep_discarded: bool,
}

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let conditions = if def.version() < 2.0 {
        let combine = Combine::from_param(params, "combineConditions", "AND", "OR")?;
        Conditions::Legacy(LegacyConditions::build(params, combine)?)
    } else {
        let settings = NodeSettings::from_params(params, LESS_STRICT_HINT)?;
        Conditions::Filter(FilterConditions::build(
            params.at("conditions"),
            "conditions",
            &settings,
        )?)
    };
    Ok(Box::new(Filter {
        conditions,
        keep_discarded: def.version() >= 2.0 && def.error_policy() != OnError::ContinueErrorOutput,
    }))
}

#[async_trait::async_trait]
impl Node for Filter {
    fn item_wise(&self) -> ItemWise {
        ItemWise::Yes
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let (kept, discarded) = self.conditions.partition(ctx)?;
        Ok(if self.keep_discarded {
            vec![kept, discarded]
        } else {
            vec![kept]
        })
    }

    fn outputs(&self) -> usize {
        if self.keep_discarded {
            2
        } else {
            1
        }
    }
}

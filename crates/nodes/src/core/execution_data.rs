//! Execution Data (`executionData` v1, v1.1): saves key/value pairs with the execution as its
//! custom data (n8n's `customData`: shown by `sluice execution show` and the REST API, kept in
//! the run data's `resultData.metadata`) and passes its items on unchanged.

use crate::util::params::Reader;
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_expr::json_js::to_js_string;
use sluice_model::NodeDef;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.executionData",
    versions: &[1.0, 1.1],
    kind: NodeKind::Regular,
    factory: build,
};

/// The `dataToSave.values` entries: a key and a value, each maybe an expression.
struct ExecutionData {
    pairs: Vec<(Param, Param)>,
}

fn build(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    // "save" is the node's only operation.
    Reader::fixed(params).choice("operation", "save", |op| (op == "save").then_some(()))?;
    let pairs = params
        .at("dataToSave.values")
        .elements()
        .iter()
        .map(|entry| (entry.at("key").clone(), entry.at("value").clone()))
        .collect();
    Ok(Box::new(ExecutionData { pairs }))
}

#[async_trait::async_trait]
impl Node for ExecutionData {
    /// Every item saves its pairs; a key saved again keeps the last value.
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let items = ctx.map_items(|i, item| {
            for (key, value) in &self.pairs {
                let key = to_js_string(&ctx.resolve(key, i)?);
                if key.is_empty() {
                    continue;
                }
                let value = match ctx.resolve(value, i)? {
                    sluice_model::Value::Null => String::new(),
                    v => to_js_string(&v),
                };
                ctx.set_custom_data(&key, &value)
                    .map_err(|e| e.with_parameter("dataToSave"))?;
            }
            Ok(Some(item.clone()))
        })?;
        Ok(vec![items])
    }
}

//! Test Data (`n8n-nodes-testing.testData`): emits its `data` parameter as items, one per array
//! element (a single object gives one item). n8n's node fixtures use it in place of Code nodes
//! that only returned fixed data.

use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{Item, NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-testing.testData",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build,
};

struct TestData {
    data: Param,
}

fn build(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(TestData {
        data: params.at("data").clone(),
    }))
}

#[async_trait::async_trait]
impl Node for TestData {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let data = match ctx.resolve(&self.data, 0)? {
            Value::String(text) => serde_json::from_str(&text).map_err(|e| {
                NodeError::new(format!("data is not valid JSON: {e}")).with_parameter("data")
            })?,
            other => other,
        };
        let items = match data {
            Value::Array(values) => values.into_iter().map(Item::from_value).collect(),
            Value::Null => Vec::new(),
            other => vec![Item::from_value(other)],
        };
        Ok(vec![items])
    }
}

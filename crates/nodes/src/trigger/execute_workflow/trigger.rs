//! Execute Workflow Trigger (v1, v1.1): emits the items the calling workflow passed. v1 passes
//! everything; v1.1 follows `inputSource`: `passthrough` ("Accept all data") passes everything,
//! `workflowInputs` (the default, fields defined by name and type) and `jsonExample` (fields
//! are the top-level keys of an example object) keep only the declared fields, in declared
//! order, with `null` for the ones the caller did not give. Values are not type-checked here:
//! n8n checks them in the caller, against the schema copied into its `workflowInputs`.

use crate::util::params::{unsupported, Reader};
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{Item, JsonObject, NodeDef, Value};

pub const TRIGGER_SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.executeWorkflowTrigger",
    versions: &[1.0, 1.1],
    kind: NodeKind::Trigger,
    factory: build,
};

/// The example n8n shows (and uses) when `jsonExample` was never edited.
const DEFAULT_JSON_EXAMPLE: &str =
    r#"{"aField": "a string", "aNumber": 123, "thisFieldAcceptsAnyType": null, "anArray": []}"#;

/// Which fields of the passed items the sub-workflow sees.
enum Accepted {
    All,
    Fields(Vec<String>),
}

struct ExecuteWorkflowTrigger {
    accepted: Accepted,
}

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let r = Reader::fixed(params);
    let source = if def.version() < 1.1 {
        "passthrough"
    } else {
        r.str_or("inputSource", "workflowInputs")?
    };
    let accepted = match source {
        "passthrough" => Accepted::All,
        "workflowInputs" => Accepted::Fields(
            params
                .at("workflowInputs.values")
                .elements()
                .iter()
                .map(|field| Reader::fixed(field).str_or("name", "").map(String::from))
                .collect::<Result<_, _>>()?,
        ),
        "jsonExample" => Accepted::Fields(example_fields(
            r.str_or("jsonExample", DEFAULT_JSON_EXAMPLE)?,
        )?),
        other => return Err(unsupported("inputSource", other)),
    };
    Ok(Box::new(ExecuteWorkflowTrigger { accepted }))
}

/// The top-level keys of the `jsonExample` object.
fn example_fields(example: &str) -> Result<Vec<String>, NodeError> {
    match serde_json::from_str(example) {
        Ok(Value::Object(fields)) => Ok(fields.keys().cloned().collect()),
        Ok(other) => Err(NodeError::new(format!(
            "the JSON example must be an object, got {other}"
        ))
        .with_parameter("jsonExample")),
        Err(e) => Err(
            NodeError::new(format!("the JSON example is not valid JSON: {e}"))
                .with_parameter("jsonExample"),
        ),
    }
}

#[async_trait::async_trait]
impl Node for ExecuteWorkflowTrigger {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let items = ctx.main_input();
        let Accepted::Fields(fields) = &self.accepted else {
            return Ok(vec![items.to_vec()]);
        };
        Ok(vec![items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let json: JsonObject = fields
                    .iter()
                    .map(|name| {
                        (
                            name.clone(),
                            item.json.get(name).cloned().unwrap_or_default(),
                        )
                    })
                    .collect();
                Item::new(json).paired_to(i)
            })
            .collect()])
    }
}

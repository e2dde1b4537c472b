//! Integration tests of the condition-based routing nodes (IF, Filter, Switch), each run inside
//! a small workflow: Manual Trigger → Test Data → the node ("Node").

#[path = "../common/mod.rs"]
mod common;

mod filter;
mod if_node;
mod switch;

use serde_json::{json, Value};
use sluice_engine::RunOutcome;

/// The `json` of every item on every output of the first run of `node`.
fn outputs(outcome: &RunOutcome, node: &str) -> Vec<Vec<Value>> {
    assert!(outcome.error.is_none(), "run failed: {:?}", outcome.error);
    let runs = outcome.run_data.runs(node);
    assert!(!runs.is_empty(), "node '{node}' did not run");
    runs[0]
        .data
        .as_ref()
        .expect("node produced data")
        .iter()
        .map(|items| items.iter().map(|i| i.json.to_value()).collect())
        .collect()
}

/// Run `node_type` at `version` on `input` and return all its outputs.
async fn route(node_type: &str, version: f64, parameters: Value, input: Value) -> Vec<Vec<Value>> {
    outputs(
        &common::run_node(node_type, version, parameters, input).await,
        "Node",
    )
}

/// Like [`route`], with node-level settings (`onError`, ...) merged into the node.
async fn route_with(
    node_type: &str,
    version: f64,
    parameters: Value,
    input: Value,
    node_settings: Value,
) -> Vec<Vec<Value>> {
    let mut workflow = common::single_node_workflow(node_type, version, parameters, input);
    let node = workflow["nodes"][2].as_object_mut().unwrap();
    for (key, value) in node_settings.as_object().unwrap() {
        node.insert(key.clone(), value.clone());
    }
    outputs(&common::run_workflow(workflow).await, "Node")
}

/// A filter parameter (`conditions`) as n8n's editor writes it for the latest node versions.
fn filter(conditions: Value, combinator: &str, options: Value) -> Value {
    let mut opts =
        json!({"caseSensitive": true, "leftValue": "", "typeValidation": "strict", "version": 3});
    for (k, v) in options.as_object().unwrap() {
        opts[k] = v.clone();
    }
    json!({"options": opts, "conditions": conditions, "combinator": combinator})
}

/// One condition comparing `$json.<field>` with `right`.
fn condition(field: &str, ty: &str, operation: &str, right: Value) -> Value {
    json!({
        "id": format!("{field}-{operation}"),
        "leftValue": format!("={{{{ $json.{field} }}}}"),
        "rightValue": right,
        "operator": {"type": ty, "operation": operation}
    })
}

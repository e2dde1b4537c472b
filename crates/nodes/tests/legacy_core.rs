//! Small core nodes real workflows use: the legacy Start node and Execution Data.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn the_legacy_start_node_starts_the_run_like_a_manual_trigger() {
    // The legacy shape: Start without parameters, listed after a node without inputs, v0 order.
    let outcome = run_workflow(json!({
        "nodes": [
            {"name": "Loose", "type": "n8n-nodes-base.noOp", "typeVersion": 1,
             "position": [0, 300], "parameters": {}},
            {"name": "Start", "type": "n8n-nodes-base.start", "typeVersion": 1,
             "position": [0, 0], "parameters": {}},
            {"name": "After", "type": "n8n-nodes-base.noOp", "typeVersion": 1,
             "position": [200, 0], "parameters": {}}
        ],
        "connections": {"Start": {"main": [[{"node": "After", "type": "main", "index": 0}]]}}
    }))
    .await;
    assert_eq!(outcome.node_order, ["Start", "After"]);
    assert_eq!(output(&outcome, "After"), [json!({"json": {}})]);
}

const EXECUTION_DATA: &str = "n8n-nodes-base.executionData";

fn save(pairs: serde_json::Value) -> serde_json::Value {
    json!({"dataToSave": {"values": pairs}})
}

#[tokio::test]
async fn execution_data_saves_custom_data_and_passes_items_on() {
    let input = json!([{"user": "ada", "n": 1}, {"user": "bob", "n": 2}]);
    let params = save(json!([
        {"key": "user", "value": "={{ $json.user }}"},
        {"key": "n", "value": "={{ $json.n }}"},
        {"key": "", "value": "an unfinished row is skipped"},
    ]));
    let outcome = run_node(EXECUTION_DATA, 1.1, params, input.clone()).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let items: Vec<_> = output(&outcome, "Node")
        .into_iter()
        .map(|i| i["json"].clone())
        .collect();
    assert_eq!(json!(items), input);
    // Every item saves its pairs: the last one's values stay.
    assert_eq!(json!(outcome.custom_data), json!({"user": "bob", "n": "2"}));
    assert_eq!(
        outcome.to_n8n_json()["resultData"]["metadata"],
        json!({"user": "bob", "n": "2"})
    );
}

#[tokio::test]
async fn execution_data_keeps_n8ns_limits() {
    let mut pairs: Vec<_> = (0..12)
        .map(|k| json!({"key": format!("k{k}"), "value": "v"}))
        .collect();
    pairs.push(json!({"key": "k0", "value": "x".repeat(300)}));
    pairs.push(json!({"key": "a".repeat(60), "value": "long key"}));
    let outcome = run_node(EXECUTION_DATA, 1.0, save(json!(pairs)), json!([{}])).await;
    let data = &outcome.custom_data;
    // At most 10 keys: later new keys are ignored, but a saved key still takes a new value,
    // cut to 255 characters.
    assert_eq!(data.len(), 10);
    assert!(!data.contains_key("k10") && !data.contains_key(&"a".repeat(50)));
    assert_eq!(data["k0"], json!("x".repeat(255)));

    let long_key = save(json!([{"key": "b".repeat(60), "value": "v"}]));
    let outcome = run_node(EXECUTION_DATA, 1.1, long_key, json!([{}])).await;
    assert_eq!(json!(outcome.custom_data), json!({"b".repeat(50): "v"}));

    let bad_key = save(json!([{"key": "user-id", "value": "1"}]));
    let outcome = run_node(EXECUTION_DATA, 1.1, bad_key, json!([{}])).await;
    assert_eq!(
        outcome.error.expect("fails").to_string(),
        "node 'Node': Custom data key can only contain characters \"A-Za-z0-9_\" (key \
         \"user-id\") [parameter 'dataToSave', item 0]"
    );
}

#[tokio::test]
async fn execution_data_knows_only_the_save_operation() {
    let workflow = single_node_workflow(
        EXECUTION_DATA,
        1.1,
        json!({"operation": "load"}),
        json!([{}]),
    );
    let workflow: sluice_model::Workflow = serde_json::from_value(workflow).unwrap();
    let error = sluice_engine::CompiledWorkflow::build(workflow, &sluice_nodes::registry())
        .err()
        .expect("refused");
    assert_eq!(
        error.to_string(),
        "node 'Node': unsupported value 'load' [parameter 'operation']"
    );
}

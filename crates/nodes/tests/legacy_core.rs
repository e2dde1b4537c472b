//! Small core nodes older workflows use: the legacy Start node.

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

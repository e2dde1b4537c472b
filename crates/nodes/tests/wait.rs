//! Wait v1/v1.1: time intervals and specific times on the virtual clock.

mod common;

use common::*;
use serde_json::{json, Value};

/// Trigger → Input → Wait (params) → Date & Time v2 "current date".
fn wait_then_now(version: f64, params: Value) -> Value {
    let mut workflow = single_node_workflow(
        "n8n-nodes-base.wait",
        version,
        params,
        json!([{"a": 1}, {"a": 2}]),
    );
    workflow["nodes"].as_array_mut().unwrap().push(json!({
        "name": "Now", "type": "n8n-nodes-base.dateTime", "typeVersion": 2, "position": [600, 0],
        "parameters": {"options": {"includeInputFields": true}}
    }));
    workflow["connections"]["Node"] =
        json!({"main": [[{"node": "Now", "type": "main", "index": 0}]]});
    workflow
}

async fn now_after(version: f64, params: Value) -> Vec<Value> {
    let outcome = run_workflow(wait_then_now(version, params)).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let passed: Vec<Value> = output(&outcome, "Node")
        .into_iter()
        .map(|i| i["json"].clone())
        .collect();
    assert_eq!(
        passed,
        vec![json!({"a": 1}), json!({"a": 2})],
        "items pass through"
    );
    output(&outcome, "Now")
        .into_iter()
        .map(|i| i["json"]["currentDate"].clone())
        .collect()
}

#[tokio::test]
async fn waits_for_an_interval_on_the_virtual_clock() {
    let wall = std::time::Instant::now();
    let now = now_after(1.0, json!({"amount": 42, "unit": "seconds"})).await;
    assert_eq!(now[0], "2025-01-01T00:00:42.000Z");
    let now = now_after(
        1.1,
        json!({"resume": "timeInterval", "amount": 1.5, "unit": "hours"}),
    )
    .await;
    assert_eq!(now[1], "2025-01-01T01:30:00.000Z");
    assert_eq!(
        now_after(1.0, json!({})).await[0],
        "2025-01-01T01:00:00.000Z",
        "v1 default: 1 hour"
    );
    assert!(wall.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn waits_until_a_specific_time() {
    let now = now_after(
        1.1,
        json!({"resume": "specificTime", "dateTime": "2025-01-02T08:00:00"}),
    )
    .await;
    assert_eq!(now[0], "2025-01-02T08:00:00.000Z");
    let now = now_after(
        1.1,
        json!({"resume": "specificTime", "dateTime": "2020-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(
        now[0], "2025-01-01T00:00:00.000Z",
        "a past time does not wait"
    );
}

#[tokio::test]
async fn webhook_resume_is_a_build_error() {
    let workflow = single_node_workflow(
        "n8n-nodes-base.wait",
        1.1,
        json!({"resume": "webhook"}),
        json!({}),
    );
    let workflow: sluice_model::Workflow = serde_json::from_value(workflow).unwrap();
    let error = sluice_engine::CompiledWorkflow::build(workflow, &sluice_nodes::registry())
        .err()
        .expect("webhook resume is not supported")
        .to_string();
    assert!(error.contains("webhook call is not supported"), "{error}");
}

#[tokio::test]
async fn bad_amounts_fail_clearly() {
    let error = node_error(
        "n8n-nodes-base.wait",
        1.0,
        json!({"amount": "soon", "unit": "seconds"}),
        json!({}),
    )
    .await;
    assert!(error.contains("'soon' is not a number"), "{error}");
}

//! Remove Duplicates: all fields, all except, selected; remove other fields; type-strict values.

mod common;

use common::{node_error, node_json};
use serde_json::json;

const REMOVE: &str = "n8n-nodes-base.removeDuplicates";

fn input() -> serde_json::Value {
    json!([{"id": 1, "name": "a", "age": 1}, {"age": 1, "name": "a", "id": 1}, {"id": 1, "name": "a", "age": 2}, {"id": "1", "name": "a", "age": 2}])
}

#[tokio::test]
async fn all_fields_ignore_key_order_but_not_types() {
    let out = node_json(REMOVE, 2.0, json!({}), input()).await;
    assert_eq!(out.len(), 3);
    assert_eq!(out[2]["id"], json!("1"));
}

#[tokio::test]
async fn selected_and_except_fields() {
    let selected = node_json(
        REMOVE,
        2.0,
        json!({"compare": "selectedFields", "fieldsToCompare": "name"}),
        input(),
    )
    .await;
    assert_eq!(selected, vec![json!({"id": 1, "name": "a", "age": 1})]);
    let except = node_json(
        REMOVE,
        1.1,
        json!({"compare": "allFieldsExcept", "fieldsToExclude": "id, name"}),
        input(),
    )
    .await;
    assert_eq!(except.len(), 2);
}

#[tokio::test]
async fn remove_other_fields_keeps_only_compared_ones() {
    let out = node_json(REMOVE, 1.0, json!({"compare": "selectedFields", "fieldsToCompare": "age", "options": {"removeOtherFields": true}}), input()).await;
    assert_eq!(out, vec![json!({"age": 1}), json!({"age": 2})]);
}

#[tokio::test]
async fn all_fields_need_the_same_fields_everywhere() {
    let err = node_error(REMOVE, 2.0, json!({}), json!([{"a": 1}, {"a": 1, "b": 2}])).await;
    assert!(
        err.contains("'b' field is missing from some input items"),
        "{err}"
    );
}

#[tokio::test]
async fn cross_execution_operations_are_a_clear_build_error() {
    let workflow = common::single_node_workflow(
        REMOVE,
        2.0,
        json!({"operation": "removeItemsSeenInPreviousExecutions"}),
        input(),
    );
    let err = sluice_engine::CompiledWorkflow::build(
        serde_json::from_value(workflow).unwrap(),
        &sluice_nodes::registry(),
    )
    .err()
    .expect("build fails");
    assert!(err.to_string().contains("across executions"), "{err}");
}
